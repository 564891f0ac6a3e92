/**
 * What one `bearing run` spent: the attempts it started, not the project's
 * totals (status.md has those), so that the line a run ends with answers
 * "what did this cost me". Pure.
 */
import { addUsage, type RunState, type Usage, ZERO_USAGE } from './state.js';

export interface RunTotals {
  /** Cost the CLIs reported for this run's attempts. */
  costUsd: number;
  /** Tasks with an attempt in this run whose CLI reported tokens but no cost (codex). */
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
  /** Cost the CLI reported for them. */
  costUsd: number;
  /** Some attempt reported tokens but no cost (codex): costUsd is a lower bound. */
  costUnknown: boolean;
  usage: Usage;
  attempts: number;
  durationMs: number;
}

/** Totals of the attempts started at or after `since` (ISO, the run's start), up to `now`. */
export function runTotals(state: RunState, since: string, now: Date): RunTotals {
  const from = Date.parse(since);
  let costUsd = 0;
  let usage = ZERO_USAGE;
  let attempts = 0;
  const costUnknownFor: string[] = [];
  const tasks: TaskSpend[] = [];
  for (const record of Object.values(state.tasks)) {
    const spend: TaskSpend = {
      id: record.id,
      costUsd: 0,
      costUnknown: false,
      usage: ZERO_USAGE,
      attempts: 0,
      durationMs: 0,
    };
    for (const a of record.attempts) {
      // Attempts of earlier runs, including one a crashed run left and this run recovered.
      if (Date.parse(a.startedAt) < from) continue;
      spend.attempts++;
      spend.durationMs += a.durationMs ?? 0;
      if (a.costUsd !== undefined) spend.costUsd += a.costUsd;
      if (a.usage) {
        spend.usage = addUsage(spend.usage, a.usage);
        if (a.costUsd === undefined && a.usage.inputTokens + a.usage.outputTokens > 0) {
          spend.costUnknown = true;
        }
      }
    }
    if (spend.attempts === 0) continue;
    tasks.push(spend);
    attempts += spend.attempts;
    costUsd += spend.costUsd;
    usage = addUsage(usage, spend.usage);
    if (spend.costUnknown) costUnknownFor.push(record.id);
  }
  tasks.sort((a, b) => b.costUsd - a.costUsd || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    costUsd,
    costUnknownFor,
    usage,
    attempts,
    wallMs: Math.max(0, now.getTime() - from),
    tasks,
  };
}
