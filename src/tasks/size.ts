/**
 * Sizes as users write them (`500KB`, `64MB`, `1GB`, or a number of bytes)
 * turned into bytes, with a message saying what was expected when the text
 * is not one. Units are powers of 1024 whichever way they are spelt (MB or
 * MiB), as the logs report them.
 */
import { err, ok, type Result } from '../core/result.js';
import { SIZE_PATTERN } from './values.js';

const UNIT_BYTES: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};
const PARTS = /^(\d+(?:\.\d+)?) ?([A-Za-z]+)$/;

/** Far beyond any disk, and still exact as a JavaScript number. */
const MAX_SIZE_BYTES = 8192 * 1024 ** 4;

/** What a size looks like, for messages. */
export const SIZE_EXAMPLES = 'a size such as 500KB, 64MB or 1GB (or a number of bytes)';

/** Bytes, or what is wrong as "expected ..., got ..." (the caller adds where). */
export function parseSize(value: string | number): Result<number, string> {
  let bytes: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return err(`expected ${SIZE_EXAMPLES}, got ${value}`);
    if (value < 0) return err(`expected a size of 0 or more, got ${value}`);
    if (!Number.isInteger(value)) return err(`expected a whole number of bytes, got ${value}`);
    bytes = value;
  } else {
    const parts = SIZE_PATTERN.test(value) ? PARTS.exec(value) : null;
    if (parts === null) return err(`expected ${SIZE_EXAMPLES}, got ${JSON.stringify(value)}`);
    bytes = Math.round(Number(parts[1]) * (UNIT_BYTES[parts[2]!] ?? Number.NaN));
  }
  if (!(bytes <= MAX_SIZE_BYTES)) {
    return err(
      `expected at most 8192TB, got ${typeof value === 'number' ? value : JSON.stringify(value)}`,
    );
  }
  return ok(bytes);
}
