/**
 * How a run saves the state: after every transition, one line appended to
 * `.state/journal.jsonl` with the task records that changed, whole, and
 * flushed to disk; now and then a new snapshot (`state.json`) and an empty
 * journal (store.ts reads both, and says why the files are laid out so).
 * What one save writes depends on what changed, not on how many tasks there
 * are; the snapshots, written when the journal has grown to four times the
 * last one, add a quarter as much again.
 *
 * What changed is told, not found by comparing every record, which at
 * 10,000 tasks cost more than the rest of a transition. The run replaces
 * records through putRecord (core/state.ts), which marks them, and changes
 * some in place: those the caller names (the tasks it is working on, a
 * review action's), and those still running or waiting to land, which this
 * writer keeps looking at. Each of these is written when its JSON differs
 * from the last line's. A state whose tasks object is not the one saved last
 * (recovery builds a new one) is written whole.
 */
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  openSync,
  type Stats,
  statSync,
  writeSync,
} from 'node:fs';
import { type RunState, type TaskRecord, takePut } from '../core/state.js';
import { journalFile, stateFile } from './paths.js';
import { StateWriteError, saveState, writingTo } from './store.js';

/**
 * The journal is compacted when it is this many times the snapshot's size:
 * each snapshot then costs a quarter of the bytes appended since the last,
 * and a reader parses at most five times the state's size.
 */
const COMPACT_RATIO = 4;
/** A journal smaller than this is never compacted during a run: a small plan's journal is cheap to replay. */
const MIN_COMPACT_BYTES = 256 * 1024;

export class StateJournal {
  readonly #projectDir: string;
  /** The last entry written (or the snapshot's, when none has been since). */
  #seq: number;
  /** Open for appending; undefined until the first save, and after a failed write. */
  #fd: number | undefined;
  /** The files as this writer left them: if either is replaced or deleted, the next save is a snapshot. */
  #files: { journal: Stats; snapshot: Stats } | undefined;
  #journalBytes = 0;
  #snapshotBytes = 0;
  /** The tasks object saved last: another one (recovery's) is saved whole. */
  #tasks: Record<string, TaskRecord> | undefined;
  /** The tasks saved, to tell a record removed. */
  readonly #ids = new Set<string>();
  /** Tasks whose record, as last saved, was running or waiting to land: it may change in place, named or not. */
  readonly #watched = new Set<string>();
  /** A record's JSON when a journal line held it. */
  readonly #savedJson = new Map<string, string>();
  #lastRunJson: string | undefined;

  /** `seq`: the last journal entry in the state loaded (store.ts readState). */
  constructor(projectDir: string, seq: number) {
    this.#projectDir = projectDir;
    this.#seq = seq;
  }

  /**
   * Record the state as it is now. `touched`: tasks that may have been
   * changed in place since the last save (records put are known). The first
   * save of a process is a snapshot: the journal it finds may end in a line
   * cut short, and is not appended to. Throws a StateWriteError (store.ts)
   * on IO errors; what was saved before stays readable.
   */
  save(state: RunState, touched: ReadonlySet<string>): void {
    if (this.#fd === undefined || state.tasks !== this.#tasks || this.#moved()) {
      this.compact(state);
      return;
    }
    const line = this.#entry(state, touched);
    if (line === undefined) {
      this.compact(state);
      return;
    }
    if (line === '') return;
    this.#append(line);
    if (this.#journalBytes > Math.max(this.#snapshotBytes * COMPACT_RATIO, MIN_COMPACT_BYTES)) {
      this.compact(state);
    }
  }

  /** Write the whole state as a new snapshot with an empty journal after it. */
  compact(state: RunState): void {
    this.close();
    const saved = saveState(this.#projectDir, state, this.#seq);
    this.#snapshotBytes = saved.snapshotBytes;
    const journal = journalFile(this.#projectDir);
    const fd = writingTo(journal, () => openSync(journal, 'a'));
    try {
      this.#files = writingTo(journal, () => ({
        journal: fstatSync(fd),
        snapshot: statSync(stateFile(this.#projectDir)),
      }));
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    this.#fd = fd;
    this.#journalBytes = saved.journalBytes;
    this.#tasks = state.tasks;
    takePut(state.tasks);
    this.#ids.clear();
    this.#watched.clear();
    this.#savedJson.clear();
    for (const id in state.tasks) {
      this.#ids.add(id);
      if (mayChangeInPlace(state.tasks[id]!)) this.#watched.add(id);
    }
    this.#lastRunJson = JSON.stringify(state.lastRun);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /**
   * The journal line for what changed since the last save: '' when nothing
   * did, undefined when a line cannot say it (a record or the last run
   * removed).
   */
  #entry(state: RunState, touched: ReadonlySet<string>): string | undefined {
    let tasks = '';
    for (const id of new Set([...takePut(state.tasks), ...touched, ...this.#watched])) {
      const record = state.tasks[id];
      if (record === undefined) {
        if (this.#ids.has(id)) return undefined;
        continue;
      }
      this.#ids.add(id);
      if (mayChangeInPlace(record)) this.#watched.add(id);
      else this.#watched.delete(id);
      const json = JSON.stringify(record);
      if (this.#savedJson.get(id) === json) continue;
      this.#savedJson.set(id, json);
      tasks += `${tasks ? ',' : ''}${JSON.stringify(id)}:${json}`;
    }
    if (state.lastRun === undefined && this.#lastRunJson !== undefined) return undefined;
    const lastRun = JSON.stringify(state.lastRun);
    const runChanged = lastRun !== this.#lastRunJson;
    this.#lastRunJson = lastRun;
    if (!tasks && !runChanged) return '';
    const seq = this.#seq + 1;
    return `{"seq":${seq}${tasks ? `,"tasks":{${tasks}}` : ''}${runChanged ? `,"lastRun":${lastRun}` : ''}}\n`;
  }

  /** One line, whole, flushed; on a failure the journal is not written to again (the next save is a snapshot). */
  #append(line: string): void {
    const fd = this.#fd!;
    const data = Buffer.from(line);
    try {
      let at = 0;
      while (at < data.length) at += writeSync(fd, data, at);
      fdatasyncSync(fd);
    } catch (error) {
      // A line may be half written: appending after it would join two lines into one bad one.
      this.close();
      throw new StateWriteError(journalFile(this.#projectDir), error);
    }
    this.#seq++;
    this.#journalBytes += data.length;
  }

  /** Whether the journal or the snapshot is no longer the file this writer wrote (deleted, replaced). */
  #moved(): boolean {
    const files = this.#files!;
    try {
      const journal = statSync(journalFile(this.#projectDir));
      const snapshot = statSync(stateFile(this.#projectDir));
      // The inode alone is not enough: a file deleted and a folder or file
      // made in its place at once may get its number back. The journal holds
      // exactly what this writer wrote; the snapshot has not changed since.
      return (
        !same(journal, files.journal) ||
        journal.size !== this.#journalBytes ||
        !same(snapshot, files.snapshot) ||
        snapshot.ctimeMs !== files.snapshot.ctimeMs
      );
    } catch {
      return true;
    }
  }
}

/** A running attempt's progress, or a landing's steps, are written into the record as they happen. */
function mayChangeInPlace(record: TaskRecord): boolean {
  return record.status === 'running' || record.land !== undefined;
}

function same(a: Stats, b: Stats): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.isFile() && b.isFile();
}
