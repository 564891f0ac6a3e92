import { describe, expect, it } from 'vitest';
import type { RunState, TaskRecord } from '../../src/core/state.js';
import {
  code,
  fenced,
  renderStatusMarkdown,
  renderSummary,
  type StatusInput,
  statusJson,
} from '../../src/core/status-report.js';
import { makePlan, makeTask } from '../../src/core/test-support.js';

const NOW = new Date('2026-04-01T12:00:00.000Z');
const T0 = '2026-04-01T11:00:00.000Z';

function record(partial: Partial<TaskRecord> & Pick<TaskRecord, 'id' | 'status'>): TaskRecord {
  return {
    attempts: [],
    costUsd: 0,
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    turns: 0,
    durationMs: 0,
    updatedAt: T0,
    ...partial,
  };
}

const DB_SUMMARY = [
  'Created src/db.js with tables users and tasks.',
  '## Not a task heading',
  '```js',
  'const x = 1;',
  '```',
  'Left: indexes.',
].join('\n');

function fixture(): StatusInput {
  const plan = makePlan([
    makeTask({
      id: 'db',
      name: 'SQLite schema',
      model: 'sonnet',
      effort: 'high',
      checkpoint: 'notify',
    }),
    makeTask({ id: 'api', name: 'REST routes', dependsOn: ['db'] }),
    makeTask({
      id: 'ui',
      name: 'Frontend',
      cli: 'codex',
      model: 'gpt-5.2-codex',
      effort: 'medium',
      checkpoint: 'pause',
      onFailure: 'stop',
      dependsOn: ['db'],
    }),
    makeTask({
      id: 'review',
      name: 'Code review',
      cli: 'codex',
      checkpoint: 'pause',
      onFailure: 'pause',
      dependsOn: ['db'],
    }),
    makeTask({ id: 'docs', name: 'Docs', dependsOn: ['api'] }),
    makeTask({
      id: 'lint',
      cli: 'shell',
      run: 'npm run lint',
      prompt: undefined,
      onFailure: 'stop',
      dependsOn: ['db'],
    }),
  ]);
  const verify = {
    reason: 'verify-failed' as const,
    command: 'npm test',
    exitCode: 1,
    output: 'FAIL routes.test.js\r\n  expected 200, got 500\n\n',
  };
  const state: RunState = {
    version: 1,
    tasks: {
      db: record({
        id: 'db',
        status: 'completed',
        attempts: [{ attempt: 1, startedAt: T0, outcome: 'completed', costUsd: 0.25 }],
        summary: `${DB_SUMMARY}\n\n`,
        filesChanged: ['src/db.js', 'src/schema.sql'],
        costUsd: 0.25,
        usage: {
          inputTokens: 1000,
          outputTokens: 200,
          cacheReadTokens: 5000,
          cacheWriteTokens: 300,
        },
        turns: 12,
        durationMs: 200_000,
        sessionId: 'sess-db',
        flagged: true,
        checks: { verify: 'npm test', changes: true, unknownFiles: ['src/models/user.js'] },
      }),
      api: record({
        id: 'api',
        status: 'failed',
        attempts: [
          { attempt: 1, startedAt: T0, outcome: 'failed', costUsd: 0.2, failure: verify },
          { attempt: 2, startedAt: T0, outcome: 'failed', costUsd: 0.3, failure: verify },
        ],
        filesChanged: ['src/routes.js'],
        costUsd: 0.5,
        usage: { inputTokens: 2000, outputTokens: 400, cacheReadTokens: 0, cacheWriteTokens: 0 },
        turns: 20,
        durationMs: 65_000,
        failure: verify,
      }),
      ui: record({
        id: 'ui',
        status: 'running',
        attempts: [{ attempt: 1, startedAt: '2026-04-01T11:57:55.000Z', outcome: 'running' }],
      }),
      review: record({
        id: 'review',
        status: 'awaiting-review',
        // codex reports tokens but no cost.
        attempts: [
          {
            attempt: 1,
            startedAt: T0,
            outcome: 'completed',
            usage: {
              inputTokens: 3000,
              outputTokens: 100,
              cacheReadTokens: 0,
              cacheWriteTokens: 0,
            },
          },
        ],
        summary: 'Looks fine.',
        filesChanged: [],
        usage: { inputTokens: 3000, outputTokens: 100, cacheReadTokens: 0, cacheWriteTokens: 0 },
        durationMs: 30_000,
      }),
      old: record({
        id: 'old',
        status: 'completed',
        attempts: [{ attempt: 1, startedAt: T0, outcome: 'completed', costUsd: 0.1 }],
        filesChanged: ['a.txt', 'b.txt'],
        costUsd: 0.1,
        usage: { inputTokens: 100, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0 },
      }),
    },
  };
  return {
    plan,
    state,
    next: 'Running `ui`; 1 more queued.',
    now: NOW,
    running: { ui: { startedAt: '2026-04-01T11:57:55.000Z' } },
  };
}

