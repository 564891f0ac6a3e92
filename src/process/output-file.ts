/**
 * Appends a child's raw output to a log file with backpressure: when the disk
 * is slower than the child, the pipe is paused (and the child blocks on its
 * write) instead of the bytes piling up in our memory.
 */
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** One append-only log file fed by one or two pipes. */
export class OutputFile {
  readonly path: string;
  readonly #stream: WriteStream;
  readonly #paused = new Set<Readable>();
  #error: Error | undefined;
  #onError: ((error: Error) => void) | undefined;

  /**
   * Opens synchronously so that a missing log directory fails before anything
   * is spawned, and is never confused with the child's own spawn errors.
   */
  constructor(path: string) {
    this.path = path;
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

  write(chunk: Buffer, source: Readable): void {
    if (this.#error !== undefined || this.#stream.destroyed) return;
    if (!this.#stream.write(chunk)) {
      source.pause();
      this.#paused.add(source);
    }
  }

  /** Flushes and closes; rejects with the first write error, if any. */
  async close(): Promise<void> {
    if (this.#error === undefined && !this.#stream.destroyed) {
      this.#stream.end();
      try {
        await finished(this.#stream);
      } catch (error) {
        this.#error ??= error as Error;
      }
    }
    if (this.#error !== undefined) throw this.#error;
  }

  #resumeAll(): void {
    for (const source of this.#paused) source.resume();
    this.#paused.clear();
  }
}

/**
 * One OutputFile per distinct path, so stdout and stderr sent to the same file
 * share one stream and keep their arrival order.
 */
export function openOutputFiles(paths: ReadonlyArray<string | undefined>): {
  files: Array<OutputFile | undefined>;
  all: OutputFile[];
} {
  const byPath = new Map<string, OutputFile>();
  try {
    const files = paths.map((path) => {
      if (path === undefined) return undefined;
      let file = byPath.get(path);
      if (file === undefined) {
        file = new OutputFile(path);
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
