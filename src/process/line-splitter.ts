/**
 * Splits a byte stream into lines with a cap per line. execa's `lines` option
 * holds a whole line in memory however long it is; an agent that prints a
 * 50 MB line without a newline must not cost 50 MB here (the raw bytes go to
 * the log file untouched, this only feeds the parser).
 */

/** Default cap for one line handed to a callback: longer lines are cut there. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Byte-level splitting on `\n` (safe in UTF-8: the byte never occurs inside a
 * multi-byte character), so a character split across chunks arrives whole.
 * Lines are emitted without their `\n` or `\r\n`; bytes beyond `maxLineBytes`
 * are dropped until the next newline. A final line without a newline is
 * emitted by `end()`.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #emit: (line: string) => void;
  #parts: Buffer[] = [];
  #size = 0;
  #pending = false;

  constructor(maxLineBytes: number, emit: (line: string) => void) {
    this.#maxLineBytes = Math.max(1, maxLineBytes);
    this.#emit = emit;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline === -1) {
        this.#append(chunk.subarray(start));
        return;
      }
      this.#append(chunk.subarray(start, newline));
      this.#pending = true;
      this.#flush();
      start = newline + 1;
    }
  }

  /** The stream ended: a last line without a trailing newline is still a line. */
  end(): void {
    if (this.#pending) this.#flush();
  }

  #append(part: Buffer): void {
    if (part.length === 0) return;
    this.#pending = true;
    const room = this.#maxLineBytes - this.#size;
    if (room <= 0) return;
    const kept = part.length > room ? part.subarray(0, room) : part;
    this.#parts.push(kept);
    this.#size += kept.length;
  }

  #flush(): void {
    let line = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#size);
    if (line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN) {
      line = line.subarray(0, line.length - 1);
    }
    this.#parts = [];
    this.#size = 0;
    this.#pending = false;
    this.#emit(line.toString('utf8'));
  }
}