const EXPECTED_MARKDOWN = `# Bearing status

- Progress: 1/6 completed, 1 failed, 1 running, 1 awaiting review, 2 queued
- Cost: $0.8500, plus unknown for \`review\` (its CLI reports no cost)
- Tokens: 6,100 input, 710 output, 5,000 cache read, 300 cache write
- Next: Running \`ui\`; 1 more queued.
- Updated: 2026-04-01T12:00:00.000Z

Bearing rewrites this file after every change. To change the plan, edit the files in bearing/tasks/.

## db — SQLite schema

- State: [completed]
- Config: cli claude, model sonnet, effort high, checkpoint notify, on_failure retry (retries 1)
- Attempts: 1 (#1 completed)
- Spent: $0.2500, 12 turns, 3m20s
- Session: \`sess-db\`
- Flagged for review (checkpoint: notify); the run went on
- Checked against: verify \`npm test\` passed; it changed files, as expected (expect_changes)
- Warning: its summary names a file it did not change and that does not exist: \`src/models/user.js\`

Summary:

\`\`\`\`text
Created src/db.js with tables users and tasks.
## Not a task heading
\`\`\`js
const x = 1;
\`\`\`
Left: indexes.
\`\`\`\`

Files changed (2):

- \`src/db.js\`
- \`src/schema.sql\`

## api — REST routes

- State: [failed]
- Config: cli claude, model (CLI default), effort (CLI default), checkpoint auto, on_failure retry (retries 1)
- Depends on: \`db\`
- Attempts: 2 (#1 failed, #2 failed)
- Spent: $0.5000, 20 turns, 1m5s
- Error: verify \`npm test\` exited with code 1
- What to do: read the gate's output (\`bearing log api --verify\`), fix the work or the gate, then \`bearing retry api\`

Verify output:

\`\`\`text
FAIL routes.test.js
  expected 200, got 500
\`\`\`

Files changed (1):

- \`src/routes.js\`

## ui — Frontend

- State: [running] since 2026-04-01T11:57:55.000Z (2m5s)
- Config: cli codex, model gpt-5.2-codex, effort medium, checkpoint pause, on_failure stop
- Depends on: \`db\`
- Attempts: 1 (#1 running)

## review — Code review

- State: [awaiting-review]
- Config: cli codex, model (CLI default), effort (CLI default), checkpoint pause, on_failure pause
- Depends on: \`db\`
- Attempts: 1 (#1 completed)
- Spent: cost unknown, 30s
- Awaiting review: \`bearing approve review\` to accept it, or \`bearing retry review\` to run it again

Summary:

\`\`\`text
Looks fine.
\`\`\`

Files changed: none

## docs — Docs

- State: [queued]; blocked: \`api\` failed
- Config: cli claude, model (CLI default), effort (CLI default), checkpoint auto, on_failure retry (retries 1)
- Depends on: \`api\`

## lint

- State: [queued]; ready to run
- Config: cli shell, run \`npm run lint\`, checkpoint auto, on_failure stop
- Depends on: \`db\`

## Removed tasks

Recorded in bearing/.state/state.json but no longer in any task file:

- \`old\` [completed], 1 attempt, $0.1000, 2 files changed
`;

