/**
 * How an attempt changes its task's record, and the one place where the
 * kinds of outcome are mapped to one another: what the agent run reported
 * (completed, or a Failure) -> the attempt's outcome -> the task's status ->
 * what the run loop is told (TaskEndOutcome) -> whether the run stops
 * (StopReason). Everything that decides one of these from another lives here,
 * so a new outcome (a merge conflict, an attempt on another machine) is added
 * in one file.
 *
 * Pure: each transition takes a record and returns a new one, which the
 * caller stores in the state. The attempts in the returned record are the
 * objects passed in, except the one that ended: a running attempt may still
 * be updated in place (its process group, once spawned) and the saved state
 * sees it.
 */
import { type Failure, isExternal, isRetryable } from './failure.js';
import type { StopReason } from './next-step.js';
import {
  type AttemptRecord,
  addUsage,
  type Fingerprint,
  type HandOffChecks,
  type TaskRecord,
  type Usage,
  ZERO_USAGE,
} from './state.js';
import type { Task } from './task.js';

/** What the run loop is told when an attempt ends: the task's new status, and why. */
export type TaskEndOutcome =
  | 'completed'
  | 'awaiting-review'
  /** Said it was done, but its hand-off did not hold (no file changed): a person decides; the run goes on. */
  | 'needs-review'
  /** Failed, and queued again by `on_failure: retry`. */
  | 'retrying'
  | 'failed'
  | 'skipped'
  | 'interrupted'
  /** Failed for a reason outside the task (a limit, an outage, a login): queued again, no retry spent. */
  | 'requeued';

export interface TaskOutcome {
  outcome: TaskEndOutcome;
  attempt: AttemptRecord;
  failure?: Failure;
  /** Worktree mode: the work could not land; local changes in the checkout to these files are in the way. */
  blockedBy?: string[];
}

/** A task's record and what its ended attempt means for the run. */
export interface Transition {
  record: TaskRecord;
  outcome: TaskOutcome;
}

/** What an agent's own output says about how its attempt went (after the gate). */
export interface AgentReport {
  status: 'completed' | 'failed';
  failure?: Failure;
  /** The agent's final message (bounded), the hand-off to dependents. */
  summary: string;
  /** The CLI's own cost, else Bearing's estimate from the tokens; undefined when neither is known. */
  costUsd?: number;
  /** costUsd is Bearing's estimate (codex, priced by run.codex_prices), not the CLI's figure. */
  costEstimated?: boolean;
  usage: Usage;
  turns?: number;
  /** Newest session id seen, for resuming. */
  sessionId?: string;
  /** The model the CLI says it runs (claude's `init` event), recorded on the attempt. */
  model?: string;
}

/** What one attempt produced: the agent's report, and what Bearing measured. */
export interface AttemptEnd extends AgentReport {
  durationMs: number;
  exitCode?: number;
  notes: string[];
  /** Files the attempt changed, relative to the project root. */
  filesChanged: string[];
  /** The `verify` gate it passed, if it ran one. */
  verified?: string;
  /** Paths its summary names that it did not change and that do not exist (core/hand-off.ts). */
  unknownFiles?: string[];
}

/** The record of a task that has never run. */
export function newRecord(id: string, now: Date): TaskRecord {
  return {
    id,
    status: 'queued',
    attempts: [],
    costUsd: 0,
    usage: ZERO_USAGE,
    turns: 0,
    durationMs: 0,
    updatedAt: now.toISOString(),
  };
}

/**
 * The attempt is about to run: it is on record, with the token its processes
 * will carry, before anything is spawned.
 */
export function beginAttempt(
  record: TaskRecord | undefined,
  taskId: string,
  start: { attempt: number; token: string; fingerprint?: Fingerprint },
  now: Date,
): { record: TaskRecord; attempt: AttemptRecord } {
  const base = record ?? newRecord(taskId, now);
  const attempt: AttemptRecord = {
    attempt: start.attempt,
    startedAt: now.toISOString(),
    outcome: 'running',
    process: { token: start.token },
    ...(start.fingerprint ? { fingerprint: start.fingerprint } : {}),
  };
  return {
    record: {
      ...base,
      attempts: [...base.attempts, attempt],
      status: 'running',
      updatedAt: attempt.startedAt,
    },
    attempt,
  };
}

/** The attempt's own outcome, from what the agent run reported. */
export function attemptOutcome(end: {
  status: 'completed' | 'failed';
  failure?: Failure;
}): AttemptRecord['outcome'] {
  if (end.status === 'completed') return 'completed';
  const reason = end.failure?.reason;
  return reason === 'interrupted' || reason === 'worker-lost' ? 'interrupted' : 'failed';
}

