/**
 * What a codex attempt costs, worked out by Bearing: codex reports tokens
 * but no cost, so its cost is an estimate from list prices, always shown as
 * one (`~$`). The prices are OpenAI's published API prices per million
 * tokens; `run.codex_prices` in config.yaml adds models or corrects these.
 * An attempt signed in with a ChatGPT plan pays no per-token price at all:
 * the estimate is then what the same work would cost on the API, which is
 * still what a spend cap should weigh.
 */
import type { Usage } from './state.js';

/** US dollars per million tokens. */
export interface CodexPrice {
  input: number;
  /** Input tokens read from the prompt cache (`cached_input_tokens`). */
  cachedInput: number;
  output: number;
}

/** OpenAI's list prices for the models codex runs (US dollars per million tokens). */
export const CODEX_PRICES: Readonly<Record<string, CodexPrice>> = {
  'gpt-5': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5-codex': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5-mini': { input: 0.25, cachedInput: 0.025, output: 2 },
  'gpt-5-nano': { input: 0.05, cachedInput: 0.005, output: 0.4 },
  'gpt-5.1': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5.1-codex': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5.1-codex-mini': { input: 0.25, cachedInput: 0.025, output: 2 },
};

/**
 * The price for a task's model: its own entry in `run.codex_prices`, else
 * the list above; a model neither names, or none set (codex's own default,
 * which its events do not name), is priced as gpt-5-codex, codex's usual
 * default.
 */
export function codexPrice(
  model: string | undefined,
  overrides: Readonly<Record<string, CodexPrice>> = {},
): CodexPrice {
  const known = model === undefined ? undefined : (overrides[model] ?? CODEX_PRICES[model]);
  return known ?? overrides['gpt-5-codex'] ?? CODEX_PRICES['gpt-5-codex']!;
}

/**
 * The cost of codex's usage at `price`. codex's `input_tokens` include the
 * cached ones, which are priced apart.
 */
export function codexCost(usage: Usage, price: CodexPrice): number {
  const uncached = Math.max(0, usage.inputTokens - usage.cacheReadTokens);
  return (
    (uncached * price.input +
      usage.cacheReadTokens * price.cachedInput +
      usage.outputTokens * price.output) /
    1e6
  );
}
