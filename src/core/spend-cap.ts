/**
 * The spend cap of one `bearing run` (run.max_cost_usd, `--max-cost`): what
 * the run has spent, what a task about to start may spend, and whether it
 * fits. Pure: the runner asks before each start and after each spend.
 *
 * The run's spend is what its own attempts cost: those that ended (the CLI's
 * figure) and those running (their live events, an estimate for claude
 * until its result). codex reports no cost: its attempts count at Bearing's
 * estimate from their tokens (run.codex_prices), recorded on the attempt, or
 * made here for one recorded before codex was priced. Attempts of earlier
 * runs are not counted: a run stopped by its cap goes on when it is started
 * again, with the same cap.
 */
import type { AttemptRecord, RunState, Usage } from './state.js';
import type { Task } from './task.js';

/** Bearing's estimate for an ended attempt recorded with tokens but no cost (codex, before it was priced). */
export type Estimator = (taskId: string, usage: Usage) => number | undefined;

/** How many of a CLI's latest priced attempts its average is taken over. */
export const RECENT_ATTEMPTS = 5;

export interface RunSpend {
  usd: number;
  /** Part of it is Bearing's estimate (a running claude attempt before its result, codex). */
  estimated: boolean;
}

/**
 * What the attempts started since `since` (the run's start) have spent,
 * running ones included. `reserved`: what each running task was counted as
 * when it started; a running attempt counts at least that much until it
 * ends, so that tasks started side by side cannot all pass the cap together.
 */
export function runSpend(
  state: RunState,
  since: number,
  reserved: ReadonlyMap<string, number> = new Map(),
  estimate: Estimator = () => undefined,
): RunSpend {
  let usd = 0;
  let estimated = false;
  for (const record of Object.values(state.tasks)) {
    for (const a of record.attempts) {
      if (a.outcome === 'running') {
        // Only this run's attempts run; the live cost is dropped when one ends.
        const live = a.progress?.cost;
        const held = reserved.get(record.id) ?? 0;
        usd += Math.max(live?.usd ?? 0, held);
        estimated ||= (live?.estimated ?? false) && live!.usd >= held;
      } else if (Date.parse(a.startedAt) >= since) {
        const cost = endedCost(record.id, a, estimate);
        usd += cost?.usd ?? 0;
        estimated ||= cost?.estimated ?? false;
      }
    }
  }
  return { usd, estimated };
}

/**
 * An ended attempt's cost: the CLI's, the estimate recorded with it (codex),
 * or, for one recorded with tokens only, Bearing's estimate now; undefined
 * when nothing prices it.
 */
function endedCost(
  taskId: string,
  a: AttemptRecord,
  estimate: Estimator,
): { usd: number; estimated: boolean } | undefined {
  if (a.costUsd !== undefined) return { usd: a.costUsd, estimated: a.costEstimated === true };
  const guess = a.usage ? estimate(taskId, a.usage) : undefined;
  return guess === undefined ? undefined : { usd: guess, estimated: true };
}

/** What a task about to start is counted as spending, and on what grounds. */
export type StartEstimate =
  | { usd: number; basis: 'budget' }
  /** `estimated`: some of the attempts' costs are Bearing's estimates (codex). */
  | { usd: number; basis: 'average'; attempts: number; estimated: boolean }
  /** No budget and no priced attempt of its CLI yet: counted as nothing. */
  | { usd: 0; basis: 'none' }
  /** A shell command: no model, no cost, whatever budget_usd the defaults give. */
  | { usd: 0; basis: 'shell' };

/**
 * Its `budget_usd` when it has one; else the average cost of the latest
 * RECENT_ATTEMPTS ended attempts, with a cost, of tasks on the same CLI.
 */
export function startEstimate(
  task: Task,
  tasks: readonly Task[],
  state: RunState,
  estimate: Estimator = () => undefined,
): StartEstimate {
  if (task.cli === 'shell') return { usd: 0, basis: 'shell' };
  if (task.budgetUsd !== undefined) return { usd: task.budgetUsd, basis: 'budget' };
  const sameCli = new Set(tasks.filter((t) => t.cli === task.cli).map((t) => t.id));
  const priced = Object.values(state.tasks)
    .filter((r) => sameCli.has(r.id))
    .flatMap((r) =>
      r.attempts.flatMap((a) => {
        if (a.outcome === 'running' || a.endedAt === undefined) return [];
        const cost = endedCost(r.id, a, estimate);
        return cost ? [{ ...cost, endedAt: Date.parse(a.endedAt) }] : [];
      }),
    )
    .sort((a, b) => b.endedAt - a.endedAt)
    .slice(0, RECENT_ATTEMPTS);
  if (priced.length === 0) return { usd: 0, basis: 'none' };
  const sum = priced.reduce((total, a) => total + a.usd, 0);
  return {
    usd: sum / priced.length,
    basis: 'average',
    attempts: priced.length,
    estimated: priced.some((a) => a.estimated),
  };
}

/** An amount in a cap's messages: cents from a dollar up, else the fractions a small attempt costs. */
export function dollars(usd: number): string {
  return `$${usd.toFixed(usd >= 1 ? 2 : 4)}`;
}

/** "its budget_usd, $0.50", for the line that says why a task did not start. */
export function estimateText(e: StartEstimate): string {
  switch (e.basis) {
    case 'budget':
      return `its budget_usd, ${dollars(e.usd)}`;
    case 'average':
      return `its CLI's average over the last ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}, ${e.estimated ? '~' : ''}${dollars(e.usd)}`;
    case 'none':
      return 'nothing (no budget_usd and no earlier attempt of its CLI)';
    case 'shell':
      return 'nothing (a shell command)';
  }
}