/**
 * The attempt ended with a report: it is recorded, its costs are added to the
 * task's totals, and the task's new status follows from its checkpoint and
 * failure policy.
 */
export function finishAttempt(
  task: Task,
  record: TaskRecord,
  attempt: AttemptRecord,
  end: AttemptEnd,
  now: Date,
  policy: RunPolicy = { conflictRetries: 0 },
): Transition {
  end = checkHandOff(task, end);
  // Live progress is for a running attempt; the ended one carries its final figures.
  const { progress: _live, ...begun } = attempt;
  const ended: AttemptRecord = {
    ...begun,
    endedAt: now.toISOString(),
    durationMs: end.durationMs,
    outcome: attemptOutcome(end),
    ...(end.failure ? { failure: end.failure } : {}),
    ...(end.costUsd !== undefined ? { costUsd: end.costUsd } : {}),
    ...(end.costEstimated ? { costEstimated: true } : {}),
    usage: end.usage,
    ...(end.turns !== undefined ? { turns: end.turns } : {}),
    ...(end.sessionId ? { sessionId: end.sessionId } : {}),
    ...(end.model ? { model: end.model } : {}),
    summary: end.summary,
    ...(end.exitCode !== undefined ? { exitCode: end.exitCode } : {}),
    ...(end.notes.length > 0 ? { notes: end.notes } : {}),
  };
  const index = record.attempts.indexOf(attempt);
  if (index < 0) throw new Error(`attempt ${attempt.attempt} of ${task.id} is not on its record`);
  const next: TaskRecord = {
    ...record,
    attempts: record.attempts.map((a, i) => (i === index ? ended : a)),
    costUsd: record.costUsd + (end.costUsd ?? 0),
    usage: addUsage(record.usage, end.usage),
    turns: record.turns + (end.turns ?? 0),
    durationMs: record.durationMs + end.durationMs,
  };
  if (end.sessionId) next.sessionId = end.sessionId;
  next.updatedAt = ended.endedAt!;
  return { record: next, outcome: settle(task, next, ended, end, policy) };
}

/**
 * An agent's "done" from a task expected to change files (`expect_changes`)
 * that changed none does not hold: it ends as `no-changes`, which needs the
 * person's review (core/hand-off.ts has the other check, of its summary).
 */
function checkHandOff(task: Task, end: AttemptEnd): AttemptEnd {
  if (end.status !== 'completed' || !task.expectChanges || end.filesChanged.length > 0) return end;
  return {
    ...end,
    status: 'failed',
    failure: {
      reason: 'no-changes',
      message:
        task.verify !== undefined
          ? `its verify gate passed, but nothing in the project changed`
          : 'nothing in the project changed',
    },
  };
}

/** What the current hand-off was checked against, from the attempt that made it. */
function handOffChecks(
  task: Task,
  end: Pick<AttemptEnd, 'filesChanged' | 'verified' | 'unknownFiles'>,
): HandOffChecks {
  return {
    ...(end.verified !== undefined ? { verify: end.verified } : {}),
    ...(task.expectChanges && end.filesChanged.length > 0 ? { changes: true } : {}),
    ...(end.unknownFiles && end.unknownFiles.length > 0 ? { unknownFiles: end.unknownFiles } : {}),
  };
}

/** What the run's settings say about outcomes, beside the task's own policy. */
export interface RunPolicy {
  /** run.conflict_retries: runs from a new base after a merge conflict. */
  conflictRetries: number;
}