const EXPECTED_SUMMARY = `Bearing: 1/6 completed, 1 failed, 1 running, 1 awaiting review, 2 queued
Cost: $0.8500, plus unknown for \`review\` (its CLI reports no cost)
Tokens: 6,100 input, 710 output, 5,000 cache read, 300 cache write
Next: Running \`ui\`; 1 more queued.

[completed]       db — SQLite schema · $0.2500 · 3m20s · 2 files · flagged
[failed]          api — REST routes · verify \`npm test\` exited with code 1
[running]         ui — Frontend · running 2m5s
[awaiting-review] review — Code review · bearing approve review
[queued]          docs — Docs · blocked: api failed
[queued]          lint · ready
Removed from the task files: old (completed)
`;

describe('renderStatusMarkdown', () => {
  it('renders the fixture exactly', () => {
    expect(renderStatusMarkdown(fixture())).toBe(EXPECTED_MARKDOWN);
  });

  it('is deterministic: same input, same text', () => {
    expect(renderStatusMarkdown(fixture())).toBe(renderStatusMarkdown(fixture()));
  });

  it('renders the same without keeping sections (a one-shot reader), and with them kept', () => {
    const input = fixture();
    expect(renderStatusMarkdown(input, { memo: false })).toBe(EXPECTED_MARKDOWN);
    renderStatusMarkdown(input);
    expect(renderStatusMarkdown(input)).toBe(EXPECTED_MARKDOWN);
  });

  it('renders an empty project', () => {
    const text = renderStatusMarkdown({
      plan: makePlan([]),
      state: { version: 1, tasks: {} },
      next: 'Add a task file under bearing/tasks/.',
      now: NOW,
    });
    expect(text).toBe(`# Bearing status

- Progress: 0/0 completed
- Cost: $0.0000
- Tokens: 0 input, 0 output, 0 cache read, 0 cache write
- Next: Add a task file under bearing/tasks/.
- Updated: 2026-04-01T12:00:00.000Z

Bearing rewrites this file after every change. To change the plan, edit the files in bearing/tasks/.
`);
  });

  it('caps long file lists and keeps only the end of long gate output', () => {
    const input = fixture();
    const api = input.state.tasks.api!;
    api.filesChanged = Array.from({ length: 33 }, (_, i) => `f${String(i).padStart(2, '0')}.ts`);
    api.failure = {
      reason: 'verify-failed',
      command: 'npm test',
      exitCode: 1,
      output: Array.from({ length: 25 }, (_, i) => `line ${i + 1}`).join('\n'),
    };
    const text = renderStatusMarkdown(input);
    expect(text).toContain('Verify output (last 20 lines):\n\n```text\nline 6\n');
    expect(text).not.toContain('line 5\n');
    expect(text).toContain('Files changed (33):\n\n- `f00.ts`\n');
    expect(text).toContain('- `f29.ts`\n- ... and 3 more\n');
    expect(text).not.toContain('f30.ts');
  });
});

describe('interrupted tasks', () => {
  it('say they run again, and count no unknown cost for an attempt that reported nothing', () => {
    const failure = { reason: 'interrupted' as const, message: 'Ctrl-C' };
    const input: StatusInput = {
      plan: makePlan([makeTask({ id: 'solo' })]),
      state: {
        version: 1,
        tasks: {
          solo: record({
            id: 'solo',
            status: 'interrupted',
            attempts: [{ attempt: 1, startedAt: T0, outcome: 'interrupted', failure }],
            failure,
          }),
        },
      },
      next: 'Interrupted.',
      now: NOW,
      gate: { kind: 'free' },
    };
    expect(renderStatusMarkdown(input).split('\n## solo\n')[1]).toBe(`
- State: [interrupted], runs again on the next \`bearing run\`
- Config: cli claude, model (CLI default), effort (CLI default), checkpoint auto, on_failure retry (retries 1)
- Attempts: 1 (#1 interrupted)
- Spent: $0.0000, 0ms
- Error: interrupted: Ctrl-C
`);
    expect(statusJson(input).cost).toEqual({ usd: 0, estimated: false, unknown_for: [] });
    expect(renderSummary(input)).toContain('[interrupted] solo · interrupted: Ctrl-C · ready\n');
    // Without knowing whether `bearing run` would start (a run may hold the lock), it is not named.
    const unsure = renderStatusMarkdown({ ...input, gate: undefined });
    expect(unsure).toContain('- State: [interrupted], runs again on the next run\n');
    expect(renderStatusMarkdown({ ...input, gate: { kind: 'active', pid: 7 } })).toBe(unsure);
  });
});

