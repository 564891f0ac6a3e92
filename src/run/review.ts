/**
 * `bearing approve` and `bearing retry`: change one task's state. When no run
 * is active they apply it under the lock; when one is, they leave a request
 * that the run applies at its next decision, so two processes never write
 * state.json at once and no update is lost.
 */
import { type Clock, systemClock } from '../core/clock.js';
import { fingerprintOf } from '../core/fingerprint.js';
import { nextStep } from '../core/next-step.js';
import { applyReviewAction } from '../core/review-action.js';
import { refreshStale } from '../core/stale.js';
import { renderStatusFiles } from '../core/status-report.js';
import { writeFileAtomic } from '../state/atomic.js';
import { digest } from '../state/digest.js';
import { Inbox } from '../state/inbox.js';
import { acquireRunLock } from '../state/lock.js';
import { statusFile } from '../state/paths.js';
import { loadState, readState, saveState } from '../state/store.js';
import { TaskStatusFiles } from '../state/task-status-files.js';
import { loadProject } from '../tasks/load.js';

export type ReviewOutcome =
  /** `followUp`: what to do next, a command that works now. */
  | { kind: 'applied'; message: string; followUp: string }
  | { kind: 'refused'; message: string }
  | { kind: 'queued-for-run'; message: string }
  | { kind: 'unknown-task'; message: string }
  | { kind: 'error'; message: string };

export async function review(
  root: string,
  displayBase: string,
  action: 'approve' | 'retry',
  id: string,
  now: Clock = systemClock,
): Promise<ReviewOutcome> {
  const loaded = await loadProject(root, { displayBase });
  const known = loaded.plan?.tasks.some((t) => t.id === id);
  const state0 = loadState(root);
  if (!state0.ok) return { kind: 'error', message: state0.error.message };
  if (!known && !state0.value.tasks[id]) {
    return {
      kind: 'unknown-task',
      message: `no task "${id}" in the task files or the recorded state`,
    };
  }
  const lock = await acquireRunLock(root, { now });
  if (!lock.ok) {
    if (lock.error.reason === 'held') {
      new Inbox(root, now).put(action, id);
      return {
        kind: 'queued-for-run',
        message: `a run is active${lock.error.pid !== undefined ? ` (pid ${lock.error.pid})` : ''}; it will ${action} ${id} at its next step`,
      };
    }
    return { kind: 'error', message: lock.error.message };
  }
  try {
    const loadedState = readState(root, { now });
    if (!loadedState.ok) return { kind: 'error', message: loadedState.error.message };
    const { state, seq } = loadedState.value;
    const plan = loaded.plan;
    // What the run would see: edits since it ended may have made tasks stale.
    if (plan) refreshStale(plan, state, digest, now(), { adopt: false });
    const task = plan?.tasks.find((t) => t.id === id);
    const result = applyReviewAction(state, action, id, false, now(), () =>
      task ? fingerprintOf(task, state, digest) : undefined,
    );
    if (!result.ok) return { kind: 'refused', message: result.message };
    // An approval makes current what was stale only because of it; a retry of
    // a completed task makes its dependents stale.
    if (plan) refreshStale(plan, state, digest, now(), { adopt: false });
    // A new snapshot: no run is appending to the journal, and one save of the whole is cheap.
    saveState(root, state, seq);
    if (!loaded.plan) {
      // `bearing run` would exit 2 until the task files load.
      const n = loaded.diagnostics.length;
      return {
        kind: 'applied',
        message: result.message,
        followUp: `The task files have ${n} problem${n === 1 ? '' : 's'}: fix them (\`bearing validate\` lists them) before the next run.`,
      };
    }
    // The lock is released as this returns: status.md may advise `bearing run`.
    const gate = { kind: 'free' } as const;
    const files = renderStatusFiles(
      {
        plan: loaded.plan,
        state: state,
        next: nextStep(loaded.plan, state, new Set(), undefined, [], gate),
        now: now(),
        gate,
      },
      { memo: false },
    );
    writeFileAtomic(statusFile(root), files.main);
    new TaskStatusFiles(root).write(files.tasks);
    return { kind: 'applied', message: result.message, followUp: 'Run `bearing run` to continue.' };
  } finally {
    lock.value.release();
  }
}
