import { describe, expect, it } from 'vitest';
import { recoverInterrupted } from '../../src/core/recovery.js';
import { type RunState, ZERO_USAGE } from '../../src/core/state.js';
import { completed } from '../../src/core/test-support.js';

const NOW = new Date('2026-05-06T07:08:09.000Z');

function crashedState(): RunState {
  return {
    version: 1,
    tasks: {
      done: completed('done', 'finished'),
      api: {
        id: 'api',
        status: 'running',
        attempts: [
          {
            attempt: 1,
            startedAt: '2026-05-06T06:00:00.000Z',
            endedAt: '2026-05-06T06:10:00.000Z',
            outcome: 'failed',
            failure: { reason: 'max-turns', message: 'too many' },
          },
          { attempt: 2, startedAt: '2026-05-06T07:00:00.000Z', outcome: 'running' },
        ],
        costUsd: 0.3,
        usage: ZERO_USAGE,
        turns: 20,
        durationMs: 600_000,
        updatedAt: '2026-05-06T07:00:00.000Z',
      },
    },
  };
}

describe('recoverInterrupted', () => {
  it('marks tasks left running, and their running attempt, interrupted', () => {
    const input = crashedState();
    const snapshot = structuredClone(input);
    const { state, recovered } = recoverInterrupted(input, NOW);

    expect(recovered).toEqual(['api']);
    const failure = {
      reason: 'interrupted',
      message:
        'bearing stopped before the attempt finished (crash or kill); found at 2026-05-06T07:08:09.000Z',
    };
    expect(state.tasks.api).toEqual({
      ...snapshot.tasks.api,
      status: 'interrupted',
      failure,
      updatedAt: '2026-05-06T07:08:09.000Z',
      attempts: [
        snapshot.tasks.api!.attempts[0],
        { attempt: 2, startedAt: '2026-05-06T07:00:00.000Z', outcome: 'interrupted', failure },
      ],
    });
    // Untouched tasks are the same objects; the input is not modified.
    expect(state.tasks.done).toBe(input.tasks.done);
    expect(input).toEqual(snapshot);
  });

  it('changes nothing when no task was left running', () => {
    const input: RunState = { version: 1, tasks: { done: completed('done', 'ok') } };
    const { state, recovered } = recoverInterrupted(input, NOW);
    expect(recovered).toEqual([]);
    expect(state).toEqual(input);
  });

  it('closes a dangling running attempt even if the task status moved on', () => {
    const input = crashedState();
    input.tasks.api!.status = 'failed';
    const { state, recovered } = recoverInterrupted(input, NOW);
    expect(recovered).toEqual(['api']);
    expect(state.tasks.api!.status).toBe('failed');
    expect(state.tasks.api!.attempts[1]!.outcome).toBe('interrupted');
  });
});
