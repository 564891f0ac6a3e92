/**
 * `run.notify`: which moments of a run start the command, with what, and
 * that a command that fails or hangs neither holds anything up nor is
 * reported more than once.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StopReason } from '../../src/core/next-step.js';
import { Notifier, notifyArgs } from '../../src/run/notifier.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A folder with a notify script that appends its arguments (and pid) as a JSON line to calls.jsonl. */
function setup(body = ''): { dir: string; script: string; calls: () => string[][] } {
  const dir = mkdtempSync(join(tmpdir(), 'bearing-notify-'));
  dirs.push(dir);
  const script = join(dir, 'notify.mjs');
  const log = join(dir, 'calls.jsonl');
  writeFileSync(
    script,
    `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(log)}, JSON.stringify([String(process.pid), ...process.argv.slice(2)]) + '\\n');\n${body}\n`,
  );
  return {
    dir,
    script,
    calls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as string[])
        : [],
  };
}

function notifier(command: string[] | undefined, dir: string, timeoutMs?: number) {
  const notes: string[] = [];
  const n = new Notifier({
    command: () => command,
    root: dir,
    env: { PATH: process.env.PATH },
    note: (m) => notes.push(m),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
  return { n, notes };
}

const stop = (reason: StopReason) => ({ type: 'stop', reason }) as const;

describe('notifyArgs', () => {
  it('replaces each placeholder inside every element, in one pass', () => {
    expect(
      notifyArgs(['notify-send', 'bearing {event}: {task}', '{message}', '--dir={project}'], {
        event: 'task-paused',
        task: 'db',
        message: 'text with {task} in it',
        project: '/p',
      }),
    ).toEqual(['notify-send', 'bearing task-paused: db', 'text with {task} in it', '--dir=/p']);
  });
});

describe('Notifier', () => {
  it('runs the command for each moment that needs a person, each once, and for the end, in order; not for Ctrl-C or an outage wait', async () => {
    const { dir, script, calls } = setup();
    const { n, notes } = notifier(
      [process.execPath, script, '{event}', '{task}', '{message}'],
      dir,
    );
    n.onLoop(stop({ kind: 'paused', task: 'db' }));
    n.onLoop(stop({ kind: 'paused', task: 'db' }));
    n.onLoop(stop({ kind: 'stopped', task: 'api' }));
    n.onLoop(stop({ kind: 'auth-error', task: 'ui', cli: 'codex', message: 'status 401' }));
    n.onLoop(stop({ kind: 'interrupted' }));
    n.onEvent({
      type: 'waiting',
      cli: 'claude',
      kind: 'limit',
      until: Date.parse('2026-12-02T18:00:00Z'),
      message: 'resets 6pm',
    });
    n.onEvent({ type: 'waiting', cli: 'codex', kind: 'outage', until: 0, message: '503' });
    n.onEvent({
      type: 'run-end',
      next: 'Paused after `db`.\nFailed: `api`.',
      totals: {
        cost: { usd: 0, estimated: false, unknown: false },
        costUnknownFor: [],
        usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
        attempts: 0,
        wallMs: 0,
        tasks: [],
      },
    });
    await n.settled();
    // One after another, in the order they happened.
    const got = calls().map(([, ...args]) => args);
    expect(got.map((c) => [c[0], c[1]])).toEqual([
      ['task-paused', 'db'],
      ['run-stopped', 'api'],
      ['auth-error', 'ui'],
      ['limit-wait', ''],
      ['run-end', ''],
    ]);
    expect(got.find((c) => c[0] === 'task-paused')![2]).toContain('bearing approve db');
    expect(got.find((c) => c[0] === 'limit-wait')![2]).toBe(
      'claude hit a usage limit (resets 6pm); its tasks wait until 2026-12-02T18:00:00.000Z, then the run goes on',
    );
    expect(got.find((c) => c[0] === 'run-end')![2]).toBe('Paused after `db`. Failed: `api`.');
    expect(notes).toEqual([]);
  });

  it('does nothing without run.notify', async () => {
    const { dir, calls } = setup();
    const { n, notes } = notifier(undefined, dir);
    n.onLoop(stop({ kind: 'paused', task: 'db' }));
    await n.settled();
    expect(calls()).toEqual([]);
    expect(notes).toEqual([]);
  });

  it('a command that fails is reported once, however often it fails', async () => {
    const { dir, script, calls } = setup('console.error("no display"); process.exit(3);');
    const { n, notes } = notifier([process.execPath, script, '{event}'], dir);
    n.onLoop(stop({ kind: 'paused', task: 'a' }));
    n.onLoop(stop({ kind: 'paused', task: 'b' }));
    await n.settled();
    expect(calls()).toHaveLength(2);
    expect(notes).toEqual([
      `run.notify: \`${process.execPath}\` exited with code 3 (no display); the run goes on, and later failures of it are not reported`,
    ]);
  });

  it('a command that is not installed is reported, not thrown', async () => {
    const { dir } = setup();
    const { n, notes } = notifier(['bearing-no-such-notifier', '{event}'], dir);
    n.onLoop(stop({ kind: 'paused', task: 'a' }));
    await n.settled();
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^run\.notify: `bearing-no-such-notifier` .*not found/);
  });

  it('a command that hangs is not waited for by the run, and is ended at its time limit', async () => {
    const { dir, script, calls } = setup('setInterval(() => {}, 1 << 30);');
    const { n, notes } = notifier([process.execPath, script, '{event}'], dir, 300);
    let settled = false;
    n.onLoop(stop({ kind: 'stopped', task: 'a' }));
    // onLoop returned at once: the run goes on while the command runs.
    const waiting = n.settled().then(() => {
      settled = true;
    });
    expect(settled).toBe(false);
    await waiting;
    // Ended with its process group, whether or not it had got as far as logging.
    for (const [pid] of calls()) expect(() => process.kill(Number(pid), 0)).toThrow();
    expect(notes).toEqual([
      `run.notify: \`${process.execPath}\` did not end within 300ms and was stopped; the run goes on, and later failures of it are not reported`,
    ]);
  });
});
