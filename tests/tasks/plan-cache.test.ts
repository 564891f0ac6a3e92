/**
 * The plan the run keeps for the reading commands (loadProjectToKeep, then
 * loadProjectCached): reused only while every file it was built from is byte
 * for byte the same, shown with paths from wherever the command runs, and a
 * missing, damaged or stale cache is a full load, never an error. Reading
 * never writes it.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planCacheFile, stateDir } from '../../src/state/paths.js';
import { loadProject, loadProjectCached, loadProjectToKeep } from '../../src/tasks/load.js';
import { useFixtures } from '../helpers/fixtures.js';
import { yaml } from './support.js';

const fixtures = useFixtures();

const FILES = {
  'bearing/config.yaml': yaml('defaults:', '  cli: claude'),
  'bearing/tasks/a.yaml': yaml('tasks:', '  - id: a', '    prompt: first', '    focus: [src/a.ts]'),
  'bearing/tasks/area/b.yaml': yaml('id: b', 'depends_on: [a]', 'prompt: second'),
};

/** A project that has run (so `.state/` exists); `keep` does what the run does with its plan. */
async function project(files: Record<string, string> = FILES) {
  const fx = await fixtures.create(files);
  mkdirSync(stateDir(fx.dir), { recursive: true });
  const cacheFile = planCacheFile(fx.dir);
  return {
    fx,
    cacheFile,
    keep: async () => {
      const { result, keep } = await loadProjectToKeep(fx.dir, { displayBase: fx.dir });
      keep?.(cacheFile);
      return result;
    },
    read: (displayBase = fx.dir) => loadProjectCached(fx.dir, { displayBase, cacheFile }),
    full: (displayBase = fx.dir) => loadProject(fx.dir, { displayBase }),
  };
}

/** When the file was last written, or undefined when it does not exist. */
function written(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

describe('the kept plan', () => {
  it('is what a full load gives, and is read back while nothing changed', async () => {
    const p = await project();
    expect(await p.keep()).toEqual(await p.full());
    expect(await p.read()).toEqual(await p.full());
    // Marked in the file, so reading it back is what the next read shows.
    const stored = JSON.parse(readFileSync(p.cacheFile, 'utf8'));
    stored.plan.tasks[0].name = 'from the cache';
    writeFileSync(p.cacheFile, JSON.stringify(stored));
    const again = await p.read();
    expect(again.plan?.tasks[0]?.name).toBe('from the cache');
    expect(again.diagnostics).toEqual([]);
  });

  it('is not used once a task file changes, even by one byte of the same size', async () => {
    const p = await project();
    await p.keep();
    await p.fx.write({
      'bearing/tasks/a.yaml': FILES['bearing/tasks/a.yaml'].replace('first', 'frist'),
    });
    const after = await p.read();
    expect(after.plan?.tasks.find((t) => t.id === 'a')?.prompt).toBe('frist');
    expect(after).toEqual(await p.full());
  });

  it('is not used once config.yaml changes, or a task file is added', async () => {
    const p = await project();
    await p.keep();
    await p.fx.write({ 'bearing/config.yaml': yaml('defaults:', '  cli: codex') });
    expect((await p.read()).plan?.tasks.map((t) => t.cli)).toEqual(['codex', 'codex']);
    await p.fx.write({ 'bearing/tasks/c.yaml': yaml('id: c', 'prompt: third') });
    const after = await p.read();
    expect(after.plan?.tasks.map((t) => t.id)).toEqual(['a', 'b', 'c']);
    expect(after).toEqual(await p.full());
  });

  it('shows where each task is written from wherever the command runs', async () => {
    const p = await project();
    await p.keep();
    const elsewhere = p.fx.path('bearing/tasks/area');
    const fromThere = await p.read(elsewhere);
    expect(fromThere).toEqual(await p.full(elsewhere));
    // Outside the folder shown from, a path is shown absolute.
    expect(fromThere.plan?.tasks.map((t) => t.source.file)).toEqual([
      p.fx.path('bearing/tasks/a.yaml'),
      'b.yaml',
    ]);
  });

  it('damaged, is a full load', async () => {
    const p = await project();
    await p.keep();
    writeFileSync(p.cacheFile, '{"key": "trunc');
    expect(await p.read()).toEqual(await p.full());
  });

  it('is never written by reading, whatever it finds', async () => {
    const p = await project();
    await p.read();
    expect(written(p.cacheFile)).toBeUndefined();
    await p.keep();
    const kept = written(p.cacheFile);
    await p.fx.write({ 'bearing/tasks/c.yaml': yaml('id: c', 'prompt: third') });
    await p.read();
    expect(written(p.cacheFile)).toBe(kept);
  });

  it('is not offered for a plan with problems', async () => {
    const fx = await fixtures.create({
      ...FILES,
      'bearing/tasks/c.yaml': yaml('id: c', 'depends_on: [nope]', 'prompt: x'),
    });
    const { result, keep } = await loadProjectToKeep(fx.dir, { displayBase: fx.dir });
    expect(result.diagnostics).toHaveLength(1);
    expect(keep).toBeUndefined();
  });

  it('creates no folder: without .state/ nothing is kept', async () => {
    const fx = await fixtures.create(FILES);
    const { keep } = await loadProjectToKeep(fx.dir, { displayBase: fx.dir });
    keep?.(planCacheFile(fx.dir));
    expect(written(stateDir(fx.dir))).toBeUndefined();
  });
});
