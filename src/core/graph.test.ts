import { describe, expect, it } from 'vitest';
import { descendants, forEachAncestor, schedule, settledPrefix } from './graph.js';
import { emptyState, type RunState } from './state.js';
import type { Plan, Task } from './task.js';
import { completed, makePlan, makeTask } from './test-support.js';

const a = makeTask({ id: 'a' });
const b = makeTask({ id: 'b', dependsOn: ['a'] });
const c = makeTask({ id: 'c', dependsOn: ['b'] });
const d = makeTask({ id: 'd' });
const plan = makePlan([a, d, b, c]);

/** forEachAncestor's visits, in order. */
function ancestors(p: Plan, task: Task): { task: Task; distance: number }[] {
  const out: { task: Task; distance: number }[] = [];
  forEachAncestor(p, task, (t, distance) => out.push({ task: t, distance }));
  return out;
}

function withStatus(statuses: Record<string, RunState['tasks'][string]['status']>): RunState {
  const state = emptyState();
  for (const [id, status] of Object.entries(statuses)) {
    state.tasks[id] = { ...completed(id, ''), status };
  }
  return state;
}

const ids = (tasks: { id: string }[]) => tasks.map((t) => t.id);

describe('schedule', () => {
  it('starts with the roots, in plan order', () => {
    const s = schedule(plan, emptyState());
    expect(ids(s.ready)).toEqual(['a', 'd']);
    expect(s.waiting).toBe(2); // b and c
    expect(s.blocked).toEqual([]);
  });

  it('releases a dependent once its dependency completed', () => {
    const s = schedule(plan, withStatus({ a: 'completed' }));
    expect(ids(s.ready)).toEqual(['d', 'b']);
  });

  it('treats a skipped dependency as satisfied (dependents get the failure as context)', () => {
    const s = schedule(plan, withStatus({ a: 'skipped', d: 'completed' }));
    expect(ids(s.ready)).toEqual(['b']);
  });

  it('blocks every descendant of a failed task and names the culprit', () => {
    const s = schedule(plan, withStatus({ a: 'failed' }));
    expect(ids(s.ready)).toEqual(['d']);
    expect(s.blocked.map((x) => [x.task.id, x.dependency, x.dependencyStatus])).toEqual([
      ['b', 'a', 'failed'],
      ['c', 'a', 'failed'],
    ]);
  });

  it('holds dependents of a task awaiting review', () => {
    const s = schedule(plan, withStatus({ a: 'awaiting-review' }));
    expect(s.blocked.map((x) => x.task.id)).toEqual(['b', 'c']);
  });

  it('does not offer running tasks or their dependents', () => {
    const s = schedule(plan, emptyState(), new Set(['a']));
    expect(ids(s.running)).toEqual(['a']);
    expect(ids(s.ready)).toEqual(['d']);
    expect(s.waiting).toBe(2); // b and c
  });

  it('runs interrupted tasks again', () => {
    const s = schedule(plan, withStatus({ a: 'interrupted' }));
    expect(ids(s.ready)).toEqual(['a', 'd']);
  });
});

describe('the settled prefix', () => {
  it('counts the first tasks that are completed or skipped and not running, from a count known before', () => {
    const state = withStatus({ a: 'completed', d: 'skipped', c: 'completed' });
    expect(settledPrefix(plan, state, new Set())).toBe(2);
    expect(settledPrefix(plan, state, new Set(), 1)).toBe(2);
    // A running task is not settled, whatever its record says.
    expect(settledPrefix(plan, state, new Set(['d']))).toBe(1);
    for (const status of ['failed', 'stale', 'awaiting-review', 'needs-review'] as const) {
      expect(settledPrefix(plan, withStatus({ a: 'completed', d: status }), new Set())).toBe(1);
    }
  });

  it('scheduled from after it, the ready, waiting and blocked tasks are the same', () => {
    const chain = makePlan(
      Array.from({ length: 6 }, (_, i) =>
        makeTask({ id: `t${i}`, dependsOn: i === 0 ? [] : [`t${i - 1}`] }),
      ),
    );
    const cases = [
      withStatus({ t0: 'completed', t1: 'skipped' }),
      withStatus({ t0: 'completed', t1: 'completed', t2: 'failed' }),
      withStatus({ t0: 'completed', t1: 'completed', t2: 'completed', t3: 'awaiting-review' }),
    ];
    for (const state of cases) {
      const settled = settledPrefix(chain, state, new Set());
      expect(settled).toBeGreaterThan(0);
      expect(schedule(chain, state, new Set(), settled)).toEqual(schedule(chain, state));
    }
    const state = withStatus({ t0: 'completed', t1: 'completed' });
    expect(ids(schedule(chain, state, new Set(), 2).ready)).toEqual(['t2']);
  });
});

