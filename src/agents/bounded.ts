/**
 * Bounded text helpers: agents can print gigabytes, so parsers keep tails of
 * fixed size instead of whole outputs.
 */

/** Upper bound, in characters, of any summary an adapter returns. */
export const SUMMARY_MAX_CHARS = 64 * 1024;

/** Marks text that was cut, so a reader knows the start is missing. */
export const ELLIPSIS = '…';

/** Keeps the end of `text`: an agent's final words matter more than its first. */
export function clipTail(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return ELLIPSIS + text.slice(text.length - (maxChars - ELLIPSIS.length));
}

/**
 * The last lines pushed, at most `maxLines` lines and `maxChars` characters
 * (counting one newline between lines). Older lines are dropped first; a
 * single line longer than the budget keeps its end.
 */
export class TailLines {
  readonly #maxLines: number;
  readonly #maxChars: number;
  #lines: string[] = [];
  #chars = 0;
  #dropped = false;

  constructor(maxLines: number, maxChars: number) {
    this.#maxLines = maxLines;
    this.#maxChars = maxChars;
  }

  push(line: string): void {
    const kept = clipTail(line, this.#maxChars);
    if (kept !== line) this.#dropped = true;
    this.#lines.push(kept);
    this.#chars += kept.length + 1;
    while (
      this.#lines.length > 1 &&
      (this.#lines.length > this.#maxLines || this.#chars - 1 > this.#maxChars)
    ) {
      const first = this.#lines.shift() ?? '';
      this.#chars -= first.length + 1;
      this.#dropped = true;
    }
  }

  get length(): number {
    return this.#lines.length;
  }

  /** The newest line, or undefined when nothing was pushed. */
  last(): string | undefined {
    return this.#lines.at(-1);
  }

  /** The kept lines joined by newlines, prefixed with an ellipsis line when some were dropped. */
  text(): string {
    const body = this.#lines.join('\n');
    return this.#dropped && body.length > 0 ? `${ELLIPSIS}\n${body}` : body;
  }
}
