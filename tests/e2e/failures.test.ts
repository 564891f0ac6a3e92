/**
 * Every failure reason through the real bin and the fake CLIs: what state.json
 * records, what status.md says, the exit code, and (for limits and auth) that
 * the run stops with the task still queued instead of hammering the API.
 */
import { chmodSync, existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Failure } from '../../src/core/failure.js';
import {
  isAlive,
  Project,
  readPidFile,
  tasksYaml,
  tempDir,
  trackGroupOf,
  useRig,
  waitFor,
  writeExecutable,
} from './rig.js';

useRig();

describe('task failures, one run', () => {
  it('records each reason, fails the task (no retries left), and the run goes on to the others', async () => {
    const home = tempDir();
    const timeoutPid = join(home, 'timeout-grandchild.pid');
    const idlePid = join(home, 'idle-grandchild.pid');
    const p = await Project.create(
      {
        'bearing/config.yaml': `agents:\n  broken:\n    command: broken-agent\n    args: ["{prompt}"]\n`,
        'tools/broken-agent': '#!/nonexistent/interpreter\necho never\n',
        'bearing/tasks/fail.yaml': tasksYaml(
          [
            { id: 'c-turns', max_turns: 3, prompt: '[[c-turns]]' },
            { id: 'c-budget', budget_usd: 0.02, prompt: '[[c-budget]]' },
            { id: 'c-denied', permission_mode: 'acceptEdits', prompt: '[[c-denied]]' },
            { id: 'c-noresult', prompt: '[[c-noresult]]' },
            { id: 'c-crash', prompt: '[[c-crash]]' },
            { id: 'wall', timeout: '2s', prompt: '[[wall]]' },
            { id: 'idle', cli: 'codex', timeout: '60s', idle_timeout: '1s', prompt: '[[idle]]' },
            { id: 'spawn', cli: 'broken', prompt: '[[spawn]]' },
            { id: 'sh-fail', cli: 'shell', run: 'echo to-stdout; ls /nonexistent-bearing-dir' },
            { id: 'after', depends_on: ['c-turns'], prompt: '[[after]]' },
          ],
          { retries: 0 },
        ),
      },
      {
        scenarios: [
          { match: '[[c-turns]]', outcome: 'max-turns' },
          { match: '[[c-budget]]', outcome: 'max-budget', costUsd: 0.0213 },
          {
            match: '[[c-denied]]',
            outcome: 'permission-denied',
            summary: 'I wrote hello.txt (I did not).',
            writeFiles: { 'hello.txt': 'hi\n' },
          },
          { match: '[[c-noresult]]', outcome: 'no-result', summary: 'half way' },
          { match: '[[c-crash]]', outcome: 'crash', message: 'segfault in the agent' },
          { match: '[[wall]]', hang: true, grandchildPidFile: timeoutPid },
          { match: '[[idle]]', hang: true, grandchildPidFile: idlePid },
        ],
      },
    );
    chmodSync(p.path('tools/broken-agent'), 0o755);
    const env = { PATH: `${p.path('tools')}:${p.env.PATH}` };

    const run = p.start(['run'], { env });
    // Record the hanging agents' groups so a failing test still cleans them up.
    for (const file of [timeoutPid, idlePid]) {
      void readPidFile(file, 50_000).then(trackGroupOf, () => {});
    }
    const r = await run.done;
    expect(r.code).toBe(1);
    const state = p.state();
    const failure = (id: string): Failure | undefined => state.tasks[id]?.failure;
    for (const id of Object.keys(state.tasks).filter((t) => t !== 'after')) {
      expect([id, state.tasks[id]!.status]).toEqual([id, 'failed']);
      expect(state.tasks[id]!.attempts).toHaveLength(1);
    }

    expect(failure('c-turns')).toEqual({
      reason: 'max-turns',
      message: 'Reached maximum number of turns (3)',
      turns: 4,
    });
    expect(failure('c-budget')).toEqual({
      reason: 'budget-exceeded',
      message: 'Reached maximum budget ($0.02)',
      costUsd: 0.0213,
    });
    expect(state.tasks['c-budget']!.costUsd).toBe(0.0213);

    // Permission denied: claude exited 0 and said success, but the task is not completed.
    expect(failure('c-denied')).toMatchObject({ reason: 'permission-denied', tools: ['Write'] });
    expect(state.tasks['c-denied']!.attempts[0]!.exitCode).toBe(0);
    expect(existsSync(p.path('hello.txt'))).toBe(false);

    expect(failure('c-noresult')).toMatchObject({ reason: 'agent-exit', exitCode: 1 });
    expect(state.tasks['c-noresult']!.attempts[0]!.summary).toBe('half way');
    expect(failure('c-crash')).toMatchObject({ reason: 'agent-exit', exitCode: 1 });
    // Why it crashed is only on stderr: the failure must say it.
    expect((failure('c-crash') as { message: string }).message).toContain('segfault in the agent');

    // Outages (529, 500, a dropped stream) are not the task's failures: tests/e2e/outages.test.ts.

    expect(failure('wall')).toEqual({ reason: 'agent-timeout', kind: 'wall', afterMs: 2000 });
    expect(failure('idle')).toEqual({ reason: 'agent-timeout', kind: 'idle', afterMs: 1000 });
    // The whole group went, grandchildren included.
    for (const file of [timeoutPid, idlePid]) {
      const pid = Number(readFileSync(file, 'utf8'));
      expect(isAlive(pid)).toBe(false);
    }
    // The session id seen before the hang is kept (a retry could resume it).
    expect(state.tasks.wall!.sessionId).toMatch(/^[0-9a-f-]{36}$/);

    expect(failure('spawn')).toMatchObject({ reason: 'spawn-error', command: 'broken-agent' });
    expect((failure('spawn') as { message: string }).message).toMatch(/ENOENT/);

    // A shell step's error is on stderr: it is part of the recorded output.
    expect(failure('sh-fail')).toMatchObject({ reason: 'command-failed', exitCode: 2 });
    const shOutput = (failure('sh-fail') as { output: string }).output;
    expect(shOutput).toContain('to-stdout');
    expect(shOutput).toContain('/nonexistent-bearing-dir');
    expect(p.statusSection('sh-fail')).toContain('Command output:');

    // The dependent of a failed task was never started, and says why.
    expect(state.tasks.after).toBeUndefined();
    expect(p.callsFor('[[after]]')).toHaveLength(0);

    // status.md: progress, and each failure with what to do.
    expect(p.statusLine('Progress')).toBe('0/10 completed, 9 failed, 1 queued');
    const turns = p.statusSection('c-turns');
    expect(turns).toContain(
      '- Error: turn limit reached after 4 turns: Reached maximum number of turns (3)',
    );
    expect(turns).toContain(
      '- What to do: raise max_turns or split the task, then `bearing retry c-turns`',
    );
    expect(p.statusSection('c-denied')).toContain(
      '- Error: agent was denied permission for Write: claude reported success but 1 tool call(s) were denied',
    );
    expect(p.statusSection('wall')).toContain('- Error: timed out after 2s (timeout)');
    expect(p.statusSection('idle')).toContain('- Error: no output for 1s (idle_timeout)');
    expect(p.statusSection('spawn')).toContain(
      '- What to do: check that `broken-agent` is installed and can run, then `bearing retry spawn`',
    );
    expect(p.statusSection('after')).toContain('- State: [queued]; blocked: `c-turns` failed');
    expect(p.statusMd()).toContain('Blocked by it: after.');
    expect(r.stdout).toMatch(/✖ c-turns failed: turn limit reached after 4 turns/);
  }, 60_000);
});

