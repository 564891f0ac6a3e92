/**
 * The shape of `.state/state.json`, checked on load so a hand-edited or
 * damaged file is reported precisely instead of crashing the run later.
 * The compile-time checks at the bottom fail when src/core/state.ts or
 * src/core/failure.ts change and this schema was not updated with them.
 */
import { z } from 'zod';
import type { Failure } from '../core/failure.js';
import type { AttemptRecord, RunInfo, RunState, TaskRecord, Usage } from '../core/state.js';

const count = z.number().int().nonnegative();
const isoDate = z.string().min(1);

export const usageSchema = z.object({
  inputTokens: count,
  outputTokens: count,
  cacheReadTokens: count,
  cacheWriteTokens: count,
});

export const failureSchema = z.discriminatedUnion('reason', [
  z.object({ reason: z.literal('agent-exit'), exitCode: z.number(), message: z.string() }),
  z.object({
    reason: z.literal('agent-error'),
    message: z.string(),
    apiStatus: z.number().optional(),
  }),
  z.object({
    reason: z.literal('rate-limited'),
    message: z.string(),
    resetsAt: z.string().optional(),
    apiStatus: z.number().optional(),
  }),
  z.object({ reason: z.literal('auth-error'), message: z.string() }),
  z.object({
    reason: z.literal('outage'),
    cli: z.string(),
    message: z.string(),
    apiStatus: z.number().optional(),
  }),
  z.object({ reason: z.literal('max-turns'), message: z.string(), turns: z.number().optional() }),
  z.object({
    reason: z.literal('budget-exceeded'),
    message: z.string(),
    costUsd: z.number().optional(),
  }),
  z.object({
    reason: z.literal('permission-denied'),
    message: z.string(),
    tools: z.array(z.string()),
  }),
  z.object({
    reason: z.literal('agent-timeout'),
    kind: z.enum(['wall', 'idle']),
    afterMs: z.number(),
  }),
  z.object({ reason: z.literal('interrupted'), message: z.string() }),
  z.object({ reason: z.literal('signal'), signal: z.string() }),
  z.object({ reason: z.literal('spawn-error'), command: z.string(), message: z.string() }),
  z.object({ reason: z.literal('unparseable-output'), message: z.string() }),
  z.object({
    reason: z.literal('verify-failed'),
    command: z.string(),
    exitCode: z.number(),
    output: z.string(),
  }),
  z.object({
    reason: z.literal('command-failed'),
    command: z.string(),
    exitCode: z.number(),
    output: z.string(),
  }),
  z.object({ reason: z.literal('dependency-failed'), dependency: z.string() }),
  z.object({
    reason: z.literal('merge-conflict'),
    files: z.array(z.string()),
    tasks: z.array(z.string()),
    branch: z.string(),
    worktree: z.string(),
    target: z.string(),
  }),
  z.object({ reason: z.literal('internal-error'), message: z.string(), version: z.string() }),
]);

export const attemptSchema = z.object({
  attempt: z.number().int().positive(),
  startedAt: isoDate,
  endedAt: isoDate.optional(),
  durationMs: z.number().nonnegative().optional(),
  outcome: z.enum(['running', 'completed', 'failed', 'interrupted']),
  failure: failureSchema.optional(),
  costUsd: z.number().nonnegative().optional(),
  usage: usageSchema.optional(),
  turns: count.optional(),
  sessionId: z.string().optional(),
  model: z.string().optional(),
  summary: z.string().optional(),
  exitCode: z.number().optional(),
  notes: z.array(z.string()).optional(),
  process: z
    .object({
      token: z.string(),
      pgid: z.number().int().positive().optional(),
      startTime: z.string().optional(),
    })
    .optional(),
  worktree: z
    .object({
      path: z.string().min(1),
      branch: z.string().min(1),
      base: z.string().min(1),
      commit: z.string().optional(),
      landing: z.object({ commit: z.string(), onto: z.string() }).optional(),
    })
    .optional(),
});

export const taskStatusSchema = z.enum([
  'queued',
  'running',
  'completed',
  'failed',
  'skipped',
  'awaiting-review',
  'interrupted',
]);

export const taskRecordSchema = z.object({
  id: z.string().min(1),
  status: taskStatusSchema,
  attempts: z.array(attemptSchema),
  summary: z.string().optional(),
  filesChanged: z.array(z.string()).optional(),
  costUsd: z.number().nonnegative(),
  usage: usageSchema,
  turns: count,
  durationMs: z.number().nonnegative(),
  sessionId: z.string().optional(),
  failure: failureSchema.optional(),
  retryFrom: count.optional(),
  land: z.object({ attempt: z.number().int().positive(), reviewed: z.boolean() }).optional(),
  flagged: z.boolean().optional(),
  updatedAt: isoDate,
});

const recordedStopSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('circuit-open'), failure: z.string(), tasks: z.array(z.string()) }),
  z.object({ kind: z.literal('state-write-failed'), file: z.string(), message: z.string() }),
  z.object({
    kind: z.literal('disk-full'),
    path: z.string(),
    freeBytes: z.number(),
    minFreeBytes: z.number(),
  }),
  z.object({ kind: z.literal('lock-lost'), message: z.string() }),
  z.object({ kind: z.literal('internal-error'), message: z.string(), version: z.string() }),
  z.object({
    kind: z.literal('landing-blocked'),
    task: z.string(),
    branch: z.string(),
    files: z.array(z.string()),
  }),
]);

export const runInfoSchema = z.object({
  startedAt: isoDate,
  endedAt: isoDate.optional(),
  pid: z.number().int(),
  stopReason: z.string().optional(),
  waits: z
    .array(
      z.object({
        cli: z.string(),
        kind: z.enum(['limit', 'outage']),
        until: isoDate,
        message: z.string(),
      }),
    )
    .optional(),
  stop: recordedStopSchema.optional(),
});

export const runStateSchema = z
  .object({
    version: z.literal(1),
    tasks: z.record(z.string(), taskRecordSchema),
    lastRun: runInfoSchema.optional(),
  })
  .superRefine((state, ctx) => {
    for (const [key, record] of Object.entries(state.tasks)) {
      if (record.id !== key) {
        ctx.addIssue({
          code: 'custom',
          path: ['tasks', key, 'id'],
          message: `expected "${key}" (the key it is stored under), got "${record.id}"`,
        });
      }
    }
  });

// Compile-time: the schema and the types describe exactly the same data
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
export type UsageMatches = Assert<Same<z.infer<typeof usageSchema>, Usage>>;
export type FailureMatches = Assert<SameVariants<z.infer<typeof failureSchema>, Failure>>;
export type FailureMatchesBack = Assert<SameVariants<Failure, z.infer<typeof failureSchema>>>;
export type AttemptMatches = Assert<Same<z.infer<typeof attemptSchema>, AttemptRecord>>;
export type TaskRecordMatches = Assert<Same<z.infer<typeof taskRecordSchema>, TaskRecord>>;
export type RunInfoMatches = Assert<Same<z.infer<typeof runInfoSchema>, RunInfo>>;
export type RunStateMatches = Assert<Same<z.infer<typeof runStateSchema>, RunState>>;
