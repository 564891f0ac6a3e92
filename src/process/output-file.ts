/**
 * Appends a child's raw output to a log file with backpressure: when the disk
 * is slower than the child, the pipe is paused (and the child blocks on its
 * write) instead of the bytes piling up in our memory.
 *
 * With a size cap (one runaway agent wrote 772 MB in 3 s), the file keeps the
 * head and the tail of the output and says in one line what was dropped
 * between them. The head is written as it comes, up to the cap less the
 * tail's share; the tail (at most half the cap, and never over 8 MiB of
 * memory) is held back and written on close, after the line. So an output
 * that fits the cap is kept whole, the file never grows much past the cap,
 * and memory stays bounded. Past the head nothing is written, so there is
 * nothing to wait for: the child runs at full speed while we drop its bytes.
 */
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { TailBuffer } from './tail-buffer.js';

/** The most of a capped log's tail held in memory until the file is closed. */
export const MAX_LOG_TAIL_BYTES = 8 * 1024 * 1024;

interface Cap {
  headBytes: number;
  tail: TailBuffer;
}

/** One append-only log file fed by one or two pipes. */
export class OutputFile {
  readonly path: string;
  readonly #stream: WriteStream;
  readonly #paused = new Set<Readable>();
  readonly #cap: Cap | undefined;
  /** Bytes handed to write(), written or not. */
  #seen = 0;
  /** Bytes of the head written (or queued) to the file. */
  #headWritten = 0;
  #droppedBytes = 0;
  #error: Error | undefined;
  #onError: ((error: Error) => void) | undefined;

  /**
   * Opens synchronously so that a missing log directory fails before anything
   * is spawned, and is never confused with the child's own spawn errors.
   * `maxBytes` of 0 or less (or absent): no cap.
   */
  constructor(path: string, maxBytes?: number) {
    this.path = path;
    if (maxBytes !== undefined && maxBytes > 0) {
      const tailBytes = Math.min(Math.floor(maxBytes / 2), MAX_LOG_TAIL_BYTES);
      this.#cap = { headBytes: maxBytes - tailBytes, tail: new TailBuffer(tailBytes) };
    }
    const fd = openSync(path, 'a');
    this.#stream = createWriteStream(path, { fd, flags: 'a' });
    this.#stream.on('drain', () => this.#resumeAll());
    this.#stream.on('error', (error) => {
      this.#error ??= error;
      this.#resumeAll(); // keep the pipe flowing; the bytes are dropped from now on
      this.#onError?.(error);
    });
  }

  /** Called once with the first write error (disk full, ...). */
  onError(listener: (error: Error) => void): void {
    this.#onError = listener;
  }

  /** Bytes of output the cap left out of the file; known once close() has resolved. */
  get droppedBytes(): number {
    return this.#droppedBytes;
  }

  write(chunk: Buffer, source: Readable): void {
    if (this.#error !== undefined || this.#stream.destroyed) return;
    this.#seen += chunk.length;
    const cap = this.#cap;
    if (cap === undefined) {
      this.#append(chunk, source);
      return;
    }
    const room = cap.headBytes - this.#headWritten;
    if (room > 0) {
      const head = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.#headWritten += head.length;
      this.#append(head, source);
    }
    if (chunk.length > room) cap.tail.push(room > 0 ? chunk.subarray(room) : chunk);
  }

  /** Flushes and closes; rejects with the first write error, if any. */
  async close(): Promise<void> {
    if (this.#error === undefined && !this.#stream.destroyed) {
      this.#writeTail();
      this.#stream.end();
      try {
        await finished(this.#stream);
      } catch (error) {
        this.#error ??= error as Error;
      }
    }
    if (this.#error !== undefined) throw this.#error;
  }

  #append(chunk: Buffer, source: Readable): void {
    if (!this.#stream.write(chunk)) {
      source.pause();
      this.#paused.add(source);
    }
  }

  /** The held-back tail, after the line that says what was dropped before it (if anything was). */
  #writeTail(): void {
    const cap = this.#cap;
    if (cap === undefined || cap.tail.length === 0) return;
    const tail = cap.tail.bytes();
    this.#droppedBytes = this.#seen - this.#headWritten - tail.length;
    if (this.#droppedBytes > 0) {
      this.#stream.write(droppedLine(this.#droppedBytes, this.#headWritten, tail.length));
    }
    this.#stream.write(tail);
  }

  #resumeAll(): void {
    for (const source of this.#paused) source.resume();
    this.#paused.clear();
  }
}

/**
 * On a line of its own: the head may end mid-line, so it starts with a
 * newline (which the tail, starting mid-line too, then follows).
 */
function droppedLine(dropped: number, head: number, tail: number): string {
  return (
    `\n[bearing: ${formatBytes(dropped)} of output dropped here; the log keeps the first ` +
    `${formatBytes(head)} and the last ${formatBytes(tail)} (run.max_log_size)]\n`
  );
}

const UNITS = ['KB', 'MB', 'GB', 'TB'] as const;

/** 1 KB = 1024 bytes, as in `run.max_log_size`; one decimal, none when it is 0. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return bytes === 1 ? '1 byte' : `${bytes} bytes`;
  let value = bytes;
  let unit: string = UNITS[0];
  for (const next of UNITS) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  const rounded = Math.round(value * 10) / 10;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)} ${unit}`;
}

/**
 * One OutputFile per distinct path, so stdout and stderr sent to the same file
 * share one stream (and one cap) and keep their arrival order.
 */
export function openOutputFiles(
  paths: ReadonlyArray<string | undefined>,
  maxBytes?: number,
): {
  files: Array<OutputFile | undefined>;
  all: OutputFile[];
} {
  const byPath = new Map<string, OutputFile>();
  try {
    const files = paths.map((path) => {
      if (path === undefined) return undefined;
      let file = byPath.get(path);
      if (file === undefined) {
        file = new OutputFile(path, maxBytes);
        byPath.set(path, file);
      }
      return file;
    });
    return { files, all: [...byPath.values()] };
  } catch (error) {
    for (const file of byPath.values()) void file.close().catch(() => {});
    throw error;
  }
}
