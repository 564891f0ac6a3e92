/**
 * Scheduling decisions over the plan and the recorded state: which tasks are
 * ready, which are blocked and why. Pure: the run loop calls this before every
 * decision with freshly loaded task files.
 */
import type { RunState, TaskStatus } from './state.js';
import type { Plan, Task } from './task.js';

/**
 * Each plan's tasks by id, made once per plan: the run loop schedules before
 * every decision, and a map of 10,000 tasks made each time cost as much as
 * the rest of the scheduling. A plan's task list is never changed once made
 * (an edit of the task files makes a new plan).
 */
const byIdOf = new WeakMap<readonly Task[], ReadonlyMap<string, Task>>();

export function tasksById(plan: Plan): ReadonlyMap<string, Task> {
  let byId = byIdOf.get(plan.tasks);
  if (!byId) {
    byId = new Map(plan.tasks.map((t) => [t.id, t]));
    byIdOf.set(plan.tasks, byId);
  }
  return byId;
}

export function statusOf(state: RunState, id: string): TaskStatus {
  return state.tasks[id]?.status ?? 'queued';
}

/** A dependency lets its dependents run once it completed, or was skipped by policy. */
export function satisfies(status: TaskStatus): boolean {
  return status === 'completed' || status === 'skipped';
}

/**
 * Still to run in this project: nothing recorded yet, queued again, cut short
 * by a crash, or stale (its result no longer follows from its task file or
 * from what it builds on).
 */
export function isRunnable(status: TaskStatus): boolean {
  return status === 'queued' || status === 'interrupted' || status === 'stale';
}

/** Waits for a person: a checkpoint or `on_failure: pause`, or a hand-off that did not hold. */
export function awaitsPerson(status: TaskStatus): boolean {
  return status === 'awaiting-review' || status === 'needs-review';
}

export interface Blocked {
  task: Task;
  /** The dependency that failed, or awaits review, and so holds this task back. */
  dependency: string;
  dependencyStatus: TaskStatus;
}

export interface Schedule {
  /** Runnable now, in plan order (dependency order, ties by declaration). */
  ready: Task[];
  /**
   * How many are runnable but waiting for dependencies that are themselves
   * still to run or running: a count, as every reader only counts them (a
   * list of them made before every decision was most of what scheduling
   * allocated at 10,000 tasks).
   */
  waiting: number;
  /** Runnable but held back by a failed or paused dependency, directly or further up. */
  blocked: Blocked[];
  running: Task[];
}

/**
 * Classify every task. Order follows plan.tasks, which the loader sorts
 * topologically with declaration order as the tie-break, so the result is
 * deterministic for a given plan and state.
 */
export function schedule(
  plan: Plan,
  state: RunState,
  running: ReadonlySet<string> = new Set(),
  /** The first tasks known to be settled (see settledPrefix): nothing is said of them. */
  settled = 0,
): Schedule {
  const { tasks } = plan;
  const { deps, keys } = indexOf(plan);
  // Each task's status looked up once: at 10,000 tasks the lookups are most
  // of what scheduling costs, and it runs before every decision. Indexed from
  // the first task after the settled ones, as `held` is.
  const status: TaskStatus[] = new Array(tasks.length - settled);
  for (let i = settled; i < tasks.length; i++) {
    const id = keys[i]!;
    status[i - settled] = running.has(id) ? 'running' : statusOf(state, id);
  }
  const depStatus = (i: number, k: number): TaskStatus => {
    const j = deps[i]![k]!;
    // Settled: completed or skipped; all that is asked of it here is that it satisfies.
    if (j >= 0) return j < settled ? 'completed' : status[j - settled]!;
    const id = tasks[i]!.dependsOn[k]!;
    return running.has(id) ? 'running' : statusOf(state, id);
  };
  const held: (Hold | null | undefined)[] = new Array(tasks.length - settled);
  // The first dependency, searching upward, that can no longer become satisfied
  // on its own. Asked only of unsettled tasks: a settled one satisfies.
  const heldBy = (i: number): Hold | null => {
    const known = held[i - settled];
    if (known !== undefined) return known;
    let result: Hold | null = null;
    const { dependsOn } = tasks[i]!;
    for (let k = 0; k < dependsOn.length; k++) {
      const s = depStatus(i, k);
      if (s === 'failed' || awaitsPerson(s)) {
        result = { dependency: dependsOn[k]!, status: s };
        break;
      }
      const j = deps[i]![k]!;
      if (j >= 0 && !satisfies(s)) {
        const upstream = heldBy(j);
        if (upstream) {
          result = upstream;
          break;
        }
      }
    }
    held[i - settled] = result;
    return result;
  };
  // A loop, not `dependsOn.every(...)`: a closure per task made before every decision.
  const dependenciesSatisfied = (i: number): boolean => {
    for (let k = 0; k < tasks[i]!.dependsOn.length; k++)
      if (!satisfies(depStatus(i, k))) return false;
    return true;
  };

  const out: Schedule = { ready: [], waiting: 0, blocked: [], running: [] };
  for (let i = settled; i < tasks.length; i++) {
    const task = tasks[i]!;
    const s = status[i - settled]!;
    if (s === 'running' && running.has(task.id)) {
      out.running.push(task);
      continue;
    }
    if (!isRunnable(s)) continue;
    const hold = heldBy(i);
    if (hold) {
      out.blocked.push({ task, dependency: hold.dependency, dependencyStatus: hold.status });
    } else if (dependenciesSatisfied(i)) {
      out.ready.push(task);
    } else {
      out.waiting++;
    }
  }
  return out;
}