/** The task's new status after an attempt (set on `record`, a copy the caller owns). */
function settle(
  task: Task,
  record: TaskRecord,
  attempt: AttemptRecord,
  end: Pick<
    AttemptEnd,
    'status' | 'failure' | 'summary' | 'filesChanged' | 'verified' | 'unknownFiles'
  >,
  policy: RunPolicy,
): TaskOutcome {
  if (end.status === 'completed') {
    record.summary = end.summary;
    record.filesChanged = end.filesChanged;
    record.checks = handOffChecks(task, end);
    if (attempt.fingerprint) record.fingerprint = attempt.fingerprint;
    delete record.failure;
    delete record.stale;
    if (task.checkpoint === 'pause') {
      record.status = 'awaiting-review';
      return { outcome: 'awaiting-review', attempt };
    }
    record.status = 'completed';
    record.flagged = task.checkpoint === 'notify';
    return { outcome: 'completed', attempt };
  }

  const failure = end.failure ?? { reason: 'agent-exit', exitCode: -1, message: 'no result' };
  record.failure = failure;
  // The work an attempt did is still worth knowing about when it failed.
  record.filesChanged = end.filesChanged;
  // A stale task's old result is replaced, for better or worse, by this attempt.
  delete record.stale;
  delete record.checks;
  if (failure.reason === 'no-changes') {
    // Its words are what the person reviews, and what `bearing approve` hands on.
    record.summary = end.summary;
    record.checks = handOffChecks(task, end);
    record.status = 'needs-review';
    return { outcome: 'needs-review', attempt, failure };
  }
  if (failure.reason === 'interrupted') {
    record.status = 'interrupted';
    return { outcome: 'interrupted', attempt, failure };
  }
  if (failure.reason === 'worker-lost') {
    // The run goes on: the task runs again on another worker, costing no retry.
    record.status = 'queued';
    return { outcome: 'requeued', attempt, failure };
  }
  if (isExternal(failure)) {
    // Not the task's fault: it stays queued and the run holds or stops instead of hammering.
    record.status = 'queued';
    return { outcome: 'requeued', attempt, failure };
  }
  if (failure.reason === 'merge-conflict') {
    // Its own budget, whatever on_failure says: the work was done, it landed
    // on a base that moved. Once spent, the work is kept for the person.
    if (trailingConflicts(record) <= policy.conflictRetries) {
      record.status = 'queued';
      return { outcome: 'retrying', attempt, failure };
    }
    record.status = 'failed';
    return { outcome: 'failed', attempt, failure };
  }
  switch (task.onFailure) {
    case 'retry': {
      if (trailingFailures(record) <= task.retries && isRetryable(failure)) {
        record.status = 'queued';
        return { outcome: 'retrying', attempt, failure };
      }
      record.status = 'failed';
      return { outcome: 'failed', attempt, failure };
    }
    case 'skip':
      record.status = 'skipped';
      return { outcome: 'skipped', attempt, failure };
    case 'pause':
      record.status = 'awaiting-review';
      return { outcome: 'awaiting-review', attempt, failure };
    case 'stop':
      record.status = 'failed';
      return { outcome: 'failed', attempt, failure };
  }
}

/** Failed attempts since the last completion or fresh start: the retry budget in use. */
function trailingFailures(record: TaskRecord): number {
  let n = 0;
  for (let i = record.attempts.length - 1; i >= (record.retryFrom ?? 0); i--) {
    const a = record.attempts[i]!;
    if (a.outcome === 'failed' && !(a.failure && isExternal(a.failure))) n++;
    else if (a.outcome === 'completed') break;
  }
  return n;
}

/** Merge conflicts in a row since the retry budget was last reset. */
function trailingConflicts(record: TaskRecord): number {
  let n = 0;
  for (let i = record.attempts.length - 1; i >= (record.retryFrom ?? 0); i--) {
    if (record.attempts[i]!.failure?.reason !== 'merge-conflict') break;
    n++;
  }
  return n;
}

/**
 * Worktree mode: the attempt completed, but its work could not land because
 * the main checkout has local changes in the way. The agent's report is on
 * the attempt; the task waits, queued, for its work to land (not to run again).
 */
export function landingBlocked(
  record: TaskRecord,
  attempt: AttemptRecord,
  blockedBy: string[],
  now: Date,
): Transition {
  const ended: AttemptRecord = { ...attempt, outcome: 'completed', endedAt: now.toISOString() };
  const next: TaskRecord = {
    ...addAttemptTotals(record, attempt),
    attempts: record.attempts.map((a) => (a === attempt ? ended : a)),
    status: 'queued',
    land: { attempt: attempt.attempt, reviewed: false },
    updatedAt: now.toISOString(),
  };
  return { record: next, outcome: { outcome: 'requeued', attempt: ended, blockedBy } };
}

/**
 * Worktree mode, after a crash: the attempt had completed and committed its
 * work. If it landed (`files`: what it changed), the task is done as if the
 * run had lived; if not, the work waits to land (the agent does not run again).
 */
export function recoverCompleted(
  task: Task,
  record: TaskRecord,
  attempt: AttemptRecord,
  files: string[] | undefined,
  now: Date,
): TaskRecord {
  if (files === undefined) return landingBlocked(record, attempt, [], now).record;
  const ended: AttemptRecord = { ...attempt, outcome: 'completed', endedAt: now.toISOString() };
  const next: TaskRecord = {
    ...addAttemptTotals(record, attempt),
    attempts: record.attempts.map((a) => (a === attempt ? ended : a)),
    updatedAt: now.toISOString(),
  };
  const summary = attempt.summary ?? '';
  settle(
    task,
    next,
    ended,
    { status: 'completed', summary, filesChanged: files },
    { conflictRetries: 0 },
  );
  return next;
}

/**
 * Worktree mode: work kept in an attempt's worktree was landed (or tried to
 * land) without running the agent again. Approved by the person (`reviewed`),
 * it is done whatever the checkpoint; a conflict fails it, with its work kept.
 */
