/**
 * status.md is written at most once per interval during a run (recorder.ts),
 * but whenever the run ends, whatever ended it, it is exactly current: the
 * report of the state as recorded. The clock here never moves, so no write
 * after the first is ever due by time: only the writes made at once remain.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renderStatusMarkdown } from '../../src/core/status-report.js';
import { runProject } from '../../src/run/runner.js';
import { statusFile } from '../../src/state/paths.js';
import { loadState } from '../../src/state/store.js';
import { loadProject } from '../../src/tasks/load.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const at = new Date('2026-05-01T10:00:00.000Z');

async function runAndCompare(tasks: Record<string, unknown>[], expectedEnd: string): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'bearing-status-current-'));
  mkdirSync(join(dir, 'bearing', 'tasks'), { recursive: true });
  writeFileSync(join(dir, 'bearing', 'tasks', 't.yaml'), JSON.stringify({ tasks }));
  const end = await runProject({
    root: dir,
    displayBase: dir,
    env: { PATH: '/usr/bin:/bin', HOME: dir },
    signal: new AbortController().signal,
    onEvent: () => {},
    killGraceMs: 200,
    now: () => at,
  });
  expect(end.kind).toBe(expectedEnd);
  const loaded = await loadProject(dir, { displayBase: dir });
  const state = loadState(dir);
  if (!loaded.plan || !state.ok) throw new Error('the plan or the state did not load');
  const expected = renderStatusMarkdown({
    plan: loaded.plan,
    state: state.value,
    next: state.value.lastRun!.stopReason!,
    gate: { kind: 'free' },
    now: at,
    running: {},
  });
  expect(readFileSync(statusFile(dir), 'utf8')).toBe(expected);
}

describe('status.md when the run ends', () => {
  const shell = (id: string, run: string, more: Record<string, unknown> = {}) => ({
    id,
    cli: 'shell',
    run,
    ...more,
  });

  it('is current when everything is done', async () => {
    await runAndCompare(
      [shell('a', 'true'), shell('b', 'true', { depends_on: ['a'] }), shell('c', 'true')],
      'done',
    );
  });

  it('is current when the run pauses at a checkpoint', async () => {
    await runAndCompare(
      [
        shell('a', 'true', { checkpoint: 'pause' }),
        shell('b', 'true', { depends_on: ['a'] }),
        shell('c', 'true'),
      ],
      'paused',
    );
  });

  it('is current when a failure stops the run', async () => {
    await runAndCompare(
      [shell('a', 'exit 3', { on_failure: 'stop' }), shell('b', 'true', { depends_on: ['a'] })],
      'stopped',
    );
  });
});
