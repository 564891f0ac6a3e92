/**
 * Stale tasks: an edit to a completed task's task file, or a re-run upstream,
 * makes it and what builds on it stale, and nothing else; `bearing approve`
 * accepts a stale result as current; results from before fingerprints are
 * taken as current.
 */
import { describe, expect, it } from 'vitest';
import { digest } from '../state/digest.js';
import { fingerprintOf } from './fingerprint.js';
import { isRunnable, schedule } from './graph.js';
import { applyReviewAction } from './review-action.js';
import { describeStale, refreshStale } from './stale.js';
import type { RunState, TaskRecord } from './state.js';
import type { Plan, Task } from './task.js';
import { makePlan, makeTask } from './test-support.js';
import { newRecord } from './transitions.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');

/** db -> api -> docs, and ui beside api. */
function project(edit: Partial<Record<string, Partial<Task>>> = {}): Plan {
  const task = (t: Task): Task => ({ ...t, ...edit[t.id] });
  return makePlan([
    task(makeTask({ id: 'db' })),
    task(makeTask({ id: 'api', dependsOn: ['db'] })),
    task(makeTask({ id: 'ui', dependsOn: ['db'] })),
    task(makeTask({ id: 'docs', dependsOn: ['api'] })),
  ]);
}

/** Every task completed in plan order, each fingerprinted as the run does when it starts it. */
function ranAll(plan: Plan, options: { fingerprints?: boolean } = {}): RunState {
  const state: RunState = { version: 1, tasks: {} };
  for (const t of plan.tasks) {
    const record: TaskRecord = {
      ...newRecord(t.id, T0),
      status: 'completed',
      attempts: [{ attempt: 1, startedAt: T0.toISOString(), outcome: 'completed' }],
      summary: `did ${t.id}`,
      filesChanged: [`src/${t.id}.ts`],
    };
    if (options.fingerprints !== false) record.fingerprint = fingerprintOf(t, state, digest);
    state.tasks[t.id] = record;
  }
  return state;
}

const statuses = (state: RunState): Record<string, string> =>
  Object.fromEntries(Object.entries(state.tasks).map(([id, r]) => [id, r.status]));

const refresh = (plan: Plan, state: RunState, adopt = true) =>
  refreshStale(plan, state, digest, T0, { adopt });

describe('an edit to a task file', () => {
  it('makes the task and its dependents stale while a sibling stays completed', () => {
    const state = ranAll(project());
    const edited = project({ api: { prompt: 'Do api, with pagination.' } });
    const result = refresh(edited, state);
    expect(statuses(state)).toEqual({
      db: 'completed',
      api: 'stale',
      ui: 'completed',
      docs: 'stale',
    });
    expect(result.became).toEqual(['api', 'docs']);
    expect(state.tasks.api!.stale).toEqual({ kind: 'edited', fields: ['prompt'] });
    expect(describeStale(state.tasks.api!.stale!)).toBe(
      'its task file changed (prompt) since it ran',
    );
    expect(describeStale(state.tasks.docs!.stale!)).toBe('`api`, which it builds on, is stale');
    // The old result stays readable until a new one replaces it.
    expect(state.tasks.api!.summary).toBe('did api');
    // They run again, in dependency order: api first, docs once api is done.
    expect(isRunnable('stale')).toBe(true);
    expect(schedule(edited, state).ready.map((t) => t.id)).toEqual(['api']);
    expect(schedule(edited, state).waiting).toBe(1); // docs
  });

  it('names every field that changed, and ignores settings that do not shape the work', () => {
    const state = ranAll(project());
    refresh(
      project({
        db: { model: 'opus', verify: 'npm test', timeoutMs: 1, name: 'Database', retries: 5 },
        ui: { checkpoint: 'pause', onFailure: 'stop', idleTimeoutMs: 5 },
      }),
      state,
    );
    expect(state.tasks.db!.stale).toEqual({ kind: 'edited', fields: ['model', 'verify'] });
    expect(state.tasks.ui!.status).toBe('stale');
    expect(state.tasks.ui!.stale).toEqual({ kind: 'upstream', task: 'db', change: 'stale' });
  });

  it('is undone by undoing the edit', () => {
    const state = ranAll(project());
    refresh(project({ api: { focus: ['src/api.ts'] } }), state);
    expect(state.tasks.api!.status).toBe('stale');
    const result = refresh(project(), state);
    expect(result.cleared).toEqual(['api', 'docs']);
    expect(statuses(state)).toEqual({
      db: 'completed',
      api: 'completed',
      ui: 'completed',
      docs: 'completed',
    });
    expect(state.tasks.api!.stale).toBeUndefined();
  });
});