describe('limits (with run.wait_for_limits: false) and authentication stop the run; the task stays queued', () => {
  const cases: {
    name: string;
    cli: 'claude' | 'codex';
    outcome: string;
    reason: Failure['reason'];
    next: RegExp;
    resetsAt?: number;
  }[] = [
    {
      name: 'claude api 429',
      cli: 'claude',
      outcome: 'api-429',
      reason: 'rate-limited',
      next: /^Stopped: claude hit a usage or rate limit while running `first`\. `first` stays queued: run `bearing run` again once the limit resets\.$/,
    },
    {
      name: 'claude usage limit',
      cli: 'claude',
      outcome: 'usage-limit',
      reason: 'rate-limited',
      resetsAt: 1_900_000_000,
      next: /^Stopped: claude hit a usage or rate limit \(resets 2030-03-17T17:46:40\.000Z\) while running `first`\. `first` stays queued/,
    },
    {
      name: 'claude api 401',
      cli: 'claude',
      outcome: 'api-401',
      reason: 'auth-error',
      next: /^Stopped: claude could not authenticate while running `first` \(.*\)\. Log the CLI in, then `bearing run`; `first` stays queued\.$/,
    },
    {
      name: 'codex http 429',
      cli: 'codex',
      outcome: 'http-429',
      reason: 'rate-limited',
      next: /^Stopped: codex hit a usage or rate limit while running `first`/,
    },
    {
      name: 'codex usage limit',
      cli: 'codex',
      outcome: 'usage-limit',
      reason: 'rate-limited',
      next: /^Stopped: codex hit a usage or rate limit while running `first`/,
    },
    {
      name: 'codex http 401',
      cli: 'codex',
      outcome: 'http-401',
      reason: 'auth-error',
      next: /^Stopped: codex could not authenticate while running `first`/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const p = await Project.create(
        {
          // Auth errors stop the run whatever the setting; limits only when told not to wait.
          ...(c.reason === 'rate-limited'
            ? { 'bearing/config.yaml': 'run:\n  wait_for_limits: false\n' }
            : {}),
          'bearing/tasks/t.yaml': tasksYaml([
            { id: 'first', cli: c.cli, prompt: '[[first]]' },
            { id: 'second', cli: 'claude', prompt: '[[second]]' },
          ]),
        },
        {
          scenarios: [
            {
              match: '[[first]]',
              outcome: c.outcome,
              ...(c.resetsAt ? { resetsAt: c.resetsAt } : {}),
            },
          ],
        },
      );
      const r = await p.run(['run']);
      expect(r.code).toBe(1);
      const first = p.task('first');
      expect(first.status).toBe('queued');
      expect(first.failure?.reason).toBe(c.reason);
      expect(first.attempts).toHaveLength(1);
      // Not hammered, and nothing else started after it.
      expect(p.callsFor('[[first]]')).toHaveLength(1);
      expect(p.callsFor('[[second]]')).toHaveLength(0);
      expect(p.state().tasks.second).toBeUndefined();
      expect(p.statusLine('Next')).toMatch(c.next);
      expect(r.stdout).toMatch(/first .*; it stays queued/);
      expect(p.lockExists()).toBe(false);
    });
  }
});

