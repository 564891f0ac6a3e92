/**
 * Durations as users write them (`90s`, `30m`, `1h30m`, `500ms`, or a number
 * of seconds) turned into milliseconds, with a message saying what was
 * expected when the text is not one.
 */
import { err, ok, type Result } from '../core/result.js';
import { MAX_DURATION_MS } from './rules.js';
import { DURATION_PATTERN } from './values.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** What a duration looks like, for messages. */
export const DURATION_EXAMPLES = 'a duration such as 90s, 30m or 1h30m (or a number of seconds)';

/** Plans repeat the same few durations thousands of times; remember the answers. */
const cache = new Map<string | number, Result<number, string>>();

/** Milliseconds, or what is wrong as "expected ..., got ..." (the caller adds where). */
export function parseDuration(value: string | number): Result<number, string> {
  let result = cache.get(value);
  if (result === undefined) {
    result = parse(value);
    if (cache.size > 1000) cache.clear();
    cache.set(value, result);
  }
  return result;
}

function parse(value: string | number): Result<number, string> {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return err(`expected ${DURATION_EXAMPLES}, got ${value}`);
    ms = value * 1000;
  } else {
    if (!DURATION_PATTERN.test(value)) {
      return err(`expected ${DURATION_EXAMPLES}, got ${JSON.stringify(value)}`);
    }
    ms = 0;
    for (const [, amount, unit] of value.matchAll(PART)) {
      ms += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
    }
  }
  const shown = typeof value === 'number' ? String(value) : JSON.stringify(value);
  ms = Math.round(ms);
  if (ms <= 0) return err(`expected a duration greater than zero, got ${shown}`);
  if (ms > MAX_DURATION_MS) return err(`expected at most 596h (about 24 days), got ${shown}`);
  return ok(ms);
}
