/**
 * `bearing status` and `summary` reuse the plan they checked last while the
 * task files are unchanged (.state/plan-cache.json): what they print must be
 * exactly what a full load prints, and an edit must show at once.
 */
import { existsSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type RunState, ZERO_USAGE } from '../../src/core/state.js';
import { planCacheFile } from '../../src/state/paths.js';
import { saveState } from '../../src/state/store.js';
import { useCli, yaml } from './support.js';

const { project, run } = useCli();

const FILES = {
  'bearing/config.yaml': yaml('defaults:', '  cli: shell'),
  'bearing/tasks/a.yaml': yaml(
    'tasks:',
    '  - id: setup',
    '    name: Set up',
    '    run: echo setup',
    '  - id: build',
    '    depends_on: [setup]',
    '    run: echo build',
  ),
  'bearing/tasks/more/b.yaml': yaml('id: check', 'depends_on: [build]', 'run: echo check'),
};

const STATE: RunState = {
  version: 1,
  tasks: {
    setup: {
      id: 'setup',
      status: 'completed',
      attempts: [
        {
          attempt: 1,
          startedAt: '2026-01-01T00:00:00.000Z',
          endedAt: '2026-01-01T00:00:01.000Z',
          durationMs: 1000,
          outcome: 'completed',
          summary: 'set up',
        },
      ],
      summary: 'set up',
      filesChanged: ['setup.txt'],
      costUsd: 0,
      usage: ZERO_USAGE,
      turns: 0,
      durationMs: 1000,
      updatedAt: '2026-01-01T00:00:01.000Z',
    },
  },
  lastRun: { startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:02.000Z', pid: 1 },
};

/** Output with the report's own time taken out. */
const timeless = (text: string) =>
  text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<time>');

async function outputs(fx: Awaited<ReturnType<typeof project>>) {
  const out: string[] = [];
  for (const args of [
    ['status'],
    ['summary'],
    ['status', '--json'],
    ['summary', 'bearing/tasks'],
  ]) {
    const result = await run(fx, ...args);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    out.push(timeless(result.stdout));
  }
  return out;
}

describe('status and summary with the plan cache', () => {
  it('print the same with the cache as with a full load, and keep it only in .state/', async () => {
    const fx = await project(FILES);
    saveState(fx.dir, STATE);
    const cache = planCacheFile(fx.dir);
    const first = await outputs(fx);
    expect(existsSync(cache)).toBe(true);
    expect(await outputs(fx)).toEqual(first);
    rmSync(cache);
    expect(await outputs(fx)).toEqual(first);
    expect(first[0]).toContain('## setup — Set up');
  });

  it('show an edit to a task file at once', async () => {
    const fx = await project(FILES);
    saveState(fx.dir, STATE);
    await outputs(fx);
    await fx.write({
      'bearing/tasks/more/b.yaml': yaml(
        'id: check',
        'name: Check it',
        'depends_on: [build]',
        'run: echo check',
      ),
    });
    const status = await run(fx, 'status');
    expect(status.stdout).toContain('## check — Check it');
  });

  it('create nothing in a project that has never run', async () => {
    const fx = await project(FILES);
    await outputs(fx);
    expect(existsSync(fx.path('bearing/.state'))).toBe(false);
  });
});
