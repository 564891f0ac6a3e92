/**
 * `bearing approve` and `bearing retry` as a change to the recorded state.
 * Pure, and shared by the commands (when no run is active) and the run loop
 * (when one is, through its inbox), so both say and do exactly the same.
 */
import { describeStale } from './stale.js';
import type { Fingerprint, RunState, TaskRecord } from './state.js';

/** Statuses `bearing approve` accepts a task in. */
const APPROVABLE: ReadonlySet<TaskRecord['status']> = new Set([
  'awaiting-review',
  'needs-review',
  'failed',
  'stale',
]);

/**
 * Why `action` cannot be applied to the task now, or undefined when it can.
 * The dashboard asks this to offer only the buttons the commands would accept.
 */
export function reviewRefusal(
  record: TaskRecord | undefined,
  action: 'approve' | 'retry',
  id: string,
  isRunning: boolean,
): string | undefined {
  if (isRunning || record?.status === 'running') return `${id} is running; wait for it to finish`;
  if (action === 'approve') {
    if (!record || !APPROVABLE.has(record.status)) {
      return `${id} is ${record?.status ?? 'queued'}; only tasks awaiting review, needing review, failed or stale can be approved`;
    }
    const why = record.stale;
    // A stale result would be accepted against an upstream result that is
    // itself about to change: the upstream task is settled first.
    if (record.status === 'stale' && why?.kind === 'upstream' && why.change !== 'new-result') {
      return `${id} is stale because ${describeStale(why).replaceAll('`', '')}: approve or run ${why.task} first`;
    }
    return undefined;
  }
  if (!record || record.status === 'queued') return `${id} is already queued`;
  return undefined;
}

/**
 * `bearing approve` / `bearing retry` on the state: shared by the commands
 * (when no run is active) and the run loop (when one is).
 */
export function applyReviewAction(
  state: RunState,
  action: 'approve' | 'retry',
  id: string,
  isRunning: boolean,
  now: Date,
  /** The task's fingerprint as its task file and its dependencies stand now (approving a stale task). */
  currentFingerprint?: () => Fingerprint | undefined,
): { ok: boolean; message: string } {
  const record = state.tasks[id];
  const refused = reviewRefusal(record, action, id, isRunning);
  if (refused !== undefined) return { ok: false, message: refused };
  if (!record) throw new Error(`bug: ${action} of ${id} passed with no record`);
  if (action === 'approve' && record.status === 'stale') {
    const fingerprint = currentFingerprint?.();
    record.status = 'completed';
    delete record.stale;
    if (fingerprint) record.fingerprint = fingerprint;
    record.updatedAt = now.toISOString();
    return {
      ok: true,
      message: `${id} accepted as current: its result stands; tasks stale only because of it are current again`,
    };
  }
  if (action === 'approve') {
    // Worktree mode: work that never landed (a conflict resolved by hand, a
    // failed attempt accepted) lands first; the run does that, not the command.
    const last = record.attempts.at(-1);
    if (last?.worktree?.commit !== undefined && !last.worktree.landing) {
      record.status = 'queued';
      record.flagged = false;
      record.land = { attempt: last.attempt, reviewed: true };
      record.updatedAt = now.toISOString();
      return {
        ok: true,
        message: `${id} approved: its work in ${last.worktree.path} (with whatever is uncommitted there) lands when the run goes on`,
      };
    }
    // on_failure: pause leaves a failed attempt awaiting review: accepting it is accepting a failure.
    const wasFailed = record.status === 'failed' || record.failure !== undefined;
    record.status = 'completed';
    record.flagged = false;
    if (wasFailed) {
      // The accepted work is the last attempt's: its last words are the hand-off.
      const last = record.attempts.at(-1);
      record.summary = last?.summary || record.summary || '';
      if (last?.fingerprint) record.fingerprint = last.fingerprint;
      delete record.failure;
    }
    record.checks = { ...record.checks, approved: true };
    record.updatedAt = now.toISOString();
    return {
      ok: true,
      message: wasFailed
        ? `${id} accepted as completed despite its failure; its dependents can run`
        : `${id} approved; its dependents can run`,
    };
  }
  record.status = 'queued';
  record.flagged = false;
  delete record.land;
  record.retryFrom = record.attempts.length;
  record.updatedAt = now.toISOString();
  return { ok: true, message: `${id} queued to run again` };
}
