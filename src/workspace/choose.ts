/**
 * Which workspace a run uses, decided once when it starts: `run.isolation`
 * (or `--isolation`), the repository, the branch and the checkout. Whatever
 * makes worktree mode impossible is said before anything runs, with what to
 * do instead.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { IsolationMode, RunSettings } from '../core/task.js';
import { stateDir } from '../state/paths.js';
import { GitRepo } from './repo.js';
import { InPlaceWorkspace, type Workspace } from './workspace.js';
import { WorktreeWorkspace } from './worktrees.js';

export type WorkspaceChoice =
  | {
      ok: true;
      workspace: Workspace /** Why `auto` chose to share the folder after all. */;
      note?: string;
    }
  | { ok: false; message: string };

/** `git merge-tree --write-tree`, which landing needs, came with git 2.38. */
const MIN_GIT: readonly [number, number] = [2, 38];

export async function chooseWorkspace(
  root: string,
  run: RunSettings,
  concurrency: number,
  override?: IsolationMode,
): Promise<WorkspaceChoice> {
  const mode = override ?? run.isolation;
  const inPlace = (note?: string): WorkspaceChoice => ({
    ok: true,
    workspace: new InPlaceWorkspace(root),
    ...(note ? { note } : {}),
  });
  if (mode === 'none') return inPlace();
  const explicit = mode === 'worktree';
  const repo = await GitRepo.open(root);
  if (!repo) {
    return explicit
      ? refuse(
          'worktree isolation needs a git repository: `git init` and commit the project, or run with --isolation none',
        )
      : inPlace();
  }
  if (!explicit && concurrency <= 1) return inPlace();

  const version = await gitVersion(repo);
  if (version && compare(version, MIN_GIT) < 0) {
    const why = `git ${version.join('.')} is older than ${MIN_GIT.join('.')}, which worktree isolation needs`;
    return explicit
      ? refuse(`${why}: update git, or run with --isolation none`)
      : inPlace(`${why}: the agents share the project folder`);
  }
  const head = await repo.resolve('HEAD');
  if (!head) {
    const why = 'the repository has no commit yet';
    return explicit
      ? refuse(`${why}: commit the project first, or run with --isolation none`)
      : inPlace(`${why}: the agents share the project folder until there is one`);
  }

  const current = await repo.currentBranch();
  let branch = run.branch ?? current;
  if (!branch) {
    return refuse(
      'HEAD is detached, so there is no branch to land work on: check out a branch, set run.branch in config.yaml, or run with --isolation none',
    );
  }
  if (run.branch !== undefined) {
    const checked = await repo.git(['check-ref-format', '--branch', run.branch]);
    if (checked.code !== 0) {
      return refuse(`run.branch: "${run.branch}" is not a valid git branch name`);
    }
    branch = checked.stdout.toString('utf8').trim();
    if (!(await repo.resolve(`refs/heads/${branch}`))) {
      await repo.ok(['branch', branch, head]);
    }
  }
  const checkedOut = branch === current;
  const dir = resolve(root, run.worktreeDir);
  ignoreStateDir(root);
  const inside = relative(repo.top, dir);
  if (!inside.startsWith('..') && !isAbsolute(inside)) {
    const ignored = await repo.git(['check-ignore', '-q', '--no-index', join(inside, 'x')]);
    if (ignored.code !== 0) {
      return refuse(
        `run.worktree_dir: ${relative(root, dir) || '.'} is inside the repository and not ignored by git: add it to a .gitignore (bearing init ignores bearing/.state/), or choose a folder outside`,
      );
    }
  }
  return {
    ok: true,
    workspace: new WorktreeWorkspace(repo, dir, { branch, checkedOut }, { max: concurrency }),
  };
}

/**
 * Bearing's state folder ignores itself (as tools' caches do), so worktrees
 * made in it never show in the project's `git status`, whatever the
 * project's own .gitignore says.
 */
function ignoreStateDir(root: string): void {
  const file = join(stateDir(root), '.gitignore');
  if (existsSync(file)) return;
  try {
    mkdirSync(stateDir(root), { recursive: true });
    writeFileSync(file, "# Bearing's run state: not for version control.\n*\n");
  } catch {
    // Not writable: the check below then says the folder is not ignored.
  }
}

/**
 * Worktree mode lands work by fast-forwarding the checkout, which must then
 * hold no uncommitted changes to tracked files (Bearing's own `bearing/`
 * files aside). Asked after a killed run's half-done landing was undone.
 */
export async function uncleanCheckout(workspace: Workspace): Promise<string | undefined> {
  if (!(workspace instanceof WorktreeWorkspace) || !workspace.target.checkedOut) return undefined;
  const dirty = await workspace.repo.uncommittedChanges();
  if (dirty.length === 0) return undefined;
  const shown =
    dirty.slice(0, 5).join(', ') + (dirty.length > 5 ? `, and ${dirty.length - 5} more` : '');
  return `the checkout has uncommitted changes to tracked files (${shown}), which work landing on ${workspace.target.branch} could overwrite: commit or stash them, set run.branch to land on another branch, or run with --isolation none`;
}

function refuse(message: string): WorkspaceChoice {
  return { ok: false, message };
}

async function gitVersion(repo: GitRepo): Promise<[number, number] | undefined> {
  const r = await repo.git(['version']);
  const m = /git version (\d+)\.(\d+)/.exec(r.stdout.toString('utf8'));
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function compare(a: readonly [number, number], b: readonly [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}