describe('renderSummary', () => {
  it('renders the fixture exactly', () => {
    expect(renderSummary(fixture())).toBe(EXPECTED_SUMMARY);
  });

  it('fits a large plan on one screen', () => {
    const tasks = Array.from({ length: 80 }, (_, i) => makeTask({ id: `t${i}` }));
    const state: RunState = { version: 1, tasks: {} };
    for (const t of tasks.slice(0, 70))
      state.tasks[t.id] = record({ id: t.id, status: 'completed' });
    const text = renderSummary({ plan: makePlan(tasks), state, next: 'Go on.', now: NOW });
    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(40);
    expect(lines[0]).toBe('Bearing: 70/80 completed, 10 queued');
    expect(lines[5]).toMatch(/^\[completed\] 70 tasks: t0, t1, t2, /);
    expect(lines.at(-1)).toBe('[queued]    t79 · ready');
  });
});

describe('statusJson', () => {
  it('describes every task with stable snake_case fields', () => {
    const json = statusJson(fixture());
    expect(json.version).toBe(1);
    expect(json.generated_at).toBe('2026-04-01T12:00:00.000Z');
    expect(json.progress).toEqual({
      total: 6,
      completed: 1,
      failed: 1,
      running: 1,
      interrupted: 0,
      awaiting_review: 1,
      skipped: 0,
      queued: 2,
      needs_review: 0,
      stale: 0,
    });
    expect(json.cost).toEqual({ usd: 0.85, estimated: false, unknown_for: ['review'] });
    expect(json.tokens).toEqual({ input: 6100, output: 710, cache_read: 5000, cache_write: 300 });
    expect(json.tasks.map((t) => [t.id, t.status])).toEqual([
      ['db', 'completed'],
      ['api', 'failed'],
      ['ui', 'running'],
      ['review', 'awaiting-review'],
      ['docs', 'queued'],
      ['lint', 'queued'],
    ]);
    expect(json.tasks[1]).toEqual({
      id: 'api',
      name: 'REST routes',
      status: 'failed',
      cli: 'claude',
      model: null,
      effort: null,
      checkpoint: 'auto',
      on_failure: 'retry',
      retries: 1,
      depends_on: ['db'],
      waiting_for: [],
      blocked_by: null,
      ready: false,
      started_at: null,
      progress: null,
      worker: null,
      attempts: 2,
      cost_usd: 0.5,
      cost_estimated: false,
      cost_unknown: false,
      tokens: { input: 2000, output: 400, cache_read: 0, cache_write: 0 },
      turns: 20,
      duration_ms: 65_000,
      flagged: false,
      awaiting_review: false,
      summary: null,
      files_changed: ['src/routes.js'],
      landed_commit: null,
      worktree: null,
      session_id: null,
      error: {
        reason: 'verify-failed',
        message: 'verify `npm test` exited with code 1',
        advice:
          "read the gate's output (`bearing log api --verify`), fix the work or the gate, then `bearing retry api`",
      },
      stale: null,
      checks: null,
    });
    expect(json.tasks[0]!.checks).toEqual({
      verify: 'npm test',
      changed_files: true,
      approved: false,
      unknown_files: ['src/models/user.js'],
    });
    expect(json.tasks[2]!.started_at).toBe('2026-04-01T11:57:55.000Z');
    expect(json.tasks[4]).toMatchObject({ blocked_by: 'api', waiting_for: ['api'], ready: false });
    expect(json.tasks[5]).toMatchObject({ ready: true, waiting_for: [] });
    expect(json.removed).toEqual([
      {
        id: 'old',
        status: 'completed',
        attempts: 1,
        cost_usd: 0.1,
        cost_estimated: false,
        summary: null,
        files_changed: ['a.txt', 'b.txt'],
      },
    ]);
    // Plain data: survives a JSON round trip unchanged.
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});

describe('markdown escaping', () => {
  it('makes code spans and fences that the text cannot close', () => {
    expect(code('a`b')).toBe('``a`b``');
    expect(code('`x`')).toBe('`` `x` ``');
    expect(fenced('plain')).toEqual(['```text', 'plain', '```']);
    expect(fenced('has ````` five')).toEqual(['``````text', 'has ````` five', '``````']);
  });
});

describe('live progress and the last run', () => {
  /** The fixture with `ui` (codex) part-way through and `db` mid-run in another attempt of this run. */
  function live(): StatusInput {
    const input = fixture();
    const ui = input.state.tasks.ui!;
    ui.attempts[0]!.progress = {
      turns: 0,
      tool: { name: 'command', target: 'npm test' },
      usage: { inputTokens: 3000, outputTokens: 84, cacheReadTokens: 2048, cacheWriteTokens: 0 },
    };
    return input;
  }

  it('status.md, the summary and --json show a running task as far as its agent got; a CLI without cost says so', () => {
    const input = live();
    const section = renderStatusMarkdown(input).split('## ui')[1]!;
    expect(section).toContain(
      '- Progress: 0 turns · command npm test · 5,132 tokens · no cost reported',
    );
    expect(renderSummary(input)).toContain(
      '[running]         ui — Frontend · running 2m5s · 0 turns · command npm test · 5,132 tokens · no cost reported',
    );
    expect(statusJson(input).tasks.find((t) => t.id === 'ui')!.progress).toEqual({
      turns: 0,
      tool: { name: 'command', target: 'npm test' },
      tokens: { input: 3000, output: 84, cache_read: 2048, cache_write: 0 },
      cost_usd: null,
      cost_estimated: false,
    });
  });

  it('an estimate is marked as one', () => {
    const input = live();
    input.state.tasks.ui!.attempts[0]!.progress!.cost = { usd: 0.0123, estimated: true };
    expect(statusJson(input).tasks.find((t) => t.id === 'ui')!.progress).toMatchObject({
      cost_usd: 0.0123,
      cost_estimated: true,
    });
    expect(renderSummary(input)).toContain('5,132 tokens · ~$0.0123');
  });

  it('a task running on a queue worker says which, in status.md, the summary and --json', () => {
    const input = live();
    input.state.tasks.ui!.attempts[0]!.worktree = {
      path: '/cache/.bearing-worktrees/ui-1',
      branch: 'bearing/ui/1',
      base: 'a'.repeat(40),
      queued: { job: 'ui-1', cli: 'codex', worker: 'build-2:4711' },
    };
    expect(statusJson(input).tasks.find((t) => t.id === 'ui')!.worker).toBe('build-2:4711');
    expect(statusJson(input).tasks.find((t) => t.id === 'db')!.worker).toBeNull();
    expect(renderStatusMarkdown(input).split('## ui')[1]).toContain('on build-2:4711');
    expect(renderSummary(input)).toContain('on build-2:4711');
  });

  it("the summary says what the last run took and cost, and each task's share, costliest first", () => {
    const input = fixture();
    input.state.lastRun = {
      startedAt: '2026-04-01T10:00:00.000Z',
      endedAt: '2026-04-01T10:30:00.000Z',
      pid: 1,
    };
    const lines = renderSummary(input).split('\n');
    const at = lines.findIndex((l) => l.startsWith('Last run:'));
    // What its attempts recorded (the fixture's task totals hold more than its attempts do).
    expect(lines[at]).toBe(
      'Last run: took 30m, $0.8500 + unknown, 6 attempts; tokens 3,000 input, 100 output, 0 cache read, 0 cache write',
    );
    expect(lines[at + 1]).toBe(
      '  by task: api $0.5000, db $0.2500, old $0.1000, review cost unknown, ui $0.0000',
    );
  });
});
