/**
 * Seeing a run from its agents' own events: live progress in state.json,
 * `bearing status --json` and `bearing watch`, the spend per task at the
 * end, and `run.notify` at the moments a person is needed. The fakes print
 * the reference outputs' events (tool calls and usage), held before their
 * final message until the test releases them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatusJson } from '../../src/core/status-report.js';
import { NODE, Project, tasksYaml, taskYaml, useRig, waitFor } from './rig.js';

useRig();

describe('live progress', () => {
  it('a running claude and codex task show turns, their tool and target, tokens and cost so far in status --json and watch; the end lists each task', async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([
        { id: 'db', prompt: '[[db]]' },
        { id: 'api', cli: 'codex', prompt: '[[api]]' },
      ]),
    });
    const release = join(p.home, 'release');
    p.scenarios([
      { match: '[[db]]', writeFiles: { 'src/db.js': 'db\n' }, releaseFile: release },
      { match: '[[api]]', writeFiles: { 'api.txt': 'api\n' }, releaseFile: release },
    ]);
    const run = p.start(['run', '--concurrency', '2']);
    // Saved at most once a second: wait for both to show their tool.
    await waitFor(() => {
      if (!existsSync(p.path('bearing/.state/state.json'))) return false;
      const s = p.state();
      return (
        s.tasks.db?.attempts.at(-1)?.progress?.tool?.name === 'Write' &&
        s.tasks.api?.attempts.at(-1)?.progress?.tool?.name === 'command'
      );
    }, 'both running attempts to record their tool calls');

    const status = await p.run(['status', '--json']);
    expect(status.code).toBe(0);
    const json = JSON.parse(status.stdout) as StatusJson;
    const db = json.tasks.find((t) => t.id === 'db')!;
    expect(db.status).toBe('running');
    expect(db.progress).toMatchObject({
      turns: 1,
      tool: { name: 'Write', target: 'src/db.js' },
      tokens: { input: 120, output: 1, cache_read: 10240, cache_write: 2048 },
      cost_estimated: true,
    });
    // The first message's tokens at Claude Code's sonnet prices.
    expect(db.progress!.cost_usd).toBeCloseTo(0.011127, 6);
    // codex: its command, no tokens before turn.completed, and no cost at all.
    expect(json.tasks.find((t) => t.id === 'api')!.progress).toEqual({
      turns: 0,
      tool: { name: 'command', target: 'cat > api.txt' },
      tokens: { input: 0, output: 0, cache_read: 0, cache_write: 0 },
      cost_usd: null,
      cost_estimated: false,
    });

    const watch = p.start(['watch', '--json']);
    await watch.waitForOutput(/"type":"progress","id":"db"/);
    const line = watch
      .stdout()
      .split('\n')
      .find((l) => l.includes('"type":"progress","id":"db"'))!;
    expect(JSON.parse(line)).toMatchObject({
      attempt: 1,
      progress: { turns: 1, tool: { name: 'Write', target: 'src/db.js' } },
    });
    const human = p.start(['watch']);
    await human.waitForOutput(/db: 1 turn · Write src\/db\.js · 12,409 tokens · ~\$0\.0111/);
    await human.waitForOutput(
      /api: 0 turns · command cat > api\.txt · 0 tokens · no cost reported/,
    );

    writeFileSync(release, '');
    const r = await run.done;
    expect(r.code).toBe(0);
    await watch.done;
    await human.done;
    // The end of the run: what each task cost, costliest first.
    // codex's figure is Bearing's estimate from its tokens, and so is part of the total.
    expect(r.stdout).toMatch(/this run took .* · ~\$0\.0257 · tokens /);
    expect(r.stdout).toMatch(/^ {2}db {3}\$0\.0234 · 1 attempt · \S+ · 24,896 tokens$/m);
    expect(r.stdout).toMatch(/^ {2}api {2}~\$0\.0023 · 1 attempt · \S+ · 5,132 tokens$/m);
    // An ended attempt keeps its final figures, not its live ones.
    expect(p.task('db').attempts[0]!.progress).toBeUndefined();
    expect(p.task('db').attempts[0]!.costUsd).toBe(0.023424);
    const summary = await p.run(['summary']);
    expect(summary.stdout).toMatch(
      /^Last run: took \S+, ~\$0\.0257, 2 attempts; tokens 3,240 input, 164 output, 22,528 cache read, 4,096 cache write$/m,
    );
    expect(summary.stdout).toMatch(/^ {2}by task: db \$0\.0234, api ~\$0\.0023$/m);
  });

  it('--json prints no progress events: scripts read them from status --json and watch --json', async () => {
    const p = await Project.create(
      { 'bearing/tasks/t.yaml': taskYaml({ id: 'db', prompt: 'x' }) },
      { scenarios: [{ writeFiles: { 'a.txt': 'a' } }] },
    );
    const r = await p.run(['run', '--json']);
    expect(r.code).toBe(0);
    const types = r.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types).not.toContain('progress');
    const end = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(end.tasks).toEqual([
      {
        id: 'db',
        cost_usd: 0.023424,
        cost_estimated: false,
        cost_unknown: false,
        tokens: { input: 240, output: 80, cache_read: 20480, cache_write: 4096 },
        attempts: 1,
        duration_ms: expect.any(Number),
      },
    ]);
  });
});

/** A project whose run.notify appends each call's arguments as a JSON line to a log. */
async function notifyProject(
  tasks: string,
  options: { exitCode?: number; config?: string } = {},
): Promise<{ p: Project; calls: () => string[][] }> {
  const p = await Project.create({ 'bearing/tasks/t.yaml': tasks });
  const log = join(p.home, 'notify.jsonl');
  const script = join(p.home, 'notify.mjs');
  writeFileSync(
    script,
    `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + '\\n');\nprocess.exit(${options.exitCode ?? 0});\n`,
  );
  const command = [NODE, script, '{event}', '{task}', '{message}'];
  p.write(
    'bearing/config.yaml',
    // The fake agents change no file: not what these tests are about.
    `defaults:\n  expect_changes: false\nrun:\n  notify: ${JSON.stringify(command)}\n${options.config ?? ''}`,
  );
  return {
    p,
    calls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as string[])
        : [],
  };
}

