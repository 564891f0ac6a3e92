/**
 * What the next attempt of a task looks like: its number, whether it carries
 * the previous failure (a retry), and whether it resumes the agent's session.
 * Shared by `bearing run` and `bearing prompt`, so the preview is exact.
 */
import { describeFailure, type FailureReason, isExternal } from './failure.js';
import type { RetryNote } from './prompt.js';
import type { TaskRecord } from './state.js';

export interface NextAttempt {
  /** 1-based attempt number (also the run directory name). */
  attempt: number;
  retry?: RetryNote;
  /** Resume this agent session instead of starting fresh. */
  resumeSessionId?: string;
}

/** Failures after which the agent's own session holds useful progress to continue from. */
const RESUMABLE_AFTER: ReadonlySet<FailureReason> = new Set([
  'max-turns',
  'budget-exceeded',
  'verify-failed',
  'permission-denied',
  'agent-timeout',
]);

export function nextAttempt(record: TaskRecord | undefined, cliCanResume: boolean): NextAttempt {
  const attempts = record?.attempts ?? [];
  const attempt = attempts.length + 1;
  const last = attempts.at(-1);
  if (last?.outcome !== 'failed' || !last.failure) return { attempt };
  // A usage limit, a login problem or an outage says nothing about the work: start clean.
  if (isExternal(last.failure)) return { attempt };
  const retry: RetryNote = { attempt, error: describeFailure(last.failure) };
  if (last.failure.reason === 'verify-failed') retry.gateOutput = last.failure.output;
  if (last.failure.reason === 'merge-conflict') {
    // Its work was done on a base that moved; this attempt starts from the new one.
    retry.instruction =
      'This attempt starts from the project as it is now, with that work in it. Do the task again on top of it, keeping what the other task changed.';
  }
  const next: NextAttempt = { attempt, retry };
  if (cliCanResume && last.sessionId && RESUMABLE_AFTER.has(last.failure.reason)) {
    next.resumeSessionId = last.sessionId;
  }
  return next;
}
