import { describe, expect, it } from 'vitest';
import { nextAttempt } from './attempt.js';
import { assemblePrompt, CLOSING_LINE, resumePrompt } from './prompt.js';
import { emptyState } from './state.js';
import { completed, makePlan, makeTask } from './test-support.js';

const schema = makeTask({ id: 'db-schema', name: 'SQLite schema' });
const auth = makeTask({ id: 'auth', name: 'Auth', dependsOn: ['db-schema'] });
const routes = makeTask({
  id: 'routes',
  name: 'CRUD routes',
  dependsOn: ['auth'],
  focus: ['src/db.js'],
  skip: ['node_modules'],
  prompt: 'Add CRUD routes for tasks.',
});
const plan = makePlan([schema, auth, routes]);

function doneState() {
  const state = emptyState();
  state.tasks['db-schema'] = completed(
    'db-schema',
    'Created the users and tasks tables.',
    ['src/db.js'],
    '2026-01-01T00:00:00.000Z',
  );
  state.tasks.auth = completed(
    'auth',
    'Added login with bcrypt.\nSessions live in memory.',
    ['src/auth.js', 'src/db.js'],
    '2026-01-02T00:00:00.000Z',
  );
  return state;
}

describe('assemblePrompt (structured)', () => {
  it('puts directives, PRIOR, prompt and the closing line in order', () => {
    const text = assemblePrompt(plan, doneState(), routes, {
      format: 'structured',
      contextLimit: 8000,
    });
    expect(text).toBe(
      [
        'FOCUS: ["src/db.js"]',
        'SKIP: ["node_modules","bearing/"]',
        '',
        'PRIOR: {"id":"auth","name":"Auth","status":"completed","summary":"Added login with bcrypt.\\nSessions live in memory.","files_changed":["src/auth.js","src/db.js"]}',
        'PRIOR: {"id":"db-schema","name":"SQLite schema","status":"completed","earlier":true,"summary":"Created the users and tasks tables."}',
        '',
        'Add CRUD routes for tasks.',
        '',
        CLOSING_LINE,
        '',
      ].join('\n'),
    );
  });

  it('always skips bearing/ and omits PRIOR when nothing completed', () => {
    const text = assemblePrompt(plan, emptyState(), auth, {
      format: 'structured',
      contextLimit: 8000,
    });
    expect(text).toBe(`SKIP: ["bearing/"]\n\nDo auth.\n\n${CLOSING_LINE}\n`);
  });

  it('is the same when rendered twice: re-runs never duplicate context', () => {
    const state = doneState();
    const once = assemblePrompt(plan, state, routes, { format: 'structured', contextLimit: 8000 });
    state.tasks.auth = completed(
      'auth',
      'Second run summary.',
      ['src/auth.js'],
      '2026-01-03T00:00:00.000Z',
    );
    const again = assemblePrompt(plan, state, routes, { format: 'structured', contextLimit: 8000 });
    expect(again.match(/"id":"auth"/g)).toHaveLength(1);
    expect(again).toContain('Second run summary.');
    expect(again).not.toContain('bcrypt');
    expect(once).toContain('bcrypt');
  });

  it('hands a skipped dependency over with its failure', () => {
    const state = emptyState();
    state.tasks['db-schema'] = {
      ...completed('db-schema', ''),
      status: 'skipped',
      failure: { reason: 'max-turns', message: 'Reached maximum number of turns (3)', turns: 4 },
    };
    const text = assemblePrompt(plan, state, auth, { format: 'structured', contextLimit: 8000 });
    expect(text).toContain(
      'PRIOR: {"id":"db-schema","name":"SQLite schema","status":"skipped","summary":"","files_changed":[],"error":"turn limit reached after 4 turns: Reached maximum number of turns (3)"}',
    );
  });
});

describe('assemblePrompt (prose)', () => {
  it('writes the same content as sentences', () => {
    const text = assemblePrompt(plan, doneState(), routes, { format: 'prose', contextLimit: 8000 });
    expect(text).toBe(
      [
        'Read these files first: src/db.js.',
        'Do not read or modify: node_modules, bearing/.',
        '',
        'Work already done by the tasks this one builds on:',
        '- auth (Auth) is done.',
        '  Files it changed: src/auth.js, src/db.js',
        '  Its summary:',
        '    Added login with bcrypt.',
        '    Sessions live in memory.',
        '- Earlier, db-schema (SQLite schema): Created the users and tasks tables.',
        '',
        'Add CRUD routes for tasks.',
        '',
        CLOSING_LINE,
        '',
      ].join('\n'),
    );
  });
});

