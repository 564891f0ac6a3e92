/**
 * Which files a task changed: the "files changed" of the hand-off and of
 * status.md. Measured, not taken from the agent's word, by comparing a
 * snapshot of the work tree before the task with one after it.
 *
 * In a git repository a snapshot maps every tracked or dirty path to the git
 * object id of its current content (the index id for files git reports as
 * unmodified, a fresh `git hash-object` for modified and untracked ones).
 * Comparing contents, not git states, makes the answer right when a file was
 * already dirty and the agent changed it again, when a dirty file was left
 * alone, and when the agent committed its work (a commit changes HEAD, not
 * the files). Without git, the tree is walked and size + mtime compared.
 * `bearing/` is never reported: it is Bearing's own.
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gitOk, runGit, splitZ } from '../process/git.js';
import { BEARING_DIR } from './paths.js';

export interface Snapshot {
  /** How it was taken; snapshots of different kinds compare only by which paths exist. */
  kind: 'git' | 'files';
  /** Path relative to the project ('/' separators) -> an opaque key of its content. */
  entries: ReadonlyMap<string, string>;
  /**
   * `files` only: the walk stopped at the file cap. Paths after `boundary`
   * (in walk order) are unknown and are not reported.
   */
  truncated: boolean;
  boundary?: string;
}

export interface SnapshotOptions {
  /** Without git, stop walking after this many files (default 50,000). */
  maxFiles?: number;
  /** In git, hash at most this many modified/untracked files; the rest get size + mtime (default 20,000). */
  maxHashed?: number;
}

const DEFAULT_MAX_FILES = 50_000;
const DEFAULT_MAX_HASHED = 20_000;
/** Never descended into by the walk without git. */
const SKIPPED_DIRS = new Set(['.git', 'node_modules']);

/** Whether `projectDir` is inside a git work tree (and git is installed). */
export async function isGitRepo(projectDir: string): Promise<boolean> {
  return (await gitLocation(projectDir)) !== undefined;
}

/** Record the state of the project's files, to compare after a task with changedFiles. */
export async function snapshotWorkTree(
  projectDir: string,
  options: SnapshotOptions = {},
): Promise<Snapshot> {
  const location = await gitLocation(projectDir);
  if (location !== undefined) {
    try {
      return await gitSnapshot(projectDir, location, options.maxHashed ?? DEFAULT_MAX_HASHED);
    } catch {
      // A broken repository (corrupt index, unreadable objects): fall back to file times.
    }
  }
  return walkSnapshot(projectDir, options.maxFiles ?? DEFAULT_MAX_FILES);
}

/** Paths whose content differs between the snapshots, sorted, relative, '/'-separated. */
export function changedFiles(before: Snapshot, after: Snapshot): string[] {
  const paths = new Set([...before.entries.keys(), ...after.entries.keys()]);
  const sameKind = before.kind === after.kind;
  const limit = earliestBoundary(before, after);
  const out: string[] = [];
  for (const path of paths) {
    if (isBearingPath(path)) continue;
    if (limit !== undefined && compareWalkOrder(path, limit) > 0) continue;
    const a = before.entries.get(path);
    const b = after.entries.get(path);
    const differs = sameKind ? a !== b : (a === undefined) !== (b === undefined);
    if (differs) out.push(path);
  }
  return out.sort();
}

function isBearingPath(path: string): boolean {
  return path === BEARING_DIR || path.startsWith(`${BEARING_DIR}/`);
}

// --- git ---------------------------------------------------------------------

interface GitLocation {
  /** The work tree's top directory. */
  top: string;
  /** The project's path inside it: '' at the top, 'sub/dir/' below. */
  prefix: string;
  /** The index file (`.git/index`, or a worktree's own). */
  index: string;
}

/** Where the project sits in its git work tree, or undefined without one (or without git). */
/**
 * Whether (and where) a project is in a git work tree does not change during a
 * run, and asking git costs a process spawn: remembered per directory.
 */
const locations = new Map<string, Promise<GitLocation | undefined>>();

function gitLocation(projectDir: string): Promise<GitLocation | undefined> {
  let found = locations.get(projectDir);
  if (!found) {
    found = findGitLocation(projectDir);
    locations.set(projectDir, found);
  }
  return found;
}

async function findGitLocation(projectDir: string): Promise<GitLocation | undefined> {
  try {
    const r = await runGit(projectDir, [
      'rev-parse',
      '--is-inside-work-tree',
      '--show-toplevel',
      '--show-prefix',
      '--git-path',
      'index',
    ]);
    if (r.code !== 0) return undefined;
    const [inside, top, prefix, index] = r.stdout.toString('utf8').split('\n');
    return inside === 'true' && top && index
      ? { top, prefix: prefix ?? '', index: resolve(projectDir, index) }
      : undefined;
  } catch {
    return undefined; // git not installed
  }
}

/**
 * The index listing changes only when something writes the index (an agent's
 * `git add` or commit; our `git status` runs with GIT_OPTIONAL_LOCKS=0 and
 * never does), so it is reused while the index file's identity, size and
 * times are unchanged: one git process less per task.
 */
const indexListings = new Map<string, { stamp: string; out: Buffer }>();