describe('ancestors and descendants', () => {
  it('lists ancestors nearest first with their distance', () => {
    expect(ancestors(plan, c).map((x) => [x.task.id, x.distance])).toEqual([
      ['b', 1],
      ['a', 2],
    ]);
  });

  it('lists each ancestor once in a diamond', () => {
    const top = makeTask({ id: 'top' });
    const l = makeTask({ id: 'l', dependsOn: ['top'] });
    const r = makeTask({ id: 'r', dependsOn: ['top'] });
    const bottom = makeTask({ id: 'bottom', dependsOn: ['l', 'r'] });
    const p = makePlan([top, l, r, bottom]);
    expect(ancestors(p, bottom).map((x) => [x.task.id, x.distance])).toEqual([
      ['l', 1],
      ['r', 1],
      ['top', 2],
    ]);
    expect(ids(descendants(p, 'top'))).toEqual(['l', 'r', 'bottom']);
  });

  it('gives an ancestor that is also a direct dependency distance 1', () => {
    const b = makeTask({ id: 'b' });
    const a = makeTask({ id: 'a', dependsOn: ['b'] });
    const x = makeTask({ id: 'x', dependsOn: ['a', 'b', 'gone'] });
    const p = makePlan([b, a, x]);
    expect(ancestors(p, x).map((y) => [y.task.id, y.distance])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
  });

  it('visits as a plain breadth-first walk does, in random plans', () => {
    // The walk met: a level's tasks in the order their dependents named them.
    const reference = (p: Plan, task: Task): Array<[string, number]> => {
      const byId = new Map(p.tasks.map((t) => [t.id, t]));
      const met = new Set([task.id]);
      const out: Array<[string, number]> = [];
      let level = task.dependsOn;
      for (let distance = 1; level.length > 0; distance++) {
        const next: string[] = [];
        for (const id of level) {
          const found = byId.get(id);
          if (!found || met.has(id)) continue;
          met.add(id);
          out.push([id, distance]);
          next.push(...found.dependsOn);
        }
        level = next;
      }
      return out;
    };
    let seed = 7;
    const pick = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const size = 1 + pick(30);
      const tasks = Array.from({ length: size }, (_, i) =>
        makeTask({
          id: `t${i}`,
          // Earlier tasks, now and then a repeat, itself or one not in the plan.
          dependsOn: Array.from({ length: pick(4) }, () =>
            pick(10) === 0 ? (pick(2) ? `t${i}` : 'gone') : `t${pick(Math.max(i, 1))}`,
          ),
        }),
      );
      const p = makePlan(tasks);
      for (const task of tasks) {
        const visited = ancestors(p, task).map((x): [string, number] => [x.task.id, x.distance]);
        expect(visited, `round ${round}, ${task.id}`).toEqual(reference(p, task));
      }
    }
  });

  it('walks on past the descendants `through` accepts only, in plan order', () => {
    const top = makeTask({ id: 'top' });
    const l = makeTask({ id: 'l', dependsOn: ['top'] });
    const r = makeTask({ id: 'r', dependsOn: ['top'] });
    const below = makeTask({ id: 'below', dependsOn: ['l'] });
    const p = makePlan([top, l, r, below, makeTask({ id: 'under-r', dependsOn: ['r'] })]);
    expect(ids(descendants(p, 'top', (t) => t.id !== 'r'))).toEqual(['l', 'r', 'below']);
  });
});
