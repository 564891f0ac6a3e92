/**
 * Every path Bearing reads or writes under `<project>/bearing/`, in one place,
 * so the layout in docs/architecture.md has exactly one definition and no
 * caller joins a task id into a path without the safety check.
 */
import { join } from 'node:path';
import { TASK_ID_MAX_LENGTH, TASK_ID_PATTERN } from '../tasks/values.js';

/** The directory name inside the project; also always excluded from "files changed". */
export const BEARING_DIR = 'bearing';

export function bearingDir(projectDir: string): string {
  return join(projectDir, BEARING_DIR);
}

export function configFile(projectDir: string): string {
  return join(projectDir, BEARING_DIR, 'config.yaml');
}

export function tasksDir(projectDir: string): string {
  return join(projectDir, BEARING_DIR, 'tasks');
}

export function statusFile(projectDir: string): string {
  return join(projectDir, BEARING_DIR, 'status.md');
}

/** A large plan's per-task status files (see STATUS_INLINE_TASKS in core/status-report.ts). */
export function statusTasksDir(projectDir: string): string {
  return join(projectDir, BEARING_DIR, 'status');
}

/** `bearing/status/<task>.md`: one task's section of the status. */
export function taskStatusFile(projectDir: string, taskId: string): string {
  assertSafeTaskId(taskId);
  return join(statusTasksDir(projectDir), `${taskId}.md`);
}

/** Bearing's own, git-ignored directory. */
export function stateDir(projectDir: string): string {
  return join(projectDir, BEARING_DIR, '.state');
}

/** The snapshot: the whole state as of the journal entry it names (store.ts). */
export function stateFile(projectDir: string): string {
  return join(stateDir(projectDir), 'state.json');
}

/** What changed since the snapshot, one line per save of a run (journal.ts). */
export function journalFile(projectDir: string): string {
  return join(stateDir(projectDir), 'journal.jsonl');
}

/**
 * The last valid plan and a digest of the files it came from, so the reading
 * commands skip parsing unchanged task files (tasks/plan-cache.ts). Deleting
 * it only costs the next status a full load.
 */
export function planCacheFile(projectDir: string): string {
  return join(stateDir(projectDir), 'plan-cache.json');
}

export function lockFile(projectDir: string): string {
  return join(stateDir(projectDir), 'lock');
}

export function runsDir(projectDir: string): string {
  return join(stateDir(projectDir), 'runs');
}

/**
 * Task ids are validated by the loader, but they become directory names here:
 * a bad id reaching this point is a bug, and must not escape `.state/runs/`.
 */
export function assertSafeTaskId(id: string): void {
  if (
    id.length === 0 ||
    id.length > TASK_ID_MAX_LENGTH ||
    !TASK_ID_PATTERN.test(id) ||
    id === '.' ||
    id === '..'
  ) {
    throw new Error(`bug: unsafe task id reached the state layer: ${JSON.stringify(id)}`);
  }
}

export function taskRunsDir(projectDir: string, taskId: string): string {
  assertSafeTaskId(taskId);
  return join(runsDir(projectDir), taskId);
}

/** `.state/runs/<task>/<attempt>/`: the raw record of one attempt, for `bearing log`. */
export function attemptDir(projectDir: string, taskId: string, attempt: number): string {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new Error(`bug: attempt numbers start at 1, got ${attempt}`);
  }
  return join(taskRunsDir(projectDir, taskId), String(attempt));
}

/** The files one attempt directory holds. */
export interface AttemptFiles {
  dir: string;
  /** Exactly what the agent received. */
  prompt: string;
  /** Agent stdout when it speaks JSON lines (claude stream-json, codex --json). */
  stdoutJsonl: string;
  /** Agent stdout otherwise (text agents, shell tasks). */
  stdoutLog: string;
  stderr: string;
  /** How the agent was invoked (command, arguments, resume), written before it starts. */
  meta: string;
}

export function attemptFiles(projectDir: string, taskId: string, attempt: number): AttemptFiles {
  const dir = attemptDir(projectDir, taskId, attempt);
  return {
    dir,
    prompt: join(dir, 'prompt.txt'),
    stdoutJsonl: join(dir, 'stdout.jsonl'),
    stdoutLog: join(dir, 'stdout.log'),
    stderr: join(dir, 'stderr.log'),
    meta: join(dir, 'meta.json'),
  };
}
