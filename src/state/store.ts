/**
 * Loading and saving `.state/state.json`, the only record of what has run.
 * Loading never throws and never discards: a damaged file is reported with
 * what is wrong and copied aside, so a later save cannot silently erase the
 * results it held.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Clock, systemClock } from '../core/clock.js';
import { err, ok, type Result } from '../core/result.js';
import { emptyState, type RunState } from '../core/state.js';
import { writeFileAtomic } from './atomic.js';
import { stateDir, stateFile } from './paths.js';
import { type Issue, issuesOf } from './shape.js';
import { runStateShape } from './state-schema.js';

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

const MAX_ISSUES_SHOWN = 5;

/** The recorded state, or an empty one when nothing has run yet. */
export function loadState(
  projectDir: string,
  options: LoadOptions = {},
): Result<RunState, StateError> {
  const file = stateFile(projectDir);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return ok(emptyState());
    return err({
      reason: 'unreadable',
      file,
      message: `${file}: cannot read the run state (${code ?? String(e)}); check its permissions`,
    });
  }

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

  const issues = issuesOf(runStateShape, data);
  if (issues.length > 0) return damaged(file, bytes, 'invalid', describeIssues(issues), options);
  // Keys the shape does not know are kept, so fields written by a newer minor
  // version survive a load and save.
  return ok(data as RunState);
}

/**
 * Write the state atomically (temp file, fsync, rename): a crash leaves the
 * previous state or this one. Synchronous so it also works on the exit path
 * after Ctrl-C. Throws on IO errors (disk full, read-only project): a run that
 * cannot record what it does must not go on.
 */
export function saveState(projectDir: string, state: RunState): void {
  mkdirSync(stateDir(projectDir), { recursive: true });
  // Compact: it is rewritten after every transition, and `jq` reads it as well either way.
  writeFileAtomic(stateFile(projectDir), `${JSON.stringify(state)}\n`);
}

function damaged(
  file: string,
  bytes: Buffer,
  reason: 'corrupt' | 'invalid',
  what: string,
  options: LoadOptions,
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
    message: `${file}: ${what}.${keep} Fix the file, or delete it to start again with no recorded results (task files are not affected).`,
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
