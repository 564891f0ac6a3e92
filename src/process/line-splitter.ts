/**
 * Splits a byte stream into lines with a cap per line. execa's `lines` option
 * holds a whole line in memory however long it is; an agent that prints a
 * 50 MB line without a newline must not cost 50 MB here (the raw bytes go to
 * the log file untouched, this only feeds the parser).
 *
 * A line longer than the memory budget goes to a spill file as it arrives.
 * When its newline comes it is handed over as a LongLine, which reads it back
 * from the file in pieces: a claude `result` event carries the agent's whole
 * final message on one line, and the parser needs all of it, but keeps only
 * a tail of its text. So a long line costs the budget while it arrives and a
 * piece while it is read, never its length; made into one string (and
 * parsed), a 20 MB line costs three times that, in memory the garbage
 * collector frees when it likes, and four agents printing such lines took
 * over 250 MB.
 *
 * The spill file is the splitter's own, not the log: the log cap
 * (run.max_log_size) drops the middle of a long output, stdout and stderr may
 * share one log file (a line's bytes are then not contiguous in it), and the
 * log is written asynchronously (a line read back from it might not be there
 * yet).
 */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Default cap for one line handed to a callback: longer lines are cut there. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/** Bytes of one line held in memory before the rest goes to the spill file. */
const LINE_MEMORY_BYTES = 1024 * 1024;

/**
 * Bytes read from the spill file at a time: the size of one piece. Small
 * enough that a piece is an ordinary young object the garbage collector
 * frees at once (a 1 MiB piece was not, and a long line's pieces piled up).
 */
const PIECE_BYTES = 64 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * A line too long to hold in memory, as it sits in the spill file. Valid only
 * during the callback it is handed to: the file is reused for the next one.
 */
export interface LongLine {
  /** Its text in pieces of about 64 KiB, read from the file; a character is never split. */
  pieces(): Iterable<string>;
  /** Its whole text as one string, for consumers that need it so: costs its length. */
  text(): string;
}

export interface LineSpill {
  /** Created when the first line outgrows the memory budget; removed at once (the open file stays). */
  path: string;
  /** Lines over the budget. */
  emit: (line: LongLine) => void;
  /** Bytes of one line held in memory; past them the line goes to the file (default LINE_MEMORY_BYTES). */
  memoryBytes?: number;
}

/**
 * Byte-level splitting on `\n` (safe in UTF-8: the byte never occurs inside a
 * multi-byte character), so a character split across chunks arrives whole.
 * Lines are emitted without their `\n` or `\r\n`; bytes beyond `maxLineBytes`
 * are dropped until the next newline. A final line without a newline is
 * emitted by `end()`, which also closes the spill file: call it in every case.
 *
 * Without `spill` a line is held in memory up to `maxLineBytes`. With it,
 * push() and end() throw when the spill file cannot be opened, written or
 * read (a full disk): the line can no longer be handed over whole.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #memoryBytes: number;
  readonly #emit: (line: string) => void;
  readonly #spill: LineSpill | undefined;
  #parts: Buffer[] = [];
  /** Bytes of the current line kept: in #parts, or in the spill file once #spilled. */
  #size = 0;
  /** The last byte kept, to drop the `\r` of a `\r\n` that is in the spill file. */
  #lastByte = -1;
  #pending = false;
  #spilled = false;
  #fd: number | undefined;
  /** The spill file's path while it still has a name (unlinking an open file failed). */
  #linked: string | undefined;

  constructor(maxLineBytes: number, emit: (line: string) => void, spill?: LineSpill) {
    this.#maxLineBytes = Math.max(1, maxLineBytes);
    this.#emit = emit;
    this.#spill = spill;
    this.#memoryBytes = Math.max(
      1,
      Math.min(spill?.memoryBytes ?? LINE_MEMORY_BYTES, this.#maxLineBytes),
    );
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
    try {
      if (this.#pending) this.#flush();
    } finally {
      this.#closeSpill();
    }
  }

  #append(part: Buffer): void {
    if (part.length === 0) return;
    this.#pending = true;
    const room = this.#maxLineBytes - this.#size;
    if (room <= 0) return;
    const kept = part.length > room ? part.subarray(0, room) : part;
    if (
      this.#spill !== undefined &&
      !this.#spilled &&
      this.#size + kept.length > this.#memoryBytes
    ) {
      this.#spillParts();
    }
    if (this.#spilled) {
      this.#write(kept, this.#size);
    } else {
      this.#parts.push(kept);
    }
    this.#size += kept.length;
    this.#lastByte = kept[kept.length - 1]!;
  }

  /** Moves what the line holds in memory to the start of the spill file. */
  #spillParts(): void {
    if (this.#fd === undefined) {
      const path = this.#spill!.path;
      this.#fd = openSync(path, 'w+', 0o600);
      this.#linked = path;
      try {
        unlinkSync(path);
        this.#linked = undefined;
      } catch {
        // Some systems cannot remove an open file: end() removes it.
      }
    }
    let position = 0;
    for (const part of this.#parts) {
      this.#write(part, position);
      position += part.length;
    }
    this.#parts = [];
    this.#spilled = true;
  }

  #write(bytes: Buffer, position: number): void {
    let done = 0;
    while (done < bytes.length) {
      done += writeSync(this.#fd!, bytes, done, bytes.length - done, position + done);
    }
  }

  #flush(): void {
    const size = this.#size;
    const lastByte = this.#lastByte;
    const spilled = this.#spilled;
    const parts = this.#parts;
    this.#parts = [];
    this.#size = 0;
    this.#lastByte = -1;
    this.#pending = false;
    this.#spilled = false;
    const length = size > 0 && lastByte === CARRIAGE_RETURN ? size - 1 : size;
    if (spilled) {
      this.#spill!.emit(this.#longLine(length));
      return;
    }
    const line = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    this.#emit(line.toString('utf8', 0, length));
  }

  #longLine(bytes: number): LongLine {
    const fd = this.#fd!;
    const path = this.#spill!.path;
    const read = (into: Buffer, position: number): void => {
      let done = 0;
      while (done < into.length) {
        const n = readSync(fd, into, done, into.length - done, position + done);
        if (n === 0) throw new Error(`line spill file ${path} ended early`);
        done += n;
      }
    };
    return {
      *pieces() {
        const decoder = new StringDecoder('utf8');
        const buffer = Buffer.allocUnsafe(Math.min(PIECE_BYTES, bytes));
        for (let position = 0; position < bytes; position += buffer.length) {
          const piece = buffer.subarray(0, Math.min(buffer.length, bytes - position));
          read(piece, position);
          yield decoder.write(piece);
        }
        const rest = decoder.end();
        if (rest !== '') yield rest;
      },
      text() {
        const line = Buffer.allocUnsafe(bytes);
        read(line, 0);
        return line.toString('utf8');
      },
    };
  }

  #closeSpill(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
    const linked = this.#linked;
    this.#linked = undefined;
    try {
      if (linked !== undefined) unlinkSync(linked);
    } catch {
      // Already gone: nothing of ours is left.
    }
  }
}