describe('context limit', () => {
  const many = Array.from({ length: 30 }, (_, i) =>
    makeTask({ id: `t${i}`, dependsOn: i ? [`t${i - 1}`] : [] }),
  );
  const last = makeTask({ id: 'last', dependsOn: ['t29'], prompt: 'THE TASK PROMPT' });
  const bigPlan = makePlan([...many, last]);
  const state = emptyState();
  for (const [i, t] of many.entries()) {
    state.tasks[t.id] = completed(
      t.id,
      `summary of ${t.id} `.repeat(40),
      [`f${i}.js`],
      `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`,
    );
  }

  it('keeps PRIOR within the limit, trimming the most distant first, never the prompt', () => {
    const limit = 2000;
    const text = assemblePrompt(bigPlan, state, last, {
      format: 'structured',
      contextLimit: limit,
    });
    const prior = text
      .split('\n')
      .filter((l) => l.startsWith('PRIOR:'))
      .join('\n');
    expect(prior.length).toBeLessThanOrEqual(limit);
    expect(text).toContain('"id":"t29"');
    expect(text).not.toContain('"id":"t0"');
    expect(text).toContain('"omitted":');
    expect(text).toContain('THE TASK PROMPT');
  });

  it('shortens a direct dependency summary before dropping it', () => {
    const text = assemblePrompt(bigPlan, state, last, { format: 'structured', contextLimit: 600 });
    expect(text).toContain('"id":"t29"');
    expect(text).toContain('[... trimmed]');
    expect(text).toContain('"files_changed":["f29.js"]');
  });
});

describe('context limit, with more ancestors than can fit', () => {
  // 300 direct dependencies finished in 30 seconds (ten at each: ties), and
  // a chain of 1,000 before them: far more than a 600-character PRIOR holds.
  const chain = Array.from({ length: 1000 }, (_, i) =>
    makeTask({ id: `c${i}`, dependsOn: i ? [`c${i - 1}`] : [] }),
  );
  const fan = Array.from({ length: 300 }, (_, i) => makeTask({ id: `d${i}`, dependsOn: ['c999'] }));
  const last = makeTask({ id: 'last', dependsOn: fan.map((t) => t.id) });
  const wide = makePlan([...chain, ...fan, last]);
  const state = emptyState();
  const second = (i: number) => `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`;
  for (const t of chain) state.tasks[t.id] = completed(t.id, 'Done.', [], second(0));
  for (const [i, t] of fan.entries()) {
    state.tasks[t.id] = completed(t.id, 'Done.', [], second(Math.floor(i / 10)));
  }

  it('keeps the newest direct dependencies (of equals, the later listed) and counts every other ancestor as omitted', () => {
    const text = assemblePrompt(wide, state, last, { format: 'structured', contextLimit: 600 });
    const prior = text.split('\n').filter((l) => l.startsWith('PRIOR:'));
    const size = prior.join('\n').length;
    expect(size).toBeLessThanOrEqual(600);
    // And as many as fit: not one more line as long as the shortest would.
    expect(size + 1 + Math.min(...prior.slice(0, -1).map((l) => l.length))).toBeGreaterThan(600);
    const kept = prior.flatMap((l) => JSON.parse(l.slice('PRIOR: '.length)).id ?? []);
    const omitted = JSON.parse(prior.at(-1)!.slice('PRIOR: '.length)).omitted;
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length + omitted).toBe(1300);
    // The kept are the last of the fan, in the order it lists them.
    expect(kept).toEqual(fan.slice(300 - kept.length).map((t) => t.id));
  });
});

