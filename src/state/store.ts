/**
 * Loading and saving the state, the only record of what has run. It is two
 * files in `.state/`: `state.json`, a snapshot of the whole state, and
 * `journal.jsonl`, what changed since, one line per save of a run
 * (journal.ts writes it). Saving a transition appends one line whose size
 * does not depend on how many tasks there are; now and then the run writes a
 * new snapshot and starts the journal again (compaction).
 *
 * The snapshot names the last journal entry it includes (`journalSeq`); the
 * journal's first line names the snapshot it continues (`base`), and each
 * entry its own number. So a reader can tell entries the snapshot already
 * holds (a crash between writing a snapshot and starting the new journal
 * leaves them; they are skipped) from entries it lacks (a reader that read
 * the snapshot just before a compaction, and the journal after: it reads
 * again). The journal's first line also holds the sha256 of the snapshot's
 * bytes: a snapshot read back exactly as a run wrote it, from its own state,
 * is not checked field by field again (at a thousand tasks that check was a
 * twentieth of what a `bearing status` costs); one edited by hand, or not
 * the one the journal continues, is.
 *
 * Loading never throws and never discards: a damaged file is reported with
 * what is wrong and copied aside, so a later save cannot silently erase the
 * results it held. A journal's last line cut short (a crash in the middle of
 * an append) is no damage: that save never finished, and it is ignored.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Clock, systemClock } from '../core/clock.js';
import { err, ok, type Result } from '../core/result.js';
import {
  emptyState,
  type RunInfo,
  type RunState,
  recordsOf,
  type TaskRecord,
} from '../core/state.js';
import { writeFileAtomic } from './atomic.js';
import { journalFile, stateDir, stateFile } from './paths.js';
import { type Issue, issuesOf } from './shape.js';
import { journalEntryShape, journalHeaderShape, runStateShape } from './state-schema.js';

export interface StateError {
  /**
   * `unreadable`: the file exists but could not be read (permissions, a directory).
   * `corrupt`: not JSON. `invalid`: JSON of the wrong shape.
   * `unsupported-version`: written by a newer Bearing.
   */
  reason: 'unreadable' | 'corrupt' | 'invalid' | 'unsupported-version';
  file: string;
  /** A complete sentence for the user: the file, what is wrong, what to do. */
  message: string;
  /** Where the damaged file was copied, when it was. */
  preservedAs?: string;
}

export interface LoadOptions {
  /** Clock for the name of the preserved copy; injectable for tests. */
  now?: Clock;
}