describe('waiting for a usage limit (the default)', () => {
  it("holds that CLI's tasks until the reset while other CLIs' tasks go on; Ctrl-C ends the wait (130)", async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 3600;
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'first', prompt: '[[first]]' },
          { id: 'second', prompt: '[[second]]' },
          { id: 'other-cli', cli: 'codex', prompt: '[[other-cli]]' },
        ]),
      },
      { scenarios: [{ match: '[[first]]', outcome: 'usage-limit', resetsAt }] },
    );
    const run = p.start(['run']);
    await run.waitForOutput(
      /claude hit a usage or rate limit \(.*\); its tasks wait until \d\d:\d\d:\d\d, then the run goes on \(Ctrl-C to stop\)/,
    );
    await run.waitForOutput(/✔ other-cli completed/);
    expect(p.task('first')).toMatchObject({ status: 'queued' });
    expect(p.task('first').failure?.reason).toBe('rate-limited');
    // Not hammered: one call, and the other claude task waits too.
    expect(p.callsFor('[[first]]')).toHaveLength(1);
    expect(p.callsFor('[[second]]')).toHaveLength(0);
    const until = new Date(resetsAt * 1000 + 30_000).toISOString();
    // The run is active: no `bearing run` (it would exit 4).
    const waiting = `): follow it with \`bearing watch\`. Waiting: claude hit a usage or rate limit (You've hit your limit · resets 1pm (Europe/Lisbon)); its tasks go on at ${until}. Nothing to do: the run goes on by itself (Ctrl-C stops it).`;
    const active = `A run is active (pid ${run.pid}, since `;
    // status.md is rewritten once the loop has taken the task's end in.
    await waitFor(
      () => p.statusLine('Next').startsWith(active) && p.statusLine('Next').endsWith(waiting),
      `status.md to say: ${active}...${waiting}`,
      10_000,
    );
    expect(p.lockExists()).toBe(true);

    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(p.task('first').status).toBe('queued');
    expect(p.state().tasks.second).toBeUndefined();
    expect(p.lockExists()).toBe(false);
  });
});

