/**
 * The shape of `.state/state.json`, checked on load so a hand-edited or
 * damaged file is reported precisely instead of crashing the run later.
 * The compile-time checks at the bottom fail when src/core/state.ts or
 * src/core/failure.ts change and this shape was not updated with them.
 */
import type { Failure } from '../core/failure.js';
import type { AttemptRecord, RunInfo, RunState, TaskRecord, Usage } from '../core/state.js';
import {
  array,
  boolean,
  type Infer,
  literal,
  number,
  object,
  oneOf,
  optional,
  record,
  refine,
  string,
  union,
} from './shape.js';

const count = number({ whole: true, min: 0 });
const isoDate = string({ nonEmpty: true });

export const usageShape = object({
  inputTokens: count,
  outputTokens: count,
  cacheReadTokens: count,
  cacheWriteTokens: count,
});

export const failureShape = union('reason', {
  'agent-exit': { exitCode: number(), message: string() },
  'agent-error': { message: string(), apiStatus: optional(number()) },
  'rate-limited': {
    message: string(),
    resetsAt: optional(string()),
    apiStatus: optional(number()),
  },
  'auth-error': { message: string() },
  outage: { cli: string(), message: string(), apiStatus: optional(number()) },
  'max-turns': { message: string(), turns: optional(number()) },
  'budget-exceeded': { message: string(), costUsd: optional(number()) },
  'permission-denied': { message: string(), tools: array(string()) },
  'agent-timeout': { kind: oneOf(['wall', 'idle']), afterMs: number() },
  interrupted: { message: string() },
  'worker-lost': { worker: optional(string()), message: string() },
  signal: { signal: string() },
  'spawn-error': { command: string(), message: string() },
  'unparseable-output': { message: string() },
  'verify-failed': { command: string(), exitCode: number(), output: string() },
  'command-failed': { command: string(), exitCode: number(), output: string() },
  'dependency-failed': { dependency: string() },
  'no-changes': { message: string() },
  'merge-conflict': {
    files: array(string()),
    tasks: array(string()),
    branch: string(),
    worktree: string(),
    target: string(),
  },
  'internal-error': { message: string(), version: string() },
});

export const progressShape = object({
  turns: count,
  tool: optional(object({ name: string(), target: optional(string()) })),
  usage: usageShape,
  cost: optional(object({ usd: number({ min: 0 }), estimated: boolean() })),
});

const fingerprintShape = object({
  digest: string({ nonEmpty: true }),
  fields: record(string()),
  upstream: record(string()),
});

const staleShape = union('kind', {
  edited: { fields: array(string()) },
  upstream: { task: string(), change: oneOf(['stale', 'rerun', 'new-result']) },
});

const checksShape = object({
  verify: optional(string()),
  changes: optional(boolean()),
  unknownFiles: optional(array(string())),
  approved: optional(boolean()),
});

export const attemptShape = object({
  attempt: number({ whole: true, min: 1 }),
  startedAt: isoDate,
  endedAt: optional(isoDate),
  durationMs: optional(number({ min: 0 })),
  outcome: oneOf(['running', 'completed', 'failed', 'interrupted']),
  failure: optional(failureShape),
  costUsd: optional(number({ min: 0 })),
  costEstimated: optional(boolean()),
  usage: optional(usageShape),
  turns: optional(count),
  sessionId: optional(string()),
  model: optional(string()),
  summary: optional(string()),
  exitCode: optional(number()),
  notes: optional(array(string())),
  process: optional(
    object({
      token: string(),
      pgid: optional(number({ whole: true, min: 1 })),
      startTime: optional(string()),
    }),
  ),
  worktree: optional(
    object({
      path: string({ nonEmpty: true }),
      branch: string({ nonEmpty: true }),
      base: string({ nonEmpty: true }),
      commit: optional(string()),
      landing: optional(object({ commit: string(), onto: string() })),
      queued: optional(object({ job: string(), cli: string(), worker: optional(string()) })),
    }),
  ),
  progress: optional(progressShape),
  fingerprint: optional(fingerprintShape),
});

export const taskStatusShape = oneOf([
  'queued',
  'running',
  'completed',
  'failed',
  'skipped',
  'awaiting-review',
  'interrupted',
  'needs-review',
  'stale',
]);