/** A write of one of the state's files failed: which one, and the error (its `code` kept). */
export class StateWriteError extends Error {
  readonly file: string;
  readonly code: string | undefined;
  constructor(file: string, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.file = file;
    this.code = (cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

/** Run `write`, naming `file` in what it throws. */
export function writingTo<T>(file: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    throw error instanceof StateWriteError ? error : new StateWriteError(file, error);
  }
}

/** The state and the number of the last journal entry in it, which the next save continues from. */
export interface LoadedState {
  state: RunState;
  seq: number;
}

const MAX_ISSUES_SHOWN = 5;
/**
 * A reader that finds the journal newer than the snapshot read a moment
 * before met a compaction in between: it reads both again, this many times.
 */
const COMPACTION_RETRIES = 5;
/** The snapshot's key for the last journal entry it includes; not part of RunState. */
const SEQ_KEY = 'journalSeq';

/** The recorded state, or an empty one when nothing has run yet. */
export function loadState(
  projectDir: string,
  options: LoadOptions = {},
): Result<RunState, StateError> {
  const loaded = readState(projectDir, options);
  return loaded.ok ? ok(loaded.value.state) : loaded;
}

/** The recorded state with its place in the journal, for the one process that saves it. */
export function readState(
  projectDir: string,
  options: LoadOptions = {},
): Result<LoadedState, StateError> {
  for (let attempt = 0; ; attempt++) {
    // The snapshot first: the journal read after it is as new or newer.
    const stateBytes = readBytes(stateFile(projectDir));
    if (!stateBytes.ok) return stateBytes;
    const journalBytes = readBytes(journalFile(projectDir));
    if (!journalBytes.ok) return journalBytes;
    const snapshot = readStateJson(projectDir, stateBytes.value, journalBytes.value, options);
    if (!snapshot.ok) return snapshot;
    const journal = readJournal(projectDir, journalBytes.value, snapshot.value, options);
    if (!('compacted' in journal)) return journal;
    if (attempt >= COMPACTION_RETRIES) {
      return damaged(
        journalFile(projectDir),
        journal.compacted,
        'invalid',
        `line 1: continues a newer ${stateFile(projectDir)} than the one there (entries are missing)`,
        options,
        JOURNAL_ADVICE,
      );
    }
  }
}

/**
 * Write the whole state as a new snapshot and start an empty journal after
 * it, each atomically (temp file, fsync, rename): a crash leaves the previous
 * state or this one. `seq` is the last journal entry the state includes.
 * Synchronous so it also works on the exit path after Ctrl-C. Throws on IO
 * errors (disk full, read-only project): a run that cannot record what it
 * does must not go on: a StateWriteError names the file. Returns the
 * sizes in bytes of the snapshot and of the journal begun after it.
 */
export function saveState(
  projectDir: string,
  state: RunState,
  seq: number,
): { snapshotBytes: number; journalBytes: number } {
  const snapshot = stateFile(projectDir);
  writingTo(snapshot, () => mkdirSync(stateDir(projectDir), { recursive: true }));
  // Compact: `jq` reads it either way. The snapshot first: until the new
  // journal replaces the old one, the old one's entries are all in it.
  const text = Buffer.from(`${JSON.stringify({ ...state, [SEQ_KEY]: seq })}\n`);
  writingTo(snapshot, () => writeFileAtomic(snapshot, text));
  const journal = journalFile(projectDir);
  const header = `${JSON.stringify({ base: seq, stateSha256: sha256(text) })}\n`;
  writingTo(journal, () => writeFileAtomic(journal, header));
  return { snapshotBytes: text.length, journalBytes: Buffer.byteLength(header) };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Whether `journal` begins with the sha256 of `snapshot`: the snapshot is
 * then the one the journal continues, byte for byte as a run wrote it.
 */
function writtenAsIs(snapshot: Buffer, journal: Buffer | undefined): boolean {
  const end = journal?.indexOf(0x0a) ?? -1;
  if (journal === undefined || end < 0) return false;
  let header: unknown;
  try {
    header = JSON.parse(journal.toString('utf8', 0, end));
  } catch {
    return false; // readJournal says what is wrong with it
  }
  const sha = (header as { stateSha256?: unknown } | null)?.stateSha256;
  return typeof sha === 'string' && sha === sha256(snapshot);
}

/**
 * state.json, the state as of its last compaction, and the journal entry it
 * includes; checked field by field unless `journal` vouches for its bytes.
 */
function readStateJson(
  projectDir: string,
  bytes: Buffer | undefined,
  journal: Buffer | undefined,
  options: LoadOptions,
): Result<LoadedState, StateError> {
  const file = stateFile(projectDir);
  if (bytes === undefined) return ok({ state: emptyState(), seq: 0 });

  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    return damaged(file, bytes, 'corrupt', `not valid JSON (${(e as Error).message})`, options);
  }

  const version = (data as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > 1) {
    return err({
      reason: 'unsupported-version',
      file,
      message: `${file}: written by a newer Bearing (state version ${version}, this one reads version 1); upgrade bearing`,
    });
  }

  const issues = writtenAsIs(bytes, journal) ? [] : issuesOf(runStateShape, data);
  const { [SEQ_KEY]: seq = 0, ...state } = data as Record<string, unknown>;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    issues.push({ path: [SEQ_KEY], message: 'expected a whole number of 0 or more' });
  }
  if (issues.length > 0) return damaged(file, bytes, 'invalid', describeIssues(issues), options);
  // Keys the shape does not know are kept, so fields written by a newer minor
  // version survive a load and save.
  const loaded = state as unknown as RunState;
  return ok({ state: { ...loaded, tasks: recordsOf(loaded.tasks) }, seq: seq as number });
}

const JOURNAL_ADVICE =
  'Fix the file, or delete it to go back to the state as of the last snapshot (state.json), losing the changes recorded since';

/**
 * The snapshot with the journal's entries after it applied, or `compacted`
 * (with the journal's bytes) when the journal continues a newer snapshot
 * than the one read.
 */
function readJournal(
  projectDir: string,
  bytes: Buffer | undefined,
  snapshot: LoadedState,
  options: LoadOptions,
): Result<LoadedState, StateError> | { compacted: Buffer } {
  const file = journalFile(projectDir);
  if (bytes === undefined) return ok(snapshot);
  const bad = (reason: 'corrupt' | 'invalid', what: string): Result<never, StateError> =>
    damaged(file, bytes, reason, what, options, JOURNAL_ADVICE);

  // Only whole lines count: a last line with no newline is a save cut short.
  const end = bytes.lastIndexOf(0x0a);
  if (end < 0) return ok(snapshot);
  const lines = bytes.toString('utf8', 0, end).split('\n');
  const parsed: unknown[] = [];
  for (let i = 0; i < lines.length; i++) {
    try {
      parsed.push(JSON.parse(lines[i]!));
    } catch (e) {
      return bad('corrupt', `line ${i + 1}: not valid JSON (${(e as Error).message})`);
    }
  }
  const headerIssues = issuesOf(journalHeaderShape, parsed[0]);
  if (headerIssues.length > 0) return bad('invalid', `line 1: ${describeIssues(headerIssues)}`);
  const base = (parsed[0] as { base: number }).base;
  // Checked before anything else: a journal just begun (its header alone)
  // after a newer snapshot than the one read must not pass for "nothing since".
  if (base > snapshot.seq) return { compacted: bytes };
  if (parsed.length === 1) return ok(snapshot);

  const { state } = snapshot;
  let seq = base;
  for (let i = 1; i < parsed.length; i++) {
    const entry = parsed[i];
    const issues = issuesOf(journalEntryShape, entry);
    const e = entry as { seq: number; tasks?: Record<string, TaskRecord>; lastRun?: RunInfo };
    if (issues.length === 0 && e.seq !== seq + 1) {
      issues.push({ path: ['seq'], message: `expected ${seq + 1}, got ${e.seq}` });
    }
    for (const [key, record] of Object.entries(e.tasks ?? {})) {
      if (issues.length === 0 && record.id !== key) {
        issues.push({
          path: ['tasks', key, 'id'],
          message: `expected "${key}" (the key it is stored under), got "${record.id}"`,
        });
      }
    }
    if (issues.length > 0) return bad('invalid', `line ${i + 1}: ${describeIssues(issues)}`);
    seq = e.seq;
    // Entries the snapshot already holds: it was written after them.
    if (seq <= snapshot.seq) continue;
    if (e.tasks) Object.assign(state.tasks, e.tasks);
    if (e.lastRun) state.lastRun = e.lastRun;
  }
  return ok({ state, seq: Math.max(seq, snapshot.seq) });
}

/** The file's bytes, undefined when there is none, or why it cannot be read. */
function readBytes(file: string): Result<Buffer | undefined, StateError> {
  try {
    return ok(readFileSync(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return ok(undefined);
    return err({
      reason: 'unreadable',
      file,
      message: `${file}: cannot read the run state (${code ?? String(e)}); check its permissions`,
    });
  }
}

function damaged(
  file: string,
  bytes: Buffer,
  reason: 'corrupt' | 'invalid',
  what: string,
  options: LoadOptions,
  advice = 'Fix the file, or delete it to start again with no recorded results (task files are not affected)',
): Result<never, StateError> {
  const now = options.now ?? systemClock;
  let preservedAs: string | undefined;
  let keep = '';
  try {
    preservedAs = preserve(file, bytes, now());
    keep = ` A copy was kept at ${preservedAs}.`;
  } catch (e) {
    keep = ` (Could not copy it aside: ${(e as Error).message}; back it up before deleting it.)`;
  }
  return err({
    reason,
    file,
    message: `${file}: ${what}.${keep} ${advice}.`,
    ...(preservedAs ? { preservedAs } : {}),
  });
}

/**
 * Copy the damaged file to `state.json.corrupt-<time>`, once: repeated loads
 * of the same damaged content (every `bearing status`) reuse the first copy.
 */
function preserve(file: string, bytes: Buffer, now: Date): string {
  const dir = dirname(file);
  const prefix = `${basename(file)}.corrupt-`;
  for (const name of readdirSync(dir).sort()) {
    if (!name.startsWith(prefix)) continue;
    const existing = join(dir, name);
    try {
      if (readFileSync(existing).equals(bytes)) return existing;
    } catch {
      // Unreadable old copy: make a new one.
    }
  }
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', '-');
  // The bytes that were read, not the file again: it may have changed since.
  for (let n = 1; ; n++) {
    const target = join(dir, `${prefix}${stamp}${n === 1 ? '' : `-${n}`}`);
    try {
      writeFileSync(target, bytes, { flag: 'wx' });
      return target;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

function describeIssues(issues: readonly Issue[]): string {
  const shown = issues.slice(0, MAX_ISSUES_SHOWN).map((i) => `${formatPath(i.path)}: ${i.message}`);
  const more =
    issues.length > MAX_ISSUES_SHOWN ? `; and ${issues.length - MAX_ISSUES_SHOWN} more` : '';
  return `not a Bearing run state: ${shown.join('; ')}${more}`;
}

function formatPath(path: Issue['path']): string {
  if (path.length === 0) return '(top level)';
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}