export function finishLanding(
  task: Task,
  record: TaskRecord,
  attemptNumber: number,
  result: { files: string[]; failure?: Failure; blockedBy?: string[] },
  reviewed: boolean,
  now: Date,
  policy: RunPolicy,
): Transition {
  const at = now.toISOString();
  const attempt = record.attempts.find((a) => a.attempt === attemptNumber);
  if (!attempt) throw new Error(`attempt ${attemptNumber} of ${task.id} is not on its record`);
  if (result.blockedBy) {
    return {
      record: { ...record, updatedAt: at },
      outcome: { outcome: 'requeued', attempt, blockedBy: result.blockedBy },
    };
  }
  const ended: AttemptRecord = result.failure
    ? { ...attempt, outcome: 'failed', failure: result.failure }
    : { ...attempt, outcome: 'completed' };
  const next: TaskRecord = {
    ...record,
    attempts: record.attempts.map((a) => (a === attempt ? ended : a)),
    updatedAt: at,
  };
  delete next.land;
  const end = result.failure
    ? {
        status: 'failed' as const,
        failure: result.failure,
        summary: ended.summary ?? '',
        filesChanged: result.files,
      }
    : { status: 'completed' as const, summary: ended.summary ?? '', filesChanged: result.files };
  const outcome = settle(
    reviewed ? { ...task, checkpoint: 'auto' } : task,
    next,
    ended,
    end,
    reviewed ? { conflictRetries: 0 } : policy,
  );
  if (reviewed && next.status === 'completed') next.checks = { ...next.checks, approved: true };
  return { record: next, outcome };
}

/** The task's totals with one attempt's report added. */
function addAttemptTotals(record: TaskRecord, attempt: AttemptRecord): TaskRecord {
  const next: TaskRecord = {
    ...record,
    costUsd: record.costUsd + (attempt.costUsd ?? 0),
    usage: attempt.usage ? addUsage(record.usage, attempt.usage) : record.usage,
    turns: record.turns + (attempt.turns ?? 0),
    durationMs: record.durationMs + (attempt.durationMs ?? 0),
  };
  if (attempt.sessionId) next.sessionId = attempt.sessionId;
  return next;
}

/**
 * The outcome of an attempt that ended without a report from its agent (the
 * run could not write its files, Bearing crashed, a bug): interrupted ones
 * run again, anything else is failed whatever the task's failure policy.
 */
export function abandonedOutcome(failure: Failure): 'interrupted' | 'failed' {
  return failure.reason === 'interrupted' ? 'interrupted' : 'failed';
}

/**
 * The attempt threw instead of reporting: its running attempt (or, if it
 * never got that far, a new one) ends with `failure`, and so does the task.
 */
export function abandonAttempt(
  record: TaskRecord | undefined,
  taskId: string,
  failure: Failure,
  now: Date,
): Transition {
  const base = record ?? newRecord(taskId, now);
  const at = now.toISOString();
  const outcome = abandonedOutcome(failure);
  const last = base.attempts.at(-1);
  const attempt: AttemptRecord =
    last && last.outcome === 'running'
      ? { ...last, outcome, failure, endedAt: at }
      : { attempt: base.attempts.length + 1, startedAt: at, outcome, failure };
  const attempts =
    last && last.outcome === 'running'
      ? [...base.attempts.slice(0, -1), attempt]
      : [...base.attempts, attempt];
  return {
    record: { ...base, attempts, status: outcome, failure, updatedAt: at },
    outcome: { outcome, attempt, failure },
  };
}

/** Whether the run stops after this attempt's end (holds for limits and outages aside). */
export function stopReasonFor(o: TaskOutcome, task: Task): StopReason | undefined {
  const f = o.failure;
  if (o.outcome === 'interrupted') return { kind: 'interrupted' };
  if (o.outcome === 'awaiting-review') return { kind: 'paused', task: task.id };
  // Its dependents wait; the run goes on unless the person asked to look at this task first.
  if (o.outcome === 'needs-review') {
    return task.checkpoint === 'pause' ? { kind: 'paused', task: task.id } : undefined;
  }
  switch (f?.reason) {
    case 'rate-limited':
      return {
        kind: 'rate-limited',
        task: task.id,
        cli: task.cli,
        message: f.message,
        ...(f.resetsAt ? { resetsAt: f.resetsAt } : {}),
      };
    case 'auth-error':
      return { kind: 'auth-error', task: task.id, cli: task.cli, message: f.message };
    case 'outage':
      return {
        kind: 'outage',
        task: task.id,
        cli: task.cli,
        message: f.apiStatus === undefined ? f.message : `status ${f.apiStatus}: ${f.message}`,
      };
    default:
      return o.outcome === 'failed' && task.onFailure === 'stop'
        ? { kind: 'stopped', task: task.id }
        : undefined;
  }
}