async function listIndex(projectDir: string, index: string, pathspec: string[]): Promise<Buffer> {
  let stamp: string | undefined;
  try {
    const st = await stat(index, { bigint: true });
    stamp = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    stamp = undefined; // no index yet (a fresh repo): ask git
  }
  const key = `${projectDir}\0${index}`;
  const cached = indexListings.get(key);
  if (stamp !== undefined && cached?.stamp === stamp) return cached.out;
  // Stamped before listing: a change during the listing shows up as a new stamp next time.
  const out = await gitOk(projectDir, ['ls-files', '-s', '-z', '--full-name', ...pathspec]);
  if (stamp !== undefined) indexListings.set(key, { stamp, out });
  return out;
}

async function gitSnapshot(
  projectDir: string,
  { top, prefix, index }: GitLocation,
  maxHashed: number,
): Promise<Snapshot> {
  const pathspec = ['--', '.', `:(exclude)${BEARING_DIR}`];
  const [indexOut, statusOut] = await Promise.all([
    listIndex(projectDir, index, pathspec),
    gitOk(projectDir, [
      'status',
      '--porcelain=v1',
      '-z',
      '--untracked-files=all',
      '--no-renames',
      '--ignore-submodules=none',
      ...pathspec,
    ]),
  ]);
  const relative = (repoPath: string): string | undefined => {
    if (!repoPath.startsWith(prefix)) return undefined;
    const p = repoPath.slice(prefix.length);
    return p === '' || isBearingPath(p) ? undefined : p;
  };

  // Unmodified tracked files: the content is what the index holds.
  const entries = new Map<string, string>();
  for (const line of splitZ(indexOut)) {
    // "<mode> <object> <stage>\t<path>"
    const tab = line.indexOf('\t');
    const [mode, oid] = line.slice(0, tab).split(' ');
    const path = relative(line.slice(tab + 1));
    if (path === undefined || !oid) continue;
    entries.set(path, mode === '160000' ? `commit:${oid}` : oid);
  }

  // Modified, added, deleted and untracked files: look at the work tree itself.
  const toHash: string[] = [];
  for (const record of splitZ(statusOut)) {
    const xy = record.slice(0, 2);
    const path = relative(record.slice(3));
    if (path === undefined) continue;
    // Staged only (work tree = index): the index id above is the content.
    if (xy[1] === ' ' && xy !== '??') continue;
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(join(projectDir, path));
    } catch {
      entries.delete(path); // deleted in the work tree
      continue;
    }
    if (info.isSymbolicLink()) {
      entries.set(path, `link:${await readlink(join(projectDir, path))}`);
    } else if (info.isDirectory()) {
      // A submodule or nested repository: its checked-out commit, not its inner edits.
      const head = await runGit(join(projectDir, path), ['rev-parse', 'HEAD']).catch(
        () => undefined,
      );
      entries.set(path, `dir:${head?.code === 0 ? head.stdout.toString('utf8').trim() : xy}`);
    } else if (toHash.length < maxHashed && !path.includes('\n')) {
      toHash.push(path);
    } else {
      entries.set(path, `stat:${info.size}:${info.mtimeMs}`);
    }
  }
  if (toHash.length > 0) {
    // --stdin-paths reads paths from the top of the work tree, whatever the cwd.
    const input = `${toHash.map((p) => prefix + p).join('\n')}\n`;
    const ids = (await gitOk(top, ['hash-object', '--stdin-paths'], { input }))
      .toString('utf8')
      .split('\n');
    toHash.forEach((path, i) => {
      entries.set(path, ids[i] || `missing:${i}`);
    });
  }
  return { kind: 'git', entries, truncated: false };
}

// --- without git -------------------------------------------------------------

async function walkSnapshot(projectDir: string, maxFiles: number): Promise<Snapshot> {
  const entries = new Map<string, string>();
  let truncated = false;
  let boundary: string | undefined;

  // Depth first, names sorted, so the walk order (and any truncation point) is deterministic.
  const visit = async (rel: string): Promise<boolean> => {
    let dirents: Dirent[];
    try {
      dirents = await readdir(rel ? join(projectDir, rel) : projectDir, { withFileTypes: true });
    } catch {
      return true; // unreadable or vanished directory: nothing to record
    }
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const kept = dirents.filter((d) => {
      if (d.isDirectory() && SKIPPED_DIRS.has(d.name)) return false;
      return !(rel === '' && d.name === BEARING_DIR);
    });
    const stats = await Promise.all(
      kept.map((d) =>
        d.isDirectory()
          ? Promise.resolve(undefined)
          : lstat(join(projectDir, rel, d.name)).catch(() => undefined),
      ),
    );
    for (let i = 0; i < kept.length; i++) {
      const d = kept[i]!;
      const path = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        if (!(await visit(path))) return false;
        continue;
      }
      const st = stats[i];
      if (!st) continue;
      if (entries.size >= maxFiles) {
        truncated = true;
        return false;
      }
      entries.set(path, `${st.isSymbolicLink() ? 'l' : 'f'}:${st.size}:${st.mtimeMs}`);
      boundary = path;
    }
    return true;
  };
  await visit('');
  return truncated
    ? { kind: 'files', entries, truncated, ...(boundary !== undefined ? { boundary } : {}) }
    : { kind: 'files', entries, truncated };
}

function earliestBoundary(a: Snapshot, b: Snapshot): string | undefined {
  const bounds = [a, b].filter((s) => s.truncated).map((s) => s.boundary ?? '');
  if (bounds.length === 0) return undefined;
  return bounds.reduce((x, y) => (compareWalkOrder(x, y) <= 0 ? x : y));
}

/** The order the walk visits paths in: component by component, names sorted. */
export function compareWalkOrder(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
