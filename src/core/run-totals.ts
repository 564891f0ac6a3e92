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
}

/** Totals of the attempts started at or after `since` (ISO, the run's start), up to `now`. */
export function runTotals(state: RunState, since: string, now: Date): RunTotals {
  const from = Date.parse(since);
  let costUsd = 0;
  let usage = ZERO_USAGE;
  let attempts = 0;
  const costUnknownFor: string[] = [];
  for (const record of Object.values(state.tasks)) {
    let unknown = false;
    for (const a of record.attempts) {
      // Attempts of earlier runs, including one a crashed run left and this run recovered.
      if (Date.parse(a.startedAt) < from) continue;
      attempts++;
      if (a.costUsd !== undefined) costUsd += a.costUsd;
      if (a.usage) {
        usage = addUsage(usage, a.usage);
        if (a.costUsd === undefined && a.usage.inputTokens + a.usage.outputTokens > 0) {
          unknown = true;
        }
      }
    }
    if (unknown) costUnknownFor.push(record.id);
  }
  return {
    costUsd,
    costUnknownFor,
    usage,
    attempts,
    wallMs: Math.max(0, now.getTime() - from),
  };
}
