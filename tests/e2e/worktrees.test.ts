/**
 * Worktree isolation end to end: the built bin, fake agents, a real git
 * repository, `--concurrency 4`. Every attempt works in its own worktree;
 * its work lands on the checked-out branch as one commit, in dependency
 * order, with conflicts re-run or kept for the person.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Project, tasksYaml, useRig, waitFor, writeExecutable } from './rig.js';

useRig();

function git(p: Project, ...args: string[]): string {
  return execFileSync('git', args, { cwd: p.dir, encoding: 'utf8' }).trim();
}

/** Subjects of the commits on main, oldest first, without the fixture's own. */
function landed(p: Project): string[] {
  return git(p, 'log', '--reverse', '--format=%s', 'main')
    .split('\n')
    .filter((s) => s !== 'fixture');
}

/** Worktrees git knows of, other than the main checkout. */
function extraWorktrees(p: Project): string[] {
  return git(p, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .slice(1);
}

describe('worktree isolation', () => {
  it('four tasks side by side each land exactly their own files, and a dependent sees all of them', async () => {
    const ids = ['a', 'b', 'c', 'd'];
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          ...ids.map((id) => ({ id, prompt: `[[${id}]] write ${id}.txt` })),
          {
            id: 'join',
            cli: 'shell',
            depends_on: ids,
            // Runs in its own worktree, started from everything that landed.
            run: 'cat a.txt b.txt c.txt d.txt > all.txt',
          },
        ]),
        'shared.txt': 'untouched\n',
      },
      {
        scenarios: ids.map((id) => ({
          match: `[[${id}]]`,
          delayMs: 800,
          summary: `Wrote ${id}.txt\nin detail`,
          writeFiles: { [`${id}.txt`]: `${id}\n` },
        })),
      },
    );
    const r = await p.run(['run', '--concurrency', '4']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/each in its own worktree, landing on main/);
    for (const id of ids) expect(p.task(id).filesChanged).toEqual([`${id}.txt`]);
    expect(p.task('join').filesChanged).toEqual(['all.txt']);
    expect(readFileSync(p.path('all.txt'), 'utf8')).toBe('a\nb\nc\nd\n');
    // Each ran in its own worktree, side by side.
    const cwds = ids.map((id) => p.callsFor(`[[${id}]]`)[0]!.cwd);
    expect(new Set(cwds).size).toBe(4);
    for (const cwd of cwds) expect(cwd).toContain(join('bearing', '.state', 'worktrees'));
    // One commit per task, named with the first line of its summary; join landed last.
    const subjects = landed(p);
    expect(subjects.slice(0, 4).sort()).toEqual(ids.map((id) => `${id}: Wrote ${id}.txt`));
    expect(subjects[4]).toBe('join: done');
    expect(subjects).toHaveLength(5);
    // The checkout followed, and nothing of Bearing's is left in git.
    expect(git(p, 'status', '--porcelain', '--untracked-files=no')).toBe('');
    expect(extraWorktrees(p)).toEqual([]);
    expect(git(p, 'branch', '--list', 'bearing/*')).toBe('');
  });

  it('a landing takes no agent’s place: at --concurrency 1 the next task starts while the last one’s work lands', async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([
        { id: 'a', cli: 'shell', run: 'echo a > a.txt' },
        {
          id: 'b',
          cli: 'shell',
          depends_on: [],
          run: 'date +%s%N > "$HOME/b-started"; echo b > b.txt',
        },
      ]),
    });
    // git runs post-merge after the fast-forward that lands work in the checkout: a slow landing.
    const hooks = git(p, 'rev-parse', '--path-format=absolute', '--git-path', 'hooks');
    writeExecutable(
      join(hooks, 'post-merge'),
      '#!/bin/sh\nsleep 3\ndate +%s%N >> "$HOME/landed"\n',
    );
    const r = await p.run(['run', '--concurrency', '1', '--isolation', 'worktree']);
    expect(r.code).toBe(0);
    const landings = readFileSync(join(p.home, 'landed'), 'utf8').trim().split('\n').map(Number);
    expect(landings).toHaveLength(2);
    const bStarted = Number(readFileSync(join(p.home, 'b-started'), 'utf8'));
    expect(bStarted).toBeLessThan(landings[0]!);
    expect(landed(p).sort()).toEqual(['a: done', 'b: done']);
  });

  it('a verify gate runs inside the worktree', async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([
        { id: 'one', prompt: '[[one]]', verify: 'test -f one.txt && pwd > "$HOME/gate-cwd"' },
        { id: 'two', prompt: '[[two]]' },
      ]),
    });
    p.scenarios([
      { match: '[[one]]', writeFiles: { 'one.txt': '1' } },
      { match: '[[two]]', writeFiles: { 'two.txt': '2' } },
    ]);
    expect((await p.run(['run', '--concurrency', '2'])).code).toBe(0);
    const gateCwd = readFileSync(join(p.home, 'gate-cwd'), 'utf8').trim();
    expect(gateCwd).toBe(p.callsFor('[[one]]')[0]!.cwd);
    expect(gateCwd).toContain(join('bearing', '.state', 'worktrees', 'one-1'));
  });

  it('work that conflicts with what landed meanwhile runs again from the new base, told about the conflict, and lands', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'first', prompt: '[[first]]' },
          { id: 'second', prompt: '[[second]]' },
        ]),
        'config.txt': 'port = 1\n',
      },
      {
        scenarios: [
          { match: '[[first]]', writeFiles: { 'config.txt': 'port = 2\n' } },
          {
            match: '[[second]]',
            delayMs: 1500,
            attempts: [
              { writeFiles: { 'config.txt': 'port = 3\n' } },
              { writeFiles: { 'config.txt': 'port = 3\n' }, summary: 'Rebuilt on first' },
            ],
          },
        ],
      },
    );
    const r = await p.run(['run', '--concurrency', '2']);
    expect(r.code).toBe(0);
    const second = p.task('second');
    expect(second.status).toBe('completed');
    expect(second.attempts.map((a) => a.outcome)).toEqual(['failed', 'completed']);
    expect(second.attempts[0]!.failure).toMatchObject({
      reason: 'merge-conflict',
      files: ['config.txt'],
      tasks: ['first'],
    });
    // The re-run started from the new base and was told what happened.
    const retry = p.promptOf('second', 2);
    expect(retry).toMatch(/conflicts with the work of first in config\.txt/);
    expect(retry).toMatch(/starts from the project as it is now, with that work in it/);
    expect(readFileSync(p.path('config.txt'), 'utf8')).toBe('port = 3\n');
    expect(landed(p)).toEqual(['first: Done.', 'second: Rebuilt on first']);
    expect(extraWorktrees(p)).toEqual([]);
  });

  it('a re-run that still conflicts fails with merge-conflict; its work is kept, and status.md says how to resolve it', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'a', prompt: '[[a]]' },
          { id: 'b', prompt: '[[b]]' },
          { id: 'c', prompt: '[[c]]' },
        ]),
        'x.txt': 'x = 0\n',
      },
      {
        // a lands at once. b and c conflict with it; b's re-run lands while
        // c's re-run (started from a's base) still works, so c conflicts again.
        scenarios: [
          { match: '[[a]]', writeFiles: { 'x.txt': 'x = a\n' } },
          {
            match: '[[b]]',
            attempts: [
              { delayMs: 1000, writeFiles: { 'x.txt': 'x = b\n' } },
              { delayMs: 1000, writeFiles: { 'x.txt': 'x = b2\n' } },
            ],
          },
          {
            match: '[[c]]',
            attempts: [
              { delayMs: 1000, writeFiles: { 'x.txt': 'x = c\n' } },
              { delayMs: 4000, writeFiles: { 'x.txt': 'x = c2\n' } },
            ],
          },
        ],
      },
    );
    const r = await p.run(['run', '--concurrency', '3']);
    expect(r.code).toBe(1);
    const c = p.task('c');
    expect(c.status).toBe('failed');
    expect(c.attempts).toHaveLength(2);
    expect(c.failure).toMatchObject({ reason: 'merge-conflict', files: ['x.txt'], tasks: ['b'] });
    // Its work is kept on its branch, in its worktree.
    const wt = c.attempts[1]!.worktree!;
    expect(readFileSync(join(wt.path, 'x.txt'), 'utf8')).toBe('x = c2\n');
    expect(git(p, 'log', '-1', '--format=%s', wt.branch)).toBe('c: Done.');
    const section = p.statusSection('c');
    expect(section).toContain(`git merge main`);
    expect(section).toContain(`cd ${wt.path}`);
    expect(section).toMatch(/bearing approve c/);
    expect(readFileSync(p.path('x.txt'), 'utf8')).toBe('x = b2\n');

    // Resolved by hand in its worktree, then approved: the next run lands it.
    const inWt = (...args: string[]) =>
      execFileSync('git', args, { cwd: wt.path, encoding: 'utf8', stdio: 'pipe' });
    try {
      inWt('-c', 'user.name=p', '-c', 'user.email=p@p', 'merge', '-q', 'main');
    } catch {
      // The conflict, as the person would see it.
    }
    writeFileSync(join(wt.path, 'x.txt'), 'x = resolved\n');
    inWt('add', 'x.txt');
    inWt('-c', 'user.name=p', '-c', 'user.email=p@p', 'commit', '-q', '--no-edit');
    const approve = await p.run(['approve', 'c']);
    expect(approve.code).toBe(0);
    const again = await p.run(['run', '--concurrency', '3']);
    expect(again.code).toBe(0);
    expect(p.task('c').status).toBe('completed');
    expect(p.task('c').attempts).toHaveLength(2);
    expect(readFileSync(p.path('x.txt'), 'utf8')).toBe('x = resolved\n');
    expect(p.task('c').filesChanged).toEqual(['x.txt']);
    expect(p.callsFor('[[c]]')).toHaveLength(2);
    expect(extraWorktrees(p)).toEqual([]);
  }, 60_000);

  it('a checkout with uncommitted changes to tracked files is refused with exit 2; bearing/ files do not count', async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([
        { id: 'a', prompt: '[[a]]' },
        { id: 'b', prompt: '[[b]]' },
      ]),
      'src/app.js': 'one\n',
    });
    p.write('src/app.js', 'edited\n');
    const r = await p.run(['run', '--concurrency', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^bearing run: the checkout has uncommitted changes to tracked files \(src\/app\.js\).*commit or stash them.*--isolation none.*Nothing was run\.\n$/,
    );
    expect(p.calls()).toEqual([]);
    expect(p.lockExists()).toBe(false);
    // A task file edited but not committed does not block a run.
    git(p, 'checkout', '--', 'src/app.js');
    p.write(
      'bearing/tasks/t.yaml',
      tasksYaml([
        { id: 'a', prompt: '[[a]] edited' },
        { id: 'b', prompt: '[[b]]' },
      ]),
    );
    expect((await p.run(['run', '--concurrency', '2'])).code).toBe(0);
  });

  it('a local edit in the way of a landing stops the run; the work lands next run without its agent', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'a', prompt: '[[a]]' },
          { id: 'b', prompt: '[[b]]' },
        ]),
        'app.txt': 'v1\n',
      },
      {
        scenarios: [
          { match: '[[a]]', delayMs: 1500, writeFiles: { 'app.txt': 'v2\n' } },
          { match: '[[b]]', writeFiles: { 'b.txt': 'b\n' } },
        ],
      },
    );
    const run = p.start(['run', '--concurrency', '2']);
    await waitFor(() => p.callsFor('[[a]]').length > 0, 'a to start');
    // The person edits, in the checkout, the file a is changing in its worktree.
    p.write('app.txt', 'my edit\n');
    const r = await run.done;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /`a` completed, but landing its work on main would overwrite local changes in the checkout \(app\.txt\)\. Commit or stash them, then `bearing run`; its work is kept and lands then, without running it again\./,
    );
    expect(readFileSync(p.path('app.txt'), 'utf8')).toBe('my edit\n');
    expect(p.task('a')).toMatchObject({ status: 'queued', land: { attempt: 1, reviewed: false } });
    expect(p.statusSection('a')).toMatch(/Waiting to land: the work of attempt 1/);
    git(p, 'checkout', '--', 'app.txt');
    const again = await p.run(['run', '--concurrency', '2']);
    expect(again.code).toBe(0);
    expect(readFileSync(p.path('app.txt'), 'utf8')).toBe('v2\n');
    expect(p.callsFor('[[a]]')).toHaveLength(1);
    expect(p.task('a')).toMatchObject({ status: 'completed', filesChanged: ['app.txt'] });
    expect(extraWorktrees(p)).toEqual([]);
  }, 60_000);

  it('with run.branch, work lands on that branch and the checkout is left alone', async () => {
    const p = await Project.create(
      {
        'bearing/config.yaml': 'run:\n  branch: agents\n  concurrency: 2\n',
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'a', prompt: '[[a]]' },
          { id: 'b', prompt: '[[b]]', depends_on: ['a'] },
        ]),
        'notes.txt': 'mine\n',
      },
      {
        scenarios: [
          { match: '[[a]]', writeFiles: { 'a.txt': 'a\n' } },
          { match: '[[b]]', writeFiles: { 'b.txt': 'b\n' } },
        ],
      },
    );
    p.write('notes.txt', 'my uncommitted edit\n');
    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/landing on agents/);
    expect(git(p, 'log', '--reverse', '--format=%s', 'agents').split('\n').slice(1)).toEqual([
      'a: Done.',
      'b: Done.',
    ]);
    expect(git(p, 'log', '--format=%s', 'main')).toBe('fixture');
    expect(existsSync(p.path('a.txt'))).toBe(false);
    expect(readFileSync(p.path('notes.txt'), 'utf8')).toBe('my uncommitted edit\n');
    expect(extraWorktrees(p)).toEqual([]);
  });

  /**
   * git calls the reference-transaction hook while it moves a branch; this one
   * holds the first move of main for a while (and lets it through, or makes git
   * abandon it), so that bearing can be killed in the middle of a landing.
   */
  async function landingProject(verdict: 'allow' | 'abort') {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'a', prompt: '[[a]]' },
          { id: 'b', prompt: '[[b]]' },
        ]),
      },
      {
        scenarios: [
          { match: '[[a]]', writeFiles: { 'a.txt': 'a\n' } },
          { match: '[[b]]', delayMs: 1500, writeFiles: { 'b.txt': 'b\n' } },
        ],
      },
    );
    const marker = join(p.home, 'landing');
    writeExecutable(
      p.path('.git/hooks/reference-transaction'),
      `#!/bin/sh
if [ "$1" = prepared ] && grep -q ' refs/heads/main$' && [ ! -e "${marker}" ]; then
  touch "${marker}"; sleep 2; exit ${verdict === 'allow' ? 0 : 1}
fi
exit 0
`,
    );
    const run = p.start(['run', '--concurrency', '2']);
    await waitFor(() => existsSync(marker), 'a landing in progress');
    run.child.kill('SIGKILL');
    await run.done;
    // git, started by the killed bearing, finishes what it was doing.
    await delay(2500);
    return p;
  }

  it('kill -9 while the branch moves, and the move goes through: the next run finds the work landed, once', async () => {
    const p = await landingProject('allow');
    expect(landed(p)).toEqual(['a: Done.']);
    const again = await p.run(['run', '--concurrency', '2']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /recovered after a crash or kill: a had finished and its work had landed/,
    );
    expect(landed(p).sort()).toEqual(['a: Done.', 'b: Done.']);
    // a's agent ran once: its landed work was recognised, not redone. b was
    // interrupted by the kill and ran again.
    expect(p.callsFor('[[a]]')).toHaveLength(1);
    expect(p.callsFor('[[b]]')).toHaveLength(2);
    expect(p.task('a')).toMatchObject({ status: 'completed', filesChanged: ['a.txt'] });
    expect(p.task('b').status).toBe('completed');
    expect(git(p, 'status', '--porcelain', '--untracked-files=no')).toBe('');
    expect(extraWorktrees(p)).toEqual([]);
  }, 60_000);

  it('kill -9 while the branch moves, and the move is abandoned: nothing is half-merged, and the work lands next run without its agent', async () => {
    const p = await landingProject('abort');
    expect(landed(p)).toEqual([]);
    const again = await p.run(['run', '--concurrency', '2']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /recovered after a crash or kill: a had finished; its work lands now/,
    );
    expect(landed(p).sort()).toEqual(['a: Done.', 'b: Done.']);
    expect(p.callsFor('[[a]]')).toHaveLength(1);
    expect(p.task('a')).toMatchObject({ status: 'completed', filesChanged: ['a.txt'] });
    expect(git(p, 'status', '--porcelain', '--untracked-files=no')).toBe('');
    expect(extraWorktrees(p)).toEqual([]);
  }, 60_000);
});
