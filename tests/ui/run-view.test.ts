/** What a long run prints when nobody is watching: events, not a clock. */
import { describe, expect, it } from 'vitest';
import { makeTask } from '../../src/core/test-support.js';
import type { RunEvent } from '../../src/run/events.js';
import { memoryOutput, type Output } from '../../src/ui/output.js';
import { runView } from '../../src/ui/run-view.js';

const T0 = Date.parse('2026-11-24T12:00:00Z');
const task = makeTask({ id: 'a' });
const TOTALS = {
  cost: { usd: 0.0468, estimated: false, unknown: false },
  costUnknownFor: [],
  usage: { inputTokens: 480, outputTokens: 160, cacheReadTokens: 40960, cacheWriteTokens: 8192 },
  attempts: 2,
  wallMs: 125_000,
  tasks: [],
};

function tick(running: boolean): Extract<RunEvent, { type: 'tick' }> {
  return {
    type: 'tick',
    running: running ? [{ id: 'a', startedAt: T0 }] : [],
    cost: { usd: 0, estimated: false, unknown: false },
    done: 0,
    total: 1,
  };
}

/** A run of `seconds` with one task running the whole time, ticking every second as the run loop does. */
function longRun(view: (e: RunEvent) => void, clock: { now: number }, seconds: number): void {
  view({ type: 'run-start', tasks: 1, pending: 1, concurrency: 1 });
  view({ type: 'task-start', task, attempt: 1, resume: false, startedAt: T0 });
  for (let s = 1; s <= seconds; s++) {
    clock.now = T0 + s * 1000;
    view(tick(true));
  }
}

describe('run view', () => {
  it('--json prints events only: a 6-hour run prints no tick objects', () => {
    const output = memoryOutput();
    const clock = { now: T0 };
    const view = runView(output, { json: true, now: () => clock.now });
    longRun(view, clock, 6 * 3600);
    view({
      type: 'waiting',
      kind: 'limit',
      cli: 'claude',
      until: T0 + 7 * 3600_000,
      message: 'limit',
    });
    view({ type: 'run-end', next: 'Run `bearing run` again.', totals: TOTALS });
    const types = output.stdout.map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types).toEqual(['run-start', 'task-start', 'waiting', 'run-end']);
  });

  it('without a terminal, says what still runs at most once a minute, after a minute of silence', () => {
    const output = memoryOutput();
    const clock = { now: T0 };
    const view = runView(output, { json: false, now: () => clock.now });
    longRun(view, clock, 10 * 60);
    const heartbeats = output.stdout.filter((l) => l.includes('running a '));
    expect(heartbeats).toHaveLength(10);
    expect(heartbeats[0]).toContain('running a 1m');
  });

  it('without a terminal, a line just printed counts as a sign of life', () => {
    const output = memoryOutput();
    const clock = { now: T0 };
    const view = runView(output, { json: false, now: () => clock.now });
    view({ type: 'run-start', tasks: 1, pending: 1, concurrency: 1 });
    clock.now = T0 + 59_000;
    view({ type: 'task-start', task, attempt: 1, resume: false, startedAt: clock.now });
    clock.now = T0 + 61_000;
    view(tick(true));
    expect(output.stdout.filter((l) => l.includes('running a '))).toEqual([]);
    clock.now = T0 + 119_000;
    view(tick(true));
    expect(output.stdout.filter((l) => l.includes('running a '))).toHaveLength(1);
  });

  it('without a terminal, prints nothing for ticks while nothing runs', () => {
    const output = memoryOutput();
    const clock = { now: T0 };
    const view = runView(output, { json: false, now: () => clock.now });
    for (let s = 1; s <= 3600; s++) {
      clock.now = T0 + s * 1000;
      view(tick(false));
    }
    expect(output.stdout).toEqual([]);
  });
});

describe('run view: a removal not yet confirmed', () => {
  const event: RunEvent = { type: 'plan-unsure', missing: ['b', 'c'], until: T0 + 5000 };

  it('says which tasks are missing and until when the run waits for them', () => {
    const output = memoryOutput();
    runView(output, { json: false, now: () => T0 })(event);
    const until = new Date(T0 + 5000).toTimeString().slice(0, 8);
    expect(output.stdout).toHaveLength(1);
    expect(output.stdout[0]).toContain(
      `task files no longer define b, c; if they are still gone at ${until}`,
    );
  });

  it('--json carries the missing ids and the time', () => {
    const output = memoryOutput();
    runView(output, { json: true })(event);
    expect(output.stdout.map((l) => JSON.parse(l))).toEqual([
      { type: 'plan-unsure', missing: ['b', 'c'], until: T0 + 5000 },
    ]);
  });
});

