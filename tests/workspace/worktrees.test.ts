import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { AttemptWorktree } from '../../src/core/state.js';
import { makePlan, makeTask } from '../../src/core/test-support.js';
import { chooseWorkspace, uncleanCheckout } from '../../src/workspace/choose.js';
import { GitRepo } from '../../src/workspace/repo.js';
import { landingMessage, WorktreeWorkspace } from '../../src/workspace/worktrees.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

/** A repository with one commit, `bearing/.state/` ignored, and its worktree workspace. */
async function setup(files: Record<string, string> = { 'a.txt': 'one\ntwo\nthree\n' }) {
  const top = mkdtempSync(join(tmpdir(), 'bearing-wt-'));
  dirs.push(top);
  git(top, 'init', '-q', '-b', 'main');
  for (const [p, c] of Object.entries({ ...files, 'bearing/.gitignore': '.state/\n' })) {
    execFileSync('mkdir', ['-p', join(top, p, '..')]);
    writeFileSync(join(top, p), c);
  }
  git(top, 'add', '-A');
  git(top, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'init');
  const repo = (await GitRepo.open(top))!;
  const ws = new WorktreeWorkspace(repo, join(top, 'bearing/.state/worktrees'), {
    branch: 'main',
    checkedOut: true,
  });
  return { top, repo, ws };
}

const none = () => false;

