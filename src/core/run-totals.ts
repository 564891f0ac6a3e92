/**
 * What one `bearing run` spent: the attempts it started, not the project's
 * totals (status.md has those), so that the line a run ends with answers
 * "what did this cost me". Pure.
 */
import { addCost, attemptCost, type Cost, NO_COST } from './cost.js';
import { addUsage, type RunState, type Usage, ZERO_USAGE } from './state.js';

export interface RunTotals {
  /** What this run's attempts cost: reported by the CLIs, or estimated (codex). */
  cost: Cost;
  /** Tasks with an attempt in this run whose cost is unknown (tokens that nothing priced). */
  costUnknownFor: string[];
  usage: Usage;
  /** Attempts this run started. */
  attempts: number;
  /** From the run's start to its end. */
  wallMs: number;
  /** Per task with an attempt in this run, costliest first (then by id). */
  tasks: TaskSpend[];
}

/** What one task's attempts in this run cost. */
export interface TaskSpend {
  id: string;
  cost: Cost;
  usage: Usage;
  attempts: number;
  durationMs: number;
}

/** Totals of the attempts started at or after `since` (ISO, the run's start), up to `now`. */
export function runTotals(state: RunState, since: string, now: Date): RunTotals {
  const from = Date.parse(since);
  let cost = NO_COST;
  let usage = ZERO_USAGE;
  let attempts = 0;
  const costUnknownFor: string[] = [];
  const tasks: TaskSpend[] = [];
  for (const record of Object.values(state.tasks)) {
    const spend: TaskSpend = {
      id: record.id,
      cost: NO_COST,
      usage: ZERO_USAGE,
      attempts: 0,
      durationMs: 0,
    };
    for (const a of record.attempts) {
      // Attempts of earlier runs, including one a crashed run left and this run recovered.
      if (Date.parse(a.startedAt) < from) continue;
      spend.attempts++;
      spend.durationMs += a.durationMs ?? 0;
      spend.cost = addCost(spend.cost, attemptCost(a));
      if (a.usage) spend.usage = addUsage(spend.usage, a.usage);
    }
    if (spend.attempts === 0) continue;
    tasks.push(spend);
    attempts += spend.attempts;
    cost = addCost(cost, spend.cost);
    usage = addUsage(usage, spend.usage);
    if (spend.cost.unknown) costUnknownFor.push(record.id);
  }
  tasks.sort((a, b) => b.cost.usd - a.cost.usd || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    cost,
    costUnknownFor,
    usage,
    attempts,
    wallMs: Math.max(0, now.getTime() - from),
    tasks,
  };
}