describe('CLIs that are not there', () => {
  it('a missing CLI is reported before anything starts: exit 5, install hint, nothing ran', async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([
        { id: 'a', cli: 'claude', prompt: '[[a]]' },
        { id: 'b', cli: 'codex', prompt: '[[b]]' },
        { id: 'c', cli: 'shell', run: 'touch ran.txt' },
      ]),
    });
    // PATH with neither the fakes nor any real agent CLI installed on this machine.
    const bin = tempDir();
    for (const tool of ['sh', 'git']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
    const r = await p.run(['run'], { env: { PATH: bin } });
    expect(r.code).toBe(5);
    expect(r.stderr).toBe(
      [
        'bearing run: `claude` is not installed or not on PATH (needed by a). Install it: npm install -g @anthropic-ai/claude-code',
        'bearing run: `codex` is not installed or not on PATH (needed by b). Install it: npm install -g @openai/codex',
        'Nothing was run.',
        '',
      ].join('\n'),
    );
    expect(r.stdout).toBe('');
    expect(existsSync(p.path('ran.txt'))).toBe(false);
    expect(existsSync(p.path('bearing/.state/state.json'))).toBe(false);
    expect(p.lockExists()).toBe(false);
    expect(p.calls()).toHaveLength(0);
  });

  it('a custom agent that is on PATH but not executable counts as missing (exit 5)', async () => {
    const p = await Project.create({
      'bearing/config.yaml': `agents:\n  mine:\n    command: my-agent\n    install_hint: pipx install my-agent\n`,
      'tools/my-agent': '#!/bin/sh\necho hi\n',
      'bearing/tasks/t.yaml': tasksYaml([{ id: 'a', cli: 'mine', prompt: 'x' }]),
    });
    const r = await p.run(['run'], { env: { PATH: `${p.path('tools')}:${p.env.PATH}` } });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(
      'bearing run: `my-agent` is not installed or not on PATH (needed by a). Install it: pipx install my-agent',
    );
  });

  it('a CLI that disappears during the run: the task is not started, and the run says why', async () => {
    const p = await Project.create({
      'bearing/config.yaml': `agents:\n  mine:\n    command: my-agent\n`,
      'bearing/tasks/t.yaml': tasksYaml([
        { id: 'remove', cli: 'shell', run: 'rm tools/my-agent && echo removed' },
        { id: 'use', cli: 'mine', depends_on: ['remove'], prompt: 'x' },
      ]),
    });
    writeExecutable(p.path('tools/my-agent'), '#!/bin/sh\necho hi\n');
    const r = await p.run(['run'], { env: { PATH: `${p.path('tools')}:${p.env.PATH}` } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'use needs `my-agent` (mine), which is not installed: install `my-agent` and make sure it is on PATH. Skipping it for now.',
    );
    expect(p.state().tasks.use).toBeUndefined();
    const next = p.statusLine('Next');
    expect(next).toContain('`use` could not start: `my-agent` is not installed or not on PATH');
    expect(next).not.toMatch(/^Next: /);
  });
});
