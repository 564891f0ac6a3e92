/**
 * `bearing diff` end to end: in worktree mode the attempt's commit as git
 * shows it; in place the recorded files as they are now against HEAD (the
 * contents before the task are not kept), or only the list without git.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Project, tasksYaml, useRig, waitFor } from './rig.js';

useRig();

function git(p: Project, ...args: string[]): string {
  return execFileSync('git', args, { cwd: p.dir, encoding: 'utf8' }).trim();
}

describe('bearing diff', () => {
  it('in place: the files a task changed, added, modified and removed, with git diff against HEAD', async () => {
    const p = await Project.create({
      'x.txt': 'x = 1\n',
      'old.txt': 'old\n',
      'bearing/tasks/t.yaml': tasksYaml([
        {
          id: 'edit',
          cli: 'shell',
          run: 'rm old.txt && echo "x = 2" > x.txt && mkdir -p src && echo new > src/new.txt',
        },
      ]),
    });
    expect((await p.run(['run', '--isolation', 'none'])).code).toBe(0);
    const d = await p.run(['diff', 'edit']);
    expect(d.code).toBe(0);
    expect(d.stderr).toMatch(
      /^# edit, attempt 1 of 1 ran in the project folder\. Bearing records which files a task added, modified or removed, not their contents before it ran/,
    );
    const [list, patch] = d.stdout.split('\n\n');
    expect(list).toBe(['removed   old.txt', 'added     src/new.txt', 'modified  x.txt'].join('\n'));
    expect(patch).toContain('--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-old');
    expect(d.stdout).toContain('--- a/x.txt\n+++ b/x.txt\n@@ -1 +1 @@\n-x = 1\n+x = 2');
    expect(d.stdout).toContain('--- /dev/null\n+++ b/src/new.txt\n@@ -0,0 +1 @@\n+new');
    // Committed since: what the task did, and that the files are as in HEAD now; git has no diff.
    git(p, 'add', '-A', 'x.txt', 'old.txt', 'src');
    git(p, 'commit', '-qm', 'take it');
    const after = await p.run(['diff', 'edit']);
    expect(after.stdout).toBe(
      [
        'removed   old.txt',
        'added     src/new.txt (now as in HEAD)',
        'modified  x.txt (now as in HEAD)',
        '',
      ].join('\n'),
    );
    const json = JSON.parse((await p.run(['diff', 'edit', '--json'])).stdout);
    expect(json).toEqual({
      id: 'edit',
      attempt: 1,
      kind: 'files',
      git: true,
      files: [
        { path: 'old.txt', change: 'removed', now: 'absent' },
        { path: 'src/new.txt', change: 'added', now: 'unchanged' },
        { path: 'x.txt', change: 'modified', now: 'unchanged' },
      ],
    });
  });

  it('without git: only the list, and says why', async () => {
    const p = await Project.create(
      {
        'gone.txt': 'bye\n',
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'w', cli: 'shell', run: 'echo hi > made.txt && rm gone.txt' },
        ]),
      },
      { git: false },
    );
    expect((await p.run(['run'])).code).toBe(0);
    const d = await p.run(['diff', 'w']);
    expect(d.code).toBe(0);
    expect(d.stdout).toBe('removed   gone.txt\nadded     made.txt\n');
    expect(d.stderr).toMatch(
      /without git: Bearing records which files a task added, modified or removed/,
    );
  });

  it('in worktree mode: the commit that landed, as git shows it', async () => {
    const p = await Project.create(
      {
        'x.txt': 'x = 1\n',
        'bearing/tasks/t.yaml': tasksYaml([{ id: 'wt', prompt: '[[wt]]' }]),
      },
      {
        scenarios: [{ match: '[[wt]]', summary: 'Changed x.', writeFiles: { 'x.txt': 'x = 2\n' } }],
      },
    );
    expect((await p.run(['run', '--isolation', 'worktree'])).code).toBe(0);
    const landed = p.task('wt').attempts[0]!.worktree!.landing!.commit;
    expect(git(p, 'rev-parse', 'HEAD')).toBe(landed);
    const d = await p.run(['diff', 'wt']);
    expect(d.code).toBe(0);
    expect(d.stderr).toBe(`# wt, attempt 1 of 1: landed as commit ${landed.slice(0, 12)}\n`);
    expect(d.stdout).toBe(
      `${execFileSync('git', ['show', '--no-color', '--stat', '--patch', landed, '--'], { cwd: p.dir, encoding: 'utf8' })}`,
    );
    expect(d.stdout).toContain('    wt: Changed x.');
    expect(d.stdout).toContain('-x = 1\n+x = 2');
    const json = JSON.parse((await p.run(['diff', 'wt', '--json'])).stdout);
    expect(json).toMatchObject({ kind: 'commit', commit: landed, landed: true, files: ['x.txt'] });
  });

  it('in worktree mode, work that did not land: the commit kept on its branch', async () => {
    const p = await Project.create(
      {
        'x.txt': 'x = 0\n',
        'bearing/config.yaml': 'run:\n  conflict_retries: 0\n',
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'a', prompt: '[[a]]' },
          { id: 'b', prompt: '[[b]]' },
        ]),
      },
      {
        // a lands first; b started from the same base and conflicts with it.
        scenarios: [
          { match: '[[a]]', writeFiles: { 'x.txt': 'x = a\n' } },
          { match: '[[b]]', delayMs: 1500, writeFiles: { 'x.txt': 'x = b\n' } },
        ],
      },
    );
    expect((await p.run(['run', '--isolation', 'worktree', '--concurrency', '2'])).code).toBe(1);
    // Whichever landed second conflicts (b, unless a was slowed down by more than b's delay).
    const id = p.task('b').status === 'failed' ? 'b' : 'a';
    expect(p.task(id).failure).toMatchObject({ reason: 'merge-conflict' });
    const wt = p.task(id).attempts[0]!.worktree!;
    const d = await p.run(['diff', id]);
    expect(d.code).toBe(0);
    expect(d.stderr).toBe(
      `# ${id}, attempt 1 of 1: not landed, kept on branch ${wt.branch} as commit ${wt.commit!.slice(0, 12)}\n`,
    );
    expect(d.stdout).toMatch(new RegExp(`^commit ${wt.commit}\n`));
    expect(d.stdout).toContain(`-x = 0\n+x = ${id}`);
  });

  it('refuses a running attempt, a task that has not run, and an attempt that does not exist', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'stuck', prompt: '[[stuck]]' },
          { id: 'later', depends_on: ['stuck'], prompt: '[[later]]' },
        ]),
      },
      { scenarios: [{ match: '[[stuck]]', hang: true }] },
    );
    const run = p.start(['run']);
    await waitFor(
      () => p.calls().some((c) => (c.prompt ?? '').includes('[[stuck]]')),
      'the agent to start',
    );
    await waitFor(() => {
      try {
        return p.task('stuck').attempts[0]?.outcome === 'running';
      } catch {
        return false;
      }
    }, 'the attempt to be recorded');
    const running = await p.run(['diff', 'stuck']);
    expect(running.code).toBe(1);
    expect(running.stderr).toBe(
      'bearing diff: stuck, attempt 1 of 1 is still running; what it changed is known when it ends (`bearing log stuck -f` follows it)\n',
    );
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(130);
    const never = await p.run(['diff', 'later']);
    expect(never.code).toBe(1);
    expect(never.stderr).toBe('bearing diff: later has not run yet\n');
    const missing = await p.run(['diff', 'stuck', '--attempt', '3']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('bearing diff: stuck has no attempt 3; it has 1\n');
    // Interrupted with its run: measured as it ended.
    const cut = await p.run(['diff', 'stuck']);
    expect(cut.code).toBe(0);
    expect(cut.stdout).toBe('');
    expect(cut.stderr).toMatch(/^# stuck, attempt 1 of 1 changed no files \(interrupted: /);
  });
});
