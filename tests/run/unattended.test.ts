/**
 * What an unattended run does about agents and machines that misbehave:
 * outages hold the CLI and cost no retry, a 401 during the CLI's own retries
 * stops at once, an agent that prints its result and never exits is ended
 * with its result kept, a runaway log is capped, and a nearly full disk
 * starts nothing. In-process with the fake CLIs, so waits can be shortened.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/run/events.js';
import { type RunOptions, runProject } from '../../src/run/runner.js';

const FAKE_BIN = join(import.meta.dirname, '..', 'fixtures', 'bin');
let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Setup {
  tasks: string;
  config?: string;
  scenarios?: unknown[];
  options?: Partial<RunOptions>;
}

async function run(setup: Setup) {
  dir = mkdtempSync(join(tmpdir(), 'bearing-unattended-'));
  mkdirSync(join(dir, 'bearing', 'tasks'), { recursive: true });
  // The agents here answer without writing, which the hand-off check would
  // flag (expect_changes): not what these tests are about.
  writeFileSync(
    join(dir, 'bearing', 'config.yaml'),
    `${setup.config ?? ''}defaults:\n  expect_changes: false\n`,
  );
  writeFileSync(join(dir, 'bearing', 'tasks', 't.yaml'), setup.tasks);
  const script = join(dir, 'script.json');
  writeFileSync(script, JSON.stringify(setup.scenarios ?? []));
  const events: RunEvent[] = [];
  const started = Date.now();
  const end = await runProject({
    root: dir,
    displayBase: dir,
    env: {
      PATH: [FAKE_BIN, dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
      HOME: dir,
      BEARING_FAKE_SCRIPT: script,
    },
    signal: new AbortController().signal,
    onEvent: (e) => events.push(e),
    killGraceMs: 300,
    ...setup.options,
  });
  const ms = Date.now() - started;
  const state = JSON.parse(readFileSync(join(dir, 'bearing', '.state', 'state.json'), 'utf8'));
  return { end, events, state, ms };
}

const outcomes = (attempts: { outcome: string; failure?: { reason: string } }[]) =>
  attempts.map((a) => [a.outcome, a.failure?.reason]);

describe('outages', () => {
  it("hold that CLI's tasks with backoff, cost no retry, and let other CLIs' tasks go on", async () => {
    const { end, events, state } = await run({
      tasks: JSON.stringify({
        tasks: [
          { id: 'c', prompt: '[[c]]', retries: 0 },
          { id: 'c2', prompt: '[[c2]]' },
          { id: 'x', cli: 'codex', prompt: '[[x]]' },
        ],
      }),
      config: 'run:\n  concurrency: 1\n',
      scenarios: [
        { match: '[[c]]', attempts: [{ outcome: 'api-529' }, { outcome: 'success' }] },
        { match: '[[c2]]', outcome: 'success' },
        { match: '[[x]]', outcome: 'success' },
      ],
      options: { outageBackoffMs: [400] },
    });
    expect(end.kind).toBe('done');
    const waits = events.filter((e) => e.type === 'waiting');
    expect(waits).toEqual([expect.objectContaining({ cli: 'claude', kind: 'outage' })]);
    // retries: 0, yet it ran again: the outage was not its failure.
    expect(outcomes(state.tasks.c.attempts)).toEqual([
      ['failed', 'outage'],
      ['completed', undefined],
    ]);
    expect(state.tasks.c.attempts[0].failure).toMatchObject({ cli: 'claude', apiStatus: 529 });
    // codex's task did not wait for claude's outage.
    const order = events
      .filter((e) => e.type === 'task-start')
      .map((e) => (e.type === 'task-start' ? e.task.id : ''));
    expect(order.indexOf('x')).toBeLessThan(order.lastIndexOf('c'));
  });

  it('stop the run once the backoff is used up, with the task still queued', async () => {
    const { end, state } = await run({
      // Fresh: a resumed session gets only the retry note, which the script does not match.
      tasks: 'id: c\nretry_mode: fresh\nprompt: "[[c]]"\n',
      scenarios: [{ match: '[[c]]', outcome: 'api-500' }],
      options: { outageBackoffMs: [100, 100] },
    });
    expect(end.kind).toBe('stopped');
    expect(end.kind === 'stopped' && end.next).toMatch(
      /^Stopped: the claude API stayed unavailable \(status 500: .*\) while running `c`\. `c` stays queued: run `bearing run` again when the service is back\.$/m,
    );
    expect(state.tasks.c.status).toBe('queued');
    expect(state.tasks.c.attempts).toHaveLength(3);
  });
});

describe('a log-in failure', () => {
  it("stops at claude's first 401 retry, not minutes later", async () => {
    const { end, state, ms } = await run({
      tasks: 'id: c\nprompt: "[[c]]"\n',
      // The fake waits a minute between its own retries, as the real CLI does.
      scenarios: [{ match: '[[c]]', outcome: 'api-401-retries', retryDelayMs: 60_000 }],
    });
    expect(ms).toBeLessThan(20_000);
    expect(end.kind).toBe('stopped');
    expect(state.tasks.c.status).toBe('queued');
    expect(state.tasks.c.attempts[0].failure.reason).toBe('auth-error');
    expect(end.kind === 'stopped' && end.next).toMatch(/could not authenticate|log/i);
  });
});

describe('success, then no exit', () => {
  it('records the result the agent reported and notes that Bearing ended it', async () => {
    const { end, state, ms } = await run({
      tasks: 'id: c\nprompt: "[[c]]"\nidle_timeout: 1m\n',
      scenarios: [{ match: '[[c]]', summary: 'All done.', hangAfterFinal: true }],
      options: { resultGraceMs: 300 },
    });
    expect(ms).toBeLessThan(20_000);
    expect(end.kind).toBe('done');
    const [attempt] = state.tasks.c.attempts;
    expect(state.tasks.c.status).toBe('completed');
    expect(state.tasks.c.summary).toBe('All done.');
    expect(attempt.notes).toContain(
      'claude printed its final result but did not exit; Bearing ended it',
    );
    expect(state.tasks.c.attempts).toHaveLength(1);
    const statusMd = readFileSync(join(dir, 'bearing', 'status.md'), 'utf8');
    expect(statusMd).toContain(
      '- Notes: claude printed its final result but did not exit; Bearing ended it',
    );
  });
});

describe('raw logs', () => {
  it('are capped at run.max_log_size, head and tail kept, and the attempt says so', async () => {
    const { end, state } = await run({
      tasks:
        'id: noisy\ncli: shell\nrun: "echo FIRST; head -c 5000000 /dev/zero | tr \'\\\\0\' x; echo; echo LAST"\n',
      config: 'run:\n  max_log_size: 1MB\n',
    });
    expect(end.kind).toBe('done');
    const log = join(dir, 'bearing', '.state', 'runs', 'noisy', '1', 'stdout.log');
    expect(statSync(log).size).toBeLessThan(1024 * 1024 + 1024);
    const text = readFileSync(log, 'utf8');
    expect(text.startsWith('FIRST\n')).toBe(true);
    expect(text.trimEnd().endsWith('LAST')).toBe(true);
    expect(text).toMatch(/\[bearing: .* of output dropped here/);
    expect(state.tasks.noisy.attempts[0].notes).toEqual([
      expect.stringMatching(/^the raw log was capped at run\.max_log_size: .* dropped$/),
    ]);
  });
});

describe('a nearly full disk', () => {
  it('starts no task and says how much space is free', async () => {
    const { end, state } = await run({
      tasks: 'id: a\ncli: shell\nrun: "echo hi > a.txt"\n',
      config: 'run:\n  min_free_space: 8000TB\n',
    });
    expect(end.kind).toBe('io-error');
    expect(end.kind === 'io-error' && end.next).toMatch(
      /^Stopped: only \d+ MB free on the disk holding .* \(run\.min_free_space is \d+ MB\), so no task was started\. Free some space, then `bearing run`\.$/m,
    );
    expect(state.tasks.a).toBeUndefined();
  });
});
