/**
 * `bearing watch`: follow a run from another terminal. A state machine around
 * chokidar (waiting for a run -> watching -> ended), debounced, that reports
 * each task's status change as the run records it and stops when the run
 * ends or the signal aborts.
 */
import { watch } from 'chokidar';
import { taskCost } from '../core/cost.js';
import type { LiveProgress } from '../core/progress.js';
import type { RunState, TaskStatus } from '../core/state.js';
import { readLock } from '../state/lock.js';
import { bearingDir, journalFile, lockFile, stateFile } from '../state/paths.js';
import { loadState } from '../state/store.js';

export type WatchEvent =
  | { type: 'waiting' }
  | { type: 'run-active'; pid: number; startedAt: string }
  | {
      type: 'change';
      id: string;
      from: TaskStatus;
      to: TaskStatus;
      costUsd: number;
      /** Part of costUsd is Bearing's estimate from tokens (codex). */
      costEstimated: boolean;
      error?: string;
    }
  /** A running attempt's live progress, as the run saved it (at most once a second). */
  | { type: 'progress'; id: string; attempt: number; progress: LiveProgress }
  /** Queue mode: the worker (`host:pid`) that took a running attempt, once known, and again if another takes it. */
  | { type: 'worker'; id: string; attempt: number; worker: string }
  | { type: 'run-ended'; next: string };

export interface WatchOptions {
  root: string;
  signal: AbortSignal;
  onEvent: (e: WatchEvent) => void;
  /** Debounce for bursts of writes; also the lock polling interval. */
  intervalMs?: number;
}

export async function watchProject(options: WatchOptions): Promise<void> {
  const { root, signal, onEvent } = options;
  const interval = options.intervalMs ?? 200;
  let phase: 'waiting' | 'active' = 'waiting';
  let known = new Map<string, TaskStatus>();
  /** The progress last reported per task, as JSON: a save that changed nothing of it says nothing. */
  const shown = new Map<string, string>();
  /** The worker last reported per task, with its attempt. */
  const workers = new Map<string, string>();
  const loaded = loadState(root);
  if (loaded.ok) known = statuses(loaded.value);
  const runBefore = loaded.ok ? loaded.value.lastRun?.startedAt : undefined;

  const check = (): boolean => {
    // The lock first: "run active" comes before the changes that run makes.
    const lock = readLock(root);
    if (lock.state === 'held' && phase === 'waiting') {
      phase = 'active';
      onEvent({ type: 'run-active', pid: lock.holder.pid, startedAt: lock.holder.startedAt });
    }
    const state = loadState(root);
    if (state.ok) {
      const now = statuses(state.value);
      for (const [id, to] of now) {
        // No record yet means queued, the word every other command uses.
        const from = known.get(id) ?? 'queued';
        if (from !== to) {
          const r = state.value.tasks[id]!;
          onEvent({
            type: 'change',
            id,
            from,
            to,
            costUsd: r.costUsd,
            costEstimated: taskCost(r).estimated,
            ...(r.failure && to !== 'completed' ? { error: r.failure.reason } : {}),
          });
        }
      }
      known = now;
      for (const r of Object.values(state.value.tasks)) {
        const last = r.attempts.at(-1);
        const worker = r.status === 'running' ? last?.worktree?.queued?.worker : undefined;
        if (!last || worker === undefined) workers.delete(r.id);
        else if (workers.get(r.id) !== `${last.attempt}:${worker}`) {
          workers.set(r.id, `${last.attempt}:${worker}`);
          onEvent({ type: 'worker', id: r.id, attempt: last.attempt, worker });
        }
        if (r.status !== 'running' || last?.outcome !== 'running' || !last.progress) {
          shown.delete(r.id);
          continue;
        }
        const key = `${last.attempt}:${JSON.stringify(last.progress)}`;
        if (shown.get(r.id) === key) continue;
        shown.set(r.id, key);
        onEvent({ type: 'progress', id: r.id, attempt: last.attempt, progress: last.progress });
      }
    }
    // A run that started and ended between two looks still counts.
    const lastRun = state.ok ? state.value.lastRun : undefined;
    if (
      phase === 'waiting' &&
      lock.state !== 'held' &&
      lastRun?.endedAt !== undefined &&
      lastRun.startedAt !== runBefore
    ) {
      phase = 'active';
      onEvent({ type: 'run-active', pid: lastRun.pid, startedAt: lastRun.startedAt });
    }
    if (lock.state !== 'held' && phase === 'active') {
      onEvent({
        type: 'run-ended',
        next: (state.ok ? state.value.lastRun?.stopReason : undefined) ?? 'The run ended.',
      });
      return true;
    }
    return false;
  };

  if (readLock(root).state !== 'held') onEvent({ type: 'waiting' });
  if (check()) return;
  let watcher: BearingWatcher | undefined;
  await new Promise<void>((resolve) => {
    const finish = (): void => {
      signal.removeEventListener('abort', finish);
      resolve();
    };
    // The state's snapshot and journal, and the lock.
    const watched = new Set([stateFile(root), journalFile(root), lockFile(root)]);
    watcher = watchBearing(root, {
      accept: (path) => watched.has(path),
      intervalMs: interval,
      onChange: () => {
        if (check()) finish();
      },
    });
    signal.addEventListener('abort', finish, { once: true });
  });
  await watcher?.close();
}

export interface BearingWatcher {
  close(): Promise<void>;
}

/**
 * Calls `onChange` after files under bearing/ that `accept` takes change
 * (once per burst: debounced by `intervalMs`), and at least every second,
 * as the lock can vanish without a write (a crashed run). Shared by `bearing
 * watch` and `bearing ui`.
 */
export function watchBearing(
  root: string,
  options: { accept: (path: string) => boolean; onChange: () => void; intervalMs: number },
): BearingWatcher {
  const { accept, onChange, intervalMs } = options;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, intervalMs);
  };
  // bearing/ and not .state/: a project that has never run has no .state/
  // yet, and watching must not create it (a reading command creates nothing).
  // Depth 1 reaches .state/ (the state's snapshot and journal, the lock) when the run makes it.
  const watcher = watch(bearingDir(root), { ignoreInitial: true, depth: 1 });
  watcher.on('all', (_event, path) => {
    if (accept(path)) schedule();
  });
  watcher.on('error', () => {});
  const poll = setInterval(schedule, Math.max(intervalMs, 1000));
  return {
    async close() {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      timer = undefined;
      await watcher.close();
    },
  };
}

function statuses(state: RunState): Map<string, TaskStatus> {
  return new Map(Object.values(state.tasks).map((r) => [r.id, r.status]));
}
