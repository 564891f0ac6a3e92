/**
 * Tolerant readers for JSONL events. Agent CLIs add fields every release and
 * interleave non-JSON noise, so a parser takes the fields it knows and never
 * throws on the rest.
 */
import { ELLIPSIS } from './bounded.js';

export type JsonObject = Record<string, unknown>;

/** The line as a JSON object, or undefined when it is not one. */
export function parseJsonObject(line: string): JsonObject | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function obj(value: unknown): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A non-negative integer token count; anything else counts as 0. */
export function count(value: unknown): number {
  const n = num(value);
  return n === undefined || n < 0 ? 0 : n;
}

/** A quote, a backslash or a raw control character: where plain string content ends. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON strings may not hold them raw.
const STRING_STOP = /["\\\u0000-\u001f]/g;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const ESCAPED: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * The JSON object of a line too long to hold as one string, read from pieces
 * of its text. Each string in it longer than `maxStringChars` is cut as
 * clipTail cuts it (an ellipsis, then its end): the parsers keep no more of
 * any text, so they read the same fields. The object is built from the rest,
 * so its memory is the structure and the short strings, not the line; a line
 * whose structure alone is over `maxStructureChars` counts as not JSON.
 */
export class JsonPieces {
  readonly #maxStringChars: number;
  readonly #maxStructureChars: number;
  /** The line as JSON with its long strings cut. */
  #out: string[] = [];
  #outChars = 0;
  #started = false;
  #failed = false;
  /** Inside a string: its text so far (the end of it, once long). */
  #string: StringEnd | undefined;
  /** An escape sequence cut by the end of a piece, from its backslash. */
  #escape = '';

  constructor(maxStringChars: number, maxStructureChars: number) {
    this.#maxStringChars = maxStringChars;
    this.#maxStructureChars = maxStructureChars;
  }

  push(piece: string): void {
    let i = 0;
    while (i < piece.length && !this.#failed) {
      if (this.#escape !== '') {
        i = this.#continueEscape(piece, i);
      } else if (this.#string === undefined) {
        const quote = piece.indexOf('"', i);
        this.#structure(piece.slice(i, quote === -1 ? piece.length : quote));
        if (quote === -1) return;
        this.#string = new StringEnd(this.#maxStringChars);
        i = quote + 1;
      } else {
        STRING_STOP.lastIndex = i;
        const stop = STRING_STOP.exec(piece);
        const end = stop === null ? piece.length : stop.index;
        if (end > i) this.#string.push(piece.slice(i, end));
        if (stop === null) return;
        i = end + 1;
        if (piece[end] === '"') {
          this.#emit(JSON.stringify(this.#string.text()));
          this.#string = undefined;
        } else if (piece[end] === '\\') {
          this.#escape = '\\';
        } else {
          this.#failed = true; // a raw control character: not JSON
        }
      }
    }
  }

  /** The object, or undefined when the text is not one JSON object. */
  object(): JsonObject | undefined {
    if (this.#failed || this.#string !== undefined || this.#escape !== '') return undefined;
    return parseJsonObject(this.#out.join(''));
  }

  /** Takes the rest of an escape sequence from `piece`; returns where it ends. */
  #continueEscape(piece: string, from: number): number {
    let i = from;
    while (i < piece.length && this.#escape.length < escapeLength(this.#escape)) {
      this.#escape += piece[i];
      i += 1;
    }
    const sequence = this.#escape;
    if (sequence.length < escapeLength(sequence)) return i;
    this.#escape = '';
    const text = sequence[1] === 'u' ? unicodeEscape(sequence.slice(2)) : ESCAPED[sequence[1]!];
    if (text === undefined) this.#failed = true;
    else this.#string!.push(text);
    return i;
  }

  /** What lies between strings: it must open an object, and it is kept whole. */
  #structure(text: string): void {
    if (!this.#started) {
      const trimmed = text.trimStart();
      if (trimmed === '') return;
      if (!trimmed.startsWith('{')) {
        this.#failed = true;
        return;
      }
      this.#started = true;
    }
    this.#emit(text);
  }

  #emit(text: string): void {
    this.#outChars += text.length;
    if (this.#outChars > this.#maxStructureChars) this.#failed = true;
    else this.#out.push(text);
  }
}

/** The character `\uXXXX` stands for (one UTF-16 unit), or undefined when XXXX is not hex. */
function unicodeEscape(hex: string): string | undefined {
  return HEX4.test(hex) ? String.fromCharCode(Number.parseInt(hex, 16)) : undefined;
}

/** `\n` and the like are 2 characters, `\uXXXX` 6; undecided until the letter after the backslash. */
function escapeLength(sequence: string): number {
  return sequence.length >= 2 && sequence[1] === 'u' ? 6 : 2;
}

/** A string's text as it arrives, of which only the end is kept once it is long. */
class StringEnd {
  readonly #maxChars: number;
  /** The text's last characters: all of them, or at least maxChars (at most twice that). */
  #kept = '';
  #length = 0;

  constructor(maxChars: number) {
    this.#maxChars = maxChars;
  }

  push(text: string): void {
    this.#length += text.length;
    // A long text holds all that is kept: take its end, not a copy of what was kept before.
    this.#kept = text.length >= this.#maxChars ? text : this.#kept + text;
    if (this.#kept.length > 2 * this.#maxChars) {
      this.#kept = this.#kept.slice(this.#kept.length - this.#maxChars);
    }
  }

  /** The text as clipTail leaves it. */
  text(): string {
    const kept = this.#kept;
    if (this.#length <= this.#maxChars) return kept;
    return ELLIPSIS + kept.slice(kept.length - (this.#maxChars - ELLIPSIS.length));
  }
}
