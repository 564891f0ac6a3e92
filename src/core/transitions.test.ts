/**
 * The state transitions of an attempt, and the mapping from what an agent
 * run reported to the attempt's outcome, the task's status and what the run
 * loop is told, for every failure policy and checkpoint.
 */
import { describe, expect, it } from 'vitest';
import type { Failure } from './failure.js';
import { type AttemptRecord, type TaskRecord, ZERO_USAGE } from './state.js';
import { makeTask } from './test-support.js';
import {
  type AttemptEnd,
  abandonAttempt,
  attemptOutcome,
  beginAttempt,
  finishAttempt,
  finishLanding,
  landingBlocked,
  newRecord,
  recoverCompleted,
  stopReasonFor,
} from './transitions.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const T1 = new Date('2026-01-01T00:01:00.000Z');
const USAGE = { inputTokens: 10, outputTokens: 5, cacheReadTokens: 1, cacheWriteTokens: 2 };

function end(partial: Partial<AttemptEnd> = {}): AttemptEnd {
  return {
    status: 'completed',
    summary: 'done',
    usage: USAGE,
    durationMs: 60_000,
    notes: [],
    filesChanged: ['a.txt'],
    ...partial,
  };
}

function failedWith(failure: Failure): AttemptEnd {
  return end({ status: 'failed', failure });
}

/** A task's record after `previous` ended attempts, with one more running. */
function running(previous: AttemptRecord[] = [], retryFrom?: number) {
  const record: TaskRecord = {
    ...newRecord('t', T0),
    attempts: previous,
    ...(retryFrom !== undefined ? { retryFrom } : {}),
  };
  return beginAttempt(record, 't', { attempt: previous.length + 1, token: 'tok' }, T0);
}

const failedAttempt = (n: number, failure: Failure): AttemptRecord => ({
  attempt: n,
  startedAt: T0.toISOString(),
  outcome: 'failed',
  failure,
});

const agentExit: Failure = { reason: 'agent-exit', exitCode: 1, message: 'boom' };

describe('beginAttempt', () => {
  it('records the running attempt with its token, on a new record for a task that never ran', () => {
    const { record, attempt } = beginAttempt(undefined, 't', { attempt: 1, token: 'tok' }, T0);
    expect(attempt).toEqual({
      attempt: 1,
      startedAt: T0.toISOString(),
      outcome: 'running',
      process: { token: 'tok' },
    });
    expect(record.status).toBe('running');
    expect(record.updatedAt).toBe(T0.toISOString());
    // The same object: the process group is added to it in place once spawned.
    expect(record.attempts.at(-1)).toBe(attempt);
  });

  it('returns a new record and leaves the old one as it was', () => {
    const old: TaskRecord = { ...newRecord('t', T0), status: 'failed', attempts: [] };
    const { record } = beginAttempt(old, 't', { attempt: 1, token: 'tok' }, T1);
    expect(record).not.toBe(old);
    expect(old.status).toBe('failed');
    expect(old.attempts).toEqual([]);
  });
});

describe('attemptOutcome', () => {
  it('maps what the agent run reported to the attempt outcome', () => {
    expect(attemptOutcome({ status: 'completed' })).toBe('completed');
    expect(attemptOutcome({ status: 'failed', failure: agentExit })).toBe('failed');
    expect(
      attemptOutcome({ status: 'failed', failure: { reason: 'interrupted', message: 'x' } }),
    ).toBe('interrupted');
    expect(attemptOutcome({ status: 'failed' })).toBe('failed');
  });
});

