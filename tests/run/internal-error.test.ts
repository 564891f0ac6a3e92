/**
 * A bug in Bearing's own bookkeeping while a task's job finishes (here: an
 * event sink that throws) must not escape as a bare stack trace or leave the
 * lock behind: the run ends as an internal error (exit 70 in the CLI), with
 * what it recorded saved and the lock released, and the next run goes on.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { RunEvent } from '../../src/run/events.js';
import { runProject } from '../../src/run/runner.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function options(onEvent: (e: RunEvent) => void) {
  return {
    root: dir,
    displayBase: dir,
    env: { PATH: '/usr/bin:/bin', HOME: dir },
    signal: new AbortController().signal,
    onEvent,
    killGraceMs: 200,
  };
}

it('an exception while a job finishes ends the run as an internal error, lock released, state kept', async () => {
  dir = mkdtempSync(join(tmpdir(), 'bearing-internal-'));
  mkdirSync(join(dir, 'bearing', 'tasks'), { recursive: true });
  writeFileSync(
    join(dir, 'bearing', 'tasks', 't.yaml'),
    JSON.stringify({
      tasks: [
        { id: 'a', cli: 'shell', run: 'echo a > a.txt' },
        { id: 'b', cli: 'shell', depends_on: ['a'], run: 'echo b > b.txt' },
      ],
    }),
  );
  const seen: RunEvent[] = [];
  const end = await runProject(
    options((e) => {
      seen.push(e);
      if (e.type === 'task-end' && e.task.id === 'a') throw new Error('renderer exploded');
    }),
  );
  expect(end.kind).toBe('internal-error');
  expect(end.kind === 'internal-error' && end.next).toMatch(
    /Stopped: an internal error in bearing .*: renderer exploded/,
  );
  expect(existsSync(join(dir, 'bearing', '.state', 'lock'))).toBe(false);
  const state = JSON.parse(readFileSync(join(dir, 'bearing', '.state', 'state.json'), 'utf8'));
  expect(state.tasks.a.status).toBe('completed');
  expect(state.tasks.b).toBeUndefined();
  expect(seen.at(-1)?.type).toBe('run-end');

  const again = await runProject(options(() => {}));
  expect(again.kind).toBe('done');
  const after = JSON.parse(readFileSync(join(dir, 'bearing', '.state', 'state.json'), 'utf8'));
  expect(after.tasks.a.attempts).toHaveLength(1);
  expect(after.tasks.b.status).toBe('completed');
});