describe('worktree workspace', () => {
  it('runs an attempt in its own worktree from the tip and lands its work as one commit', async () => {
    const { top, ws } = await setup();
    const site = await ws.open({ task: makeTask({ id: 'a' }), attempt: 1, othersRunning: none });
    expect(site.cwd).toBe(join(top, 'bearing/.state/worktrees/a-1'));
    expect(site.worktree?.branch).toBe('bearing/a/1');
    expect(readFileSync(join(site.cwd, 'a.txt'), 'utf8')).toBe('one\ntwo\nthree\n');
    // The agent commits once itself and leaves one file uncommitted: one commit lands.
    writeFileSync(join(site.cwd, 'b.txt'), 'b\n');
    git(site.cwd, 'add', 'b.txt');
    git(site.cwd, '-c', 'user.name=agent', '-c', 'user.email=a@a', 'commit', '-q', '-m', 'wip');
    writeFileSync(join(site.cwd, 'c.txt'), 'c\n');
    const intents: AttemptWorktree[] = [];
    const landing = await site.land(landingMessage('a', 1, 'Added b and c\nmore'), (w) =>
      intents.push({ ...w }),
    );
    expect(landing).toMatchObject({ kind: 'landed', files: ['b.txt', 'c.txt'] });
    expect(intents).toHaveLength(1);
    // The main checkout followed; one commit on top of init, with the task's name and summary.
    expect(readFileSync(join(top, 'c.txt'), 'utf8')).toBe('c\n');
    expect(git(top, 'log', '--format=%s', 'main')).toBe('a: Added b and c\ninit');
    expect(git(top, 'log', '-1', '--format=%(trailers:key=Bearing-Task,valueonly)')).toBe('a');
    expect(git(top, 'status', '--porcelain', '--untracked-files=no')).toBe('');
  });

  it('merges work onto what landed meanwhile, and reports a conflict with the task that caused it', async () => {
    const { top, ws } = await setup();
    const task = (id: string) => makeTask({ id });
    const a = await ws.open({ task: task('a'), attempt: 1, othersRunning: none });
    const b = await ws.open({ task: task('b'), attempt: 1, othersRunning: none });
    const c = await ws.open({ task: task('c'), attempt: 1, othersRunning: none });
    writeFileSync(join(a.cwd, 'a.txt'), 'ONE\ntwo\nthree\n');
    writeFileSync(join(b.cwd, 'a.txt'), 'one\ntwo\nTHREE\n'); // another line: merges
    writeFileSync(join(c.cwd, 'a.txt'), 'uno\ntwo\nthree\n'); // the same line: conflicts
    const noop = () => undefined;
    expect((await a.land(landingMessage('a', 1, 'first'), noop)).kind).toBe('landed');
    const lb = await b.land(landingMessage('b', 1, 'second'), noop);
    expect(lb).toMatchObject({ kind: 'landed', files: ['a.txt'] });
    expect(readFileSync(join(top, 'a.txt'), 'utf8')).toBe('ONE\ntwo\nTHREE\n');
    const before = git(top, 'rev-parse', 'main');
    const lc = await c.land(landingMessage('c', 1, 'third'), noop);
    expect(lc).toMatchObject({ kind: 'conflict', files: ['a.txt'], tasks: ['a', 'b'] });
    // Nothing half-merged: the branch and the checkout are as they were; c's work is kept.
    expect(git(top, 'rev-parse', 'main')).toBe(before);
    expect(git(top, 'status', '--porcelain', '--untracked-files=no')).toBe('');
    expect(readFileSync(join(c.cwd, 'a.txt'), 'utf8')).toBe('uno\ntwo\nthree\n');
    expect(git(c.cwd, 'log', '-1', '--format=%s')).toBe('c: third');
  });

  it('refuses to overwrite local edits in the checkout, and lands once they are committed', async () => {
    const { top, ws } = await setup();
    const a = await ws.open({ task: makeTask({ id: 'a' }), attempt: 1, othersRunning: none });
    writeFileSync(join(a.cwd, 'a.txt'), 'changed by a\n');
    writeFileSync(join(top, 'a.txt'), 'edited by the person\n');
    const blocked = await a.land(landingMessage('a', 1, 'x'), () => undefined);
    expect(blocked).toMatchObject({ kind: 'blocked', files: ['a.txt'] });
    expect(readFileSync(join(top, 'a.txt'), 'utf8')).toBe('edited by the person\n');
    git(top, 'checkout', '--', 'a.txt');
    const wt = (blocked as { worktree: AttemptWorktree }).worktree;
    expect(await ws.landed(wt)).toBe(false);
    const again = await ws.land(wt, landingMessage('a', 1, 'x'), () => undefined);
    expect(again.kind).toBe('landed');
    expect(await ws.landed(wt)).toBe(true);
    expect(readFileSync(join(top, 'a.txt'), 'utf8')).toBe('changed by a\n');
  });

  it('lands on a named branch without touching the checkout, and removes what it made', async () => {
    const { top, repo } = await setup();
    git(top, 'branch', 'agents');
    const ws = new WorktreeWorkspace(repo, join(top, 'bearing/.state/worktrees'), {
      branch: 'agents',
      checkedOut: false,
    });
    const a = await ws.open({ task: makeTask({ id: 'a' }), attempt: 2, othersRunning: none });
    writeFileSync(join(a.cwd, 'new.txt'), 'n\n');
    expect((await a.land(landingMessage('a', 2, 's'), () => undefined)).kind).toBe('landed');
    expect(existsSync(join(top, 'new.txt'))).toBe(false);
    expect(git(top, 'show', 'agents:new.txt')).toBe('n');
    await ws.close();
    expect(await ws.list()).toEqual([]);
    expect(await ws.attemptBranches()).toEqual([]);
    expect(git(top, 'worktree', 'list').split('\n')).toHaveLength(1);
  });

  it('a project below the top of its repository works in the same folder of the worktree', async () => {
    const { top } = await setup({ 'app/bearing/tasks/t.yaml': 'x: 1\n', 'lib/util.txt': 'u\n' });
    const root = join(top, 'app');
    const chosen = await chooseWorkspace(root, makePlan([], { isolation: 'worktree' }).run, 2);
    if (!chosen.ok) throw new Error(chosen.message);
    const site = await chosen.workspace.open({
      task: makeTask({ id: 'a' }),
      attempt: 1,
      othersRunning: none,
    });
    expect(site.cwd).toBe(join(root, 'bearing/.state/worktrees/a-1/app'));
    writeFileSync(join(site.cwd, 'new.txt'), 'n\n');
    writeFileSync(join(site.cwd, '../lib/util.txt'), 'changed\n');
    const landing = await site.land(landingMessage('a', 1, 's'), () => undefined);
    // Relative to the project, as every other list of files.
    expect(landing).toMatchObject({ kind: 'landed', files: ['../lib/util.txt', 'new.txt'] });
    expect(readFileSync(join(root, 'new.txt'), 'utf8')).toBe('n\n');
    expect(git(top, 'status', '--porcelain')).toBe('');
  });

  it('a commit the person makes on the branch during the run stays, and the work lands on top of it', async () => {
    const { top, ws } = await setup();
    const a = await ws.open({ task: makeTask({ id: 'a' }), attempt: 1, othersRunning: none });
    writeFileSync(join(a.cwd, 'b.txt'), 'b\n');
    writeFileSync(join(top, 'mine.txt'), 'mine\n');
    git(top, 'add', 'mine.txt');
    git(top, '-c', 'user.name=p', '-c', 'user.email=p@p', 'commit', '-q', '-m', 'mine');
    expect(await a.land(landingMessage('a', 1, 'b'), () => undefined)).toMatchObject({
      kind: 'landed',
      files: ['b.txt'],
    });
    expect(git(top, 'log', '--format=%s', 'main')).toBe('a: b\nmine\ninit');
    expect(git(top, 'status', '--porcelain', '--untracked-files=no')).toBe('');
  });

  it('an attempt that changed nothing lands nothing', async () => {
    const { top, ws } = await setup();
    const a = await ws.open({ task: makeTask({ id: 'a' }), attempt: 1, othersRunning: none });
    const before = git(top, 'rev-parse', 'main');
    expect(await a.land(landingMessage('a', 1, 'nothing'), () => undefined)).toEqual({
      kind: 'landed',
      files: [],
    });
    expect(git(top, 'rev-parse', 'main')).toBe(before);
  });
});

