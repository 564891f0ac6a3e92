/**
 * What produced a task's result, so that an edit or a re-run upstream can
 * make it stale (core/stale.ts). A fingerprint holds digests of:
 *
 * - each setting that shapes the work, by its task-file key: what the agent
 *   was asked (`prompt`, `run`), who did it and with what (`cli`, `model`,
 *   `effort`, `permission_mode`, `sandbox`, `budget_usd`, `max_turns`), what
 *   it was pointed at (`focus`, `skip`, `depends_on`) and what it was checked
 *   against (`verify`, `expect_changes`). Settings that only say how Bearing
 *   treats an attempt (`name`, `timeout`, `idle_timeout`, `checkpoint`,
 *   `on_failure`, `retries`, `retry_mode`) are left out: changing them changes nothing the
 *   agent did, and must not re-run finished work;
 * - each hand-off the task received: per dependency, its status, its
 *   attempt count (a re-run is a new hand-off even when it says the same),
 *   its summary and its changed files.
 *
 * Core imports no `node:*` module, so the hash function is passed in (the
 * edges use sha256, `state/digest.ts`).
 */
import type { Fingerprint, RunState, TaskRecord } from './state.js';
import type { Task } from './task.js';

/**
 * Task keys that only say how Bearing treats an attempt: no fingerprint holds
 * them, so editing them makes nothing stale. Every other task key is in
 * `workFields` (tests/start/planner-prompt.test.ts keeps both lists, the
 * schema and the planner's instructions in step).
 */
export const NOT_WORK_KEYS = [
  'id',
  'name',
  'timeout',
  'idle_timeout',
  'checkpoint',
  'on_failure',
  'retries',
  'retry_mode',
] as const;

/** A digest of a string: short, stable across runs and machines. */
export type Hash = (text: string) => string;

/** The settings that shape a task's work, by task-file key, in a fixed order. */
export function workFields(task: Task): Record<string, unknown> {
  return {
    cli: task.cli,
    model: task.model ?? null,
    effort: task.effort ?? null,
    budget_usd: task.budgetUsd ?? null,
    max_turns: task.maxTurns ?? null,
    permission_mode: task.permissionMode,
    sandbox: task.sandbox,
    focus: task.focus,
    skip: task.skip,
    depends_on: task.dependsOn,
    verify: task.verify ?? null,
    expect_changes: task.expectChanges,
    prompt: task.prompt ?? null,
    run: task.run ?? null,
  };
}

/** The digest of one dependency's hand-off as it stands in the state. */
export function handOffDigest(record: TaskRecord | undefined, hash: Hash): string {
  if (!record) return hash('[]');
  return hash(
    JSON.stringify([
      record.status,
      record.attempts.length,
      record.summary ?? '',
      record.filesChanged ?? [],
    ]),
  );
}

/** Digests of the settings only, and of all of them together. */
export function fieldDigests(task: Task, hash: Hash): Pick<Fingerprint, 'digest' | 'fields'> {
  const fields: Record<string, string> = {};
  const values = workFields(task);
  for (const [key, value] of Object.entries(values)) fields[key] = hash(JSON.stringify(value));
  return { digest: hash(JSON.stringify(values)), fields };
}

/** The fingerprint of the task's next attempt: its settings now and the hand-offs it would receive. */
export function fingerprintOf(task: Task, state: RunState, hash: Hash): Fingerprint {
  const upstream: Record<string, string> = {};
  for (const dep of task.dependsOn) upstream[dep] = handOffDigest(state.tasks[dep], hash);
  return { ...fieldDigests(task, hash), upstream };
}

/**
 * The task-file keys whose value differs from the fingerprint's, in reference
 * order. A key the fingerprint does not hold (recorded by a version of
 * Bearing that did not know it) counts as unchanged: an upgrade alone makes
 * nothing stale.
 */
export function changedFields(task: Task, recorded: Fingerprint, hash: Hash): string[] {
  // One hash settles the usual case, nothing changed; the keys are hashed
  // one by one only to name what did.
  if (hash(JSON.stringify(workFields(task))) === recorded.digest) return [];
  const now = fieldDigests(task, hash);
  return Object.keys(now.fields).filter(
    (k) => recorded.fields[k] !== undefined && recorded.fields[k] !== now.fields[k],
  );
}
