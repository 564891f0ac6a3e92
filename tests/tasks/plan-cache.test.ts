/**
 * The plan kept for the reading commands (loadProjectCached): it
 * is reused only while every file it was built from is byte for byte the
 * same, it shows paths from wherever the command runs, and a missing,
 * damaged or stale cache is a full load, never an error.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planCacheFile, stateDir } from '../../src/state/paths.js';
import { loadProject, loadProjectCached } from '../../src/tasks/load.js';
import { useFixtures } from '../helpers/fixtures.js';
import { yaml } from './support.js';

const fixtures = useFixtures();

const FILES = {
  'bearing/config.yaml': yaml('defaults:', '  cli: claude'),
  'bearing/tasks/a.yaml': yaml('tasks:', '  - id: a', '    prompt: first', '    focus: [src/a.ts]'),
  'bearing/tasks/area/b.yaml': yaml('id: b', 'depends_on: [a]', 'prompt: second'),
};

/** A project that has run (so `.state/` exists), and how to load it as status does. */
async function project(files: Record<string, string> = FILES) {
  const fx = await fixtures.create(files);
  mkdirSync(stateDir(fx.dir), { recursive: true });
  const cacheFile = planCacheFile(fx.dir);
  return {
    fx,
    cacheFile,
    load: (displayBase = fx.dir) => loadProjectCached(fx.dir, { displayBase, cacheFile }),
    full: (displayBase = fx.dir) => loadProject(fx.dir, { displayBase }),
  };
}

describe('the cached plan', () => {
  it('is kept after a valid load and read back while nothing changed', async () => {
    const p = await project();
    const first = await p.load();
    expect(first).toEqual(await p.full());
    // Marked in the file, so reading it back is what the second load shows.
    const stored = JSON.parse(readFileSync(p.cacheFile, 'utf8'));
    stored.plan.tasks[0].name = 'from the cache';
    writeFileSync(p.cacheFile, JSON.stringify(stored));
    const second = await p.load();
    expect(second.plan?.tasks[0]?.name).toBe('from the cache');
    expect(second.diagnostics).toEqual([]);
    expect(second.files).toEqual(first.files);
  });

  it('is not used once a task file changes, even by one byte of the same size', async () => {
    const p = await project();
    await p.load();
    await p.fx.write({
      'bearing/tasks/a.yaml': FILES['bearing/tasks/a.yaml'].replace('first', 'frist'),
    });
    const after = await p.load();
    expect(after.plan?.tasks.find((t) => t.id === 'a')?.prompt).toBe('frist');
    expect(after).toEqual(await p.full());
  });

  it('is not used once config.yaml changes, or a task file is added', async () => {
    const p = await project();
    await p.load();
    await p.fx.write({ 'bearing/config.yaml': yaml('defaults:', '  cli: codex') });
    expect((await p.load()).plan?.tasks.map((t) => t.cli)).toEqual(['codex', 'codex']);
    await p.fx.write({ 'bearing/tasks/c.yaml': yaml('id: c', 'prompt: third') });
    const after = await p.load();
    expect(after.plan?.tasks.map((t) => t.id)).toEqual(['a', 'b', 'c']);
    expect(after).toEqual(await p.full());
  });

  it('shows where each task is written from wherever the command runs', async () => {
    const p = await project();
    await p.load(p.fx.dir);
    const elsewhere = p.fx.path('bearing/tasks/area');
    const fromThere = await p.load(elsewhere);
    expect(fromThere).toEqual(await p.full(elsewhere));
    // Outside the folder shown from, a path is shown absolute.
    expect(fromThere.plan?.tasks.map((t) => t.source.file)).toEqual([
      p.fx.path('bearing/tasks/a.yaml'),
      'b.yaml',
    ]);
  });

  it('is replaced when damaged, and the load is a full one', async () => {
    const p = await project();
    await p.load();
    writeFileSync(p.cacheFile, '{"key": "trunc');
    expect(await p.load()).toEqual(await p.full());
    expect(JSON.parse(readFileSync(p.cacheFile, 'utf8')).plan.tasks).toHaveLength(2);
  });

  it('keeps no plan with problems', async () => {
    const p = await project({
      ...FILES,
      'bearing/tasks/c.yaml': yaml('id: c', 'depends_on: [nope]', 'prompt: x'),
    });
    const result = await p.load();
    expect(result.plan).toBeUndefined();
    expect(result.diagnostics).toHaveLength(1);
    expect(() => statSync(p.cacheFile)).toThrow();
  });

  it('creates no folder: without .state/ nothing is kept', async () => {
    const fx = await fixtures.create(FILES);
    const cacheFile = planCacheFile(fx.dir);
    const result = await loadProjectCached(fx.dir, { displayBase: fx.dir, cacheFile });
    expect(result.plan?.tasks).toHaveLength(2);
    expect(() => statSync(stateDir(fx.dir))).toThrow();
  });
});
