/**
 * Everything a run writes to disk goes through here, so that one failing
 * write (a full disk, state.json replaced by a directory, a permission
 * error) is never a crash: it becomes one fact, "the run cannot record what
 * it does", which stops the run. The state keeps what was saved before (its
 * journal's lines are whole or ignored, its snapshots atomic), the lock is
 * released by the caller, and nothing that was saved before is lost.
 *
 * The state is saved at once after every transition (a result is never
 * lost), as a line of its journal (state/journal.ts), and whole when the run
 * ends. status.md, derived from it (with a large plan's per-task files),
 * is written when the run's StatusWriter asks (status-writer.ts), and during
 * the run at most once per interval that grows with the work: 200 ms, and
 * 1 s more per STATUS_BYTES_PER_SECOND written, or 19 times as long as the
 * last write took, whichever is longer. So status.md costs at most that many
 * bytes a second and a twentieth of the run's time however large the plan and
 * however fast its tasks, instead of a whole file per transition (292 MB for
 * a 1,000-task run of quick tasks). Tasks that take minutes each still get their own
 * write, a burst of quick transitions folds into one, and the writes that
 * readers wait for are made at once: when the run starts, and when it ends,
 * whatever ended it (all done, a pause, a failure, Ctrl-C, a failed write).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { RunState } from '../core/state.js';
import type { StatusFiles } from '../core/status-report.js';
import { writeFileAtomic } from '../state/atomic.js';
import { StateJournal } from '../state/journal.js';
import { journalFile, statusFile, statusTasksDir } from '../state/paths.js';
import { StateWriteError } from '../state/store.js';
import { TaskStatusFiles } from '../state/task-status-files.js';

/** status.md follows the state within this long, plus a second per STATUS_BYTES_PER_SECOND of it. */
const STATUS_INTERVAL_MS = 200;
/** Half of a 1,000-task plan's status.md: a plan that size gets a write every 2 s at most, 10,000 tasks every 20 s. */
const STATUS_BYTES_PER_SECOND = 128 * 1024;
/**
 * And the next write waits this many times as long as the last took: reading
 * a 10,000-task plan's records to find what changed costs time even when
 * little is written, and status.md may take a twentieth of the run's time,
 * no more.
 */
const STATUS_WAIT_PER_WORK = 19;

/** A write that failed: which file and why, in words a person can act on. */
export interface WriteFailure {
  file: string;
  message: string;
}

/** Thrown by writes inside an attempt, so the task boundary can tell it from a bug. */
export class WriteError extends Error {
  readonly failure: WriteFailure;
  constructor(failure: WriteFailure) {
    super(`${failure.file}: ${failure.message}`);
    this.failure = failure;
  }
}

export class RunRecorder {
  readonly #root: string;
  readonly #state: () => RunState;
  readonly #live: () => Iterable<string>;
  readonly #journal: StateJournal;
  readonly #renderStatus: () => StatusFiles;
  readonly #taskStatus: TaskStatusFiles;
  readonly #onFailure: (failure: WriteFailure) => void;
  readonly #now: Clock;
  #failure: WriteFailure | undefined;
  /** status.md could not be written: it is not tried again in this run. */
  #statusFailed = false;
  #statusDirty = false;
  #lastStatusWrite = 0;
  /** How long to wait after the last write: it grows with what that write cost. */
  #statusInterval = STATUS_INTERVAL_MS;
  #statusTimer: NodeJS.Timeout | undefined;

  constructor(options: {
    root: string;
    /** The state to save, as it is now (recovery replaces the object). */
    state: () => RunState;
    /** The last journal entry in the state loaded (store.ts readState). */
    seq: number;
    /** Tasks being worked on, whose records may have changed in place. */
    live: () => Iterable<string>;
    /** status.md's content for the state as it is now, and a large plan's per-task files. */
    renderStatus: () => StatusFiles;
    /** Called once, on the first failed write. */
    onFailure: (failure: WriteFailure) => void;
    /** Times status.md's writes, to space them out. */
    now: Clock;
  }) {
    this.#root = options.root;
    this.#state = options.state;
    this.#live = options.live;
    this.#journal = new StateJournal(options.root, options.seq);
    this.#renderStatus = options.renderStatus;
    this.#taskStatus = new TaskStatusFiles(options.root);
    this.#onFailure = options.onFailure;
    this.#now = options.now;
  }

