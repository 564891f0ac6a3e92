import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/run/events.js';
import { limitHold } from '../../src/run/holds.js';
import { runProject } from '../../src/run/runner.js';

const MIN = 60_000;

describe('limitHold', () => {
  const now = Date.parse('2026-11-24T12:00:00Z');

  it('waits until the reported reset, plus a margin', () => {
    const hold = limitHold(
      undefined,
      { message: 'limit', resetsAt: '2026-11-24T14:00:00.000Z' },
      now,
      30_000,
    );
    expect(hold).toEqual({
      kind: 'limit',
      until: Date.parse('2026-11-24T14:00:30Z'),
      backoffs: 0,
      message: 'limit',
    });
  });

  it('does not wait more than 6 hours for a reported reset: it backs off instead', () => {
    const hold = limitHold(
      undefined,
      { message: 'limit', resetsAt: '2026-11-25T12:00:00.000Z' },
      now,
    );
    expect(hold).toEqual({ kind: 'limit', until: now + 5 * MIN, backoffs: 1, message: 'limit' });
  });

  it('backs off 5, 15 and 30 minutes without a reset time, then gives up', () => {
    const f = { message: 'Quota exceeded' };
    const a = limitHold(undefined, f, now)!;
    expect(a.until - now).toBe(5 * MIN);
    const b = limitHold(a, f, a.until + 1)!;
    expect(b.until - (a.until + 1)).toBe(15 * MIN);
    const c = limitHold(b, f, b.until + 1)!;
    expect(c.until - (b.until + 1)).toBe(30 * MIN);
    expect(limitHold(c, f, c.until + 1)).toBeUndefined();
  });

  it('keeps one wait when several tasks of a CLI hit the same limit', () => {
    const first = limitHold(undefined, { message: 'limit' }, now)!;
    expect(limitHold(first, { message: 'limit' }, now + 1000)).toBe(first);
  });
});

describe('bearing run and usage limits', () => {
  const ROOT = join(import.meta.dirname, '..', '..');
  const FAKE_BIN = join(ROOT, 'tests', 'fixtures', 'bin');
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function run(config: string) {
    dir = mkdtempSync(join(tmpdir(), 'bearing-limits-'));
    mkdirSync(join(dir, 'bearing', 'tasks'), { recursive: true });
    // The agents here answer without writing: not what these tests check.
    writeFileSync(
      join(dir, 'bearing', 'config.yaml'),
      `${config}defaults:\n  expect_changes: false\n`,
    );
    writeFileSync(
      join(dir, 'bearing', 'tasks', 't.yaml'),
      'tasks:\n  - id: build\n    prompt: build it\n  - id: after\n    depends_on: [build]\n    prompt: then this\n',
    );
    const script = join(dir, 'script.json');
    const resetsAt = Math.floor(Date.now() / 1000); // resets now: the wait is just the margin
    writeFileSync(
      script,
      JSON.stringify([
        {
          match: 'build it',
          attempts: [
            { outcome: 'usage-limit', resetsAt },
            { outcome: 'success', summary: 'built' },
          ],
        },
        { match: 'then this', outcome: 'success', summary: 'done after' },
      ]),
    );
    const events: RunEvent[] = [];
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
      limitMarginMs: 300,
      killGraceMs: 500,
    });
    const state = JSON.parse(readFileSync(join(dir, 'bearing', '.state', 'state.json'), 'utf8'));
    return { end, events, state };
  }

  it('waits for the reported reset and goes on, without spending a retry', async () => {
    const { end, events, state } = await run('run:\n  wait_for_limits: true\n');
    expect(end.kind).toBe('done');
    const waiting = events.filter((e) => e.type === 'waiting');
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatchObject({ cli: 'claude' });
    expect(state.tasks.build.status).toBe('completed');
    expect(
      state.tasks.build.attempts.map((a: { outcome: string; failure?: { reason: string } }) => [
        a.outcome,
        a.failure?.reason,
      ]),
    ).toEqual([
      ['failed', 'rate-limited'],
      ['completed', undefined],
    ]);
    expect(state.tasks.after.status).toBe('completed');
  });

  it('stops the run with the task still queued when wait_for_limits is false', async () => {
    const { end, events, state } = await run('run:\n  wait_for_limits: false\n');
    expect(end.kind).toBe('stopped');
    expect(events.some((e) => e.type === 'waiting')).toBe(false);
    expect(state.tasks.build.status).toBe('queued');
    expect(state.tasks.after).toBeUndefined();
    expect((end as { next: string }).next).toMatch(
      /claude hit a usage or rate limit \(resets .*\) while running `build`/,
    );
  });
});
