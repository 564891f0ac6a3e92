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
 *
 * A run takes one snapshot per task in place, so its cost is paid 10,000
 * times in a large plan: bench/changes.js holds it against `git status` and
 * `find`. Beyond git status, a snapshot stats the dirty and untracked files
 * (those it saw last time while status runs) and hashes only those whose
 * stat changed: an object id is remembered with the stat it was hashed at.
 * The file system is read with synchronous calls, several times faster here
 * than a promise per file, giving the event loop a turn every few
 * milliseconds so running agents' output keeps flowing. Snapshots share the
 * index listing while the index is unchanged, so comparing two looks only at
 * what either found dirty.
 *
 * A run keeps a watch over the folder across its snapshots (WorkTreeWatch):
 * with the kernel's word on what was written since the last snapshot, one
 * without git stats only those paths, and one in git skips the dirty and
 * untracked files nothing wrote to. When the watch cannot vouch, a snapshot
 * looks at everything, as without one.
 */
import type { Dirent, Stats } from 'node:fs';
import { lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { gitOk, runGit, splitZ } from '../process/git.js';
import { BEARING_DIR } from './paths.js';
import { StatusIndex } from './status-index.js';
import { TreeWatch, type WrittenPaths } from './tree-watch.js';

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
  /** The clock, to tell how long ago a file last changed (default Date.now). */
  now?: () => number;
  /** Kept across the snapshots of this folder: only what it saw written is looked at again. */
  watch?: WorkTreeWatch;
}

/**
 * Kept by the caller across its snapshots of one folder (a run's, in place,
 * closed at its end): the kernel's word on which paths were written since
 * the last snapshot spares a look at every file (src/state/tree-watch.ts).
 * Without git, a snapshot then stats only those paths. In git, it does not
 * stat the dirty and untracked files it saw last time and nothing wrote to
 * since; git status still runs, through a copy of the index kept for the
 * run, where git keeps its untracked cache (src/state/status-index.ts).
 */
export class WorkTreeWatch {
  readonly tree: TreeWatch;
  readonly statusIndex = new StatusIndex();
  /** The files as the last snapshot without git saw them, while the watch vouches for them. */
  walked: Walked | undefined;
  /** In git, the dirty and untracked files the last snapshot through this watch saw. */
  seen: ReadonlyMap<string, SeenFile> | undefined;
  /** Snapshots through one watch take turns: each brings the same state up to date. */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(projectDir: string, options: { maxEvents?: number } = {}) {
    this.tree = new TreeWatch(resolve(projectDir), options);
  }

  /** Runs `snapshot` after those already asked for. */
  inTurn<T>(snapshot: () => Promise<T>): Promise<T> {
    const result = this.#turn.then(snapshot);
    this.#turn = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.tree.close();
    this.statusIndex.close();
    this.walked = undefined;
    this.seen = undefined;
  }
}

const DEFAULT_MAX_FILES = 50_000;
const DEFAULT_MAX_HASHED = 20_000;
/** Never descended into by the walk without git. */
const SKIPPED_DIRS = new Set(['.git', 'node_modules']);
/** The longest the file system is read without giving the event loop a turn. */
const SLICE_MS = 10;
/**
 * A file changed this recently may change again within its timestamps'
 * granularity (a clock tick; 2 s on FAT) and keep its stat: its object id
 * is not remembered.
 */
const RACY_MS = 3000;

/** Whether `projectDir` is inside a git work tree (and git is installed). */
export async function isGitRepo(projectDir: string): Promise<boolean> {
  return (await gitLocation(projectDir)) !== undefined;
}

/** Record the state of the project's files, to compare after a task with changedFiles. */
export async function snapshotWorkTree(
  projectDir: string,
  options: SnapshotOptions = {},
): Promise<Snapshot> {
  const { watch } = options;
  return watch ? watch.inTurn(() => snapshot(projectDir, options)) : snapshot(projectDir, options);
}

async function snapshot(projectDir: string, options: SnapshotOptions): Promise<Snapshot> {
  const location = await gitLocation(projectDir);
  if (location !== undefined) {
    try {
      return await gitSnapshot(
        projectDir,
        location,
        options.maxHashed ?? DEFAULT_MAX_HASHED,
        options.now ?? Date.now,
        options.watch,
      );
    } catch {
      // A broken repository (corrupt index, unreadable objects): fall back to file times.
    }
  }
  return walkSnapshot(projectDir, options.maxFiles ?? DEFAULT_MAX_FILES, options.watch);
}

