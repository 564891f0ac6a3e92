/**
 * A mixed-agent DAG (claude -> codex -> shell -> claude, plus an independent
 * claude task) in a git repo, through the built bin: dependency order, the
 * hand-off, what was recorded, the exact argv each fake received, and that a
 * second run does nothing and never duplicates context.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLOSING_LINE } from '../../src/core/prompt.js';
import { Project, type Scenario, tasksYaml, useRig } from './rig.js';

useRig();

const TASKS = tasksYaml([
  {
    id: 'schema',
    name: 'SQLite schema',
    cli: 'claude',
    model: 'sonnet',
    max_turns: 7,
    budget_usd: 2.5,
    effort: 'high',
    permission_mode: 'acceptEdits',
    focus: ['src/db.js'],
    prompt: '[[schema]] Create src/db.js.',
  },
  {
    id: 'api',
    cli: 'codex',
    model: 'gpt-5.2-codex',
    effort: 'medium',
    depends_on: ['schema'],
    prompt: '[[api]] Create src/api.js.',
  },
  {
    id: 'lint',
    cli: 'shell',
    run: 'test -f src/api.js && test -f src/db.js && echo LINT-OK',
    depends_on: ['api'],
  },
  {
    id: 'final',
    cli: 'claude',
    depends_on: ['lint'],
    prompt: '[[final]] Wrap up.',
  },
  { id: 'docs', cli: 'claude', prompt: '[[docs]] Write docs/guide.md.' },
]);

const SCENARIOS: Scenario[] = [
  {
    match: '[[schema]]',
    summary: 'Schema summary: created the users table.',
    writeFiles: { 'src/db.js': 'export const db = 1;\n' },
    costUsd: 0.125,
    sessionId: '11111111-1111-4111-8111-111111111111',
  },
  {
    match: '[[api]]',
    summary: 'API summary: routes in src/api.js.',
    writeFiles: { 'src/api.js': 'export const api = 1;\n' },
    usage: { input_tokens: 3100, cached_input_tokens: 1000, output_tokens: 90 },
  },
  { match: '[[final]]', summary: 'Final summary.' },
  {
    match: '[[docs]]',
    summary: 'Docs summary.',
    writeFiles: { 'docs/guide.md': '# Guide\n' },
  },
];

describe('a mixed-agent DAG', () => {
  it('runs in dependency order, hands off context, records everything, and is idempotent', async () => {
    const p = await Project.create(
      { 'README.md': '# demo\n', 'bearing/tasks/plan.yaml': TASKS },
      { scenarios: SCENARIOS },
    );

    const first = await p.run(['run', '.']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/5 of 5 tasks to run \(concurrency 1\)/);
    expect(first.stdout).toMatch(/✔ schema completed \(.*\$0\.1250 · 2 turns · 1 file changed\)/);
    expect(first.stdout).toMatch(/All 5 tasks done\./);

    // Dependency order, from the fakes' own log: schema before api before final; docs once.
    const calls = p.calls();
    const order = calls.map((c) => /\[\[(\w+)\]\]/.exec(c.prompt ?? '')?.[1]);
    expect([...order].sort()).toEqual(['api', 'docs', 'final', 'schema']);
    expect(order.indexOf('schema')).toBeLessThan(order.indexOf('api'));
    expect(order.indexOf('api')).toBeLessThan(order.indexOf('final'));
    // Every agent read its prompt from stdin, whole: its attempt's prompt.txt.
    calls.forEach((c, i) => {
      expect(c.prompt).toBe(p.promptOf(order[i]!, 1));
    });
    // Each agent ran in the project, with the task and attempt in its environment.
    for (const c of calls) {
      expect(c.cwd).toBe(p.dir);
      expect(c.env.BEARING_ATTEMPT).toBe('1');
    }

    // Exact argv.
    const schemaPrompt = p.promptOf('schema', 1);
    const schemaCall = p.callsFor('[[schema]]')[0]!;
    expect(schemaCall.argv).toEqual([
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--model',
      'sonnet',
      '--max-turns',
      '7',
      '--max-budget-usd',
      '2.5',
      '--effort',
      'high',
      '--permission-mode',
      'acceptEdits',
    ]);
    expect(schemaCall.prompt).toBe(schemaPrompt);
    expect(schemaCall.env.BEARING_TASK_ID).toBe('schema');
    expect(schemaPrompt).toBe(
      `FOCUS: ["src/db.js"]\nSKIP: ["bearing/"]\n\n[[schema]] Create src/db.js.\n\n${CLOSING_LINE}\n`,
    );

    const apiPrompt = p.promptOf('api', 1);
    expect(p.callsFor('[[api]]')[0]!.argv).toEqual([
      'exec',
      '--json',
      '-m',
      'gpt-5.2-codex',
      '-s',
      'workspace-write',
      '-c',
      'model_reasoning_effort="medium"',
      '--',
      '-',
    ]);
    expect(p.callsFor('[[api]]')[0]!.prompt).toBe(apiPrompt);
    // The hand-off: schema's summary and the files it actually changed.
    const schemaPrior = `PRIOR: ${JSON.stringify({
      id: 'schema',
      name: 'SQLite schema',
      status: 'completed',
      summary: 'Schema summary: created the users table.',
      files_changed: ['src/db.js'],
    })}`;
    expect(apiPrompt).toBe(
      `SKIP: ["bearing/"]\n\n${schemaPrior}\n\n[[api]] Create src/api.js.\n\n${CLOSING_LINE}\n`,
    );

    // final: its direct dependency (the shell step) in full, earlier ancestors one line each.
    const finalPrompt = p.promptOf('final', 1);
    expect(p.callsFor('[[final]]')[0]!.prompt).toBe(finalPrompt);
    const priorLines = finalPrompt.split('\n').filter((l) => l.startsWith('PRIOR: '));
    expect(priorLines.map((l) => JSON.parse(l.slice(7)))).toEqual([
      { id: 'lint', name: 'lint', status: 'completed', summary: 'LINT-OK', files_changed: [] },
      {
        id: 'api',
        name: 'api',
        status: 'completed',
        earlier: true,
        summary: 'API summary: routes in src/api.js.',
      },
      {
        id: 'schema',
        name: 'SQLite schema',
        status: 'completed',
        earlier: true,
        summary: 'Schema summary: created the users table.',
      },
    ]);
    // The independent branch gets no PRIOR.
    expect(p.promptOf('docs', 1)).not.toContain('PRIOR');

    // What was recorded, from the fakes' output.
    const state = p.state();
    expect(Object.values(state.tasks).map((t) => [t.id, t.status])).toEqual(
      expect.arrayContaining([
        ['schema', 'completed'],
        ['api', 'completed'],
        ['lint', 'completed'],
        ['final', 'completed'],
        ['docs', 'completed'],
      ]),
    );
    const schema = state.tasks.schema!;
    expect(schema.costUsd).toBe(0.125);
    expect(schema.turns).toBe(2);
    expect(schema.sessionId).toBe('11111111-1111-4111-8111-111111111111');
    expect(schema.usage).toEqual({
      inputTokens: 240,
      outputTokens: 80,
      cacheReadTokens: 20480,
      cacheWriteTokens: 4096,
    });
    expect(schema.summary).toBe('Schema summary: created the users table.');
    expect(schema.filesChanged).toEqual(['src/db.js']);
    expect(schema.attempts).toHaveLength(1);
    // The model claude said it ran (its init event) is on the attempt.
    expect(schema.attempts[0]).toMatchObject({
      attempt: 1,
      outcome: 'completed',
      exitCode: 0,
      model: 'sonnet',
    });
    expect(state.tasks.final!.attempts[0]!.model).toBe('claude-sonnet-5');
    // codex does not say which model it runs.
    expect(state.tasks.api!.attempts[0]!.model).toBeUndefined();

    const api = state.tasks.api!;
    // codex prints no cost: Bearing's estimate at gpt-5-codex's list price
    // (2,100 uncached input, 1,000 cached, 90 output), marked as one.
    expect(api.costUsd).toBeCloseTo((2100 * 1.25 + 1000 * 0.125 + 90 * 10) / 1e6, 12);
    expect(api.attempts[0]!.costEstimated).toBe(true);
    expect(api.usage).toEqual({
      inputTokens: 3100,
      outputTokens: 90,
      cacheReadTokens: 1000,
      cacheWriteTokens: 0,
    });
    expect(api.turns).toBe(1);
    expect(api.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(api.filesChanged).toEqual(['src/api.js']);
    expect(state.tasks.lint!.summary).toBe('LINT-OK');
    expect(state.tasks.lint!.filesChanged).toEqual([]);
    expect(state.tasks.docs!.filesChanged).toEqual(['docs/guide.md']);
    expect(state.lastRun?.endedAt).toBeDefined();
    expect(p.lockExists()).toBe(false);

    // status.md: progress, cost (codex's estimated, so the total is marked), tokens, next, per-task sections.
    expect(p.statusLine('Progress')).toBe('5/5 completed');
    expect(p.statusLine('Cost')).toBe(
      `~$${(0.125 + 0.023424 * 2 + api.costUsd).toFixed(4)} (~: estimated from tokens)`,
    );
    expect(p.statusSection('api')).toContain(`- Spent: ~$${api.costUsd.toFixed(4)}, 1 turn, `);
    expect(p.statusLine('Tokens')).toBe(
      '3,820 input, 330 output, 62,440 cache read, 12,288 cache write',
    );
    expect(p.statusLine('Next')).toBe(
      'All 5 tasks done. Add tasks to bearing/tasks/ and run `bearing run` to continue.',
    );
    const schemaSection = p.statusSection('schema');
    expect(schemaSection).toContain('## schema — SQLite schema');
    expect(schemaSection).toContain('- State: [completed]');
    expect(schemaSection).toContain('- Spent: $0.1250, 2 turns, ');
    expect(schemaSection).toContain('- Session: `11111111-1111-4111-8111-111111111111`');
    expect(schemaSection).toContain('- `src/db.js`');

    // The raw output of every attempt is kept.
    const raw = readFileSync(join(p.attemptDir('schema', 1), 'stdout.log'), 'utf8');
    expect(raw.trim().split('\n').at(-1)).toContain('"type":"result"');

    // Re-running does nothing.
    const again = await p.run(['run', '.']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/0 of 5 tasks to run/);
    expect(again.stdout).not.toMatch(/started/);
    expect(p.calls()).toHaveLength(4);
    expect(p.task('schema').attempts).toHaveLength(1);

    // ... and never duplicates context: one PRIOR per dependency.
    const preview = await p.run(['prompt', 'api']);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toBe(apiPrompt);
    expect(preview.stdout.split(schemaPrior)).toHaveLength(2);
    const finalPreview = await p.run(['prompt', 'final']);
    expect(finalPreview.stdout.split('\n').filter((l) => l.startsWith('PRIOR: '))).toHaveLength(3);
  });

  it('passes --skip-git-repo-check to codex outside a git repo, and measures changes by file times', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/a.yaml': tasksYaml([
          { id: 'one', cli: 'codex', prompt: '[[one]] go' },
          { id: 'two', cli: 'claude', depends_on: ['one'], prompt: '[[two]] go' },
        ]),
      },
      {
        git: false,
        scenarios: [
          { match: '[[one]]', summary: 'one done', writeFiles: { 'out/one.txt': '1\n' } },
          { match: '[[two]]', summary: 'two done' },
        ],
      },
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    const one = p.callsFor('[[one]]')[0]!;
    expect(one.argv.slice(0, 6)).toEqual([
      'exec',
      '--json',
      '-s',
      'workspace-write',
      '--skip-git-repo-check',
      '--',
    ]);
    expect(p.task('one').filesChanged).toEqual(['out/one.txt']);
    expect(p.promptOf('two', 1)).toContain('"files_changed":["out/one.txt"]');
  });
});
