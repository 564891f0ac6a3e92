/**
 * Stale tasks: a completed task whose result no longer follows from what
 * would produce it now. Its settings were edited (core/fingerprint.ts names
 * the keys), or a task it builds on is stale, is to run again, or ran again
 * since. A stale task runs again (graph.ts counts it runnable) in dependency
 * order, and keeps its old result readable until the new one replaces it.
 *
 * Staleness is worked out from the plan and the recorded fingerprints, so it
 * also goes away by itself: an edit undone, or an upstream task approved as it
 * was (`bearing approve`), makes the task completed again without running it.
 * The run refreshes it when it starts, after every edit, request and ended
 * task, and saves it; the reading commands refresh their own copy, so they
 * show what the next run will do.
 *
 * Results recorded before fingerprints existed have none. They are taken as
 * current: the run adopts the fingerprint they have now (`adopt`), and edits
 * count from then on. Making every finished task of an existing project stale
 * on upgrade would re-run all of it for nothing.
 */
import { changedFields, fingerprintOf, type Hash, handOffDigest } from './fingerprint.js';
import { inPlanOrder, tasksById } from './graph.js';
import { putRecord, type RunState, type StaleReason, type TaskRecord } from './state.js';
import type { Plan } from './task.js';

export interface StaleTask {
  id: string;
  reason: StaleReason;
}

export interface StaleRefresh {
  /** Every stale task in the plan (of `only`, when given), in plan (dependency) order. */
  stale: StaleTask[];
  /** Ids that became stale in this refresh. */
  became: string[];
  /** Ids that were stale and are current again. */
  cleared: string[];
}

/**
 * Bring the status of every completed or stale task in line with its
 * fingerprint. Replaces the records it changes in `state.tasks`.
 * `adopt`: give results from before fingerprints existed the one they have now.
 */
export function refreshStale(
  plan: Plan,
  state: RunState,
  hash: Hash,
  now: Date,
  options: {
    adopt: boolean;
    /**
     * Look at these tasks only: all that a change can have made stale (a
     * task that ended, and what builds on it). A run ends thousands of tasks;
     * each refresh of them all would hash every finished task again.
     */
    only?: ReadonlySet<string>;
  },
): StaleRefresh {
  const out: StaleRefresh = { stale: [], became: [], cleared: [] };
  const handOffs = new Map<string, string>();
  const handOff = (id: string): string => {
    let digest = handOffs.get(id);
    if (digest === undefined) {
      digest = handOffDigest(state.tasks[id], hash);
      handOffs.set(id, digest);
    }
    return digest;
  };
  const staleNow = new Set<string>();
  const at = now.toISOString();
  const byId = tasksById(plan);
  const tasks = options.only
    ? inPlanOrder(
        plan,
        [...options.only].flatMap((id) => byId.get(id) ?? []),
      )
    : plan.tasks;
  for (const task of tasks) {
    const record = state.tasks[task.id];
    if (!record || (record.status !== 'completed' && record.status !== 'stale')) continue;
    const recorded = record.fingerprint;
    if (!recorded) {
      if (options.adopt) {
        putRecord(state, task.id, { ...record, fingerprint: fingerprintOf(task, state, hash) });
      }
      continue;
    }
    const reason = staleReason(task.dependsOn, record, state, staleNow, handOff, () =>
      changedFields(task, recorded, hash),
    );
    if (reason) {
      staleNow.add(task.id);
      out.stale.push({ id: task.id, reason });
      if (record.status === 'completed') out.became.push(task.id);
      if (record.status !== 'stale' || !sameReason(record.stale, reason)) {
        putRecord(state, task.id, { ...record, status: 'stale', stale: reason, updatedAt: at });
      }
    } else if (record.status === 'stale') {
      const next: TaskRecord = { ...record, status: 'completed', updatedAt: at };
      delete next.stale;
      putRecord(state, task.id, next);
      out.cleared.push(task.id);
    }
  }
  return out;
}

function staleReason(
  dependsOn: readonly string[],
  record: TaskRecord,
  state: RunState,
  staleNow: ReadonlySet<string>,
  handOff: (id: string) => string,
  edited: () => string[],
): StaleReason | undefined {
  const fields = edited();
  if (fields.length > 0) return { kind: 'edited', fields };
  const upstream = record.fingerprint?.upstream ?? {};
  for (const dep of dependsOn) {
    const received = upstream[dep];
    // Not a dependency when it ran: `depends_on` changed, which `fields` said.
    if (received === undefined) continue;
    const status = state.tasks[dep]?.status;
    if (staleNow.has(dep) || status === 'stale') {
      return { kind: 'upstream', task: dep, change: 'stale' };
    }
    if (status !== 'completed' && status !== 'skipped') {
      return { kind: 'upstream', task: dep, change: 'rerun' };
    }
    if (handOff(dep) !== received) return { kind: 'upstream', task: dep, change: 'new-result' };
  }
  return undefined;
}

function sameReason(a: StaleReason | undefined, b: StaleReason): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Why a task is stale, in words: status.md, summary, `--json` and the run's notice. */
export function describeStale(reason: StaleReason): string {
  if (reason.kind === 'edited') {
    return `its task file changed (${reason.fields.join(', ')}) since it ran`;
  }
  const dep = `\`${reason.task}\``;
  switch (reason.change) {
    case 'stale':
      return `${dep}, which it builds on, is stale`;
    case 'rerun':
      return `${dep}, which it builds on, is to run again`;
    case 'new-result':
      return `${dep}, which it builds on, ran again since`;
  }
}
