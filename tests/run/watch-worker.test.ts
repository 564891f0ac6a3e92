/**
 * `bearing watch` in queue mode: the worker that took a running attempt is
 * reported once it is known, and again when another worker takes the
 * attempt over (a stalled job queued again), never for every save.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyState, type RunState } from '../../src/core/state.js';
import { type WatchEvent, watchProject } from '../../src/run/watch.js';
import { saveState } from '../../src/state/store.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const AT = '2026-05-01T10:00:00.000Z';

function stateWith(worker: string | undefined, attempt = 1): RunState {
  const state = emptyState();
  state.tasks.api = {
    id: 'api',
    status: 'running',
    attempts: [
      {
        attempt,
        startedAt: AT,
        outcome: 'running',
        worktree: {
          path: '/cache/.bearing-worktrees/api-1',
          branch: `bearing/api/${attempt}`,
          base: 'a'.repeat(40),
          queued: { job: `api-${attempt}`, cli: 'claude', ...(worker ? { worker } : {}) },
        },
      },
    ],
    costUsd: 0,
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    turns: 0,
    durationMs: 0,
    updatedAt: AT,
  };
  return state;
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await delay(20);
}

describe('bearing watch in queue mode', () => {
  it('says which worker runs an attempt once one took it, not at every save, and names the next one', async () => {
    dir = mkdtempSync(join(tmpdir(), 'bearing-watch-worker-'));
    saveState(dir, stateWith(undefined), 0);
    const events: WatchEvent[] = [];
    const controller = new AbortController();
    const watching = watchProject({
      root: dir,
      signal: controller.signal,
      onEvent: (e) => events.push(e),
      intervalMs: 20,
    });
    const workers = () => events.filter((e) => e.type === 'worker');
    expect(workers()).toEqual([]);
    saveState(dir, stateWith('build-2:4711'), 0);
    await until(() => workers().length === 1);
    // A save of the same attempt on the same worker (its progress) names no worker.
    const progressed = stateWith('build-2:4711');
    progressed.tasks.api!.attempts[0]!.progress = { turns: 3, usage: progressed.tasks.api!.usage };
    saveState(dir, progressed, 0);
    await until(() => events.some((e) => e.type === 'progress'));
    // The job stalled and another worker took the next attempt.
    saveState(dir, stateWith('build-3:99', 2), 0);
    await until(() => workers().length === 2);
    controller.abort();
    await watching;
    expect(workers()).toEqual([
      { type: 'worker', id: 'api', attempt: 1, worker: 'build-2:4711' },
      { type: 'worker', id: 'api', attempt: 2, worker: 'build-3:99' },
    ]);
  });
});
