/**
 * Crash recovery. A run that was killed (kill -9, power cut, a crash) leaves
 * tasks marked `running` that nothing is running. The next run, once it holds
 * the lock, turns them into `interrupted` so the scheduler runs them again and
 * status.md says what happened instead of showing a task running forever.
 * Pure: only call it while holding the lock, or a live run's tasks would be
 * marked interrupted under it.
 */
import type { Failure } from './failure.js';
import { type AttemptRecord, type RunState, recordsOf, type TaskRecord } from './state.js';
import { abandonedOutcome } from './transitions.js';

export interface Recovery {
  state: RunState;
  /** Ids of the tasks that were found running, in state order. */
  recovered: string[];
}

/** The failure recorded on an attempt whose process was gone before it ended. */
export function crashFailure(now: Date): Failure {
  return {
    reason: 'interrupted',
    message: `bearing stopped before the attempt finished (crash or kill); found at ${now.toISOString()}`,
  };
}

/**
 * `alive`: tasks whose running attempt goes on elsewhere (queue mode: a
 * worker runs it, or ran it, and the run waits for it again): left running.
 */
export function recoverInterrupted(
  state: RunState,
  now: Date,
  alive: ReadonlySet<string> = new Set(),
): Recovery {
  const recovered: string[] = [];
  const tasks = recordsOf();
  const at = now.toISOString();
  for (const [id, record] of Object.entries(state.tasks)) {
    const stale =
      !alive.has(id) &&
      (record.status === 'running' || record.attempts.some((a) => a.outcome === 'running'));
    if (!stale) {
      tasks[id] = record;
      continue;
    }
    const failure = crashFailure(now);
    // When it ended is unknown: no endedAt or durationMs is invented.
    const attempts: AttemptRecord[] = record.attempts.map((a) =>
      a.outcome === 'running' ? { ...a, outcome: abandonedOutcome(failure), failure } : a,
    );
    const next: TaskRecord = { ...record, attempts, updatedAt: at };
    if (record.status === 'running') {
      next.status = abandonedOutcome(failure);
      next.failure = failure;
    }
    tasks[id] = next;
    recovered.push(id);
  }
  return { state: { ...state, tasks }, recovered };
}
