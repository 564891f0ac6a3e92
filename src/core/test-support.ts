/**
 * Builders for core unit tests: a Task with defaults and a Plan around tasks.
 * Kept beside the core so tests need no loader or files.
 */
import type { TaskRecord } from './state.js';
import { ZERO_USAGE } from './state.js';
import type { Plan, Task } from './task.js';

export function makeTask(partial: Partial<Task> & { id: string }): Task {
  return {
    name: partial.id,
    cli: 'claude',
    timeoutMs: 1_800_000,
    idleTimeoutMs: 600_000,
    permissionMode: 'auto',
    sandbox: 'workspace-write',
    focus: [],
    skip: [],
    dependsOn: [],
    checkpoint: 'auto',
    onFailure: 'retry',
    retries: 1,
    retryMode: 'auto',
    prompt: `Do ${partial.id}.`,
    source: { file: 'bearing/tasks/t.yaml', line: 1, col: 1 },
    ...partial,
    expectChanges: partial.expectChanges ?? (partial.cli ?? 'claude') !== 'shell',
  };
}

export function makePlan(tasks: Task[], run: Partial<Plan['run']> = {}): Plan {
  return {
    tasks,
    agents: {},
    run: {
      concurrency: 1,
      promptFormat: 'structured',
      contextLimit: 8000,
      waitForLimits: true,
      maxLogBytes: 64 * 1024 * 1024,
      minFreeBytes: 512 * 1024 * 1024,
      isolation: 'none',
      remote: 'origin',
      worktreeDir: 'bearing/.state/worktrees',
      conflictRetries: 1,
      ...run,
    },
  };
}

export function completed(
  id: string,
  summary: string,
  filesChanged: string[] = [],
  updatedAt = '2026-01-01T00:00:00.000Z',
): TaskRecord {
  return {
    id,
    status: 'completed',
    attempts: [{ attempt: 1, startedAt: updatedAt, outcome: 'completed', summary }],
    summary,
    filesChanged,
    costUsd: 0,
    usage: ZERO_USAGE,
    turns: 1,
    durationMs: 1000,
    updatedAt,
  };
}
