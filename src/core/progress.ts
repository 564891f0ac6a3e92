/**
 * What a running attempt has done so far, read from its agent's own events
 * as they arrive: the one model of live progress. The adapters' parsers
 * build it (agents/claude.ts, codex.ts), the attempt records it on its
 * running attempt (state.json, so other processes read it), and the
 * terminal, `bearing watch`, `bearing status --json` and spend caps all read
 * this same shape. Pure.
 */
import { addUsage, type RunState, type Usage, ZERO_USAGE } from './state.js';

/** The current or last tool call: `Edit` `src/db.js`, `Bash` `npm test`. */
export interface ToolCall {
  name: string;
  /** Its main argument (a path relative to the attempt's folder, a command, a pattern), one line, bounded. */
  target?: string;
}

/**
 * Cost so far. `estimated`: worked out from the tokens at the model's list
 * prices, because the CLI reports cost only at its end (claude's `result`);
 * once it reports, the CLI's own figure replaces the estimate.
 */
export interface LiveCost {
  usd: number;
  estimated: boolean;
}

export interface LiveProgress {
  /** Model requests so far (claude's turns); codex counts completed turns. */
  turns: number;
  tool?: ToolCall;
  /** Tokens so far. claude's stream undercounts output tokens until its result. */
  usage: Usage;
  /** Absent: the CLI reports no cost and no price is known (codex). */
  cost?: LiveCost;
}

export const NO_PROGRESS: LiveProgress = { turns: 0, usage: ZERO_USAGE };

/** Longest tool target kept: enough for a path or the start of a command. */
export const MAX_TARGET_CHARS = 120;

/** One line, at most MAX_TARGET_CHARS, with `…` where it was cut. */
export function clipTarget(text: string): string | undefined {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line === '') return undefined;
  return line.length <= MAX_TARGET_CHARS ? line : `${line.slice(0, MAX_TARGET_CHARS - 1)}…`;
}

/** `path` relative to `cwd` when it lies inside it; otherwise as given. */
export function relativeTo(path: string, cwd: string | undefined): string {
  if (!cwd) return path;
  const base = cwd.endsWith('/') ? cwd : `${cwd}/`;
  return path.startsWith(base) ? path.slice(base.length) : path;
}

/** Usage priced per million tokens, in US dollars. */
export interface Prices {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** The cost of `usage` at `prices`. */
export function priced(usage: Usage, prices: Prices): number {
  return (
    (usage.inputTokens * prices.input +
      usage.outputTokens * prices.output +
      usage.cacheReadTokens * prices.cacheRead +
      usage.cacheWriteTokens * prices.cacheWrite) /
    1e6
  );
}

/** "`Edit src/db.js`", for one line of the terminal. */
export function toolText(tool: ToolCall): string {
  return tool.target ? `${tool.name} ${tool.target}` : tool.name;
}

/** Tokens of every kind, added up: the one number a live line has room for. */
export function totalTokens(u: Usage): number {
  return u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;
}

/** What the attempts running now have spent so far, from their agents' events. */
export interface RunningSpend {
  usd: number;
  /** Part of `usd` is Bearing's estimate (a claude attempt before its result). */
  estimated: boolean;
  usage: Usage;
  /** Running tasks whose CLI reports no cost (codex): `usd` leaves them out. */
  costUnknownFor: string[];
}

/**
 * The running attempts' live spend, added up: what the live line adds to the
 * recorded costs, and what a spend cap checks before the attempts end.
 */
export function runningSpend(state: RunState): RunningSpend {
  const spend: RunningSpend = { usd: 0, estimated: false, usage: ZERO_USAGE, costUnknownFor: [] };
  for (const record of Object.values(state.tasks)) {
    const last = record.attempts.at(-1);
    const p = last?.outcome === 'running' ? last.progress : undefined;
    if (!p) continue;
    spend.usage = addUsage(spend.usage, p.usage);
    if (p.cost) {
      spend.usd += p.cost.usd;
      spend.estimated ||= p.cost.estimated;
    } else if (totalTokens(p.usage) > 0) {
      spend.costUnknownFor.push(record.id);
    }
  }
  return spend;
}