describe('choosing the workspace', () => {
  it('auto means worktrees in a git repository with concurrency above 1, else the folder itself', async () => {
    const { top } = await setup();
    const run = makePlan([], { isolation: 'auto' }).run;
    expect((await chooseWorkspace(top, run, 1)) as { workspace?: { kind: string } }).toMatchObject({
      workspace: { kind: 'in-place' },
    });
    expect(await chooseWorkspace(top, run, 4)).toMatchObject({ workspace: { kind: 'worktree' } });
    expect(await chooseWorkspace(top, run, 4, 'none')).toMatchObject({
      workspace: { kind: 'in-place' },
    });
  });

  it('refuses a checkout with uncommitted changes to tracked files, but not to bearing/ files', async () => {
    const { top } = await setup({ 'a.txt': 'a\n', 'bearing/tasks/t.yaml': 'x: 1\n' });
    const run = makePlan([], { isolation: 'worktree' }).run;
    writeFileSync(join(top, 'bearing/tasks/t.yaml'), 'x: 2\n');
    writeFileSync(join(top, 'untracked.txt'), 'u\n');
    const chosen = await chooseWorkspace(top, run, 2);
    if (!chosen.ok) throw new Error(chosen.message);
    expect(await uncleanCheckout(chosen.workspace)).toBeUndefined();
    writeFileSync(join(top, 'a.txt'), 'edited\n');
    expect(await uncleanCheckout(chosen.workspace)).toMatch(
      /uncommitted changes to tracked files \(a\.txt\).*commit or stash them.*--isolation none/,
    );
    // Landing on another branch leaves the checkout alone: no need to be clean.
    const other = await chooseWorkspace(top, { ...run, branch: 'bearing-work' }, 2);
    expect(other).toMatchObject({
      ok: true,
      workspace: { target: { branch: 'bearing-work', checkedOut: false } },
    });
    if (other.ok) expect(await uncleanCheckout(other.workspace)).toBeUndefined();
    expect(git(top, 'rev-parse', 'bearing-work')).toBe(git(top, 'rev-parse', 'main'));
  });

  it('refuses worktrees outside a repository, on a detached HEAD, and in an unignored folder', async () => {
    const plain = mkdtempSync(join(tmpdir(), 'bearing-nogit-'));
    dirs.push(plain);
    const run = makePlan([], { isolation: 'worktree' }).run;
    expect(await chooseWorkspace(plain, run, 2)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/needs a git repository/),
    });
    const { top } = await setup();
    expect(await chooseWorkspace(top, { ...run, worktreeDir: 'trees' }, 2)).toMatchObject({
      ok: false,
      message: expect.stringMatching(
        /run.worktree_dir: trees is inside the repository and not ignored/,
      ),
    });
    git(top, 'checkout', '-q', '--detach');
    expect(await chooseWorkspace(top, run, 2)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/HEAD is detached/),
    });
  });
});