describe('finishAttempt', () => {
  it('records the ended attempt and adds its costs to the totals, without touching its input', () => {
    const { record, attempt } = running();
    const done = finishAttempt(
      makeTask({ id: 't' }),
      record,
      attempt,
      end({
        costUsd: 0.5,
        turns: 3,
        sessionId: 's1',
        model: 'claude-sonnet-5',
        exitCode: 0,
        notes: ['n'],
      }),
      T1,
    );
    expect(done.outcome).toEqual({ outcome: 'completed', attempt: done.record.attempts[0] });
    expect(done.record.attempts[0]).toEqual({
      attempt: 1,
      startedAt: T0.toISOString(),
      outcome: 'completed',
      process: { token: 'tok' },
      endedAt: T1.toISOString(),
      durationMs: 60_000,
      costUsd: 0.5,
      usage: USAGE,
      turns: 3,
      sessionId: 's1',
      model: 'claude-sonnet-5',
      summary: 'done',
      exitCode: 0,
      notes: ['n'],
    });
    expect(done.record).toMatchObject({
      status: 'completed',
      summary: 'done',
      filesChanged: ['a.txt'],
      costUsd: 0.5,
      usage: USAGE,
      turns: 3,
      durationMs: 60_000,
      sessionId: 's1',
      flagged: false,
      updatedAt: T1.toISOString(),
    });
    expect(record.status).toBe('running');
    expect(attempt.outcome).toBe('running');
    expect(record.usage).toEqual(ZERO_USAGE);
  });

  it('leaves out what the attempt did not report', () => {
    const { record, attempt } = running();
    const done = finishAttempt(makeTask({ id: 't' }), record, attempt, end(), T1);
    expect(Object.keys(done.outcome.attempt)).not.toContain('notes');
    expect(Object.keys(done.outcome.attempt)).not.toContain('costUsd');
    expect(Object.keys(done.outcome.attempt)).not.toContain('model');
    expect(done.record.sessionId).toBeUndefined();
  });

  it.each([
    ['auto', 'completed', 'completed', false],
    ['notify', 'completed', 'completed', true],
    ['pause', 'awaiting-review', 'awaiting-review', undefined],
  ] as const)('checkpoint %s: a completion is %s', (checkpoint, status, outcome, flagged) => {
    const { record, attempt } = running();
    const done = finishAttempt(makeTask({ id: 't', checkpoint }), record, attempt, end(), T1);
    expect(done.record.status).toBe(status);
    expect(done.outcome.outcome).toBe(outcome);
    expect(done.record.flagged).toBe(flagged);
  });

  it('a completion clears the previous failure', () => {
    const { record, attempt } = running([failedAttempt(1, agentExit)]);
    const done = finishAttempt(
      makeTask({ id: 't' }),
      { ...record, failure: agentExit },
      attempt,
      end(),
      T1,
    );
    expect(done.record.failure).toBeUndefined();
  });

  it.each([
    ['retry', 'queued', 'retrying'],
    ['skip', 'skipped', 'skipped'],
    ['pause', 'awaiting-review', 'awaiting-review'],
    ['stop', 'failed', 'failed'],
  ] as const)('on_failure %s: a failure is %s (%s)', (onFailure, status, outcome) => {
    const { record, attempt } = running();
    const done = finishAttempt(
      makeTask({ id: 't', onFailure, retries: 1 }),
      record,
      attempt,
      failedWith(agentExit),
      T1,
    );
    expect(done.record.status).toBe(status);
    expect(done.outcome).toEqual({ outcome, attempt: done.record.attempts[0], failure: agentExit });
    expect(done.record.failure).toEqual(agentExit);
    // The work a failed attempt did is still on record.
    expect(done.record.filesChanged).toEqual(['a.txt']);
  });

  it('an interruption is interrupted whatever the failure policy', () => {
    const failure: Failure = { reason: 'interrupted', message: 'Ctrl-C' };
    for (const onFailure of ['retry', 'skip', 'pause', 'stop'] as const) {
      const { record, attempt } = running();
      const done = finishAttempt(
        makeTask({ id: 't', onFailure }),
        record,
        attempt,
        failedWith(failure),
        T1,
      );
      expect(done.record.status).toBe('interrupted');
      expect(done.outcome.outcome).toBe('interrupted');
      expect(done.outcome.attempt.outcome).toBe('interrupted');
    }
  });

  it('a failure outside the task (limit, login, outage) queues it again and spends no retry', () => {
    const external: Failure[] = [
      { reason: 'rate-limited', message: 'limit' },
      { reason: 'auth-error', message: 'login' },
      { reason: 'outage', cli: 'claude', message: '529' },
    ];
    for (const failure of external) {
      const { record, attempt } = running();
      const done = finishAttempt(
        makeTask({ id: 't', onFailure: 'stop' }),
        record,
        attempt,
        failedWith(failure),
        T1,
      );
      expect(done.record.status).toBe('queued');
      expect(done.outcome.outcome).toBe('requeued');
    }
  });

  it('retries until the budget is spent; failures outside the task and before retryFrom do not count', () => {
    const task = makeTask({ id: 't', onFailure: 'retry', retries: 1 });
    const limit: Failure = { reason: 'rate-limited', message: 'limit' };
    const second = running([failedAttempt(1, agentExit)]);
    expect(
      finishAttempt(task, second.record, second.attempt, failedWith(agentExit), T1).outcome,
    ).toMatchObject({ outcome: 'failed' });

    const afterLimit = running([failedAttempt(1, limit)]);
    expect(
      finishAttempt(task, afterLimit.record, afterLimit.attempt, failedWith(agentExit), T1).outcome
        .outcome,
    ).toBe('retrying');

    const afterRetry = running([failedAttempt(1, agentExit), failedAttempt(2, agentExit)], 2);
    expect(
      finishAttempt(task, afterRetry.record, afterRetry.attempt, failedWith(agentExit), T1).outcome
        .outcome,
    ).toBe('retrying');
  });

  it('does not retry what a retry cannot fix', () => {
    const { record, attempt } = running();
    const failure: Failure = { reason: 'spawn-error', command: 'claude', message: 'ENOENT' };
    const done = finishAttempt(
      makeTask({ id: 't', onFailure: 'retry', retries: 3 }),
      record,
      attempt,
      failedWith(failure),
      T1,
    );
    expect(done.outcome.outcome).toBe('failed');
  });

  it('a failed report without a failure is an agent exit', () => {
    const { record, attempt } = running();
    const done = finishAttempt(
      makeTask({ id: 't', onFailure: 'stop' }),
      record,
      attempt,
      end({ status: 'failed' }),
      T1,
    );
    expect(done.record.failure).toEqual({
      reason: 'agent-exit',
      exitCode: -1,
      message: 'no result',
    });
  });

  it('refuses an attempt that is not on the record (a bug)', () => {
    const { attempt } = running();
    expect(() =>
      finishAttempt(makeTask({ id: 't' }), newRecord('t', T0), attempt, end(), T1),
    ).toThrow(/not on its record/);
  });
});

