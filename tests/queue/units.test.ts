/**
 * Queue mode's pure parts: the queue URL (what is accepted, and that a
 * password never shows), and what a lost worker does to an attempt and its
 * task (interrupted, queued again, no retry spent, the run goes on).
 */
import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../src/core/failure.js';
import { makeTask } from '../../src/core/test-support.js';
import { beginAttempt, finishAttempt, stopReasonFor } from '../../src/core/transitions.js';
import { parseQueueUrl } from '../../src/queue/connection.js';
import { attemptJobId, queueName } from '../../src/queue/job.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');

describe('the queue URL', () => {
  it('takes redis:// and rediss:// URLs as they are, and shows them without the password', () => {
    const plain = parseQueueUrl('redis://10.0.0.5:6379');
    expect(plain).toEqual({
      ok: true,
      value: { url: 'redis://10.0.0.5:6379', shown: 'redis://10.0.0.5:6379' },
    });
    const secret = parseQueueUrl('rediss://bearing:s3cret@queue.internal:6380/2');
    expect(secret.ok && secret.value.url).toBe('rediss://bearing:s3cret@queue.internal:6380/2');
    expect(secret.ok && secret.value.shown).toBe('rediss://bearing:***@queue.internal:6380/2');
  });

  it('refuses anything else with one line naming what was expected', () => {
    for (const bad of ['http://localhost:6379', 'localhost:6379', 'not a url', 'redis://']) {
      const parsed = parseQueueUrl(bad);
      expect(parsed.ok, bad).toBe(false);
      if (!parsed.ok) {
        expect(parsed.message).not.toContain('\n');
        expect(parsed.message).toMatch(/redis|host/);
      }
    }
  });

  it('names one queue per CLI, and the same job id for the same attempt', () => {
    expect(queueName('claude')).toBe('attempts-claude');
    expect(attemptJobId('t1', 2, 'abc')).toBe(attemptJobId('t1', 2, 'abc'));
    expect(attemptJobId('t1', 2, 'abc')).not.toBe(attemptJobId('t1', 3, 'abc'));
  });
});

describe('a lost worker', () => {
  it('leaves the attempt interrupted and the task queued, costing no retry and stopping nothing', () => {
    const task = makeTask({ id: 't', retries: 0 });
    const begun = beginAttempt(undefined, 't', { attempt: 1, token: 'tok' }, T0);
    const failure = { reason: 'worker-lost' as const, worker: 'host:1', message: 'gone' };
    const ended = finishAttempt(
      task,
      begun.record,
      begun.attempt,
      {
        status: 'failed',
        failure,
        summary: '',
        usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
        durationMs: 0,
        notes: [],
        filesChanged: [],
      },
      T0,
    );
    expect(ended.record.attempts[0]!.outcome).toBe('interrupted');
    expect(ended.record.status).toBe('queued');
    expect(ended.outcome.outcome).toBe('requeued');
    expect(stopReasonFor(ended.outcome, task)).toBeUndefined();
    expect(describeFailure(failure)).toBe('the worker host:1 running it was lost: gone');
  });
});