describe('spare worktrees', () => {
  /** A workspace keeping up to `spares` worktrees for reuse, over a repository with a .gitignore. */
  async function pooled(max: number, waitMs = 60_000) {
    const made = await setup({
      'a.txt': 'one\n',
      'keep.txt': 'k\n',
      'same.txt': 'never touched\n',
      '.gitignore': 'build/\n',
    });
    const ws = new WorktreeWorkspace(
      made.repo,
      join(made.top, 'bearing/.state/worktrees'),
      { branch: 'main', checkedOut: true },
      // A tree this small checks out as fast as a spare is ready: wait as a large one would.
      { max, waitMs },
    );
    return { ...made, ws };
  }
  /** A file no attempt touches keeps its inode in a reused worktree; git writes a changed one anew. */
  const inode = (path: string) => statSync(path).ino;

  it('a worktree whose work landed is the next attempt’s, holding the new tip', async () => {
    const { top, ws } = await pooled(2);
    const a = await ws.open({ task: makeTask({ id: 'a' }), attempt: 1, othersRunning: none });
    const kept = inode(join(a.cwd, 'same.txt'));
    writeFileSync(join(a.cwd, 'a.txt'), 'landed by a\n');
    expect((await a.land(landingMessage('a', 1, 's'), () => undefined)).kind).toBe('landed');
    // Opened at once: it waits for a's worktree rather than checking out a new one.
    const b = await ws.open({ task: makeTask({ id: 'b' }), attempt: 1, othersRunning: none });
    expect(b.cwd).toBe(join(top, 'bearing/.state/worktrees/b-1'));
    expect(existsSync(a.cwd)).toBe(false);
    // The same files on disk (a new checkout would have made new ones), holding the tip.
    expect(inode(join(b.cwd, 'same.txt'))).toBe(kept);
    expect(readFileSync(join(b.cwd, 'a.txt'), 'utf8')).toBe('landed by a\n');
    expect(git(b.cwd, 'symbolic-ref', '--short', 'HEAD')).toBe('bearing/b/1');
    expect(b.worktree?.base).toBe(git(top, 'rev-parse', 'main'));
    expect(await ws.attemptBranches()).toEqual(['bearing/b/1']);
    writeFileSync(join(b.cwd, 'b.txt'), 'b\n');
    expect(await b.land(landingMessage('b', 1, 's'), () => undefined)).toMatchObject({
      kind: 'landed',
      files: ['b.txt'],
    });
  });

  it('a spare is cleaned to exactly what a new worktree would hold', async () => {
    const { top, ws } = await pooled(2);
    const a = await ws.open({ task: makeTask({ id: 'a' }), attempt: 1, othersRunning: none });
    const kept = inode(join(a.cwd, 'same.txt'));
    writeFileSync(join(a.cwd, 'a.txt'), 'failed work\n');
    await a.keep('a: failed');
    // What else a failed attempt may leave: an edit, untracked and ignored files.
    writeFileSync(join(a.cwd, 'keep.txt'), 'scribbled\n');
    writeFileSync(join(a.cwd, 'stray.txt'), 'x\n');
    mkdirSync(join(a.cwd, 'build'));
    writeFileSync(join(a.cwd, 'build/out.o'), 'o\n');
    await ws.release([a.worktree!]);
    expect(existsSync(a.cwd)).toBe(false);
    expect(await ws.list()).toEqual([{ path: join(top, 'bearing/.state/worktrees/.spare-1') }]);
    expect(await ws.attemptBranches()).toEqual([]);

    const b = await ws.open({ task: makeTask({ id: 'b' }), attempt: 1, othersRunning: none });
    expect(inode(join(b.cwd, 'same.txt'))).toBe(kept);
    expect(readFileSync(join(b.cwd, 'a.txt'), 'utf8')).toBe('one\n');
    expect(readFileSync(join(b.cwd, 'keep.txt'), 'utf8')).toBe('k\n');
    expect(existsSync(join(b.cwd, 'stray.txt'))).toBe(false);
    expect(existsSync(join(b.cwd, 'build'))).toBe(false);
    expect(git(b.cwd, 'status', '--porcelain', '--ignored')).toBe('');
    expect(git(b.cwd, 'symbolic-ref', '--short', 'HEAD')).toBe('bearing/b/1');
    expect(await ws.list()).toEqual([
      { path: join(top, 'bearing/.state/worktrees/b-1'), branch: 'bearing/b/1' },
    ]);
  });

  it('keeps no more spares than asked, and none once closed', async () => {
    const { top, ws } = await pooled(1);
    const sites = [];
    for (const id of ['a', 'b', 'c']) {
      sites.push(await ws.open({ task: makeTask({ id }), attempt: 1, othersRunning: none }));
    }
    await ws.release(sites.map((s) => s.worktree!));
    expect(await ws.list()).toHaveLength(1);
    expect(await ws.attemptBranches()).toEqual([]);
    await ws.close();
    expect(await ws.list()).toEqual([]);
    expect(git(top, 'worktree', 'list').split('\n')).toHaveLength(1);
  });

  it('a removed worktree is gone from its place at once, its files deleted beside the run; what a killed run left in the trash goes too', async () => {
    const { top, ws } = await pooled(1);
    const trash = join(top, '.git', 'bearing-trash');
    // A deletion a killed machine cut short.
    mkdirSync(join(trash, 'left', 'deep'), { recursive: true });
    writeFileSync(join(trash, 'left', 'deep', 'f.txt'), 'x');
    const sites = [];
    for (const id of ['a', 'b']) {
      sites.push(await ws.open({ task: makeTask({ id }), attempt: 1, othersRunning: none }));
    }
    await ws.release(sites.map((s) => s.worktree!));
    await ws.close();
    for (const site of sites) expect(existsSync(site.cwd)).toBe(false);
    expect(git(top, 'worktree', 'list').split('\n')).toHaveLength(1);
    expect(git(top, 'branch', '--list', 'bearing/*')).toBe('');
    // Nothing waits for the deletions: the test waits until the trash is empty.
    while (readdirSync(trash).length > 0) await delay(20);
  });

  it('keeps no spare that no attempt will take: fewer attempts expected, the extra spares go at once', async () => {
    const { top, ws } = await pooled(3);
    const sites = [];
    for (const id of ['a', 'b', 'c', 'd']) {
      sites.push(await ws.open({ task: makeTask({ id }), attempt: 1, othersRunning: none }));
    }
    await ws.release(sites.slice(0, 3).map((s) => s.worktree!));
    expect(await ws.list()).toHaveLength(4);
    await ws.expect(1);
    const spares = await ws.list();
    expect(spares.map((w) => w.branch ?? 'a spare').sort()).toEqual(['a spare', 'bearing/d/1']);
    // No attempt is expected at all: the last spare goes, and d's worktree
    // goes when released instead of being kept until the end.
    await ws.expect(0);
    expect((await ws.list()).map((w) => w.branch)).toEqual(['bearing/d/1']);
    await ws.release([sites[3]!.worktree!]);
    expect(await ws.list()).toEqual([]);
    expect(git(top, 'worktree', 'list').split('\n')).toHaveLength(1);
  });

  it('an attempt starting while another’s worktree is being retired waits for it instead of checking out a new one', async () => {
    const { ws } = await pooled(1);
    const a = await ws.open({ task: makeTask({ id: 'a' }), attempt: 1, othersRunning: none });
    const kept = inode(join(a.cwd, 'same.txt'));
    const releasing = ws.release([a.worktree!]);
    const b = await ws.open({ task: makeTask({ id: 'b' }), attempt: 1, othersRunning: none });
    await releasing;
    expect(inode(join(b.cwd, 'same.txt'))).toBe(kept);
  });

  it('a spare git will not check out over (a killed git left its index lock) is replaced by a new worktree', async () => {
    const { top, ws } = await pooled(1);
    const a = await ws.open({ task: makeTask({ id: 'a' }), attempt: 1, othersRunning: none });
    await ws.release([a.worktree!]);
    const [spare] = await ws.list();
    const index = git(spare!.path, 'rev-parse', '--path-format=absolute', '--git-path', 'index');
    writeFileSync(`${index}.lock`, '');
    const b = await ws.open({ task: makeTask({ id: 'b' }), attempt: 1, othersRunning: none });
    // git keeps a moved worktree's admin folder under its first name: a new one has b's.
    expect(git(b.cwd, 'rev-parse', '--git-dir')).toMatch(/worktrees\/b-1$/);
    expect(git(b.cwd, 'status', '--porcelain', '--ignored')).toBe('');
    expect((await ws.list()).map((w) => w.path)).toEqual([
      join(top, 'bearing/.state/worktrees/b-1'),
    ]);
  });

  it('an attempt starting while another’s work lands waits for that worktree, but not past its bound', async () => {
    const { ws } = await pooled(1);
    const a = await ws.open({ task: makeTask({ id: 'a' }), attempt: 1, othersRunning: none });
    const kept = inode(join(a.cwd, 'same.txt'));
    writeFileSync(join(a.cwd, 'a.txt'), 'a\n');
    const landing = a.land(landingMessage('a', 1, 's'), () => undefined);
    const b = await ws.open({ task: makeTask({ id: 'b' }), attempt: 1, othersRunning: none });
    expect((await landing).kind).toBe('landed');
    expect(inode(join(b.cwd, 'same.txt'))).toBe(kept);

    // A landing slowed by a hook (git runs post-merge after the fast-forward): not waited for past 200 ms.
    const slow = await pooled(1, 200);
    const hooks = git(slow.top, 'rev-parse', '--path-format=absolute', '--git-path', 'hooks');
    writeFileSync(join(hooks, 'post-merge'), '#!/bin/sh\nsleep 3\n', { mode: 0o755 });
    const c = await slow.ws.open({ task: makeTask({ id: 'c' }), attempt: 1, othersRunning: none });
    writeFileSync(join(c.cwd, 'c.txt'), 'c\n');
    let landed = false;
    const cLanding = c
      .land(landingMessage('c', 1, 's'), () => undefined)
      .then(() => {
        landed = true;
      });
    const d = await slow.ws.open({ task: makeTask({ id: 'd' }), attempt: 1, othersRunning: none });
    expect(landed).toBe(false);
    expect(git(d.cwd, 'rev-parse', '--git-dir')).toMatch(/worktrees\/d-1$/);
    await cLanding;
  });

  /** a's worktree, a spare once a is over, made ready for b as the next attempt: its path, and an inode of a's. */
  async function readyForB() {
    const made = await pooled(2);
    const { top, ws } = made;
    const a = await ws.open({ task: makeTask({ id: 'a' }), attempt: 1, othersRunning: none });
    const kept = inode(join(a.cwd, 'same.txt'));
    await ws.release([a.worktree!]);
    await ws.expect(5, [{ taskId: 'b', attempt: 1 }]);
    return { ...made, path: join(top, 'bearing/.state/worktrees/b-1'), kept };
  }

  it('the attempts the run opens next get a spare beforehand, which follows each landing beside the run', async () => {
    const { top, ws, path, kept } = await readyForB();
    // Ready before b opens: named for it, on its branch, the spare's files.
    expect(git(path, 'symbolic-ref', '--short', 'HEAD')).toBe('bearing/b/1');
    expect(inode(join(path, 'same.txt'))).toBe(kept);
    // Meanwhile c lands (in a new worktree: there is no other spare).
    const c = await ws.open({ task: makeTask({ id: 'c' }), attempt: 1, othersRunning: none });
    expect(c.cwd).not.toBe(path);
    writeFileSync(join(c.cwd, 'c.txt'), 'c\n');
    writeFileSync(join(c.cwd, 'a.txt'), 'changed by c\n');
    expect((await c.land(landingMessage('c', 1, 's'), () => undefined)).kind).toBe('landed');
    // Still next: b's worktree has caught up with c's landing before b opens.
    await ws.expect(5, [{ taskId: 'b', attempt: 1 }]);
    expect(git(path, 'rev-parse', 'bearing/b/1')).toBe(git(top, 'rev-parse', 'main'));
    expect(readFileSync(join(path, 'c.txt'), 'utf8')).toBe('c\n');
    expect(readFileSync(join(path, 'a.txt'), 'utf8')).toBe('changed by c\n');
    expect(inode(join(path, 'same.txt'))).toBe(kept);
    expect(git(path, 'status', '--porcelain', '--ignored')).toBe('');
    const b = await ws.open({ task: makeTask({ id: 'b' }), attempt: 1, othersRunning: none });
    expect(b.cwd).toBe(path);
    expect(b.worktree?.base).toBe(git(top, 'rev-parse', 'main'));
    writeFileSync(join(b.cwd, 'b.txt'), 'b\n');
    expect(await b.land(landingMessage('b', 1, 's'), () => undefined)).toMatchObject({
      kind: 'landed',
      files: ['b.txt'],
    });
  });

  it('a worktree made ready beforehand is brought up, when its attempt opens, to a commit the person made on the branch', async () => {
    const { top, ws, path, kept } = await readyForB();
    const base = git(path, 'rev-parse', 'bearing/b/1');
    writeFileSync(join(top, 'a.txt'), 'changed by hand\n');
    git(top, '-c', 'user.name=p', '-c', 'user.email=p@p', 'commit', '-q', '-am', 'mine');
    // No landing: nothing beside the run knows of it.
    expect(git(path, 'rev-parse', 'bearing/b/1')).toBe(base);
    const b = await ws.open({ task: makeTask({ id: 'b' }), attempt: 1, othersRunning: none });
    expect(b.cwd).toBe(path);
    expect(b.worktree?.base).toBe(git(top, 'rev-parse', 'main'));
    expect(git(path, 'rev-parse', 'bearing/b/1')).toBe(git(top, 'rev-parse', 'main'));
    expect(readFileSync(join(path, 'a.txt'), 'utf8')).toBe('changed by hand\n');
    expect(inode(join(path, 'same.txt'))).toBe(kept);
    expect(git(path, 'status', '--porcelain', '--ignored')).toBe('');
  });

  it('a worktree made ready for an attempt no longer next is a spare again, and an attempt opening now keeps the spare it may take', async () => {
    const { top, ws } = await pooled(2);
    const a = await ws.open({ task: makeTask({ id: 'a' }), attempt: 1, othersRunning: none });
    const kept = inode(join(a.cwd, 'same.txt'));
    await ws.release([a.worktree!]);
    await ws.expect(5, [{ taskId: 'b', attempt: 1 }]);
    await ws.expect(5, []);
    // b's worktree went back, without b's branch, and is the next one's.
    expect(await ws.list()).toEqual([{ path: join(top, 'bearing/.state/worktrees/.spare-2') }]);
    expect(await ws.attemptBranches()).toEqual([]);
    await ws.expect(5, [{ taskId: 'c', attempt: 1 }]);
    expect(inode(join(top, 'bearing/.state/worktrees/c-1/same.txt'))).toBe(kept);
    expect(await ws.attemptBranches()).toEqual(['bearing/c/1']);
    await ws.expect(5, []);
    expect(await ws.list()).toEqual([{ path: join(top, 'bearing/.state/worktrees/.spare-3') }]);
    expect(await ws.attemptBranches()).toEqual([]);
    // d starts, and in the same step the run names e as next: d keeps the one spare.
    const d = ws.open({ task: makeTask({ id: 'd' }), attempt: 1, othersRunning: none });
    const told = ws.expect(5, [{ taskId: 'e', attempt: 1 }]);
    const dSite = await d;
    expect(inode(join(dSite.cwd, 'same.txt'))).toBe(kept);
    await told;
    expect(existsSync(join(top, 'bearing/.state/worktrees/e-1'))).toBe(false);
    await ws.release([dSite.worktree!]);
    await ws.close();
    expect(await ws.list()).toEqual([]);
  });

  it('a later run takes over the spares a killed run left', async () => {
    const { top, repo, ws } = await pooled(2);
    const a = await ws.open({ task: makeTask({ id: 'a' }), attempt: 1, othersRunning: none });
    const kept = inode(join(a.cwd, 'same.txt'));
    await ws.release([a.worktree!]);
    // The run is killed here: its spare stays. The next run's workspace finds it.
    const next = new WorktreeWorkspace(
      repo,
      join(top, 'bearing/.state/worktrees'),
      { branch: 'main', checkedOut: true },
      { max: 2 },
    );
    await next.release(await next.list());
    const b = await next.open({ task: makeTask({ id: 'b' }), attempt: 1, othersRunning: none });
    expect(inode(join(b.cwd, 'same.txt'))).toBe(kept);
  });
});
