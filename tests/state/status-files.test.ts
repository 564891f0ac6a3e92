/**
 * A plan of more than STATUS_INLINE_TASKS tasks: status.md shows the tasks
 * that need attention and those completed last, each task's section goes to
 * bearing/status/<id>.md, and a run writes only the files whose section
 * changed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunState, TaskRecord } from '../../src/core/state.js';
import {
  renderStatusFiles,
  renderStatusMarkdown,
  STATUS_INLINE_TASKS,
  type StatusInput,
} from '../../src/core/status-report.js';
import { completed, makePlan, makeTask } from '../../src/core/test-support.js';
import { TaskStatusFiles } from '../../src/state/task-status-files.js';
import { useFixtures } from '../helpers/fixtures.js';

const NOW = new Date('2026-04-01T12:00:00.000Z');
const id = (i: number) => `t${String(i).padStart(3, '0')}`;

function failed(taskId: string): TaskRecord {
  return {
    id: taskId,
    status: 'failed',
    attempts: [
      {
        attempt: 1,
        startedAt: '2026-04-01T11:00:00.000Z',
        endedAt: '2026-04-01T11:01:00.000Z',
        outcome: 'failed',
        failure: { reason: 'agent-exit', exitCode: 1, message: 'boom' },
      },
    ],
    costUsd: 0,
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    turns: 0,
    durationMs: 60_000,
    failure: { reason: 'agent-exit', exitCode: 1, message: 'boom' },
    updatedAt: '2026-04-01T11:01:00.000Z',
  };
}

/** `n` independent tasks: the first `done` completed one minute apart, then one failed. */
function input(n: number, done: number): StatusInput {
  const plan = makePlan(Array.from({ length: n }, (_, i) => makeTask({ id: id(i) })));
  const state: RunState = { version: 1, tasks: {} };
  for (let i = 0; i < done; i++) {
    state.tasks[id(i)] = {
      ...completed(id(i), `Did ${id(i)}.`, []),
      updatedAt: new Date(Date.parse('2026-04-01T10:00:00.000Z') + i * 60_000).toISOString(),
    };
  }
  state.tasks[id(done)] = failed(id(done));
  return { plan, state, next: 'Failed: `x`.', now: NOW };
}

const headings = (text: string) => [...text.matchAll(/^## (\S+)/gm)].map((m) => m[1]);

describe('status of a large plan', () => {
  it(`keeps every section in status.md up to ${STATUS_INLINE_TASKS} tasks, and writes no per-task file`, () => {
    const files = renderStatusFiles(input(STATUS_INLINE_TASKS, 20));
    expect(files.tasks).toBeUndefined();
    expect(headings(files.main)).toHaveLength(STATUS_INLINE_TASKS);
  });

  it('above it, shows the tasks that need attention and the ten completed last, and where the rest are', () => {
    const n = STATUS_INLINE_TASKS + 1;
    const files = renderStatusFiles(input(n, 60));
    // The failed task first, then the latest completed, newest first.
    expect(headings(files.main)).toEqual([
      'Tasks',
      id(60),
      ...Array.from({ length: 10 }, (_, i) => id(59 - i)),
    ]);
    expect(files.main).toContain(
      `This plan has ${n} tasks, too many for one file: below are 1 task that needs attention (running, failed, awaiting or needing review, interrupted, stale) and the 10 tasks completed last. Every task's section is in \`bearing/status/<id>.md\``,
    );
    // Every task has its section, the same text status.md shows for it.
    expect([...files.tasks!.keys()]).toHaveLength(n);
    const failedSection = files.tasks!.get(id(60))!;
    expect(failedSection.startsWith(`## ${id(60)}\n`)).toBe(true);
    expect(files.main).toContain(failedSection.trimEnd());
    expect(files.tasks!.get(id(99))).toContain('- State: [queued]');
    // A reader that prints status.md (`bearing status`) gets the same, without the files.
    expect(renderStatusMarkdown(input(n, 60))).toBe(files.main);
  });

  it('lists by name, not section, the tasks needing attention past the first 40', () => {
    const n = 150;
    const base = input(n, 0);
    for (let i = 1; i < 50; i++) base.state.tasks[id(i)] = failed(id(i));
    const { main } = renderStatusFiles(base);
    expect(headings(main)).toHaveLength(1 + 40);
    expect(main).toContain(
      `... and 10 more that need attention: \`${id(40)}\`, \`${id(41)}\`, \`${id(42)}\`, \`${id(43)}\`, \`${id(44)}\` and 5 more`,
    );
  });
});

describe('removed tasks in status.md', () => {
  it('are listed by name up to 50; the rest are counted', () => {
    const base = input(10, 0);
    for (let i = 0; i < 60; i++) {
      base.state.tasks[`gone-${i}`] = { ...completed(`gone-${i}`, 'Done.', []) };
    }
    const md = renderStatusMarkdown(base);
    expect(md.match(/^- `gone-\d+` \[completed\]/gm)).toHaveLength(50);
    expect(md).toContain('- ... and 10 more (`bearing status --json` lists them under `removed`)');
  });
});

describe('bearing/status/<id>.md', () => {
  const fixtures = useFixtures();

  it("writes each task's file when its section changes, reads what is there first, and removes what is no longer planned", async () => {
    const fx = await fixtures.create({ 'bearing/config.yaml': '' });
    const dir = join(fx.dir, 'bearing', 'status');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'gone.md'), 'a task no longer planned\n');
    writeFileSync(join(dir, `.${id(1)}.md.1.2.abcd.tmp`), 'half written by a killed run');
    const before = input(STATUS_INLINE_TASKS + 20, 30);
    const first = renderStatusFiles(before).tasks!;
    // An earlier run left one file right: it is not written again.
    writeFileSync(join(dir, `${id(0)}.md`), first.get(id(0))!);
    const files = new TaskStatusFiles(fx.dir);
    const bytes = files.write(first);
    const sizes = [...first.entries()].filter(([k]) => k !== id(0));
    expect(bytes).toBe(sizes.reduce((sum, [, text]) => sum + Buffer.byteLength(text), 0));
    expect(readdirSync(dir).sort()).toEqual([...first.keys()].map((k) => `${k}.md`).sort());
    expect(readFileSync(join(dir, `${id(30)}.md`), 'utf8')).toBe(first.get(id(30)));

    // The failed task completes and the next one fails: their two files are
    // written again, not the plan's.
    const after = input(STATUS_INLINE_TASKS + 20, 31);
    const second = renderStatusFiles(after).tasks!;
    const changed = [...second].filter(([k, text]) => first.get(k) !== text).map(([k]) => k);
    expect(changed).toEqual([id(30), id(31)]);
    expect(files.write(second)).toBe(
      changed.reduce((sum, k) => sum + Buffer.byteLength(second.get(k)!), 0),
    );
    expect(readFileSync(join(dir, `${id(30)}.md`), 'utf8')).toContain('- State: [completed]');

    // The plan shrinks to one file: the folder goes.
    files.write(undefined);
    expect(existsSync(dir)).toBe(false);
  });
});
