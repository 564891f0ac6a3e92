import { describe, expect, it } from 'vitest';
import { RECENT_ATTEMPTS, runSpend, startEstimate } from './spend-cap.js';
import type { AttemptRecord, RunState, TaskRecord } from './state.js';
import { makeTask } from './test-support.js';

const ZERO = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

function record(id: string, attempts: Partial<AttemptRecord>[]): TaskRecord {
  return {
    id,
    status: 'completed',
    attempts: attempts.map((a, i) => ({
      attempt: i + 1,
      startedAt: '2026-05-01T10:00:00.000Z',
      outcome: 'completed',
      ...a,
    })),
    costUsd: 0,
    usage: ZERO,
    turns: 0,
    durationMs: 0,
    updatedAt: '2026-05-01T10:00:00.000Z',
  };
}

const at = (minute: number) => `2026-05-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

describe('startEstimate', () => {
  const claude = makeTask({ id: 'next', cli: 'claude' });
  const tasks = [
    claude,
    makeTask({ id: 'a' }),
    makeTask({ id: 'b' }),
    makeTask({ id: 'c', cli: 'codex' }),
  ];

  it("is the task's budget_usd when it has one", () => {
    const budgeted = makeTask({ id: 'next', budgetUsd: 2.5 });
    expect(startEstimate(budgeted, tasks, { version: 1, tasks: {} })).toEqual({
      usd: 2.5,
      basis: 'budget',
    });
  });

  it("is the average of its CLI's latest priced attempts, not another CLI's, not a running one", () => {
    const costs = [9, 1, 2, 3, 4, 5];
    const state: RunState = {
      version: 1,
      tasks: {
        // The oldest (9) is past the last RECENT_ATTEMPTS.
        a: record(
          'a',
          costs.slice(0, 3).map((c, i) => ({ costUsd: c, endedAt: at(i) })),
        ),
        b: record('b', [
          ...costs.slice(3).map((c, i) => ({ costUsd: c, endedAt: at(10 + i) })),
          { outcome: 'running', costUsd: 100 },
        ]),
        c: record('c', [{ costUsd: 50, endedAt: at(30) }]),
      },
    };
    expect(RECENT_ATTEMPTS).toBe(5);
    expect(startEstimate(claude, tasks, state)).toEqual({
      usd: 3,
      basis: 'average',
      attempts: 5,
      estimated: false,
    });
  });

  it('is nothing for a shell command, whatever budget_usd the defaults give it', () => {
    const shell = makeTask({ id: 'next', cli: 'shell', budgetUsd: 5 });
    expect(startEstimate(shell, tasks, { version: 1, tasks: {} })).toEqual({
      usd: 0,
      basis: 'shell',
    });
  });

  it('is nothing, said so, without a budget or a priced attempt of its CLI', () => {
    const state: RunState = {
      version: 1,
      tasks: { c: record('c', [{ costUsd: 50, endedAt: at(1) }]) },
    };
    expect(startEstimate(claude, tasks, state)).toEqual({ usd: 0, basis: 'none' });
  });
});

describe('runSpend', () => {
  const since = Date.parse(at(5));

  it("counts this run's ended attempts and the running ones' live cost, at least what each was reserved", () => {
    const state: RunState = {
      version: 1,
      tasks: {
        // Before the run: not counted.
        old: record('old', [{ startedAt: at(1), costUsd: 7, endedAt: at(2) }]),
        done: record('done', [{ startedAt: at(6), costUsd: 0.5, endedAt: at(7) }]),
        live: record('live', [
          {
            startedAt: at(8),
            outcome: 'running',
            progress: { turns: 2, usage: ZERO, cost: { usd: 0.25, estimated: true } },
          },
        ]),
        fresh: record('fresh', [{ startedAt: at(9), outcome: 'running' }]),
      },
    };
    expect(runSpend(state, since)).toEqual({ usd: 0.75, estimated: true });
    // Reserved at their start: `fresh` has spent nothing yet, `live` less than its reservation.
    const reserved = new Map([
      ['fresh', 1],
      ['live', 0.5],
    ]);
    expect(runSpend(state, since, reserved)).toEqual({ usd: 2, estimated: false });
  });
});