describe('run.notify', () => {
  it('a paused task, then the end of the run: two distinct events', async () => {
    const { p, calls } = await notifyProject(
      taskYaml({ id: 'schema', checkpoint: 'pause', prompt: 'x' }),
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(3);
    const got = calls();
    expect(got.map((c) => [c[0], c[1]])).toEqual([
      ['task-paused', 'schema'],
      ['run-end', ''],
    ]);
    expect(got[0]![2]).toContain('`bearing approve schema`');
    expect(got[1]![2]).toMatch(/^Paused after `schema`/);
  });

  it('a failure that stops the run, and an auth problem, each say so', async () => {
    const stopped = await notifyProject(
      taskYaml({ id: 'build', on_failure: 'stop', prompt: '[[crash]]' }),
    );
    stopped.p.scenarios([{ match: '[[crash]]', outcome: 'crash' }]);
    expect((await stopped.p.run(['run'])).code).toBe(1);
    expect(stopped.calls().map((c) => [c[0], c[1]])).toEqual([
      ['run-stopped', 'build'],
      ['run-end', ''],
    ]);

    const auth = await notifyProject(taskYaml({ id: 'login', prompt: '[[401]]' }));
    auth.p.scenarios([{ match: '[[401]]', outcome: 'api-401' }]);
    await auth.p.run(['run']);
    expect(auth.calls().map((c) => [c[0], c[1]])).toEqual([
      ['auth-error', 'login'],
      ['run-end', ''],
    ]);
  });

  it('a usage-limit wait says so when it starts; Ctrl-C then ends the run with no "needs you"', async () => {
    const { p, calls } = await notifyProject(taskYaml({ id: 'big', prompt: '[[limit]]' }));
    p.scenarios([
      {
        match: '[[limit]]',
        outcome: 'usage-limit',
        resetsAt: Math.floor(Date.now() / 1000) + 3600,
      },
    ]);
    const run = p.start(['run']);
    await waitFor(() => calls().length > 0, 'the limit-wait notification');
    expect(calls()[0]!.slice(0, 2)).toEqual(['limit-wait', '']);
    expect(calls()[0]![2]).toMatch(/^claude hit a usage limit \(.*\); its tasks wait until /);
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(130);
    expect(calls().map((c) => c[0])).toEqual(['limit-wait', 'run-end']);
  });

  it('a notify command that fails is reported once and changes nothing else', async () => {
    const { p, calls } = await notifyProject(
      tasksYaml([
        { id: 'a', checkpoint: 'pause', prompt: 'x' },
        { id: 'b', checkpoint: 'pause', prompt: 'y' },
      ]),
      { exitCode: 1, config: '  concurrency: 1\n' },
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(3);
    expect(calls().length).toBeGreaterThanOrEqual(2);
    const reported = `${r.stdout}${r.stderr}`.match(/run\.notify: `[^`]+` exited with code 1/g);
    expect(reported).toHaveLength(1);
    expect(p.task('a').status).toBe('awaiting-review');
  });
});