describe('run view: after a failed gate', () => {
  const failure = {
    reason: 'verify-failed',
    command: 'npm test',
    exitCode: 1,
    output: '2 tests failed',
  } as const;
  const gated = makeTask({ id: 'api', verify: 'npm test' });
  const ended = (outcome: 'failed' | 'awaiting-review'): RunEvent => ({
    type: 'task-end',
    task: gated,
    attempt: { attempt: 1, startedAt: new Date(T0).toISOString(), outcome: 'failed', failure },
    record: {
      id: 'api',
      status: outcome,
      attempts: [],
      costUsd: 0,
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      turns: 0,
      durationMs: 0,
      failure,
      updatedAt: new Date(T0).toISOString(),
    },
    outcome,
    failure,
  });

  it('a task that awaits review points at the gate output before approve or retry', () => {
    const output = memoryOutput();
    runView(output, { json: false, now: () => T0 })(ended('awaiting-review'));
    expect(output.stdout[0]).toContain(
      "api failed: verify `npm test` exited with code 1; awaits review: read the gate's output (`bearing log api --verify`), then `bearing approve api` or `bearing retry api`",
    );
  });

  it('a failed task points at the gate output, as a sentence', () => {
    const output = memoryOutput();
    runView(output, { json: false, now: () => T0 })(ended('failed'));
    expect(output.stdout[0]).toContain(
      "exited with code 1. Read the gate's output (`bearing log api --verify`), fix the work or the gate, then `bearing retry api`",
    );
  });
});

describe('run view: the end of a run', () => {
  it("prints this run's totals, then what to do next", () => {
    const output = memoryOutput();
    runView(output, { json: false, now: () => T0 })({
      type: 'run-end',
      next: 'All 2 tasks done.',
      totals: { ...TOTALS, costUnknownFor: ['cx'] },
    });
    expect(output.stdout.slice(1)).toEqual(['', 'All 2 tasks done.']);
    expect(output.stdout[0]).toMatch(
      /^\d\d:\d\d:\d\d this run took 2m5s · \$0\.0468 \(plus unknown for cx\) · tokens 480 input, 160 output, 40,960 cache read, 8,192 cache write$/,
    );
  });
});

/** A terminal: stdout and stderr on one screen, with \r, \n and "clear line" (ESC[2K). */
function fakeTerminal(): Output & { screen(): string[] } {
  let transcript = '';
  return {
    out: (l) => {
      transcript += `${l}\n`;
    },
    err: (l) => {
      transcript += `${l}\n`;
    },
    raw: (t) => {
      transcript += t;
    },
    color: memoryOutput().color,
    isTTY: true,
    screen() {
      const rows = [''];
      let row = 0;
      const clear = '\x1b[2K';
      const up = '\x1b[1A';
      const literal = (t: string) => t.replace('[', '\\[');
      for (const part of transcript.split(new RegExp(`(\r|\n|${literal(clear)}|${literal(up)})`))) {
        if (part === '\n') {
          row++;
          if (row === rows.length) rows.push('');
        } else if (part === clear) rows[row] = '';
        else if (part === up) row = Math.max(0, row - 1);
        else if (part !== '\r') rows[row] += part;
      }
      // Lines cleared at the bottom are no longer on the screen.
      while (rows.length > 1 && rows.at(-1) === '' && row < rows.length - 1) rows.pop();
      return rows;
    },
  };
}

describe('run view on a terminal', () => {
  it('shows one line per running task with its progress under the live line, and clears them all', () => {
    const term = fakeTerminal();
    const view = runView(term, { json: false, now: () => T0 + 5000 });
    view({ type: 'task-start', task, attempt: 1, resume: false, startedAt: T0 });
    view({
      type: 'progress',
      id: 'a',
      attempt: 1,
      progress: {
        turns: 3,
        tool: { name: 'Edit', target: 'src/db.js' },
        usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 1000, cacheWriteTokens: 0 },
        cost: { usd: 0.0123, estimated: true },
      },
    });
    const cost = { usd: 0.0123, estimated: true, unknown: false };
    view({ ...tick(true), cost });
    view({ ...tick(true), cost });
    expect(term.screen().slice(-2)).toEqual([
      '… running a 5s · ~$0.0123 so far · 0/1 done',
      '  a 5s · 3 turns · Edit src/db.js · 1,120 tokens · ~$0.0123',
    ]);
    view.note('bearing: SIGINT: stopping');
    const screen = term.screen();
    expect(screen.filter((l) => l.includes('running a') || l.includes('3 turns'))).toEqual([]);
    expect(screen.filter(Boolean).at(-1)).toBe('bearing: SIGINT: stopping');
  });

  it('cuts a task line to the width of the terminal, so that it never wraps', () => {
    const term = { ...fakeTerminal(), columns: 40 };
    const view = runView(term, { json: false, now: () => T0 + 5000 });
    view({
      type: 'progress',
      id: 'a',
      attempt: 1,
      progress: {
        turns: 1,
        tool: { name: 'Bash', target: 'npm test -- --run a very long command line indeed' },
        usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
      },
    });
    view(tick(true));
    const last = term.screen().at(-1)!;
    expect(last).toHaveLength(39);
    expect(last.endsWith('…')).toBe(true);
  });

  it('a note (Ctrl-C) clears the live line and the echoed ^C before it prints', () => {
    const term = fakeTerminal();
    const view = runView(term, { json: false, now: () => T0 + 5000 });
    view({ type: 'task-start', task, attempt: 1, resume: false, startedAt: T0 });
    view(tick(true));
    expect(term.screen().at(-1)).toContain('running a 5s');
    term.raw('^C'); // what the terminal echoes
    view.note('bearing: SIGINT: stopping');
    view({ type: 'stopping', reason: 'interrupted' });
    expect(term.screen().filter((l) => l.includes('running a') || l.includes('^C'))).toEqual([]);
    expect(term.screen()).toContain('bearing: SIGINT: stopping');
  });
});