export const taskRecordShape = object({
  id: string({ nonEmpty: true }),
  status: taskStatusShape,
  attempts: array(attemptShape),
  summary: optional(string()),
  filesChanged: optional(array(string())),
  costUsd: number({ min: 0 }),
  usage: usageShape,
  turns: count,
  durationMs: number({ min: 0 }),
  sessionId: optional(string()),
  failure: optional(failureShape),
  retryFrom: optional(count),
  land: optional(object({ attempt: number({ whole: true, min: 1 }), reviewed: boolean() })),
  flagged: optional(boolean()),
  fingerprint: optional(fingerprintShape),
  stale: optional(staleShape),
  checks: optional(checksShape),
  updatedAt: isoDate,
});

const recordedStopShape = union('kind', {
  'circuit-open': { failure: string(), tasks: array(string()) },
  'state-write-failed': { file: string(), message: string() },
  'disk-full': { path: string(), freeBytes: number(), minFreeBytes: number() },
  'lock-lost': { message: string() },
  'internal-error': { message: string(), version: string() },
  'landing-blocked': { task: string(), branch: string(), files: array(string()) },
  'cost-cap': {
    capUsd: number({ min: 0 }),
    spentUsd: number({ min: 0 }),
    estimated: boolean(),
    passed: boolean(),
    held: array(object({ task: string(), estimate: string() })),
  },
});

export const runInfoShape = object({
  startedAt: isoDate,
  endedAt: optional(isoDate),
  pid: number({ whole: true }),
  stopReason: optional(string()),
  waits: optional(
    array(
      object({
        cli: string(),
        kind: oneOf(['limit', 'outage']),
        until: isoDate,
        message: string(),
      }),
    ),
  ),
  stop: optional(recordedStopShape),
});

export const runStateShape = refine(
  object({
    version: literal(1),
    tasks: record(taskRecordShape),
    lastRun: optional(runInfoShape),
  }),
  (state, path) =>
    Object.entries(state.tasks)
      .filter(([key, record]) => record.id !== key)
      .map(([key, record]) => ({
        path: [...path, 'tasks', key, 'id'],
        message: `expected "${key}" (the key it is stored under), got "${record.id}"`,
      })),
);

/**
 * The first line of `.state/journal.jsonl`: the snapshot the entries after
 * it continue, and the sha256 of that state.json's bytes as written.
 */
export const journalHeaderShape = object({ base: count, stateSha256: optional(string()) });

/**
 * Every other line: the records that changed in one save, whole, and the
 * last run when it changed. Whole records make replaying an entry twice
 * harmless. (What an entry cannot say, a task record removed, is saved as a
 * new snapshot instead.)
 */
export const journalEntryShape = object({
  seq: number({ whole: true, min: 1 }),
  tasks: optional(record(taskRecordShape)),
  lastRun: optional(runInfoShape),
});

// Compile-time: the shape and the types describe exactly the same data
// (each side assignable to the other, and the same keys, optional ones included).
type Same<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? [keyof A] extends [keyof B]
      ? [keyof B] extends [keyof A]
        ? true
        : false
      : false
    : false
  : false;
type SameVariants<A extends { reason: string }, B extends { reason: string }> = {
  [R in B['reason']]: Same<Extract<A, { reason: R }>, Extract<B, { reason: R }>>;
}[B['reason']];
type Assert<T extends true> = T;
export type UsageMatches = Assert<Same<Infer<typeof usageShape>, Usage>>;
export type FailureMatches = Assert<SameVariants<Infer<typeof failureShape>, Failure>>;
export type FailureMatchesBack = Assert<SameVariants<Failure, Infer<typeof failureShape>>>;
export type AttemptMatches = Assert<Same<Infer<typeof attemptShape>, AttemptRecord>>;
export type TaskRecordMatches = Assert<Same<Infer<typeof taskRecordShape>, TaskRecord>>;
export type RunInfoMatches = Assert<Same<Infer<typeof runInfoShape>, RunInfo>>;
export type RunStateMatches = Assert<Same<Infer<typeof runStateShape>, RunState>>;
