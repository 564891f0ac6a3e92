/**
 * What one attempt of a task changed, for `bearing diff`.
 *
 * In worktree mode the attempt's work is one commit (landed on the target,
 * or kept on its branch), so git shows it exactly. In place, a run keeps
 * only which files a task changed, measured by comparing snapshots of the
 * tree; the snapshots hold object ids and file times, not contents, and are
 * gone once measured. So the honest view is those files as they are now:
 * added, modified or removed against git's HEAD, with git's diff against
 * HEAD, which also holds whatever changed them since (the person, a later
 * task). Without git, only the list.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AttemptRecord } from '../core/state.js';
import { type GitRun, runGit, splitZ } from '../process/git.js';
import type { PathChange } from '../state/changes.js';

export type TaskDiff =
  /** Worktree mode: the attempt's commit and what `git show` prints of it. */
  | {
      kind: 'commit';
      commit: string;
      /** Landed on the target branch, or kept on the attempt's branch (not landed). */
      landed: boolean;
      branch: string;
      files: string[];
      show: Buffer;
    }
  /** In place: the files the attempt changed, as they are now, and git's diff of them against HEAD. */
  | { kind: 'files'; files: FileNow[]; git: boolean; patch: Buffer }
  /** The attempt is still running: what it changed is measured when it ends. */
  | { kind: 'running' }
  /** The attempt changed nothing. */
  | { kind: 'nothing' }
  /** What it changed was not recorded (the run was killed before the attempt ended), or git no longer has it. */
  | { kind: 'unavailable'; why: string };

/** A file an in-place attempt changed, compared with git's HEAD now. */
export interface FileNow {
  path: string;
  /** What the attempt did to it, when the run recorded it (attempts before that have only the names). */
  change?: PathChange['change'];
  /**
   * `added`: not in HEAD, there now; `removed`: in HEAD, gone now;
   * `modified`: differs from HEAD; `unchanged`: as in HEAD (committed or
   * undone since); `absent`: neither in HEAD nor there now; `present`: there
   * now, with no git to compare with (`absent` then means gone now).
   */
  now: 'added' | 'removed' | 'modified' | 'unchanged' | 'present' | 'absent';
}

/** What the run recorded an attempt changed. */
export interface RecordedChanges {
  files: string[];
  /** In place: what happened to each file (recorded since `bearing diff` exists). */
  changes?: PathChange[];
}

/**
 * What the attempt changed. `recorded`: what the run recorded of it
 * (result.json of the attempt); `color`: let git colour its output.
 */
export async function taskDiff(
  root: string,
  attempt: AttemptRecord,
  recorded: RecordedChanges | undefined,
  color: boolean,
): Promise<TaskDiff> {
  if (attempt.outcome === 'running') return { kind: 'running' };
  const colorFlag = color ? '--color=always' : '--no-color';
  const wt = attempt.worktree;
  if (wt !== undefined) {
    const commit = wt.landing?.commit ?? wt.commit;
    if (commit === undefined) return { kind: 'nothing' };
    const show = await runGit(root, ['show', colorFlag, '--stat', '--patch', commit, '--']);
    if (show.code !== 0) {
      const said = show.stderr.trim().split('\n').at(-1) ?? '';
      return { kind: 'unavailable', why: `git cannot show its commit ${commit}: ${said}` };
    }
    return {
      kind: 'commit',
      commit,
      landed: wt.landing !== undefined,
      branch: wt.branch,
      files: recorded?.files ?? [],
      show: show.stdout,
    };
  }
  if (recorded === undefined) {
    return { kind: 'unavailable', why: 'the files it changed were not recorded: it did not end' };
  }
  if (recorded.files.length === 0) return { kind: 'nothing' };
  return filesNow(root, recorded, colorFlag);
}

/** The files as they are now, against HEAD when there is git. */
async function filesNow(
  root: string,
  recorded: RecordedChanges,
  colorFlag: string,
): Promise<TaskDiff> {
  const { files } = recorded;
  const did = new Map(recorded.changes?.map((c) => [c.path, c.change]));
  const withChange = (file: FileNow): FileNow => {
    const change = did.get(file.path);
    return change === undefined ? file : { path: file.path, change, now: file.now };
  };
  const exists = (path: string): boolean => existsSync(join(root, path));
  // The paths are file names, never patterns (a file may be called `*.js` or `:x`).
  const git = (args: string[]) => runGit(root, args, { env: { GIT_LITERAL_PATHSPECS: '1' } });
  const inside = await git(['rev-parse', '--is-inside-work-tree']).catch(() => undefined);
  if (inside?.code !== 0) {
    return {
      kind: 'files',
      git: false,
      files: files.map((path) => withChange({ path, now: exists(path) ? 'present' : 'absent' })),
      patch: Buffer.alloc(0),
    };
  }
  // Paths relative to the project, which may be a folder inside the repository: git reads them from there.
  const inHead = new Set(
    await gitList(git, ['ls-tree', '-r', '--name-only', '-z', 'HEAD', '--', ...files]),
  );
  const differ = new Set(
    inHead.size === 0
      ? []
      : await gitList(git, ['diff', '--name-only', '-z', '--relative', 'HEAD', '--', ...inHead]),
  );
  const now = files.map((path): FileNow => {
    if (!inHead.has(path)) return withChange({ path, now: exists(path) ? 'added' : 'absent' });
    if (!exists(path)) return withChange({ path, now: 'removed' });
    return withChange({ path, now: differ.has(path) ? 'modified' : 'unchanged' });
  });
  const patches: Buffer[] = [];
  if (differ.size > 0) {
    const diff = await git(['diff', colorFlag, '--relative', 'HEAD', '--', ...differ]);
    patches.push(diff.stdout);
  }
  for (const file of now) {
    if (file.now !== 'added') continue;
    // Not in HEAD: the whole file, as git shows a new one (exit 1 means "they differ").
    const added = await git(['diff', colorFlag, '--no-index', '--', '/dev/null', file.path]);
    patches.push(added.stdout);
  }
  return { kind: 'files', git: true, files: now, patch: Buffer.concat(patches) };
}

/** A git command's NUL-separated output, or nothing when it fails (no HEAD yet). */
async function gitList(
  git: (args: string[]) => Promise<GitRun>,
  args: string[],
): Promise<string[]> {
  const r = await git(args);
  return r.code === 0 ? splitZ(r.stdout) : [];
}

const CHANGES: readonly string[] = [
  'added',
  'removed',
  'modified',
] satisfies PathChange['change'][];

/** What an attempt changed, as its result.json records it; undefined when it has none. */
export function recordedChanges(attemptDir: string): RecordedChanges | undefined {
  let result: { filesChanged?: unknown; fileChanges?: unknown };
  try {
    result = JSON.parse(readFileSync(join(attemptDir, 'result.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const files = result.filesChanged;
  if (!Array.isArray(files) || !files.every((f) => typeof f === 'string')) return undefined;
  const changes = Array.isArray(result.fileChanges)
    ? result.fileChanges.filter(
        (c): c is PathChange =>
          typeof c?.path === 'string' && CHANGES.includes(c?.change as string),
      )
    : undefined;
  return changes === undefined ? { files } : { files, changes };
}