  /** The first write that failed, if any: from then on the run must stop. */
  get failure(): WriteFailure | undefined {
    return this.#failure;
  }

  /**
   * Save the state now and schedule status.md. False when the write failed.
   * `touched`: tasks besides the live ones whose records were changed in
   * place. `whole`: as a snapshot, so that state.json alone holds the
   * state (the run's last save). Tried even after an earlier failure: the
   * run's last save, once its agents are ended, is worth making whenever
   * the disk allows it.
   */
  save(options: { touched?: readonly string[]; whole?: boolean } = {}): boolean {
    const state = this.#state();
    const write = options.whole
      ? () => this.#journal.compact(state)
      : () => this.#journal.save(state, new Set([...this.#live(), ...(options.touched ?? [])]));
    if (
      !this.#attempt(write, (error) =>
        error instanceof StateWriteError ? error.file : journalFile(this.#root),
      )
    ) {
      return false;
    }
    this.#statusDirty = true;
    return true;
  }

  /** Write status.md if it is behind, spaced by the size of the last write unless forced. */
  flushStatus(force = false): void {
    if (!this.#statusDirty || this.#statusFailed) return;
    const now = this.#now().getTime();
    const wait = this.#lastStatusWrite + this.#statusInterval - now;
    if (!force && wait > 0) {
      this.#statusTimer ??= setTimeout(() => {
        this.#statusTimer = undefined;
        this.flushStatus(true);
      }, wait);
      return;
    }
    this.#cancelTimer();
    this.#lastStatusWrite = now;
    this.#statusDirty = false;
    const file = statusFile(this.#root);
    const written = this.#attempt(
      () => {
        const started = this.#now().getTime();
        const files = this.#renderStatus();
        writeFileAtomic(file, files.main, { fsync: false });
        const bytes = Buffer.byteLength(files.main) + this.#taskStatus.write(files.tasks);
        const took = this.#now().getTime() - started;
        this.#statusInterval = Math.max(
          STATUS_INTERVAL_MS + (1000 * bytes) / STATUS_BYTES_PER_SECOND,
          STATUS_WAIT_PER_WORK * took,
        );
      },
      // A large plan's per-task files are named by their folder (the path in
      // the error is a temporary file's).
      (error) => {
        const path = (error as NodeJS.ErrnoException | undefined)?.path;
        const tasks = statusTasksDir(this.#root);
        return typeof path === 'string' && path.startsWith(tasks) ? tasks : file;
      },
    );
    if (!written) this.#statusFailed = true;
  }

  /**
   * A file of an attempt's record (prompt, meta, result). Its directory is
   * made again if it went away (`git clean`); a failure throws WriteError.
   */
  writeAttemptFile(file: string, content: string): void {
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    } catch (error) {
      const failure = describeWriteError(file, error);
      this.#fail(failure);
      throw new WriteError(failure);
    }
  }

  /** The run is over: no timer may keep the process alive, no file stays open. */
  close(): void {
    this.#cancelTimer();
    this.#journal.close();
  }

  #attempt(write: () => void, fileOf: (error: unknown) => string): boolean {
    try {
      write();
      return true;
    } catch (error) {
      this.#fail(describeWriteError(fileOf(error), error));
      return false;
    }
  }

  #fail(failure: WriteFailure): void {
    if (this.#failure) return;
    this.#failure = failure;
    this.#cancelTimer();
    this.#onFailure(failure);
  }

  #cancelTimer(): void {
    if (this.#statusTimer) clearTimeout(this.#statusTimer);
    this.#statusTimer = undefined;
  }
}

const ADVICE: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'a directory is in the way',
  ENOTDIR: 'a file is in the way of a directory',
  EIO: 'the disk reported an I/O error',
  EMFILE: 'too many open files',
};

export function describeWriteError(file: string, error: unknown): WriteFailure {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const what = code ? (ADVICE[code] ?? (error as Error).message) : String(error);
  return { file, message: code ? `${what} (${code})` : what };
}