describe('abandonAttempt', () => {
  const writeFailed: Failure = { reason: 'interrupted', message: 'Bearing could not write x' };
  const bug: Failure = { reason: 'internal-error', message: 'bug', version: '1.0.0' };

  it('ends the running attempt with the failure: interrupted runs again', () => {
    const { record, attempt } = running([failedAttempt(1, agentExit)]);
    const done = abandonAttempt(record, 't', writeFailed, T1);
    expect(done.record.attempts).toHaveLength(2);
    expect(done.record.attempts[1]).toEqual({
      ...attempt,
      outcome: 'interrupted',
      failure: writeFailed,
      endedAt: T1.toISOString(),
    });
    expect(done.record).toMatchObject({ status: 'interrupted', failure: writeFailed });
    expect(done.outcome).toEqual({
      outcome: 'interrupted',
      attempt: done.record.attempts[1],
      failure: writeFailed,
    });
    expect(attempt.outcome).toBe('running');
  });

  it('a bug fails the task whatever its failure policy, on a new attempt if none was running', () => {
    const done = abandonAttempt(undefined, 't', bug, T1);
    expect(done.record.attempts).toEqual([
      { attempt: 1, startedAt: T1.toISOString(), outcome: 'failed', failure: bug },
    ]);
    expect(done.record.status).toBe('failed');
    expect(done.outcome.outcome).toBe('failed');
  });
});

describe('stopReasonFor', () => {
  const attempt = failedAttempt(1, agentExit);
  it('stops the run for an interruption, a pause, a limit, a login and on_failure: stop', () => {
    const task = makeTask({ id: 't', onFailure: 'stop' });
    expect(stopReasonFor({ outcome: 'interrupted', attempt }, task)).toEqual({
      kind: 'interrupted',
    });
    expect(stopReasonFor({ outcome: 'awaiting-review', attempt }, task)).toEqual({
      kind: 'paused',
      task: 't',
    });
    expect(
      stopReasonFor(
        {
          outcome: 'requeued',
          attempt,
          failure: { reason: 'rate-limited', message: 'm', resetsAt: 'r' },
        },
        task,
      ),
    ).toEqual({ kind: 'rate-limited', task: 't', cli: 'claude', message: 'm', resetsAt: 'r' });
    expect(
      stopReasonFor(
        { outcome: 'requeued', attempt, failure: { reason: 'auth-error', message: 'm' } },
        task,
      ),
    ).toEqual({ kind: 'auth-error', task: 't', cli: 'claude', message: 'm' });
    expect(stopReasonFor({ outcome: 'failed', attempt, failure: agentExit }, task)).toEqual({
      kind: 'stopped',
      task: 't',
    });
  });

  it('goes on after a retry, a skip or a completion', () => {
    const task = makeTask({ id: 't', onFailure: 'retry' });
    for (const outcome of ['retrying', 'skipped', 'completed', 'failed'] as const) {
      expect(stopReasonFor({ outcome, attempt }, task)).toBeUndefined();
    }
  });
});

