import { describe, expect, it } from 'vitest';
import { runTotals } from './run-totals.js';
import type { AttemptRecord, RunState, TaskRecord } from './state.js';

const usage = (n: number) => ({
  inputTokens: n,
  outputTokens: n,
  cacheReadTokens: 10 * n,
  cacheWriteTokens: 2 * n,
});

function record(id: string, attempts: Partial<AttemptRecord>[]): TaskRecord {
  return {
    id,
    status: 'completed',
    attempts: attempts.map((a, i) => ({
      attempt: i + 1,
      startedAt: '2026-12-01T10:00:00.000Z',
      outcome: 'completed',
      ...a,
    })),
    costUsd: 0,
    usage: usage(0),
    turns: 0,
    durationMs: 0,
    updatedAt: '2026-12-01T10:00:00.000Z',
  };
}

const SINCE = '2026-12-01T12:00:00.000Z';

describe('runTotals', () => {
  it("counts only the attempts this run started, not the project's totals", () => {
    const state: RunState = {
      version: 1,
      tasks: {
        old: record('old', [{ costUsd: 5, usage: usage(1000) }]),
        both: record('both', [
          { startedAt: '2026-12-01T11:59:59.999Z', costUsd: 1, usage: usage(100) },
          { startedAt: '2026-12-01T12:00:01.000Z', costUsd: 0.25, usage: usage(10) },
        ]),
        new: record('new', [
          { startedAt: '2026-12-01T12:01:00.000Z', costUsd: 0.5, usage: usage(1) },
        ]),
      },
    };
    expect(runTotals(state, SINCE, new Date('2026-12-01T12:02:03.000Z'))).toEqual({
      cost: { usd: 0.75, estimated: false, unknown: false },
      costUnknownFor: [],
      usage: usage(11),
      attempts: 2,
      wallMs: 123_000,
      tasks: [
        {
          id: 'new',
          cost: { usd: 0.5, estimated: false, unknown: false },
          usage: usage(1),
          attempts: 1,
          durationMs: 0,
        },
        {
          id: 'both',
          cost: { usd: 0.25, estimated: false, unknown: false },
          usage: usage(10),
          attempts: 1,
          durationMs: 0,
        },
      ],
    });
  });

  it('names the tasks whose CLI reported tokens but no cost', () => {
    const state: RunState = {
      version: 1,
      tasks: {
        cx: record('cx', [{ startedAt: SINCE, usage: usage(5) }]),
        sh: record('sh', [{ startedAt: SINCE }]),
      },
    };
    const t = runTotals(state, SINCE, new Date(SINCE));
    expect(t.costUnknownFor).toEqual(['cx']);
    expect(t.tasks.map((s) => [s.id, s.cost.unknown])).toEqual([
      ['cx', true],
      ['sh', false],
    ]);
    expect(t.cost.usd).toBe(0);
    expect(t.attempts).toBe(2);
  });

  it("marks a total that holds codex's estimate, which is not unknown", () => {
    const state: RunState = {
      version: 1,
      tasks: {
        cx: record('cx', [
          { startedAt: SINCE, usage: usage(5), costUsd: 0.02, costEstimated: true },
        ]),
        cl: record('cl', [{ startedAt: SINCE, usage: usage(5), costUsd: 0.5 }]),
      },
    };
    const t = runTotals(state, SINCE, new Date(SINCE));
    expect(t.cost).toEqual({ usd: 0.52, estimated: true, unknown: false });
    expect(t.costUnknownFor).toEqual([]);
    expect(t.tasks.map((s) => [s.id, s.cost.estimated])).toEqual([
      ['cl', false],
      ['cx', true],
    ]);
  });
});
