import { describe, expect, it } from 'vitest';
import { dashboardView } from './dashboard-view.js';
import { type RunState, type TaskRecord, ZERO_USAGE } from './state.js';
import { statusJson } from './status-report.js';
import { completed, makePlan, makeTask } from './test-support.js';

const NOW = new Date('2026-01-01T00:10:00.000Z');

function record(id: string, status: TaskRecord['status'], costUsd: number): TaskRecord {
  return {
    id,
    status,
    attempts: [{ attempt: 1, startedAt: '2026-01-01T00:00:00.000Z', outcome: 'completed' }],
    costUsd,
    usage: ZERO_USAGE,
    turns: 3,
    durationMs: 2000,
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

function fixture() {
  const plan = makePlan([
    makeTask({ id: 'schema' }),
    makeTask({ id: 'api', dependsOn: ['schema'], checkpoint: 'pause' }),
    makeTask({ id: 'docs', dependsOn: ['schema'] }),
    makeTask({ id: 'last', dependsOn: ['api', 'docs'] }),
  ]);
  const state: RunState = {
    version: 1,
    tasks: {
      schema: { ...completed('schema', 'Made the schema.', ['db.sql']), costUsd: 0.25 },
      api: record('api', 'awaiting-review', 0.5),
      docs: { ...record('docs', 'running', 0), attempts: [] },
    },
  };
  state.tasks.docs!.attempts.push({
    attempt: 1,
    startedAt: '2026-01-01T00:09:00.000Z',
    outcome: 'running',
  });
  return { plan, state };
}

function view(options: { extra?: Record<string, unknown> } = {}) {
  const { plan, state } = fixture();
  const status = statusJson({
    plan,
    state,
    next: 'Awaiting review: `api`.',
    now: NOW,
    running: { docs: { startedAt: '2026-01-01T00:09:00.000Z' } },
  });
  if (options.extra) Object.assign(status.tasks[2]!, options.extra);
  return dashboardView({
    status,
    state,
    project: 'shop',
    run: { active: true, pid: 42, since: '2026-01-01T00:00:00.000Z' },
    diagnostics: [],
  });
}

describe('dashboardView', () => {
  it('has every task in plan order, with the dependency edges between them', () => {
    const v = view();
    expect(v.tasks.map((t) => [t.id, t.status])).toEqual([
      ['schema', 'completed'],
      ['api', 'awaiting-review'],
      ['docs', 'running'],
      ['last', 'queued'],
    ]);
    expect(v.edges).toEqual([
      { from: 'schema', to: 'api' },
      { from: 'schema', to: 'docs' },
      { from: 'api', to: 'last' },
      { from: 'docs', to: 'last' },
    ]);
    expect(v.run).toEqual({ active: true, pid: 42, since: '2026-01-01T00:00:00.000Z' });
    expect(v.cost.usd).toBe(0.75);
    expect(v.progress).toMatchObject({ total: 4, completed: 1, running: 1, awaiting_review: 1 });
  });

  it('charts the cost of the tasks that have run', () => {
    expect(view().costs).toEqual([
      { id: 'schema', usd: 0.25, estimated: false, unknown: false, status: 'completed' },
      { id: 'api', usd: 0.5, estimated: false, unknown: false, status: 'awaiting-review' },
      { id: 'docs', usd: 0, estimated: false, unknown: false, status: 'running' },
    ]);
  });

  it("marks codex's estimated costs, recorded or live, as estimates in the totals and the chart", () => {
    const { plan, state } = fixture();
    state.tasks.api!.attempts[0] = {
      ...state.tasks.api!.attempts[0]!,
      costUsd: 0.5,
      costEstimated: true,
    };
    const status = statusJson({ plan, state, next: '', now: NOW });
    Object.assign(status.tasks[2]!, {
      status: 'running',
      progress: { turns: 1, tool: null, tokens: null, cost_usd: 0.125, cost_estimated: true },
    });
    const v = dashboardView({
      status,
      state,
      project: 'shop',
      run: { active: true, pid: 42, since: '2026-01-01T00:00:00.000Z' },
      diagnostics: [],
    });
    expect(v.cost).toEqual({ usd: 0.75, estimated: true, unknownFor: [] });
    expect(v.tasks.map((t) => [t.id, t.cost.estimated])).toEqual([
      ['schema', false],
      ['api', true],
      ['docs', false],
      ['last', false],
    ]);
    expect(v.costs.map((c) => [c.id, c.usd, c.estimated])).toEqual([
      ['schema', 0.25, false],
      ['api', 0.5, true],
      ['docs', 0.125, true],
    ]);
  });

  it('offers approve and retry only where the commands would accept them, saying why not', () => {
    const actions = Object.fromEntries(view().tasks.map((t) => [t.id, t.actions]));
    expect(actions.api).toEqual({ approve: null, retry: null });
    expect(actions.schema).toEqual({
      approve:
        'schema is completed; only tasks awaiting review, needing review, failed or stale can be approved',
      retry: null,
    });
    expect(actions.docs).toEqual({
      approve: 'docs is running; wait for it to finish',
      retry: 'docs is running; wait for it to finish',
    });
    expect(actions.last?.retry).toBe('last is already queued');
  });

  it('passes on status fields it does not know, so the page can show them when they come', () => {
    const plain = view().tasks.find((t) => t.id === 'docs')!;
    expect(plain.more).toEqual({});
    const progress = { turns: 4, tool: { name: 'Edit', target: 'src/db.js' }, cost_usd: 0.12 };
    const v = view({ extra: { progress, absent: null } });
    expect(v.tasks.find((t) => t.id === 'docs')!.more).toEqual({ progress });
    // The running attempt's cost so far counts in the chart.
    expect(v.costs.find((c) => c.id === 'docs')?.usd).toBe(0.12);
  });
});
