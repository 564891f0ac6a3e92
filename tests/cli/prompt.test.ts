/**
 * `bearing prompt <id> [dir]` against the built bin: exactly what an agent
 * would receive, before and after its dependencies completed (state.json
 * written by hand), in both formats and as JSON; shell tasks; usage errors.
 */
import { describe, expect, it } from 'vitest';
import type { RunState, TaskRecord } from '../../src/core/state.js';
import type { FixtureFiles } from '../helpers/fixtures.js';
import { expectNoStackTrace, lines, useCli, yaml } from './support.js';

const { project, run } = useCli();

const CLOSING =
  'When you are done, end your reply with a short summary: what you changed (files and behaviour), how you checked it, and what is left undone. It is handed to the tasks that build on yours.';

const TASKS: FixtureFiles = {
  'bearing/tasks/app.yaml': yaml(
    'tasks:',
    '  - id: db-schema',
    '    name: SQLite schema',
    '    focus: [src/db.js]',
    '    skip: [node_modules, dist]',
    '    prompt: |',
    '      Create src/db.js with the tables users and tasks.',
    '      Done when `npm test` passes.',
    '  - id: api',
    '    name: REST routes',
    '    depends_on: [db-schema]',
    '    focus: [src/api.js, src/db.js]',
    '    prompt: Add routes for users and tasks.',
    '  - id: ui',
    '    name: Web UI',
    '    depends_on: [api]',
    '    prompt: Build the UI on top of the API.',
    '  - id: lint',
    '    cli: shell',
    '    run: npm run lint -- --max-warnings "0"',
    '    depends_on: [ui]',
  ),
};

const USAGE = {
  inputTokens: 1200,
  outputTokens: 340,
  cacheReadTokens: 5000,
  cacheWriteTokens: 800,
};

function completed(
  id: string,
  summary: string,
  filesChanged: string[],
  updatedAt: string,
): TaskRecord {
  return {
    id,
    status: 'completed',
    attempts: [
      {
        attempt: 1,
        startedAt: '2025-01-01T10:00:00.000Z',
        endedAt: updatedAt,
        durationMs: 61_000,
        outcome: 'completed',
        costUsd: 0.42,
        usage: USAGE,
        turns: 7,
        sessionId: `session-${id}`,
        summary,
      },
    ],
    summary,
    filesChanged,
    costUsd: 0.42,
    usage: USAGE,
    turns: 7,
    durationMs: 61_000,
    sessionId: `session-${id}`,
    updatedAt,
  };
}

const DB_SUMMARY = 'Created src/db.js with users and tasks tables; npm test passes.';
const API_SUMMARY = 'Added GET/POST /users and /tasks in src/api.js.\nValidation is left undone.';

/** db-schema and api completed, as a run records them. */
const STATE: RunState = {
  version: 1,
  tasks: {
    'db-schema': completed(
      'db-schema',
      DB_SUMMARY,
      ['src/db.js', 'migrations/001.sql'],
      '2025-01-01T10:01:01.000Z',
    ),
    api: completed(
      'api',
      API_SUMMARY,
      ['src/api.js', 'src/routes/users.js'],
      '2025-01-01T10:05:00.000Z',
    ),
  },
};

const withState = (state: RunState): FixtureFiles => ({
  ...TASKS,
  'bearing/.state/state.json': `${JSON.stringify(state, null, 2)}\n`,
});

