/**
 * Retry modes: after an interruption the next attempt resumes the agent's
 * session; after an attempt that finished wrong it starts fresh with the
 * error appended; `retry_mode: resume | fresh` forces one or the other.
 */
import { describe, expect, it } from 'vitest';
import { nextAttempt } from './attempt.js';
import type { Failure } from './failure.js';
import type { AttemptRecord, TaskRecord } from './state.js';
import { newRecord } from './transitions.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');

function endedWith(
  failure: Failure,
  options: { outcome?: AttemptRecord['outcome']; session?: boolean } = {},
): TaskRecord {
  return {
    ...newRecord('t', T0),
    status: 'queued',
    attempts: [
      {
        attempt: 1,
        startedAt: T0.toISOString(),
        outcome: options.outcome ?? 'failed',
        failure,
        ...(options.session === false ? {} : { sessionId: 'sess-1' }),
      },
    ],
  };
}

const INTERRUPTED: [string, Failure, AttemptRecord['outcome']][] = [
  ['a timeout', { reason: 'agent-timeout', kind: 'wall', afterMs: 60_000 }, 'failed'],
  ['a kill', { reason: 'signal', signal: 'SIGKILL' }, 'failed'],
  ['Ctrl-C', { reason: 'interrupted', message: 'stopped by Ctrl-C' }, 'interrupted'],
  ['a usage limit', { reason: 'rate-limited', message: "You've hit your limit" }, 'failed'],
  ['a crash', { reason: 'agent-exit', exitCode: 1, message: 'segfault' }, 'failed'],
  ['the turn limit', { reason: 'max-turns', message: 'max turns', turns: 5 }, 'failed'],
];

const FINISHED_WRONG: [string, Failure][] = [
  ['a failed gate', { reason: 'verify-failed', command: 'npm test', exitCode: 1, output: 'FAIL' }],
  ['no changes', { reason: 'no-changes', message: 'nothing in the project changed' }],
  ['denied permissions', { reason: 'permission-denied', message: 'denied', tools: ['Bash'] }],
];

describe('retry_mode: auto', () => {
  it.each(INTERRUPTED)('resumes the session after %s', (_, failure, outcome) => {
    const next = nextAttempt(endedWith(failure, { outcome }), true, 'auto');
    expect(next.resumeSessionId).toBe('sess-1');
    expect(next.retry?.instruction).toMatch(/resumes your session where it was cut off/);
    expect(next.why).toMatch(/^resumes the agent's session: the last attempt was cut off/);
  });

  it.each(FINISHED_WRONG)('starts fresh with the error appended after %s', (_, failure) => {
    const next = nextAttempt(endedWith(failure), true, 'auto');
    expect(next.resumeSessionId).toBeUndefined();
    expect(next.retry?.error).toBeTruthy();
    expect(next.why).toMatch(
      /^starts fresh with the error appended: the last attempt finished wrong/,
    );
  });

  it('starts fresh when there is no session to resume, or the CLI cannot', () => {
    const timeout: Failure = { reason: 'agent-timeout', kind: 'idle', afterMs: 1000 };
    expect(
      nextAttempt(endedWith(timeout, { session: false }), true).resumeSessionId,
    ).toBeUndefined();
    expect(nextAttempt(endedWith(timeout), false).resumeSessionId).toBeUndefined();
    expect(nextAttempt(endedWith(timeout), false).why).toMatch(/no session to resume/);
  });

  it('starts a merge conflict fresh, whatever the mode', () => {
    const conflict: Failure = {
      reason: 'merge-conflict',
      files: ['a'],
      tasks: ['b'],
      branch: 'bearing/t/1',
      worktree: '/w',
      target: 'main',
    };
    expect(nextAttempt(endedWith(conflict), true, 'resume').resumeSessionId).toBeUndefined();
  });
});

describe('retry_mode: resume and fresh', () => {
  it('resume: resumes even after an attempt that finished wrong', () => {
    const next = nextAttempt(endedWith(FINISHED_WRONG[0]![1]), true, 'resume');
    expect(next.resumeSessionId).toBe('sess-1');
    expect(next.retry?.gateOutput).toBe('FAIL');
    expect(next.why).toMatch(/retry_mode: resume/);
  });

  it('fresh: never resumes, even after an interruption', () => {
    const next = nextAttempt(endedWith(INTERRUPTED[0]![1]), true, 'fresh');
    expect(next.resumeSessionId).toBeUndefined();
    expect(next.retry?.error).toBe('timed out after 1m (timeout)');
    expect(next.why).toMatch(/retry_mode: fresh/);
  });
});