describe('`bearing retry` of a completed task', () => {
  it('makes its dependents stale, and they stay so once it ran again', () => {
    const plan = project();
    const state = ranAll(plan);
    expect(applyReviewAction(state, 'retry', 'api', false, T0).ok).toBe(true);
    refresh(plan, state);
    expect(statuses(state)).toMatchObject({ api: 'queued', docs: 'stale', ui: 'completed' });
    expect(state.tasks.docs!.stale).toEqual({ kind: 'upstream', task: 'api', change: 'rerun' });
    // api runs again and completes, even with the same words: a new hand-off.
    const api = state.tasks.api!;
    state.tasks.api = {
      ...api,
      status: 'completed',
      attempts: [
        ...api.attempts,
        { attempt: 2, startedAt: T0.toISOString(), outcome: 'completed' },
      ],
    };
    refresh(plan, state);
    expect(state.tasks.docs!.stale).toEqual({
      kind: 'upstream',
      task: 'api',
      change: 'new-result',
    });
  });
});

describe('`bearing approve` of a stale task', () => {
  it('accepts its result as current, and what was stale only because of it too', () => {
    const plan = project({ api: { prompt: 'Do api (typo fixed).' } });
    const state = ranAll(project());
    refresh(plan, state);
    const api = plan.tasks.find((t) => t.id === 'api')!;
    // Its dependent waits for it: approving docs first is refused.
    const early = applyReviewAction(state, 'approve', 'docs', false, T0, () =>
      fingerprintOf(plan.tasks.find((t) => t.id === 'docs')!, state, digest),
    );
    expect(early).toEqual({
      ok: false,
      message: 'docs is stale because api, which it builds on, is stale: approve or run api first',
    });
    const approved = applyReviewAction(state, 'approve', 'api', false, T0, () =>
      fingerprintOf(api, state, digest),
    );
    expect(approved.ok).toBe(true);
    refresh(plan, state);
    expect(statuses(state)).toEqual({
      db: 'completed',
      api: 'completed',
      ui: 'completed',
      docs: 'completed',
    });
    // Nothing is left to run.
    expect(schedule(plan, state).ready).toEqual([]);
  });
});

describe('results recorded before fingerprints existed', () => {
  it('are taken as current, and edits count from the run that adopts them', () => {
    const state = ranAll(project(), { fingerprints: false });
    const edited = project({ api: { prompt: 'Something else.' } });
    // A reader (status) changes nothing and shows nothing stale.
    expect(refresh(edited, state, false).stale).toEqual([]);
    expect(state.tasks.api!.fingerprint).toBeUndefined();
    // The run adopts what they have now: still nothing stale.
    expect(refresh(edited, state, true).stale).toEqual([]);
    expect(state.tasks.api!.fingerprint).toBeDefined();
    // The next edit counts.
    refresh(project({ api: { prompt: 'A third version.' } }), state);
    expect(statuses(state)).toMatchObject({ api: 'stale', docs: 'stale', db: 'completed' });
  });
});

describe('a refresh of some tasks only (after one ended)', () => {
  it('looks at those tasks and at nothing else, which a full refresh then finds', () => {
    const state = ranAll(project());
    // db ran again with a new result, and ui's task file was edited meanwhile.
    state.tasks.db = {
      ...state.tasks.db!,
      attempts: [...state.tasks.db!.attempts, state.tasks.db!.attempts[0]!],
    };
    const edited = project({ ui: { prompt: 'Do ui, in dark mode.' } });
    const only = new Set(['db', 'api', 'docs']);
    const partial = refreshStale(edited, state, digest, T0, { adopt: true, only });
    expect(partial.became).toEqual(['api', 'docs']);
    expect(statuses(state)).toMatchObject({ ui: 'completed' });
    expect(refresh(edited, state).became).toEqual(['ui']);
  });
});