/**
 * How many of the plan's first tasks are settled: completed or skipped, and
 * not running. Plans are in dependency order, so these satisfy whatever
 * depends on them and no task among them can become ready; a run schedules
 * from the first unsettled one (at the end of a 10,000-task chain, that is
 * one task instead of all of them). Counted on from `from`, a count known
 * before: a settled task becomes unsettled only by a review action or an
 * edit of the task files (a new plan), after which the count starts at 0.
 */
export function settledPrefix(
  plan: Plan,
  state: RunState,
  running: ReadonlySet<string>,
  from = 0,
): number {
  const { keys } = indexOf(plan);
  let i = from;
  while (i < keys.length && !running.has(keys[i]!) && satisfies(statusOf(state, keys[i]!))) i++;
  return i;
}

/** What holds a task back: the first dependency, searching upward, that cannot become satisfied on its own. */
interface Hold {
  dependency: string;
  status: TaskStatus;
}

/**
 * Every task this one depends on, directly or not, nearest first, each once,
 * with its distance: 1 for a direct dependency, 2 for a dependency's
 * dependency... A visit, not a list: a task at the end of a 10,000-task chain
 * has them all, and PRIOR keeps a few hundred of them.
 */
export function forEachAncestor(
  plan: Plan,
  task: Task,
  visit: (ancestor: Task, distance: number) => void,
): void {
  const { tasks } = plan;
  const { deps, order } = indexOf(plan);
  // Places in the plan: those met, and a queue of them to visit, one level
  // of distance after the other. Typed arrays, as at the end of a long chain
  // this runs once per ancestor per task started.
  const met = new Uint8Array(tasks.length);
  const queue = new Int32Array(tasks.length);
  let tail = 0;
  const meet = (j: number): void => {
    if (j < 0 || met[j]) return;
    met[j] = 1;
    queue[tail++] = j;
  };
  const self = order.get(task.id);
  if (self !== undefined) met[self] = 1;
  for (const d of task.dependsOn) meet(order.get(d) ?? -1);
  for (let head = 0, distance = 1; head < tail; distance++) {
    for (const levelEnd = tail; head < levelEnd; head++) {
      const j = queue[head]!;
      visit(tasks[j]!, distance);
      for (const k of deps[j]!) meet(k);
    }
  }
}

/**
 * Per plan (a reload makes a new one), each made when first asked for: a
 * reading command schedules once and needs none of the rest.
 */
function perPlan<T>(make: (plan: Plan) => T): (plan: Plan) => T {
  const made = new WeakMap<Plan, T>();
  return (plan) => {
    let value = made.get(plan);
    if (value === undefined) {
      value = make(plan);
      made.set(plan, value);
    }
    return value;
  };
}

/**
 * Each task's place in the plan, its dependencies' places (-1: not in the
 * plan), and its id as V8 keeps property names (internalized). A record
 * looked up by a task id read from a file is otherwise found by first
 * looking for that copy, every time: two thirds of scheduling at 5,000
 * records.
 */
const indexOf = perPlan((plan) => {
  const order = new Map(plan.tasks.map((t, i) => [t.id, i]));
  const deps = plan.tasks.map((t) => t.dependsOn.map((d) => order.get(d) ?? -1));
  // Property names are internalized: read back, they are the copies.
  const names: Record<string, number> = Object.create(null);
  for (const t of plan.tasks) names[t.id] = 0;
  const internalized = new Map(Object.keys(names).map((k) => [k, k]));
  const keys = plan.tasks.map((t) => internalized.get(t.id)!);
  return { order, deps, keys };
});

/** Each task's direct dependents. */
const dependentsOf = perPlan((plan) => {
  const dependents = new Map<string, Task[]>();
  for (const t of plan.tasks) {
    for (const d of t.dependsOn) {
      const list = dependents.get(d) ?? [];
      list.push(t);
      dependents.set(d, list);
    }
  }
  return dependents;
});

/**
 * Every task that depends on `id`, directly or not, in plan order. `through`:
 * the walk goes on past the tasks it accepts only (the others are included,
 * not what depends on them).
 */
export function descendants(
  plan: Plan,
  id: string,
  through: (task: Task) => boolean = () => true,
): Task[] {
  const dependents = dependentsOf(plan);
  const seen = new Set<string>();
  const out: Task[] = [];
  const stack = [id];
  while (stack.length > 0) {
    const cur = stack.pop()!;
    for (const t of dependents.get(cur) ?? []) {
      if (seen.has(t.id)) continue;
      seen.add(t.id);
      out.push(t);
      if (through(t)) stack.push(t.id);
    }
  }
  return inPlanOrder(plan, out);
}

/** `tasks` of `plan`, sorted in its order. */
export function inPlanOrder(plan: Plan, tasks: Iterable<Task>): Task[] {
  const { order } = indexOf(plan);
  return [...tasks].sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}