/** Paths whose content differs between the snapshots, sorted, relative, '/'-separated. */
export function changedFiles(before: Snapshot, after: Snapshot): string[] {
  return pathChanges(before, after).map((c) => c.path);
}

/**
 * What happened to a changed path between two snapshots: it appeared, it
 * went, or its content changed. The snapshots are gone once compared, so
 * this is all that can be told later of the tree before a task (the contents
 * were never kept: `bearing diff`).
 */
export interface PathChange {
  path: string;
  change: 'added' | 'removed' | 'modified';
}

/** changedFiles with what happened to each path, in the same order. */
export function pathChanges(before: Snapshot, after: Snapshot): PathChange[] {
  const sameKind = before.kind === after.kind;
  const limit = earliestBoundary(before, after);
  const out: PathChange[] = [];
  for (const path of candidatePaths(before.entries, after.entries)) {
    if (isBearingPath(path)) continue;
    if (limit !== undefined && compareWalkOrder(path, limit) > 0) continue;
    const a = before.entries.get(path);
    const b = after.entries.get(path);
    const differs = sameKind ? a !== b : (a === undefined) !== (b === undefined);
    if (!differs) continue;
    out.push({
      path,
      change: a === undefined ? 'added' : b === undefined ? 'removed' : 'modified',
    });
  }
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/**
 * The paths whose keys may differ: every path of either snapshot, or, over
 * the same index listing, only those either one laid over it.
 */
function candidatePaths(
  a: ReadonlyMap<string, string>,
  b: ReadonlyMap<string, string>,
): Set<string> {
  const [keysA, keysB] =
    a instanceof LayeredEntries && b instanceof LayeredEntries && a.base === b.base
      ? [a.changes.keys(), b.changes.keys()]
      : [a.keys(), b.keys()];
  const paths = new Set(keysA);
  for (const path of keysB) paths.add(path);
  return paths;
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
 * never does), so it is reused, read, while the index file's identity, size
 * and times are unchanged: one git process less per task, and 20,000 paths
 * not parsed again.
 */
const indexListings = new Map<string, IndexListing>();

interface IndexListing {
  stamp: string;
  /** Unmodified tracked files: path -> the object id the index holds. */
  entries: ReadonlyMap<string, string>;
  /** Whether it holds a submodule (a gitlink). */
  gitlinks: boolean;
}

/** The index file's identity, size and times; undefined when there is none yet (a fresh repo). */
function indexStamp(index: string): string | undefined {
  try {
    const st = statSync(index, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return undefined;
  }
}

/** The listing of the index stamped `stamp`, if it was read before. */
function listedBefore(
  projectDir: string,
  index: string,
  stamp: string | undefined,
): IndexListing | undefined {
  const listed = indexListings.get(`${projectDir}\0${index}`);
  return stamp !== undefined && listed?.stamp === stamp ? listed : undefined;
}

/** Lists the index (`stamp` taken before: a change during the listing shows up as a new stamp next time). */
async function listIndex(
  projectDir: string,
  index: string,
  stamp: string | undefined,
  pathspec: string[],
  relative: (repoPath: string) => string | undefined,
): Promise<IndexListing> {
  const out = await gitOk(projectDir, ['ls-files', '-s', '-z', '--full-name', ...pathspec]);
  const entries = new Map<string, string>();
  let gitlinks = false;
  for (const line of splitZ(out)) {
    // "<mode> <object> <stage>\t<path>"
    const tab = line.indexOf('\t');
    const [mode, oid] = line.slice(0, tab).split(' ');
    const path = relative(line.slice(tab + 1));
    if (path === undefined || !oid) continue;
    const gitlink = mode === '160000';
    gitlinks ||= gitlink;
    entries.set(path, gitlink ? `commit:${oid}` : oid);
  }
  const listing = { stamp: stamp ?? '', entries, gitlinks };
  if (stamp !== undefined) indexListings.set(`${projectDir}\0${index}`, listing);
  return listing;
}

/** What of a file's stat tells whether it was written to: see sameStat. */
type StatStamp = Pick<Stats, 'dev' | 'ino' | 'size' | 'mtimeMs' | 'ctimeMs'>;

/**
 * A dirty or untracked file as a snapshot saw it: its stat (the numbers only,
 * not the Stats object and its four Dates), and its object id then.
 */
interface SeenFile {
  stamp: StatStamp;
  oid: string;
  /** Changed long enough before it was hashed that the same stat means the same content. */
  settled: boolean;
  /**
   * Its folder was watched (by the snapshots' watch) from before it was
   * hashed: while no event names it, its content is the same.
   */
  watched: boolean;
}

/**
 * Per project folder: the dirty and untracked files the last snapshot hashed
 * or found there (only those, so it stays the size of the dirty set). The
 * next snapshot looks at these files while git status runs, and takes the
 * object id of a settled one whose stat is the same.
 */
const seenFiles = new Map<string, ReadonlyMap<string, SeenFile>>();

/**
 * Whether nothing wrote to the file between the two stats: ctime is set by
 * the kernel on every change (utimes cannot put it back), and a file
 * replaced by another has a new inode.
 */
function sameStat(a: StatStamp, b: StatStamp): boolean {
  return (
    a.ino === b.ino &&
    a.dev === b.dev &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.ctimeMs === b.ctimeMs
  );
}

/**
 * A git snapshot's entries: the index listing (one object, shared by every
 * snapshot while the index is unchanged) with what the work tree changed
 * laid over it (undefined: deleted). Two snapshots over the same listing
 * differ only where their changes do, so comparing them looks at the dirty
 * files, not at every path, and nothing copies the listing.
 */
class LayeredEntries implements ReadonlyMap<string, string> {
  #size: number | undefined;

  constructor(
    readonly base: ReadonlyMap<string, string>,
    readonly changes: ReadonlyMap<string, string | undefined>,
  ) {}

  get(path: string): string | undefined {
    return this.changes.has(path) ? this.changes.get(path) : this.base.get(path);
  }

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }

  get size(): number {
    if (this.#size === undefined) {
      let size = this.base.size;
      for (const [path, key] of this.changes) {
        if (this.base.has(path)) size -= key === undefined ? 1 : 0;
        else size += key === undefined ? 0 : 1;
      }
      this.#size = size;
    }
    return this.#size;
  }

  /** In the order a Map built the same way would have: the listing's, then new paths. */
  *entries(): MapIterator<[string, string]> {
    for (const [path, key] of this.base) {
      const now = this.changes.has(path) ? this.changes.get(path) : key;
      if (now !== undefined) yield [path, now];
    }
    for (const [path, key] of this.changes) {
      if (key !== undefined && !this.base.has(path)) yield [path, key];
    }
  }

  *keys(): MapIterator<string> {
    for (const [path] of this.entries()) yield path;
  }

  *values(): MapIterator<string> {
    for (const [, key] of this.entries()) yield key;
  }

  [Symbol.iterator](): MapIterator<[string, string]> {
    return this.entries();
  }

  forEach(callback: (key: string, path: string, map: ReadonlyMap<string, string>) => void): void {
    for (const [path, key] of this.entries()) callback(key, path, this);
  }
}

async function gitSnapshot(
  projectDir: string,
  { top, prefix, index }: GitLocation,
  maxHashed: number,
  now: () => number,
  watch: WorkTreeWatch | undefined,
): Promise<Snapshot> {
  const startedAt = now();
  const root = resolve(projectDir);
  const pathspec = ['--', '.', `:(exclude)${BEARING_DIR}`];
  const relative = (repoPath: string): string | undefined => {
    if (!repoPath.startsWith(prefix)) return undefined;
    const p = repoPath.slice(prefix.length);
    return p === '' || isBearingPath(p) ? undefined : p;
  };
  const stamp = indexStamp(index);
  const listed = listedBefore(projectDir, index, stamp);
  const statusArgs = [
    '--porcelain=v1',
    '-z',
    '--untracked-files=all',
    '--no-renames',
    '--ignore-submodules=none',
  ];
  const plainStatus = (): Promise<Buffer> =>
    gitOk(projectDir, ['status', ...statusArgs, ...pathspec]);
  // Through the run's copy of the index when the project is the whole work
  // tree, and its index one listed before (the copy is made of it) without
  // submodules: see src/state/status-index.ts. `relative` leaves out bearing/.
  const status =
    watch && prefix === '' && stamp !== undefined && listed && !listed.gitlinks
      ? watch.statusIndex
          .status(projectDir, statusArgs, index, stamp)
          .then((out) => out ?? plainStatus())
      : plainStatus();
  // hash-object starts while status runs and gets its paths when status has
  // named them: its start overlaps status instead of following it.
  let hashPaths: (paths: string) => void = () => {};
  const hashing = gitOk(top, ['hash-object', '--stdin-paths'], {
    input: new Promise<string>((resolvePaths) => {
      hashPaths = resolvePaths;
    }),
  });
  try {
    const tracked = listed
      ? Promise.resolve(listed)
      : listIndex(projectDir, index, stamp, pathspec, relative);
    // Each is awaited below, unless an error ends this first: then none is left unhandled.
    for (const pending of [hashing, status, tracked]) pending.catch(() => undefined);
    // Meanwhile, look at the files the last snapshot found dirty or untracked
    // (most still are), unless the watch says nothing wrote to them.
    const seen = watch ? watch.seen : seenFiles.get(root);
    if (watch) watch.walked = undefined; // kept for snapshots without git; this one takes the events
    const unwritten = watch ? await unwrittenSince(watch) : () => false;
    const looked = new Map<string, Stats | undefined>();
    const slice = new TimeSlice();
    for (const [path, last] of seen ?? []) {
      if (slice.due()) await slice.pause();
      if (!unwritten(path, last)) looked.set(path, lstatIfAny(`${root}/${path}`));
    }
    // Modified, added, deleted and untracked files: look at the work tree itself.
    const changes = new Map<string, string | undefined>();
    const nowSeen = new Map<string, SeenFile>();
    const toHash: Array<{ path: string; info: Stats }> = [];
    for (const record of splitZ(await status)) {
      if (slice.due()) await slice.pause();
      const xy = record.slice(0, 2);
      const path = relative(record.slice(3));
      if (path === undefined) continue;
      // Staged only (work tree = index): the index listing has the content.
      if (xy[1] === ' ' && xy !== '??') continue;
      const last = seen?.get(path);
      if (last && unwritten(path, last)) {
        changes.set(path, last.oid);
        nowSeen.set(path, last);
        continue;
      }
      const file = `${root}/${path}`;
      const info = looked.has(path) ? looked.get(path) : lstatIfAny(file);
      if (info === undefined) {
        changes.set(path, undefined); // deleted in the work tree
      } else if (info.isSymbolicLink()) {
        changes.set(path, `link:${readlinkSync(file)}`);
      } else if (info.isDirectory()) {
        // A submodule or nested repository: its checked-out commit, not its inner edits.
        const head = await runGit(file, ['rev-parse', 'HEAD']).catch(() => undefined);
        changes.set(path, `dir:${head?.code === 0 ? head.stdout.toString('utf8').trim() : xy}`);
      } else if (toHash.length + nowSeen.size < maxHashed && !path.includes('\n')) {
        if (last?.settled && sameStat(last.stamp, info)) {
          changes.set(path, last.oid);
          const { stamp, oid, settled } = last;
          nowSeen.set(path, { stamp, oid, settled, watched: watchedSince(watch, path) });
        } else {
          toHash.push({ path, info });
        }
      } else {
        changes.set(path, `stat:${info.size}:${info.mtimeMs}`);
      }
    }
    // --stdin-paths reads paths from the top of the work tree, whatever the cwd.
    hashPaths(toHash.map(({ path }) => `${prefix}${path}\n`).join(''));
    const ids = (await hashing).toString('utf8').split('\n');
    toHash.forEach(({ path, info }, i) => {
      const oid = ids[i];
      changes.set(path, oid || `missing:${i}`);
      if (!oid) return;
      // Changed too recently, it may change again within one tick of the
      // file system's clock and keep its stat: hashed again next time.
      const settled = Math.max(info.mtimeMs, info.ctimeMs) < startedAt - RACY_MS;
      const { dev, ino, size, mtimeMs, ctimeMs } = info;
      const stamp = { dev, ino, size, mtimeMs, ctimeMs };
      nowSeen.set(path, { stamp, oid, settled, watched: watchedSince(watch, path) });
    });
    if (watch) {
      watch.seen = nowSeen;
      // Watched from now on, for the next snapshot: each file's folder and those above it.
      for (const path of nowSeen.keys()) watchFolderOf(watch.tree, path);
    } else {
      seenFiles.set(root, nowSeen);
    }
    // Unmodified tracked files: the content is what the index holds.
    return {
      kind: 'git',
      entries: new LayeredEntries((await tracked).entries, changes),
      truncated: false,
    };
  } finally {
    hashPaths(''); // whatever went wrong, hash-object gets its end of input and exits
  }
}

/**
 * Takes what was written since the last snapshot through `watch`, and
 * returns whether the watch vouches that a file seen then is unchanged:
 * watched since before it was hashed, and named in no event since, nor
 * any folder above it. Folders named are watched again from scratch (they
 * may be other folders now); a take that cannot vouch drops every watch.
 */
async function unwrittenSince(
  watch: WorkTreeWatch,
): Promise<(path: string, last: SeenFile) => boolean> {
  const written = await watch.tree.take();
  if (written === undefined) {
    watch.tree.reset();
    return () => false;
  }
  for (const path of written.named) if (watch.tree.isWatched(path)) watch.tree.unwatch(path);
  return (path, last) => last.watched && !written.touches(path);
}

/**
 * Whether the watch watched `path`'s folder since its last take: then any
 * write to it from now on is named in the next take. Asked before this
 * snapshot adds watches (watchFolderOf), which would miss writes made before.
 */
function watchedSince(watch: WorkTreeWatch | undefined, path: string): boolean {
  return watch?.tree.isWatched(folderOf(path)) ?? false;
}

/** Watches `path`'s folder and every folder above it, up to the project's. */
function watchFolderOf(tree: TreeWatch, path: string): void {
  for (let folder = folderOf(path); !tree.isWatched(folder); folder = folderOf(folder)) {
    tree.watch(folder);
    if (folder === '' || !tree.open) return;
  }
}

function folderOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

// --- without git -------------------------------------------------------------

async function walkSnapshot(
  projectDir: string,
  maxFiles: number,
  watch: WorkTreeWatch | undefined,
): Promise<Snapshot> {
  const root = resolve(projectDir);
  if (watch) watch.seen = undefined; // kept for snapshots in git; this one takes the events
  if (watch?.walked) {
    const written = await watch.tree.take();
    if (written !== undefined) {
      const updated = await updateWalk(root, watch.tree, watch.walked, written);
      if (updated.count <= maxFiles) return walkedSnapshot(updated);
    }
  }
  // No watch, or a first snapshot, or one the watch cannot vouch for: every file.
  watch?.tree.reset();
  const entries = new Map<string, string>();
  let boundary: string | undefined;
  let truncated = false;
  await walkFolder(
    root,
    '',
    (path, st) => {
      if (entries.size >= maxFiles) {
        truncated = true;
        return false;
      }
      entries.set(path, fileKey(st));
      boundary = path;
      return true;
    },
    watch?.tree,
  );
  if (truncated) {
    // Past the cap, a snapshot is a walk's prefix, which a watch cannot keep up to date.
    watch?.tree.close();
    return boundary !== undefined
      ? { kind: 'files', entries, truncated: true, boundary }
      : { kind: 'files', entries, truncated: true };
  }
  if (watch?.tree.open) {
    watch.walked = { base: entries, changes: new Map(), count: entries.size };
    return walkedSnapshot(watch.walked);
  }
  return { kind: 'files', entries, truncated: false };
}

/**
 * The files as the last snapshot saw them, kept by a watch: a walk's entries
 * (never changed after it) with what was written since laid over them.
 */
interface Walked {
  base: ReadonlyMap<string, string>;
  changes: Map<string, string | undefined>;
  /** How many files there are: the base's, plus those added, less those gone. */
  count: number;
}

/** A snapshot of what a watch keeps: its own copy of the changes, which go on changing. */
function walkedSnapshot(walked: Walked): Snapshot {
  // Laid over a newer copy of the whole once the changes are many: copying
  // them for every snapshot would grow with the run.
  if (walked.changes.size > Math.max(1024, walked.base.size / 8)) {
    walked.base = new Map(new LayeredEntries(walked.base, walked.changes));
    walked.changes = new Map();
  }
  return {
    kind: 'files',
    entries: new LayeredEntries(walked.base, new Map(walked.changes)),
    truncated: false,
  };
}

/** Brings `walked` up to date with the paths the watch says were written, and returns it. */
async function updateWalk(
  root: string,
  tree: TreeWatch,
  walked: Walked,
  written: WrittenPaths,
): Promise<Walked> {
  const view = new LayeredEntries(walked.base, walked.changes);
  const set = (path: string, key: string | undefined): void => {
    const had = view.has(path);
    if (key === undefined && !had) return;
    walked.changes.set(path, key);
    walked.count += (key !== undefined ? 1 : 0) - (had ? 1 : 0);
  };
  const slice = new TimeSlice();
  for (const path of written.named) {
    if (slice.due()) await slice.pause();
    const st = lstatIfAny(`${root}/${path}`);
    // A folder named in its parent's events was made, removed, moved or
    // replaced: what was under it goes, and what is under it now is walked.
    if (tree.isWatched(path)) {
      tree.unwatch(path);
      const prefix = `${path}/`;
      const gone = [...view.keys()].filter((file) => file.startsWith(prefix));
      for (const file of gone) set(file, undefined);
    }
    // Events come from watched folders only, which the walk entered: the
    // named path's folder is one the walk keeps, and only the path itself
    // may be one it leaves out.
    const folder = folderOf(path);
    const name = folder === '' ? path : path.slice(folder.length + 1);
    const kept = st !== undefined && !leftOut(folder, name, st.isDirectory());
    if (kept && st.isDirectory()) {
      set(path, undefined);
      const add = (file: string, fst: Stats): boolean => {
        set(file, fileKey(fst));
        return true;
      };
      await walkFolder(root, path, add, tree);
    } else {
      set(path, kept ? fileKey(st) : undefined);
    }
  }
  return walked;
}

/** Whether the walk leaves out `name` in folder `rel`: .git and node_modules folders anywhere, bearing/ at the top. */
function leftOut(rel: string, name: string, isDirectory: boolean): boolean {
  return (isDirectory && SKIPPED_DIRS.has(name)) || (rel === '' && name === BEARING_DIR);
}

function fileKey(st: Stats): string {
  return `${st.isSymbolicLink() ? 'l' : 'f'}:${st.size}:${st.mtimeMs}`;
}

/**
 * Walks the folder `start` (relative, '' the root) depth first, names
 * sorted, so the walk order (and any truncation point) is deterministic.
 * `visit` gets each file or link and returns false to stop. With a watch,
 * each folder is watched before it is read: what is written in it after
 * the read shows up in the next take.
 */
async function walkFolder(
  root: string,
  start: string,
  visit: (path: string, st: Stats) => boolean,
  tree: TreeWatch | undefined,
): Promise<void> {
  const slice = new TimeSlice();
  const stack: Array<{ rel: string; dirents: Dirent[]; next: number }> = [];
  const enter = (rel: string): void => {
    tree?.watch(rel);
    let dirents: Dirent[];
    try {
      dirents = readdirSync(rel ? `${root}/${rel}` : root, { withFileTypes: true });
    } catch {
      return; // unreadable or vanished directory: nothing to record
    }
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const kept = dirents.filter((d) => !leftOut(rel, d.name, d.isDirectory()));
    stack.push({ rel, dirents: kept, next: 0 });
  };
  enter(start);
  while (stack.length > 0) {
    if (slice.due()) await slice.pause();
    const dir = stack.at(-1)!;
    const d = dir.dirents[dir.next++];
    if (d === undefined) {
      stack.pop();
      continue;
    }
    const path = dir.rel ? `${dir.rel}/${d.name}` : d.name;
    if (d.isDirectory()) {
      enter(path);
      continue;
    }
    const st = lstatIfAny(`${root}/${path}`);
    if (st && !visit(path, st)) return;
  }
}

/** The file's own stat (a link's, not its target's), or undefined if it is gone or unreadable. */
function lstatIfAny(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** Lets a long loop of synchronous calls give the event loop a turn every SLICE_MS. */
class TimeSlice {
  #since = performance.now();
  #steps = 0;

  /** Whether the loop has held the thread long enough: then it awaits pause(). */
  due(): boolean {
    // Reading the clock costs more than most steps: look every 64.
    return ++this.#steps % 64 === 0 && performance.now() - this.#since >= SLICE_MS;
  }

  async pause(): Promise<void> {
    await nextTurn();
    this.#since = performance.now();
  }
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
