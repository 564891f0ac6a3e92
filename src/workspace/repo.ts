/**
 * The project's git repository as worktree mode uses it: where the project
 * sits in it, which branch work lands on, and the few git operations that
 * create, commit, merge and remove. Every operation that writes state shared
 * by all worktrees goes through one of two queues, so Bearing's own git
 * commands never meet on a lock file: `landing` for the target branch, the
 * main checkout's index and deleting branches (which may rewrite
 * packed-refs), `worktrees` for the list of worktrees and the new branches
 * made with them (each its own ref lock). The two share no lock, so a
 * worktree is made or renamed while work lands.
 */
import { posix } from 'node:path';
import { type GitRun, gitOk, runGit, splitZ } from '../process/git.js';
import { BEARING_DIR } from '../state/paths.js';

/**
 * Settings on every git command Bearing runs itself: no automatic gc or
 * maintenance (it would take shared locks while agents work), no signing
 * prompt, and an identity when the user has none configured.
 */
const QUIET = ['-c', 'gc.auto=0', '-c', 'maintenance.auto=false', '-c', 'commit.gpgsign=false'];
const FALLBACK_IDENTITY = ['-c', 'user.name=Bearing', '-c', 'user.email=bearing@localhost'];

/** Serialises async operations: each starts after the previous one settled. */
export class Queue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(op, op);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

export interface MergeResult {
  /** The merged tree, when it merged cleanly. */
  tree?: string;
  /** Paths (repository-relative) that conflict. */
  conflicts: string[];
}

/** Which shared git state an operation writes (see the top of this file). */
export type SharedState = 'landing' | 'worktrees';

export class GitRepo {
  readonly #queues: Record<SharedState, Queue> = { landing: new Queue(), worktrees: new Queue() };

  private constructor(
    /** The main work tree's top directory. */
    readonly top: string,
    /** The project's path inside the repository: '' at the top, 'sub/dir/' below. */
    readonly prefix: string,
    /** `-c user.*` settings when the user has no identity configured, else none. */
    private readonly identity: readonly string[],
  ) {}

  /** The repository the project is in, or undefined when it is in none (or git is missing). */
  static async open(projectDir: string): Promise<GitRepo | undefined> {
    let r: GitRun;
    try {
      r = await runGit(projectDir, ['rev-parse', '--show-toplevel', '--show-prefix']);
    } catch {
      return undefined;
    }
    if (r.code !== 0) return undefined;
    const [top, prefix] = r.stdout.toString('utf8').split('\n');
    if (!top) return undefined;
    const name = await runGit(projectDir, ['config', 'user.name']);
    const email = await runGit(projectDir, ['config', 'user.email']);
    const hasIdentity = name.code === 0 && email.code === 0;
    return new GitRepo(top, prefix ?? '', hasIdentity ? [] : FALLBACK_IDENTITY);
  }

  /** Run git in `cwd` (the main work tree by default) with Bearing's settings. */
  git(args: string[], cwd: string = this.top, input?: string): Promise<GitRun> {
    return runGit(cwd, [...QUIET, ...this.identity, ...args], input ? { input } : {});
  }

  async ok(args: string[], cwd: string = this.top, input?: string): Promise<string> {
    const out = await gitOk(cwd, [...QUIET, ...this.identity, ...args], input ? { input } : {});
    return out.toString('utf8').trim();
  }

  /** One git operation at a time on this shared state. */
  exclusive<T>(state: SharedState, op: () => Promise<T>): Promise<T> {
    return this.#queues[state].run(op);
  }

  /** The branch checked out in the main work tree, or undefined when HEAD is detached. */
  async currentBranch(): Promise<string | undefined> {
    const r = await this.git(['symbolic-ref', '-q', '--short', 'HEAD']);
    return r.code === 0 ? r.stdout.toString('utf8').trim() : undefined;
  }

  /** The commit a ref points at, or undefined when it does not exist. */
  async resolve(ref: string): Promise<string | undefined> {
    const r = await this.git(['rev-parse', '-q', '--verify', `${ref}^{commit}`]);
    return r.code === 0 ? r.stdout.toString('utf8').trim() : undefined;
  }

  /** The blob `<commit>:<path>` names, or undefined when there is none. */
  async resolveBlob(spec: string): Promise<string | undefined> {
    const r = await this.git(['rev-parse', '-q', '--verify', spec]);
    return r.code === 0 ? r.stdout.toString('utf8').trim() : undefined;
  }

  /** The blob id of a file in the main work tree as it is now, or undefined when it is missing. */
  async hashFile(path: string): Promise<string | undefined> {
    const r = await this.git(['hash-object', '--', path]);
    return r.code === 0 ? r.stdout.toString('utf8').trim() : undefined;
  }

  async isAncestor(ancestor: string, of: string): Promise<boolean> {
    return (await this.git(['merge-base', '--is-ancestor', ancestor, of])).code === 0;
  }

  /**
   * Tracked files with uncommitted changes in the main work tree, Bearing's
   * own `bearing/` folder excepted (status.md and the task files change while
   * a run goes on).
   */
  async uncommittedChanges(): Promise<string[]> {
    const out = await gitOk(this.top, ['status', '--porcelain=v1', '-z', '--untracked-files=no']);
    const own = `${this.prefix}${BEARING_DIR}/`;
    const paths: string[] = [];
    const entries = splitZ(out);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const status = entry.slice(0, 2);
      const path = entry.slice(3);
      // A rename or copy is followed by its source path.
      if (status.includes('R') || status.includes('C')) i++;
      if (!path.startsWith(own)) paths.push(path);
    }
    return paths;
  }

  /** A three-way merge of `theirs` onto `ours` without touching any work tree (git >= 2.38). */
  async mergeTrees(ours: string, theirs: string): Promise<MergeResult> {
    const r = await this.git(['merge-tree', '--write-tree', '--name-only', '-z', ours, theirs]);
    const parts = splitZ(r.stdout);
    if (r.code === 0) return { tree: parts[0]!, conflicts: [] };
    if (r.code !== 1 || parts.length === 0) {
      throw new Error(`git merge-tree failed (${r.code}): ${r.stderr.trim()}`);
    }
    // With conflicts: the tree, the conflicted paths, an empty entry, then messages.
    const end = parts.indexOf('', 1);
    const conflicts = parts.slice(1, end === -1 ? undefined : end);
    return { conflicts: [...new Set(conflicts)] };
  }

  /** Repository-relative paths a commit changed against its first parent. */
  async filesOf(commit: string): Promise<string[]> {
    const out = await gitOk(this.top, [
      'diff-tree',
      '--no-commit-id',
      '--name-only',
      '-r',
      '-z',
      '--root',
      commit,
    ]);
    return splitZ(out);
  }

  /** Repository-relative paths that differ between two commits. */
  async filesBetween(from: string, to: string): Promise<string[]> {
    const out = await gitOk(this.top, ['diff', '--name-only', '-z', '--no-renames', from, to]);
    return splitZ(out);
  }

  /** A repository-relative path as the project names it ('../x' when outside the project). */
  projectPath(repoPath: string): string {
    if (!this.prefix) return repoPath;
    return repoPath.startsWith(this.prefix)
      ? repoPath.slice(this.prefix.length)
      : posix.relative(this.prefix, repoPath);
  }
}