describe('worktree mode', () => {
  const conflict: Failure = {
    reason: 'merge-conflict',
    files: ['x.txt'],
    tasks: ['other'],
    branch: 'bearing/t/1',
    worktree: '/w/t-1',
    target: 'main',
  };
  const policy = { conflictRetries: 1 };

  it('a merge conflict re-runs up to run.conflict_retries times, whatever on_failure says, then fails', () => {
    const task = makeTask({ id: 't', onFailure: 'skip', retries: 0 });
    const first = running();
    const once = finishAttempt(task, first.record, first.attempt, failedWith(conflict), T1, policy);
    expect(once.outcome.outcome).toBe('retrying');
    expect(once.record.status).toBe('queued');
    const second = beginAttempt(once.record, 't', { attempt: 2, token: 'tok' }, T1);
    const twice = finishAttempt(
      task,
      second.record,
      second.attempt,
      failedWith(conflict),
      T1,
      policy,
    );
    expect(twice.outcome.outcome).toBe('failed');
    expect(twice.record.status).toBe('failed');
    // No re-run at all with conflict_retries: 0.
    const none = finishAttempt(task, first.record, first.attempt, failedWith(conflict), T1, {
      conflictRetries: 0,
    });
    expect(none.outcome.outcome).toBe('failed');
  });

  it('a landing blocked by local edits keeps the report and leaves the work waiting to land', () => {
    const begun = running();
    Object.assign(begun.attempt, { summary: 'did it', costUsd: 0.5, usage: USAGE, turns: 3 });
    const blocked = landingBlocked(begun.record, begun.attempt, ['app.txt'], T1);
    expect(blocked.outcome).toMatchObject({ outcome: 'requeued', blockedBy: ['app.txt'] });
    expect(blocked.record).toMatchObject({
      status: 'queued',
      land: { attempt: 1, reviewed: false },
      costUsd: 0.5,
      turns: 3,
    });
    expect(blocked.record.attempts[0]!.outcome).toBe('completed');
  });

  it('after a crash, a landed attempt is done by its checkpoint; one that did not land waits', () => {
    const begun = running();
    Object.assign(begun.attempt, { summary: 'did it', usage: USAGE });
    const landed = recoverCompleted(
      makeTask({ id: 't' }),
      begun.record,
      begun.attempt,
      ['a.txt'],
      T1,
    );
    expect(landed).toMatchObject({
      status: 'completed',
      summary: 'did it',
      filesChanged: ['a.txt'],
    });
    const paused = recoverCompleted(
      makeTask({ id: 't', checkpoint: 'pause' }),
      begun.record,
      begun.attempt,
      ['a.txt'],
      T1,
    );
    expect(paused.status).toBe('awaiting-review');
    const waiting = recoverCompleted(
      makeTask({ id: 't' }),
      begun.record,
      begun.attempt,
      undefined,
      T1,
    );
    expect(waiting).toMatchObject({ status: 'queued', land: { attempt: 1 } });
  });

  it('landing approved work completes it whatever the checkpoint; a conflict then fails it at once', () => {
    const task = makeTask({ id: 't', checkpoint: 'pause' });
    const record: TaskRecord = {
      ...newRecord('t', T0),
      status: 'queued',
      attempts: [failedAttempt(1, conflict)],
      land: { attempt: 1, reviewed: true },
    };
    const done = finishLanding(task, record, 1, { files: ['x.txt'] }, true, T1, policy);
    expect(done.outcome.outcome).toBe('completed');
    expect(done.record).toMatchObject({ status: 'completed', filesChanged: ['x.txt'] });
    expect(done.record.land).toBeUndefined();
    const again = finishLanding(
      task,
      record,
      1,
      { files: [], failure: conflict },
      true,
      T1,
      policy,
    );
    expect(again.outcome.outcome).toBe('failed');
    const blocked = finishLanding(
      task,
      record,
      1,
      { files: [], blockedBy: ['x.txt'] },
      true,
      T1,
      policy,
    );
    expect(blocked.outcome.blockedBy).toEqual(['x.txt']);
    expect(blocked.record.land).toEqual({ attempt: 1, reviewed: true });
  });
});
