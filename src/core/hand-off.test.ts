/**
 * The verified hand-off: a completion that changed nothing needs review, and
 * a summary that names files the task neither changed nor left in the
 * project is caught without false alarms from ordinary prose.
 */
import { describe, expect, it } from 'vitest';
import { schedule } from './graph.js';
import { pathsInSummary, unknownFiles } from './hand-off.js';
import { assemblePrompt } from './prompt.js';
import type { RunState, TaskRecord } from './state.js';
import { makePlan, makeTask } from './test-support.js';
import { type AttemptEnd, beginAttempt, finishAttempt, stopReasonFor } from './transitions.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const DIRS = new Set(['src', 'tests', 'docs']);
const isDir = (name: string): boolean => DIRS.has(name);

function end(partial: Partial<AttemptEnd> = {}): AttemptEnd {
  return {
    status: 'completed',
    summary: 'done',
    usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
    durationMs: 1000,
    notes: [],
    filesChanged: [],
    ...partial,
  };
}

function finish(task: ReturnType<typeof makeTask>, e: AttemptEnd) {
  const begun = beginAttempt(undefined, task.id, { attempt: 1, token: 'tok' }, T0);
  return finishAttempt(task, begun.record, begun.attempt, e, T0);
}

describe('a completion with no changes', () => {
  it('is not completed but needs review when the task expects changes, and the run goes on', () => {
    const task = makeTask({ id: 'api' });
    const { record, outcome } = finish(task, end({ summary: 'Added the routes.' }));
    expect(record.status).toBe('needs-review');
    expect(outcome.outcome).toBe('needs-review');
    expect(record.failure?.reason).toBe('no-changes');
    // Its words stay readable, for the person who reviews it.
    expect(record.summary).toBe('Added the routes.');
    expect(record.attempts[0]!.outcome).toBe('failed');
    expect(stopReasonFor(outcome, task)).toBeUndefined();
  });

  it('pauses the run when the task has checkpoint: pause', () => {
    const task = makeTask({ id: 'api', checkpoint: 'pause' });
    const { outcome } = finish(task, end());
    expect(stopReasonFor(outcome, task)).toEqual({ kind: 'paused', task: 'api' });
  });

  it('holds its dependents back until a person decides', () => {
    const plan = makePlan([makeTask({ id: 'api' }), makeTask({ id: 'ui', dependsOn: ['api'] })]);
    const state: RunState = { version: 1, tasks: { api: finish(plan.tasks[0]!, end()).record } };
    const s = schedule(plan, state);
    expect(s.ready).toEqual([]);
    expect(s.blocked.map((b) => [b.task.id, b.dependency, b.dependencyStatus])).toEqual([
      ['ui', 'api', 'needs-review'],
    ]);
  });

  it('completes a task that only analyses (expect_changes: false) and a shell task', () => {
    expect(finish(makeTask({ id: 'r', expectChanges: false }), end()).record.status).toBe(
      'completed',
    );
    const shell = makeTask({ id: 'check', cli: 'shell', run: 'npm test', prompt: undefined });
    expect(shell.expectChanges).toBe(false);
    expect(finish(shell, end()).record.status).toBe('completed');
  });

  it('records what a completed hand-off was checked against: the gate and the changes', () => {
    const task = makeTask({ id: 'db', verify: 'npm test' });
    const { record } = finish(task, end({ filesChanged: ['src/db.ts'], verified: 'npm test' }));
    expect(record.status).toBe('completed');
    expect(record.checks).toEqual({ verify: 'npm test', changes: true });
  });
});

describe('a summary naming a file that was not changed', () => {
  it('finds the paths in prose and markdown, and nothing else', () => {
    const summary = [
      'Created `src/db/schema.ts` and src/db/index.ts (see ./docs/db.md:12).',
      'Tests: tests/db.test.ts, all pass. Updated "src/routes".',
      'Works with Node.js and/or Bun; content type text/plain, HTTP/1.1, v1.2.3 of @types/node.',
      'See https://example.com/a/b.ts and ../outside/x.ts, /etc/hosts, ~/notes.md, -rf, src/**/*.ts.',
    ].join('\n');
    expect(pathsInSummary(summary, isDir)).toEqual([
      'src/db/schema.ts',
      'src/db/index.ts',
      'docs/db.md',
      'tests/db.test.ts',
      'src/routes',
    ]);
  });

  it('lists the named paths that were neither changed nor exist', () => {
    const exists = (p: string): boolean => p === 'src/db/index.ts';
    const summary =
      'Changed src/db/schema.ts; read src/db/index.ts; added tests/db.test.ts and src/db/migrations/001.sql; removed src/old.ts.';
    const changed = ['src/db/schema.ts', 'src/old.ts', 'src/db/migrations/001.sql'];
    expect(unknownFiles(summary, changed, exists, isDir)).toEqual(['tests/db.test.ts']);
  });

  it('takes a named folder as changed when a file under it changed', () => {
    expect(
      unknownFiles('Wrote src/db/migrations.', ['src/db/migrations/001.sql'], () => false, isDir),
    ).toEqual([]);
  });

  it('flags it in the PRIOR context handed to dependents, with the list', () => {
    const plan = makePlan([makeTask({ id: 'db' }), makeTask({ id: 'api', dependsOn: ['db'] })]);
    const db: TaskRecord = {
      ...finish(
        plan.tasks[0]!,
        end({ filesChanged: ['src/db.ts'], unknownFiles: ['tests/db.test.ts'] }),
      ).record,
    };
    expect(db.checks?.unknownFiles).toEqual(['tests/db.test.ts']);
    const state: RunState = { version: 1, tasks: { db } };
    const structured = assemblePrompt(plan, state, plan.tasks[1]!, {
      format: 'structured',
      contextLimit: 8000,
    });
    expect(structured).toContain('"files_not_found":["tests/db.test.ts"]');
    const prose = assemblePrompt(plan, state, plan.tasks[1]!, {
      format: 'prose',
      contextLimit: 8000,
    });
    expect(prose).toContain(
      'Warning: its summary names files it did not change and that do not exist; check before relying on them: tests/db.test.ts',
    );
  });
});
