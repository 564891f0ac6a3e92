/**
 * What the next attempt of a task looks like: its number, whether it carries
 * the previous failure (a retry), and whether it resumes the agent's session.
 * Shared by `bearing run` and `bearing prompt`, so the preview is exact.
 *
 * Resuming and starting afresh each cost something. A resumed session keeps
 * the context that led the agent astray, which is what Bearing exists to
 * avoid; a fresh one repeats the agent's cold start. So `retry_mode: auto`
 * decides by how the last attempt ended:
 *
 * - interrupted (a timeout, a kill or Ctrl-C, a crash, a usage limit or
 *   outage, the turn or budget limit): the work was going somewhere and was
 *   cut off, so the session resumes where it stopped;
 * - finished wrong (a failed gate, no changes, denied permissions, a shell
 *   command's failure): the agent thought it was done, so a fresh session
 *   starts with the error appended to the whole prompt.
 *
 * `resume` and `fresh` force one or the other. Resuming needs a CLI that can
 * (claude, codex) and a session the attempt recorded; a merge conflict always
 * starts fresh, from the new base in a new worktree.
 */
import { describeFailure, type Failure, type FailureReason, isExternal } from './failure.js';
import type { RetryNote } from './prompt.js';
import type { TaskRecord } from './state.js';
import type { RetryMode } from './task.js';

export interface NextAttempt {
  /** 1-based attempt number (also the run directory name). */
  attempt: number;
  retry?: RetryNote;
  /** Resume this agent session instead of starting fresh. */
  resumeSessionId?: string;
  /** Why it resumes or starts fresh, for `bearing prompt`; absent for a first attempt or after a completion. */
  why?: string;
}

/** Failures where the agent finished, wrongly: its session holds the reasoning that went astray. */
const FINISHED_WRONG: ReadonlySet<FailureReason> = new Set([
  'verify-failed',
  'no-changes',
  'permission-denied',
  'command-failed',
  'merge-conflict',
]);

const CONTINUE =
  'This attempt resumes your session where it was cut off. Continue the task from where you were and finish it.';

export function nextAttempt(
  record: TaskRecord | undefined,
  cliCanResume: boolean,
  mode: RetryMode = 'auto',
): NextAttempt {
  const attempts = record?.attempts ?? [];
  const attempt = attempts.length + 1;
  const last = attempts.at(-1);
  const failure = last?.failure;
  if (!last || (last.outcome !== 'failed' && last.outcome !== 'interrupted') || !failure) {
    return { attempt };
  }
  const wrong = FINISHED_WRONG.has(failure.reason);
  const resume =
    cliCanResume &&
    last.sessionId !== undefined &&
    failure.reason !== 'merge-conflict' &&
    (mode === 'resume' || (mode === 'auto' && !wrong));
  const why = whyText(failure, mode, resume, cliCanResume && last.sessionId !== undefined);
  if (resume) {
    const retry: RetryNote = { attempt, error: describeFailure(failure) };
    if (failure.reason === 'verify-failed') retry.gateOutput = failure.output;
    if (!wrong) retry.instruction = CONTINUE;
    return { attempt, retry, resumeSessionId: last.sessionId!, why };
  }
  // A usage limit, a log-in problem, an outage or an interruption says nothing
  // about the work: a fresh start needs no note about it.
  if (isExternal(failure) || last.outcome === 'interrupted') return { attempt, why };
  const retry: RetryNote = { attempt, error: describeFailure(failure) };
  if (failure.reason === 'verify-failed') retry.gateOutput = failure.output;
  if (failure.reason === 'merge-conflict') {
    // Its work was done on a base that moved; this attempt starts from the new one.
    retry.instruction =
      'This attempt starts from the project as it is now, with that work in it. Do the task again on top of it, keeping what the other task changed.';
  }
  return { attempt, retry, why };
}

/** One line for `bearing prompt`: what the next attempt will do, and why. */
function whyText(failure: Failure, mode: RetryMode, resume: boolean, couldResume: boolean): string {
  const last = describeFailure(failure);
  if (resume) {
    return mode === 'resume'
      ? `resumes the agent's session (retry_mode: resume); the last attempt: ${last}`
      : `resumes the agent's session: the last attempt was cut off (${last})`;
  }
  if (failure.reason === 'merge-conflict') {
    return `starts fresh from what has landed: the last attempt's work conflicted (${last})`;
  }
  if (mode === 'fresh') return `starts fresh (retry_mode: fresh); the last attempt: ${last}`;
  if (FINISHED_WRONG.has(failure.reason)) {
    return `starts fresh with the error appended: the last attempt finished wrong (${last})`;
  }
  return `starts fresh: ${couldResume ? '' : 'no session to resume; '}the last attempt was cut off (${last})`;
}
