/**
 * Every "what to do" Bearing prints must be a command that works at that
 * moment. For each situation a user can meet (a log-in stop, a usage limit,
 * a wait inside an active run, failed tasks, review, interrupts, a missing
 * CLI, broken task files, every stop reason), this builds the situation,
 * reads status.md, `bearing summary`, `bearing status` and `status --json`,
 * takes every backticked `bearing ...` command they advise, and runs each one
 * with the built bin on a copy of the project as it is at that moment (after
 * the human step the advice asks for, such as logging in).
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nextStep, type StopReason } from '../../src/core/next-step.js';
import type { RunState } from '../../src/core/state.js';
import { renderStatusMarkdown } from '../../src/core/status-report.js';
import { acquireRunLock, type Lock } from '../../src/state/lock.js';
import { loadProject } from '../../src/tasks/load.js';
import {
  Project,
  type RunResult,
  startBin,
  tasksYaml,
  tempDir,
  useRig,
  waitFor,
  writeExecutable,
} from './rig.js';

useRig();

const held: Lock[] = [];
afterEach(() => {
  for (const l of held.splice(0)) l.release();
});

/** Every backticked `bearing ...` command in a text, once each, in order. */
function commandsIn(text: string): string[] {
  return [...new Set([...text.matchAll(/`(bearing [^`]*)`/g)].map((m) => m[1]!))];
}

interface Advice {
  /** status.md, summary, status, status --json. */
  texts: Record<string, string>;
  commands: string[];
  summaryNext: string;
}

async function adviceOf(
  p: Project,
  env: Record<string, string> = {},
  options: { statusMd?: boolean } = {},
): Promise<Advice> {
  const texts: Record<string, string> = {};
  try {
    if (options.statusMd !== false) texts['status.md'] = p.statusMd();
  } catch {
    // Not written yet (nothing has run).
  }
  const run = (args: string[]): Promise<RunResult> => p.run(args, { env });
  const summary = await run(['summary']);
  const status = await run(['status']);
  const json = await run(['status', '--json']);
  for (const r of [summary, status, json]) {
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect([0, 2]).toContain(r.code);
  }
  texts.summary = summary.stdout;
  texts.status = status.stdout;
  const parsed = JSON.parse(json.stdout) as {
    next: string;
    tasks: { error: { advice: string } | null }[];
  };
  texts.json = [parsed.next, ...parsed.tasks.map((t) => t.error?.advice ?? '')].join('\n');
  const commands = [...new Set(Object.values(texts).flatMap(commandsIn))];
  // "Next:" and the lines indented under it.
  const lines = summary.stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith('Next: '));
  const rest = lines.slice(at + 1);
  const end = rest.findIndex((l) => !l.startsWith('      '));
  const summaryNext =
    at < 0 ? '' : [lines[at], ...rest.slice(0, end < 0 ? undefined : end)].join('\n');
  return { texts, commands, summaryNext };
}

interface CheckOptions {
  /** Environment for the commands (e.g. PATH with the CLI now installed). */
  env?: Record<string, string>;
  /** Task files are invalid: `bearing validate` exits 2 to list the problems, as it should. */
  invalidFiles?: boolean;
}

function attemptCount(dir: string): number {
  try {
    const state = JSON.parse(
      readFileSync(join(dir, 'bearing/.state/state.json'), 'utf8'),
    ) as RunState;
    return Object.values(state.tasks).reduce((n, r) => n + r.attempts.length, 0);
  } catch {
    return 0;
  }
}

/** Runs one advised command on a fresh copy of the project; returns what went wrong, if anything. */
async function tryCommand(
  p: Project,
  command: string,
  options: CheckOptions,
): Promise<string | undefined> {
  const copy = tempDir('bearing-advice-');
  cpSync(p.dir, copy, { recursive: true });
  const args = command.split(/\s+/).slice(1);
  if (args.some((a) => a.startsWith('<'))) return `${command}: a placeholder, not a command`;
  const env = { ...p.env, ...options.env };
  const before = attemptCount(copy);
  const child = startBin(args, { cwd: copy, env, timeoutMs: 60_000 });
  if (args[0] === 'watch') {
    // It follows the run until it ends: it works if it finds the run.
    try {
      await child.waitForOutput(/run active/, 10_000);
    } catch {
      child.child.kill('SIGINT');
      const r = await child.done;
      return `${command}: found no active run: ${r.stdout}${r.stderr}`;
    }
    child.child.kill('SIGINT');
    await child.done;
    return undefined;
  }
  const r = await child.done;
  const said = `${r.stdout}${r.stderr}`.trim();
  const what = `${command}: exit ${r.code}: ${said.slice(0, 400)}`;
  if (/^ {4}at /m.test(said)) return `${what} (a stack trace)`;
  if (/already queued|is running; wait/.test(said)) return what;
  if (r.code === 0) return undefined;
  if (args[0] === 'run' && r.code === 3) return undefined; // paused at a checkpoint: fine
  // A run that did work but ends with a task still failed exits 1: it worked.
  if (args[0] === 'run' && r.code === 1 && attemptCount(copy) > before) return undefined;
  if (args[0] === 'validate' && r.code === 2 && options.invalidFiles) return undefined;
  return what;
}

async function expectAllWork(p: Project, advice: Advice, options: CheckOptions = {}) {
  expect(advice.commands.length, JSON.stringify(advice.texts, null, 2)).toBeGreaterThan(0);
  const problems: string[] = [];
  for (const command of advice.commands) {
    const problem = await tryCommand(p, command, options);
    if (problem) problems.push(problem);
  }
  expect(problems, JSON.stringify(advice.texts, null, 2)).toEqual([]);
}

function expectNoRunAdvice(advice: Advice): void {
  expect(advice.commands.filter((c) => /^bearing run\b/.test(c))).toEqual([]);
}

describe('advice after a run has stopped', () => {
  it('a log-in failure: summary says to log the CLI in; the task stays queued, so no retry', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'cx', prompt: '[[cx]]' },
          { id: 'second', prompt: '[[second]]' },
        ]),
      },
      { scenarios: [{ match: '[[cx]]', outcome: 'api-401' }] },
    );
    expect((await p.run(['run'])).code).toBe(1);
    expect(p.task('cx').status).toBe('queued');
    const advice = await adviceOf(p);
    expect(advice.summaryNext).toMatch(/claude could not (log in|authenticate)/);
    expect(advice.summaryNext).toMatch(/log (it|the CLI|claude) in/i);
    expect(advice.commands).not.toContain('bearing retry cx');
    p.scenarios([]); // the person logs in
    await expectAllWork(p, advice);
  });

  it('a usage limit with wait_for_limits off: wait for the reset, then `bearing run`', async () => {
    const p = await Project.create(
      {
        'bearing/config.yaml': 'run:\n  wait_for_limits: false\n',
        'bearing/tasks/t.yaml': tasksYaml([{ id: 'cx', prompt: '[[cx]]' }]),
      },
      { scenarios: [{ match: '[[cx]]', outcome: 'usage-limit', resetsAt: 1_900_000_000 }] },
    );
    expect((await p.run(['run'])).code).toBe(1);
    const advice = await adviceOf(p);
    expect(advice.summaryNext).toMatch(/usage or rate limit/);
    expect(advice.summaryNext).toContain('2030-03-17T17:46:40.000Z');
    expect(advice.commands).not.toContain('bearing retry cx');
    p.scenarios([]); // the limit has reset
    await expectAllWork(p, advice);
  });

  it('failed tasks (turn limit, verify gate, shell command, crash), a blocked dependent and a skipped task', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml(
          [
            { id: 'turns', prompt: '[[turns]]' },
            { id: 'gate', prompt: '[[gate]]', verify: 'echo gate-says-no; exit 3' },
            { id: 'sh', cli: 'shell', run: 'echo sh-says-no; exit 4' },
            { id: 'crash', prompt: '[[crash]]' },
            { id: 'skipper', prompt: '[[skipper]]', on_failure: 'skip' },
            { id: 'after', depends_on: ['turns'], prompt: '[[after]]' },
          ],
          { retries: 0 },
        ),
      },
      {
        scenarios: [
          { match: '[[turns]]', outcome: 'max-turns' },
          { match: '[[crash]]', outcome: 'crash' },
          { match: '[[skipper]]', outcome: 'crash' },
        ],
      },
    );
    expect((await p.run(['run'])).code).toBe(1);
    const advice = await adviceOf(p);
    expect(advice.commands).toEqual(
      expect.arrayContaining(['bearing retry turns', 'bearing log gate --verify']),
    );
    await expectAllWork(p, advice);
  });

  it('awaiting review after checkpoint: pause, and after on_failure: pause', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'risky', prompt: '[[risky]]', on_failure: 'pause' },
          { id: 'design', prompt: '[[design]]', checkpoint: 'pause' },
          { id: 'build', depends_on: ['design'], prompt: '[[build]]' },
        ]),
      },
      { scenarios: [{ match: '[[risky]]', outcome: 'crash' }] },
    );
    // Side by side, so both reach review before the run pauses.
    expect((await p.run(['run', '--concurrency', '2'])).code).toBe(3);
    const advice = await adviceOf(p);
    expect(advice.commands).toEqual(
      expect.arrayContaining(['bearing approve design', 'bearing approve risky']),
    );
    await expectAllWork(p, advice);
  });

  it('on_failure: stop', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'critical', prompt: '[[critical]]', on_failure: 'stop' },
          { id: 'later', prompt: '[[later]]' },
        ]),
      },
      { scenarios: [{ match: '[[critical]]', outcome: 'crash' }] },
    );
    expect((await p.run(['run'])).code).toBe(1);
    const advice = await adviceOf(p);
    expect(advice.commands).toContain('bearing retry critical');
    p.scenarios([]);
    await expectAllWork(p, advice);
  });

  it('interrupted with Ctrl-C', async () => {
    const p = await Project.create(
      { 'bearing/tasks/t.yaml': tasksYaml([{ id: 'long', prompt: '[[long]]' }]) },
      { scenarios: [{ match: '[[long]]', hang: true }] },
    );
    const run = p.start(['run']);
    await run.waitForOutput(/long started/);
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(130);
    const advice = await adviceOf(p);
    expect(advice.commands).toContain('bearing run');
    p.scenarios([]);
    await expectAllWork(p, advice);
  });

  it('a CLI that is not installed: readers name it, and `bearing run` works once it is', async () => {
    const p = await Project.create({
      'bearing/config.yaml': 'agents:\n  mine:\n    command: my-agent\n    output: text\n',
      'bearing/tasks/t.yaml': tasksYaml([{ id: 'own', cli: 'mine', prompt: '[[own]]' }]),
    });
    expect((await p.run(['run'])).code).toBe(5);
    const advice = await adviceOf(p);
    expect(advice.summaryNext).toContain('`my-agent` is not installed');
    // The person installs it.
    const bin = tempDir('bearing-advice-bin-');
    writeExecutable(join(bin, 'my-agent'), '#!/bin/sh\necho done\n');
    await expectAllWork(p, advice, { env: { PATH: `${bin}:${p.env.PATH}` } });
  });

  it('task files that do not validate: no `bearing run` (it would exit 2)', async () => {
    const p = await Project.create(
      {
        // The run stops with `next` still to run, so its last words advise `bearing run`.
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'bad', prompt: '[[bad]]', on_failure: 'stop' },
          { id: 'next', prompt: '[[next]]' },
        ]),
      },
      { scenarios: [{ match: '[[bad]]', outcome: 'crash' }] },
    );
    expect((await p.run(['run'])).code).toBe(1);
    p.write('bearing/tasks/later.yaml', 'id: later\nprompt: later\n');
    p.write('bearing/tasks/broken.yaml', 'id: broken\nprompt: hi\nmodle: x\n');
    // status.md is what the run saw when it ended (its "Updated:" line says when);
    // nothing rewrites it for an edit made after the run. The readers look now.
    const advice = await adviceOf(p, {}, { statusMd: false });
    expect(advice.summaryNext).toContain('`bearing validate`');
    expectNoRunAdvice(advice);
    await expectAllWork(p, advice, { invalidFiles: true });
  });
});

describe('advice while a run is active', () => {
  it('a run waiting for a usage limit: follow it with `bearing watch`, never `bearing run`', async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 3600;
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'first', prompt: '[[first]]' },
          { id: 'second', prompt: '[[second]]' },
          { id: 'failing', cli: 'shell', run: 'exit 4', retries: 0 },
        ]),
      },
      { scenarios: [{ match: '[[first]]', outcome: 'usage-limit', resetsAt }] },
    );
    const run = p.start(['run']);
    await waitFor(
      () => {
        try {
          return p.statusLine('Next').includes('Waiting');
        } catch {
          return false;
        }
      },
      'status.md to say the run waits',
      20_000,
    );
    const advice = await adviceOf(p);
    expect(advice.summaryNext).toContain(`A run is active (pid ${run.pid}`);
    expect(advice.summaryNext).toContain('`bearing watch`');
    expectNoRunAdvice(advice);
    await expectAllWork(p, advice);
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(130);
  });

  for (const kind of ['limit', 'outage'] as const) {
    it(`a ${kind} wait recorded by the run holding the lock: readers say what it waits for and until when`, async () => {
      const p = await Project.create({
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'cx', prompt: '[[cx]]' },
          { id: 'done-one', prompt: '[[done]]' },
        ]),
      });
      const lock = await acquireRunLock(p.dir, { hostLock: false });
      if (!lock.ok) throw new Error(lock.error.message);
      held.push(lock.value);
      const at = new Date().toISOString();
      const until = new Date(Date.now() + 3_600_000).toISOString();
      const failure =
        kind === 'limit'
          ? { reason: 'rate-limited' as const, message: "You've hit your limit" }
          : { reason: 'agent-error' as const, message: 'Overloaded', apiStatus: 529 };
      const state: RunState = {
        version: 1,
        tasks: {
          cx: {
            id: 'cx',
            status: 'queued',
            attempts: [{ attempt: 1, startedAt: at, endedAt: at, outcome: 'failed', failure }],
            failure,
            costUsd: 0,
            usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
            turns: 0,
            durationMs: 0,
            updatedAt: at,
          },
        },
        lastRun: {
          startedAt: at,
          pid: process.pid,
          waits: [{ cli: 'claude', kind, until, message: failure.message }],
        },
      };
      p.write('bearing/.state/state.json', JSON.stringify(state));
      // As the run leaves it: every attempt has its directory and output.
      p.write('bearing/.state/runs/cx/1/stdout.log', '');
      const advice = await adviceOf(p);
      expect(advice.summaryNext).toContain(`A run is active (pid ${process.pid}`);
      expect(advice.summaryNext).toContain(until);
      expect(advice.summaryNext).toContain(failure.message);
      expectNoRunAdvice(advice);
      await expectAllWork(p, advice);
    });
  }
});

describe('every stop reason, as the run writes it into status.md', () => {
  const stops: StopReason[] = [
    { kind: 'interrupted' },
    { kind: 'paused', task: 'a' },
    { kind: 'stopped', task: 'a' },
    { kind: 'rate-limited', task: 'a', cli: 'claude', message: 'limit', resetsAt: '2030-01-01' },
    { kind: 'auth-error', task: 'a', cli: 'claude', message: 'Invalid API key' },
    {
      kind: 'missing-cli',
      tasks: [{ task: 'a', command: 'claude', installHint: 'npm i -g @anthropic-ai/claude-code' }],
    },
    { kind: 'outage', task: 'a', cli: 'claude', message: 'API Error: 529 Overloaded' },
    { kind: 'circuit-open', failure: 'agent exited with code 1', tasks: ['a', 'b'] },
    { kind: 'state-write-failed', file: 'bearing/.state/state.json', message: 'ENOSPC' },
    { kind: 'disk-full', path: '/work', freeBytes: 10 * 1048576, minFreeBytes: 500 * 1048576 },
    { kind: 'lock-lost', message: 'bearing/.state/lock was removed by another process' },
    { kind: 'internal-error', message: 'x is undefined', version: '0.0.0-test' },
  ];

  /** A project where `a` completed, or awaits review, or failed, as the stop implies, and `b` is queued. */
  async function projectFor(stop: StopReason): Promise<Project> {
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([
        { id: 'a', prompt: '[[a]]', checkpoint: stop.kind === 'paused' ? 'pause' : 'auto' },
        { id: 'b', prompt: '[[b]]' },
      ]),
    });
    if (stop.kind === 'paused') expect((await p.run(['run'])).code).toBe(3);
    if (stop.kind === 'stopped' || stop.kind === 'circuit-open') {
      p.scenarios([{ match: '[[a]]', outcome: 'crash' }]);
      p.write(
        'bearing/tasks/t.yaml',
        tasksYaml([
          { id: 'a', prompt: '[[a]]', on_failure: 'stop' },
          { id: 'b', prompt: '[[b]]' },
        ]),
      );
      expect((await p.run(['run'])).code).toBe(1);
      p.scenarios([]);
    }
    return p;
  }

  async function writeStatus(p: Project, stop: StopReason, active: boolean): Promise<void> {
    const { plan } = await loadProject(p.dir);
    if (!plan) throw new Error('the plan must load');
    let state: RunState = { version: 1, tasks: {} };
    try {
      state = p.state();
    } catch {
      // Nothing ran.
    }
    const running = new Set<string>();
    const next = active
      ? nextStep(plan, state, running, stop, [], { kind: 'active', pid: process.pid })
      : nextStep(plan, state, running, stop, []);
    writeFileSync(
      p.path('bearing/status.md'),
      renderStatusMarkdown({
        plan,
        state,
        next,
        now: new Date(),
        gate: active ? { kind: 'active', pid: process.pid } : { kind: 'free' },
      }),
    );
  }

  for (const stop of stops) {
    it(`${stop.kind}, after the run ended`, async () => {
      const p = await projectFor(stop);
      await writeStatus(p, stop, false);
      const commands = commandsIn(p.statusMd());
      await expectAllWork(p, { texts: { 'status.md': p.statusMd() }, commands, summaryNext: '' });
    });

    it(`${stop.kind}, while the run still holds the lock`, async () => {
      const p = await projectFor(stop);
      const lock = await acquireRunLock(p.dir, { hostLock: false });
      if (!lock.ok) throw new Error(lock.error.message);
      held.push(lock.value);
      await writeStatus(p, stop, true);
      const text = p.statusMd();
      const commands = commandsIn(text);
      expect(commands.filter((c) => /^bearing run\b/.test(c))).toEqual([]);
      await expectAllWork(p, { texts: { 'status.md': text }, commands, summaryNext: '' });
    });
  }
});

describe('bearing approve and retry say what comes next only when it works', () => {
  it('with task files that do not validate, `retry` does not say `bearing run`', async () => {
    const p = await Project.create(
      { 'bearing/tasks/t.yaml': tasksYaml([{ id: 'bad', prompt: '[[bad]]' }], { retries: 0 }) },
      { scenarios: [{ match: '[[bad]]', outcome: 'crash' }] },
    );
    expect((await p.run(['run'])).code).toBe(1);
    p.write('bearing/tasks/broken.yaml', 'id: broken\nprompt: hi\nmodle: x\n');
    const r = await p.run(['retry', 'bad']);
    expect(r.code).toBe(0);
    const commands = commandsIn(r.stdout);
    expect(commands).not.toContain('bearing run');
    expect(readdirSync(p.path('bearing/tasks'))).toContain('broken.yaml');
  });
});
