/**
 * What attempts cost, and the one way every report writes it. Claude Code
 * reports a cost; codex reports tokens only, which Bearing prices from
 * run.codex_prices and marks as an estimate (`~$`); a CLI that reports tokens
 * that nothing prices leaves the figure a lower bound ("+ unknown"). Pure.
 */
import type { AttemptRecord, TaskRecord } from './state.js';

export interface Cost {
  /** Reported by the CLIs, plus Bearing's estimates. */
  usd: number;
  /** Part of `usd` is Bearing's estimate from tokens. */
  estimated: boolean;
  /** Some attempt reported tokens but no cost, and none was estimated: `usd` is a lower bound. */
  unknown: boolean;
}

export const NO_COST: Cost = { usd: 0, estimated: false, unknown: false };

/**
 * One ended attempt's cost. A running attempt's is its live progress, not
 * this; an attempt that reported nothing at all (killed before its first
 * event, failed to start) cost nothing anybody knows of, and is not unknown.
 */
export function attemptCost(a: AttemptRecord): Cost {
  if (a.outcome === 'running') return NO_COST;
  if (a.costUsd !== undefined) {
    return { usd: a.costUsd, estimated: a.costEstimated === true, unknown: false };
  }
  const tokens = a.usage ? a.usage.inputTokens + a.usage.outputTokens : 0;
  return { usd: 0, estimated: false, unknown: tokens > 0 };
}

export function addCost(a: Cost, b: Cost): Cost {
  return {
    usd: a.usd + b.usd,
    estimated: a.estimated || b.estimated,
    unknown: a.unknown || b.unknown,
  };
}

export function costOf(attempts: readonly AttemptRecord[]): Cost {
  return attempts.reduce((sum, a) => addCost(sum, attemptCost(a)), NO_COST);
}

/** A task's cost: its record's total, marked as its attempts are. */
export function taskCost(record: TaskRecord | undefined): Cost {
  if (!record) return NO_COST;
  return { ...costOf(record.attempts), usd: record.costUsd };
}

/**
 * `$0.1234`, `~$0.1234` (partly estimated), `$0.1234 + unknown`, or `cost
 * unknown`; `short` writes the lower bound as `$0.1234+?` for lists.
 */
export function costText(c: Cost, style: 'long' | 'short' = 'long'): string {
  const figure = `${c.estimated ? '~' : ''}$${c.usd.toFixed(4)}`;
  if (!c.unknown) return figure;
  if (c.usd === 0) return 'cost unknown';
  return style === 'short' ? `${figure}+?` : `${figure} + unknown`;
}

/** Sums of floats drift (0.1 + 0.2): JSON consumers get what the text shows, to 1e-6. */
export function roundUsd(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