describe('context limit, at the end of a long chain', () => {
  const chain = Array.from({ length: 1000 }, (_, i) =>
    makeTask({ id: `c${i}`, dependsOn: i ? [`c${i - 1}`] : [] }),
  );
  const last = makeTask({ id: 'last', dependsOn: ['c999'] });
  const plan = makePlan([...chain, last]);
  const state = emptyState();
  for (const [i, t] of chain.entries()) {
    state.tasks[t.id] = completed(
      t.id,
      `Step ${i} done.`,
      [`f${i}.js`],
      `2026-01-01T00:00:00.000Z`,
    );
  }

  it.each(['structured', 'prose'] as const)(
    'keeps (%s) the nearest ancestors, as many as fit, and counts the rest as omitted',
    (format) => {
      const limit = 2000;
      const text = assemblePrompt(plan, state, last, { format, contextLimit: limit });
      const lines = text.split('\n');
      const prior =
        format === 'structured'
          ? lines.filter((l) => l.startsWith('PRIOR:'))
          : lines.slice(
              lines.indexOf('Work already done by the tasks this one builds on:'),
              lines.findIndex((l) => l.includes('omitted to fit')) + 1,
            );
      const size = prior.join('\n').length;
      expect(size).toBeLessThanOrEqual(limit);
      const ids = prior.flatMap((l) => /\bc\d+\b/.exec(l)?.[0] ?? []);
      // Nearest first, one after another: c999, c998, ...
      expect(ids).toEqual(ids.map((_, i) => `c${999 - i}`));
      const omitted = Number(/(?:"omitted":|\()(\d+)/.exec(prior.at(-1)!)![1]);
      expect(ids.length + omitted).toBe(1000);
      // Not one more line of an earlier ancestor would fit.
      const earlier = prior.filter(
        (l) => l.includes('"earlier":true') || l.startsWith('- Earlier'),
      );
      expect(earlier.length).toBeGreaterThan(10);
      expect(size + 1 + Math.min(...earlier.map((l) => l.length))).toBeGreaterThan(limit);
    },
  );
});

describe('retries', () => {
  const failedRecord = {
    ...completed('auth', ''),
    status: 'queued' as const,
    attempts: [
      {
        attempt: 1,
        startedAt: '2026-01-01T00:00:00.000Z',
        outcome: 'failed' as const,
        sessionId: 'sess-1',
        failure: {
          reason: 'verify-failed' as const,
          command: 'npm test',
          exitCode: 1,
          output: 'FAIL test/auth.test.js',
        },
      },
    ],
  };

  it('appends the previous error and gate output', () => {
    const next = nextAttempt(failedRecord, false);
    expect(next).toMatchObject({
      attempt: 2,
      retry: {
        attempt: 2,
        error: 'verify `npm test` exited with code 1',
        gateOutput: 'FAIL test/auth.test.js',
      },
    });
    const text = assemblePrompt(plan, emptyState(), auth, {
      format: 'structured',
      contextLimit: 8000,
      retry: next.retry!,
    });
    expect(text).toContain(
      'Do auth.\n\nPREVIOUS ATTEMPT FAILED: {"attempt":2,"error":"verify `npm test` exited with code 1","gate_output":"FAIL test/auth.test.js"}\nFix the cause and finish the task.',
    );
  });

  it('resumes the session where the CLI allows, sending only the retry note', () => {
    const next = nextAttempt(failedRecord, true, 'resume');
    expect(next.resumeSessionId).toBe('sess-1');
    expect(resumePrompt(next.retry!, 'prose')).toBe(
      `This is attempt 2. The previous attempt failed: verify \`npm test\` exited with code 1\nOutput of the check:\n    FAIL test/auth.test.js\nFix the cause and finish the task.\n\n${CLOSING_LINE}\n`,
    );
  });

  it('adds no retry note after a usage limit, which says nothing about the work', () => {
    const limited = {
      ...failedRecord,
      attempts: [
        {
          ...failedRecord.attempts[0]!,
          failure: { reason: 'rate-limited' as const, message: "You've hit your limit" },
        },
      ],
    };
    expect(nextAttempt(limited, true, 'fresh')).toMatchObject({ attempt: 2 });
    expect(nextAttempt(limited, true, 'fresh').retry).toBeUndefined();
  });

  it('starts fresh after a completed attempt', () => {
    expect(nextAttempt(completed('auth', 'ok'), true)).toEqual({ attempt: 2 });
  });
});
