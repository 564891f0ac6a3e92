/**
 * `bearing run` keeps the plan it checked (.state/plan-cache.json), and
 * `bearing status` and `summary` reuse it while the task files are
 * unchanged: what they print must be exactly what a full load prints, an
 * edit must show at once, and they never write the cache themselves.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planCacheFile } from '../../src/state/paths.js';
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

/** Output with the report's own time taken out. */
const timeless = (text: string) =>
  text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<time>');

const READS = [['status'], ['summary'], ['status', '--json'], ['summary', 'bearing/tasks']];

async function outputs(fx: Awaited<ReturnType<typeof project>>) {
  const out: string[] = [];
  for (const args of READS) {
    const result = await run(fx, ...args);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    out.push(timeless(result.stdout));
  }
  return out;
}

describe('status and summary after a run', () => {
  it('print the same with the plan the run kept as with a full load', async () => {
    const fx = await project(FILES);
    expect((await run(fx, 'run')).code).toBe(0);
    const cache = planCacheFile(fx.dir);
    expect(existsSync(cache)).toBe(true);
    const withCache = await outputs(fx);
    expect(withCache[0]).toContain('## setup — Set up');
    rmSync(cache);
    expect(await outputs(fx)).toEqual(withCache);
    // Reading wrote nothing, not even the missing cache.
    expect(existsSync(cache)).toBe(false);
  });

  it('show an edit to a task file at once, and leave the kept plan as it was', async () => {
    const fx = await project(FILES);
    expect((await run(fx, 'run')).code).toBe(0);
    const cache = planCacheFile(fx.dir);
    const kept = readFileSync(cache, 'utf8');
    await fx.write({
      'bearing/tasks/more/b.yaml': yaml(
        'id: check',
        'name: Check it',
        'depends_on: [build]',
        'run: echo check',
      ),
    });
    expect((await run(fx, 'status')).stdout).toContain('## check — Check it');
    expect((await run(fx, 'summary')).stdout).toContain('check — Check it');
    expect(readFileSync(cache, 'utf8')).toBe(kept);
  });
});