describe('bearing prompt', () => {
  it('prints FOCUS and SKIP, the prompt and the closing line for a task with no completed dependency', async () => {
    const fx = await project(TASKS);
    const result = await run(fx, 'prompt', 'db-schema');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      lines(
        'FOCUS: ["src/db.js"]',
        'SKIP: ["node_modules","dist","bearing/"]',
        '',
        'Create src/db.js with the tables users and tasks.',
        'Done when `npm test` passes.',
        '',
        CLOSING,
      ),
    );
    expect(result.code).toBe(0);
    // Dependencies that have not completed hand nothing over.
    expect((await run(fx, 'prompt', 'api')).stdout).toBe(
      lines(
        'FOCUS: ["src/api.js","src/db.js"]',
        'SKIP: ["bearing/"]',
        '',
        'Add routes for users and tasks.',
        '',
        CLOSING,
      ),
    );
  });

  it('hands over the summaries and changed files of completed dependencies as PRIOR lines', async () => {
    const fx = await project(withState(STATE));
    const api = await run(fx, 'prompt', 'api');
    expect(api.stderr).toBe('');
    expect(api.stdout).toBe(
      lines(
        'FOCUS: ["src/api.js","src/db.js"]',
        'SKIP: ["bearing/"]',
        '',
        `PRIOR: {"id":"db-schema","name":"SQLite schema","status":"completed","summary":${JSON.stringify(DB_SUMMARY)},"files_changed":["src/db.js","migrations/001.sql"]}`,
        '',
        'Add routes for users and tasks.',
        '',
        CLOSING,
      ),
    );
    expect(api.code).toBe(0);
    // A direct dependency in full, an earlier ancestor in one line.
    const ui = await run(fx, 'prompt', 'ui');
    expect(ui.stdout).toBe(
      lines(
        'SKIP: ["bearing/"]',
        '',
        `PRIOR: {"id":"api","name":"REST routes","status":"completed","summary":${JSON.stringify(API_SUMMARY)},"files_changed":["src/api.js","src/routes/users.js"]}`,
        `PRIOR: {"id":"db-schema","name":"SQLite schema","status":"completed","earlier":true,"summary":${JSON.stringify(DB_SUMMARY)}}`,
        '',
        'Build the UI on top of the API.',
        '',
        CLOSING,
      ),
    );
    expect(ui.code).toBe(0);
  });

  it('writes the same in prose with --format prose', async () => {
    const fx = await project(withState(STATE));
    const result = await run(fx, 'prompt', '--format', 'prose', 'ui');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      lines(
        'Do not read or modify: bearing/.',
        '',
        'Work already done by the tasks this one builds on:',
        '- api (REST routes) is done.',
        '  Files it changed: src/api.js, src/routes/users.js',
        '  Its summary:',
        '    Added GET/POST /users and /tasks in src/api.js.',
        '    Validation is left undone.',
        `- Earlier, db-schema (SQLite schema): ${DB_SUMMARY}`,
        '',
        'Build the UI on top of the API.',
        '',
        CLOSING,
      ),
    );
    expect(result.code).toBe(0);
    const db = await run(fx, 'prompt', 'db-schema', '--format', 'prose');
    expect(db.stdout.split('\n').slice(0, 3)).toEqual([
      'Read these files first: src/db.js.',
      'Do not read or modify: node_modules, dist, bearing/.',
      '',
    ]);
  });

  it('prints the prompt and how it would be sent with --json', async () => {
    const fx = await project(withState(STATE));
    const structured = await run(fx, 'prompt', 'ui');
    const result = await run(fx, 'prompt', 'ui', '--json');
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      id: 'ui',
      cli: 'claude',
      attempt: 1,
      resume_session_id: null,
      retry: null,
      format: 'structured',
      prompt: structured.stdout,
    });
    expect(result.code).toBe(0);
  });

  it('appends the previous error after a failed attempt', async () => {
    const failed: TaskRecord = {
      ...completed('ui', '', [], '2025-01-01T11:00:00.000Z'),
      status: 'failed',
      summary: undefined,
      filesChanged: undefined,
      failure: { reason: 'agent-exit', exitCode: 1, message: 'npm ERR! missing script: build' },
    };
    failed.attempts = [
      {
        attempt: 1,
        startedAt: '2025-01-01T10:59:00.000Z',
        endedAt: '2025-01-01T11:00:00.000Z',
        outcome: 'failed',
        failure: failed.failure,
        exitCode: 1,
      },
    ];
    const fx = await project(withState({ version: 1, tasks: { ...STATE.tasks, ui: failed } }));
    const result = await run(fx, 'prompt', 'ui', '--json');
    expect(result.stderr).toBe('');
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({
      attempt: 2,
      resume_session_id: null,
      retry:
        'starts fresh: no session to resume; the last attempt was cut off (agent exited with code 1: npm ERR! missing script: build)',
    });
    expect(json.prompt.split('\n').slice(-5)).toEqual([
      'PREVIOUS ATTEMPT FAILED: {"attempt":2,"error":"agent exited with code 1: npm ERR! missing script: build"}',
      'Fix the cause and finish the task.',
      '',
      CLOSING,
      '',
    ]);
  });

  it('says a shell task receives no prompt', async () => {
    const fx = await project(TASKS);
    const result = await run(fx, 'prompt', 'lint');
    expect(result).toMatchObject({
      code: 0,
      stderr: '',
      stdout: lines(
        'lint is a shell task: it runs `sh -c "npm run lint -- --max-warnings \\"0\\""` in the project and receives no prompt.',
      ),
    });
    const json = await run(fx, 'prompt', 'lint', '--json');
    expect(JSON.parse(json.stdout)).toEqual({
      id: 'lint',
      cli: 'shell',
      run: 'npm run lint -- --max-warnings "0"',
      prompt: null,
    });
  });

  it('takes the project folder as a second argument', async () => {
    const fx = await project({ 'app/bearing/tasks/a.yaml': yaml('id: a', 'prompt: Say hi.') });
    const result = await run(fx, 'prompt', 'a', 'app');
    expect(result.stdout).toBe(lines('SKIP: ["bearing/"]', '', 'Say hi.', '', CLOSING));
    expect(result.code).toBe(0);
  });

  it('refuses an unknown id with a did-you-mean, exit 2', async () => {
    const fx = await project(TASKS);
    const result = await run(fx, 'prompt', 'db-shema');
    expectNoStackTrace(result);
    expect(result).toMatchObject({
      code: 2,
      stdout: '',
      stderr: lines(
        'bearing prompt: no task "db-shema" (did you mean "db-schema"?); run `bearing validate` to list them',
      ),
    });
  });

  it('refuses an invalid --format, exit 2, before reading the project', async () => {
    const fx = await project();
    const result = await run(fx, 'prompt', 'ui', '--format', 'pros');
    expectNoStackTrace(result);
    expect(result).toMatchObject({
      code: 2,
      stdout: '',
      stderr: lines(
        'bearing prompt: --format: expected one of structured, prose, got "pros" (did you mean "prose"?)',
      ),
    });
  });

  it('prints the diagnostics of an invalid project, exit 2', async () => {
    const fx = await project({ 'bearing/tasks/a.yaml': yaml('id: a', 'prompt: x', 'retries: -1') });
    const result = await run(fx, 'prompt', 'a');
    expectNoStackTrace(result);
    expect(result).toMatchObject({
      code: 2,
      stdout: '',
      stderr: lines('bearing/tasks/a.yaml:3:10: retries: expected 0 or more, got -1'),
    });
  });

  it('requires an id, exit 2', async () => {
    const fx = await project(TASKS);
    const result = await run(fx, 'prompt');
    expect(result).toMatchObject({
      code: 2,
      stdout: '',
      stderr: lines("error: missing required argument 'id'", '(run with --help for usage)'),
    });
  });
});
