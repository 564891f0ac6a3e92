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
  // A copy, not a slice: V8 keeps a slice's whole parent alive, and the
  // parent may be a multi-MB line of output the parser is otherwise done with.
  return structuredClone(ELLIPSIS + text.slice(text.length - (maxChars - ELLIPSIS.length)));
}

/** The first line of a text, trimmed, marked when more lines followed: a tool's argument on one line. */
export function firstLine(text: string): string {
  const trimmed = text.trim();
  const end = trimmed.indexOf('\n');
  return end === -1 ? trimmed : `${trimmed.slice(0, end).trimEnd()} ${ELLIPSIS}`;
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

  /** `cut`: the line is already the clipped tail of a longer one (TextTail). */
  push(line: string, cut = false): void {
    const kept = clipTail(line, this.#maxChars);
    if (cut || kept !== line) this.#dropped = true;
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

/**
 * The end of a text that arrives in pieces (a line too long to hold as one
 * string), as clipTail keeps it of the whole text once trimmed, in memory
 * bounded by maxChars whatever the text's length.
 */
export class TextTail {
  readonly #maxChars: number;
  /** The last characters (at least maxChars, at most twice that) up to the last non-whitespace one. */
  #kept = '';
  /** How many characters that is: the length of text.trimEnd() so far. */
  #length = 0;
  /** Whitespace after the last non-whitespace character: its last maxChars, and its length. */
  #trailing = '';
  #trailingLength = 0;
  /** Whitespace before the first non-whitespace character; undefined until there is one. */
  #leading: number | undefined;

  constructor(maxChars: number) {
    this.#maxChars = maxChars;
  }

  push(piece: string): void {
    const end = piece.trimEnd().length;
    if (end > 0) {
      this.#leading ??= this.#trailingLength + piece.length - piece.trimStart().length;
      this.#keep(this.#trailing);
      this.#keep(piece.slice(0, end));
      this.#length += this.#trailingLength + end;
      this.#trailing = '';
      this.#trailingLength = 0;
    }
    this.#trailing = this.#lastChars(this.#trailing + piece.slice(end));
    this.#trailingLength += piece.length - end;
  }

  /** Whether the text is empty or only whitespace. */
  get blank(): boolean {
    return this.#leading === undefined;
  }

  /** clipTail(text.trim(), maxChars), and whether that cut it. */
  trimmed(): { text: string; cut: boolean } {
    return this.#clip(this.#length - (this.#leading ?? this.#length));
  }

  /** clipTail(text.trimEnd(), maxChars), and whether that cut it. */
  trimmedEnd(): { text: string; cut: boolean } {
    return this.#clip(this.#length);
  }

  /** The last `length` characters of text.trimEnd(), clipped as clipTail would. */
  #clip(length: number): { text: string; cut: boolean } {
    const kept = this.#kept;
    if (length <= this.#maxChars) return { text: kept.slice(kept.length - length), cut: false };
    return {
      text: ELLIPSIS + kept.slice(kept.length - (this.#maxChars - ELLIPSIS.length)),
      cut: true,
    };
  }

  #keep(text: string): void {
    // A long text holds all that is kept: take its end, not a copy of what was kept before.
    const kept = text.length >= this.#maxChars ? text : this.#kept + text;
    this.#kept = kept.length > 2 * this.#maxChars ? this.#lastChars(kept) : kept;
  }

  #lastChars(text: string): string {
    return text.length > this.#maxChars ? text.slice(text.length - this.#maxChars) : text;
  }
}
