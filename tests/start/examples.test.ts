/**
 * Every example workspace under examples/ passes `bearing validate` through
 * the built bin, as a user would run it from the repository root.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProjectSync } from '../../src/tasks/load-sync.js';
import { bearing, ROOT, sandbox, useTempDirs } from './support.js';

useTempDirs();

const EXAMPLES = join(ROOT, 'examples');
const workspaces = readdirSync(EXAMPLES, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe('examples/', () => {
  it('holds the quick start, the web API plan and the custom agent', () => {
    expect(workspaces).toEqual(expect.arrayContaining(['quickstart', 'web-api', 'custom-agent']));
  });

  it.each(workspaces)('examples/%s is a workspace that passes bearing validate', async (name) => {
    expect(existsSync(join(EXAMPLES, name, 'bearing', 'tasks')), `${name}/bearing/tasks`).toBe(
      true,
    );
    expect(existsSync(join(EXAMPLES, name, 'README.md')), `${name}/README.md`).toBe(true);
    const r = await bearing(['validate', `examples/${name}`, '--json'], {
      cwd: ROOT,
      env: sandbox().env,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { valid?: boolean; tasks?: unknown[] };
    expect(result.tasks?.length).toBeGreaterThan(0);
  });

  it('the web API plan shows what the issue asks of it', () => {
    const { plan, diagnostics } = loadProjectSync(join(EXAMPLES, 'web-api'));
    expect(diagnostics).toEqual([]);
    const tasks = plan?.tasks ?? [];
    expect(new Set(tasks.map((t) => t.cli))).toEqual(new Set(['claude', 'codex', 'shell']));
    expect(new Set(tasks.map((t) => t.model).filter(Boolean))).toEqual(
      new Set(['opus', 'sonnet', 'haiku']),
    );
    // No claude model leaks into a codex task through defaults.
    expect(tasks.filter((t) => t.cli === 'codex').map((t) => t.model)).toEqual([
      undefined,
      undefined,
    ]);
    expect(tasks.some((t) => t.checkpoint === 'pause')).toBe(true);
    expect(tasks.filter((t) => t.cli !== 'shell').every((t) => Boolean(t.verify))).toBe(true);
    expect(tasks.some((t) => t.focus.length > 0 && t.skip.length > 0)).toBe(true);
    expect(plan?.run.concurrency).toBeGreaterThan(1);
  });

  it('the custom agent example declares agents its tasks use', () => {
    const { plan, diagnostics } = loadProjectSync(join(EXAMPLES, 'custom-agent'));
    expect(diagnostics).toEqual([]);
    const agents = Object.keys(plan?.agents ?? {});
    expect(agents.length).toBeGreaterThan(0);
    for (const name of agents) {
      expect(
        plan?.tasks.some((t) => t.cli === name),
        name,
      ).toBe(true);
    }
  });
});
