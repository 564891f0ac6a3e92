/**
 * `bearing run`: the loop that connects task files, agents, processes and
 * state. Before every decision it re-reads the task files (cheaply: only
 * when they changed), asks the pure scheduler what is ready, and starts it
 * through a worker pool. Every transition is saved atomically and status.md
 * is rewritten, so a crash, kill -9 or Ctrl-C never loses a recorded result
 * and a completed task never runs twice.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adapterFor, requiredCommands } from '../agents/registry.js';
import { type AgentRunResult, MAX_AGENT_LINE_BYTES } from '../agents/types.js';
import { nextAttempt } from '../core/attempt.js';
import type { Diagnostic } from '../core/diagnostic.js';
import { type Failure, isRetryable } from '../core/failure.js';
import { isRunnable, schedule, statusOf } from '../core/graph.js';
import { nextStep, type StopReason, type Wait } from '../core/next-step.js';
import { assemblePrompt, resumePrompt } from '../core/prompt.js';
import { recoverInterrupted } from '../core/recovery.js';
import {
  type AttemptRecord,
  addUsage,
  type RunState,
  type TaskRecord,
  ZERO_USAGE,
} from '../core/state.js';
import { renderStatusMarkdown } from '../core/status-report.js';
import type { Plan, Task } from '../core/task.js';
import { type ProcessOutcome, runProcess } from '../process/run-process.js';
import { runShellCommand } from '../process/shell-command.js';
import { which } from '../process/which.js';
import { writeFileAtomic } from '../state/atomic.js';
import { changedFiles, isGitRepo, type Snapshot, snapshotWorkTree } from '../state/changes.js';
import { type InboxRequest, readInbox } from '../state/inbox.js';
import { acquireLock, type LockHeld } from '../state/lock.js';
import { attemptDir, statusFile } from '../state/paths.js';
import { loadState, saveState } from '../state/store.js';
import { VERSION } from '../version.js';
import type { EventSink, TaskEndOutcome } from './events.js';
import { PlanWatcher } from './plan-watcher.js';

export interface RunOptions {
  root: string;
  /** Paths in messages are shown relative to this. */
  displayBase: string;
  env: NodeJS.ProcessEnv;
  /** Ctrl-C / SIGTERM: stop spawning, end every agent, record the interruption. */
  signal: AbortSignal;
  /** Overrides config.yaml run.concurrency. */
  concurrency?: number;
  onEvent: EventSink;
  now?: () => Date;
  /** How long after a reported limit reset to go on; tests shorten it. */
  limitMarginMs?: number;
  /** Kill grace for agents (SIGTERM → SIGKILL); tests shorten it. */
  killGraceMs?: number;
}

export type RunEnd =
  | { kind: 'done'; next: string }
  | { kind: 'failed'; next: string }
  | { kind: 'paused'; next: string }
  | { kind: 'stopped'; next: string }
  | { kind: 'interrupted'; next: string }
  | { kind: 'invalid'; diagnostics: Diagnostic[] }
  | { kind: 'locked'; holder: LockHeld }
  | {
      kind: 'missing-cli';
      missing: { cli: string; command: string; installHint: string; tasks: string[] }[];
    }
  | { kind: 'state-error'; message: string };

const TERMINAL_OK = new Set(['completed', 'skipped']);

/** status.md follows state.json within this long (see writeStatus). */
const STATUS_INTERVAL_MS = 200;

/** The longest wait for a usage limit whose reset time the CLI reported. */
const MAX_LIMIT_WAIT_MS = 6 * 60 * 60 * 1000;
/** Waits when the CLI gave no reset time; after the last, the run stops. */
const LIMIT_BACKOFF_MS = [5 * 60 * 1000, 15 * 60 * 1000, 30 * 60 * 1000];
/** Resets are not exact to the second: start a little after. */
const RESET_MARGIN_MS = 30 * 1000;

/** A CLI whose tasks are held back until its usage limit resets. */
interface Hold {
  until: number;
  /** Waits made without a reported reset time (bounded by LIMIT_BACKOFF_MS). */
  backoffs: number;
  message: string;
}

/** How long to hold a CLI after a usage limit, or undefined to stop the run instead. */
export function limitHold(
  previous: Hold | undefined,
  failure: { message: string; resetsAt?: string },
  now: number,
  marginMs = RESET_MARGIN_MS,
): Hold | undefined {
  // Several tasks of one CLI hit the same limit: one wait, not one each.
  if (previous && previous.until > now) return previous;
  const resetsAt = failure.resetsAt ? Date.parse(failure.resetsAt) : Number.NaN;
  if (Number.isFinite(resetsAt) && resetsAt - now <= MAX_LIMIT_WAIT_MS) {
    return {
      until: Math.max(now, resetsAt) + marginMs,
      backoffs: previous?.backoffs ?? 0,
      message: failure.message,
    };
  }
  const backoffs = previous?.backoffs ?? 0;
  const wait = LIMIT_BACKOFF_MS[backoffs];
  if (wait === undefined) return undefined;
  return { until: now + wait, backoffs: backoffs + 1, message: failure.message };
}

export async function runProject(options: RunOptions): Promise<RunEnd> {
  const { root, env, signal, onEvent } = options;
  const now = options.now ?? (() => new Date());
  const watcher = new PlanWatcher(root, options.displayBase);
  const first = await watcher.load();
  if (!first.plan) return { kind: 'invalid', diagnostics: first.diagnostics };
  let plan: Plan = first.plan;

  const initialState = loadState(root);
  if (!initialState.ok) return { kind: 'state-error', message: initialState.error.message };

  // A missing CLI is reported before anything starts, with how to install it.
  const pending = plan.tasks.filter((t) => !TERMINAL_OK.has(statusOf(initialState.value, t.id)));
  const missing = missingCommands(pending, plan, env);
  if (missing.length > 0) return { kind: 'missing-cli', missing };

  const lock = acquireLock(root);
  if (!lock.ok) {
    return lock.error.reason === 'held'
      ? { kind: 'locked', holder: lock.error }
      : { kind: 'state-error', message: lock.error.message };
  }

  try {
    // Re-read under the lock: the previous holder may have written since.
    const loaded = loadState(root);
    if (!loaded.ok) return { kind: 'state-error', message: loaded.error.message };
    const recovered = recoverInterrupted(loaded.value, now());
    const state: RunState = recovered.state;
    if (recovered.recovered.length > 0) onEvent({ type: 'recovered', ids: recovered.recovered });
    state.lastRun = { startedAt: now().toISOString(), pid: process.pid };

    const running = new Map<string, Promise<void>>();
    const runningSince = new Map<string, number>();
    // CLIs waiting for a usage limit to reset (run.wait_for_limits).
    const holds = new Map<string, Hold>();
    let stop: StopReason | undefined;
    const gitRepo = await isGitRepo(root);
    const concurrency = Math.max(1, options.concurrency ?? plan.run.concurrency);

    // state.json is saved at once after every transition (a result is never lost).
    // status.md, derived from it and rewritten in full, follows within
    // STATUS_INTERVAL_MS: tasks that take minutes each get their own write, and
    // a burst of quick transitions folds into one instead of rewriting a large
    // file for each. The run's last write is always made (force).
    let statusDirty = false;
    let lastStatusWrite = 0;
    let statusTimer: NodeJS.Timeout | undefined;
    const writeStatus = (force = false): void => {
      if (!statusDirty) return;
      const wait = lastStatusWrite + STATUS_INTERVAL_MS - Date.now();
      if (!force && wait > 0) {
        statusTimer ??= setTimeout(() => {
          statusTimer = undefined;
          writeStatus(true);
        }, wait);
        return;
      }
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = undefined;
      lastStatusWrite = Date.now();
      statusDirty = false;
      const next = nextStep(plan, state, new Set(running.keys()), stop, waitsOf(holds));
      writeFileAtomic(
        statusFile(root),
        renderStatusMarkdown({
          plan,
          state,
          next,
          now: now(),
          running: Object.fromEntries(
            [...runningSince].map(([id, t]) => [id, { startedAt: new Date(t).toISOString() }]),
          ),
        }),
        { fsync: false },
      );
    };
    const persist = (): void => {
      saveState(root, state);
      statusDirty = true;
    };
    // With nothing else running, the work tree after one task is the work tree
    // before the next: reuse that snapshot instead of measuring it twice.
    const snapshots: SnapshotCache = { latest: undefined, generation: 0 };

    const requestStop = (reason: StopReason): void => {
      if (reason.kind === 'paused') pausedInRun.push(reason.task);
      if (!stop || reason.kind === 'interrupted') stop = reason;
    };
    /** Tasks this run paused after (checkpoint or on_failure: pause), in order. */
    const pausedInRun: string[] = [];

    const onAbort = (): void => {
      requestStop({ kind: 'interrupted' });
      onEvent({ type: 'stopping', reason: 'interrupted: ending every agent' });
      watcher.wake();
    };
    signal.addEventListener('abort', onAbort, { once: true });

    persist();
    writeStatus();
    onEvent({
      type: 'run-start',
      tasks: plan.tasks.length,
      pending: plan.tasks.filter((t) => !TERMINAL_OK.has(statusOf(state, t.id))).length,
      concurrency,
    });

    const tick = setInterval(() => {
      onEvent({
        type: 'tick',
        running: [...runningSince].map(([id, startedAt]) => ({ id, startedAt })),
        costUsd: totalCost(state),
        done: plan.tasks.filter((t) => TERMINAL_OK.has(statusOf(state, t.id))).length,
        total: plan.tasks.length,
      });
    }, 1000);
    tick.unref();

    // Ready tasks whose CLI is missing: each reported once, and named when the run ends.
    const reportedMissing = new Map<string, { command: string; installHint: string }>();
    try {
      await watcher.start();
      while (true) {
        // Requests from `bearing approve/retry` made while this run holds the lock.
        let requestsApplied = false;
        for (const request of readInbox(root)) {
          if (applyRequest(state, request, running, onEvent)) requestsApplied = true;
        }
        if (requestsApplied) {
          persist();
          // A pause of this run ends once what it waited for is approved or re-queued.
          if (stop?.kind === 'paused') {
            const still = pausedInRun.find((id) => statusOf(state, id) === 'awaiting-review');
            stop = still === undefined ? undefined : { kind: 'paused', task: still };
          }
        }

        const reloaded = await watcher.reloadIfChanged();
        if (reloaded.kind === 'invalid') {
          onEvent({ type: 'plan-invalid', diagnostics: reloaded.diagnostics });
        } else if (reloaded.kind === 'changed') {
          onEvent({ type: 'plan-changed', added: reloaded.added, removed: reloaded.removed });
          plan = reloaded.plan;
        }

        let heldUntil: number | undefined;
        if (!stop && !signal.aborted) {
          const s = schedule(plan, state, new Set(running.keys()));
          for (const task of s.ready) {
            const hold = holds.get(task.cli);
            if (hold && hold.until > Date.now()) {
              heldUntil = Math.min(heldUntil ?? Number.POSITIVE_INFINITY, hold.until);
              continue;
            }
            if (running.size >= concurrency) break;
            const lacking = missingCommands([task], plan, env);
            if (lacking.length > 0) {
              if (!reportedMissing.has(task.id)) {
                const m = lacking[0]!;
                reportedMissing.set(task.id, { command: m.command, installHint: m.installHint });
                onEvent({
                  type: 'missing-cli',
                  task: task.id,
                  cli: m.cli,
                  command: m.command,
                  installHint: m.installHint,
                });
              }
              continue;
            }
            const started = Date.now();
            runningSince.set(task.id, started);
            const job = executeTask({
              task,
              plan,
              state,
              root,
              env,
              signal,
              gitRepo,
              snapshots,
              alone: running.size === 0,
              killGraceMs: options.killGraceMs,
              now,
              onStarted: (attempt, resume) => {
                onEvent({ type: 'task-start', task, attempt, resume, startedAt: started });
                persist();
                // Folded into the loop's own write when the start happened within this
                // iteration; written on its own when it came after an await.
                setImmediate(() => writeStatus());
              },
            })
              .catch((error: unknown): TaskOutcome => internalFailure(state, task, error, now))
              .then((outcome) => {
                running.delete(task.id);
                runningSince.delete(task.id);
                const reason = stopReasonFor(outcome, task);
                const limit =
                  outcome.failure?.reason === 'rate-limited' ? outcome.failure : undefined;
                const hold =
                  limit && plan.run.waitForLimits
                    ? limitHold(holds.get(task.cli), limit, Date.now(), options.limitMarginMs)
                    : undefined;
                if (hold) {
                  holds.set(task.cli, hold);
                  onEvent({
                    type: 'waiting',
                    cli: task.cli,
                    until: hold.until,
                    message: hold.message,
                  });
                } else if (reason) {
                  requestStop(reason);
                }
                if (outcome.outcome === 'completed') holds.delete(task.cli);
                persist();
                onEvent({
                  type: 'task-end',
                  task,
                  attempt: outcome.attempt,
                  record: state.tasks[task.id]!,
                  outcome: outcome.outcome,
                  ...(outcome.failure ? { failure: outcome.failure } : {}),
                });
                watcher.wake();
              });
            running.set(task.id, job);
          }
        }
        writeStatus();
        if (running.size === 0 && heldUntil === undefined) break;
        // Nothing else to do until a hold ends: sleep until then (a task's end,
        // an edit or Ctrl-C wakes the loop earlier).
        const timer =
          heldUntil === undefined
            ? undefined
            : setTimeout(() => watcher.wake(), Math.max(0, heldUntil - Date.now()) + 10);
        await watcher.nextWake();
        if (timer) clearTimeout(timer);
      }
    } finally {
      clearInterval(tick);
      signal.removeEventListener('abort', onAbort);
      await watcher.close();
    }

    if (signal.aborted) requestStop({ kind: 'interrupted' });
    // The run ran out of work because a CLI is missing: say so, not "run again".
    const unstarted = [...reportedMissing]
      .filter(([id]) => plan.tasks.some((t) => t.id === id) && isRunnable(statusOf(state, id)))
      .map(([task, m]) => ({ task, ...m }));
    if (unstarted.length > 0) requestStop({ kind: 'missing-cli', tasks: unstarted });
    state.lastRun = { ...state.lastRun!, endedAt: now().toISOString() };
    const next = nextStep(plan, state, new Set(), stop, []);
    state.lastRun.stopReason = next;
    persist();
    writeStatus(true);
    onEvent({ type: 'run-end', next });
    if (stop?.kind === 'interrupted') return { kind: 'interrupted', next };
    if (stop?.kind === 'paused') return { kind: 'paused', next };
    if (stop) return { kind: 'stopped', next };
    const statuses = plan.tasks.map((t) => statusOf(state, t.id));
    if (statuses.includes('awaiting-review')) return { kind: 'paused', next };
    if (statuses.some((st) => st === 'failed' || st === 'queued' || st === 'interrupted')) {
      return { kind: 'failed', next };
    }
    return { kind: 'done', next };
  } finally {
    lock.value.release();
  }
}

function waitsOf(holds: ReadonlyMap<string, Hold>): Wait[] {
  const now = Date.now();
  return [...holds]
    .filter(([, h]) => h.until > now)
    .map(([cli, h]) => ({
      cli,
      kind: 'limit' as const,
      until: new Date(h.until).toISOString(),
      message: h.message,
    }));
}

function missingCommands(
  tasks: Task[],
  plan: Plan,
  env: NodeJS.ProcessEnv,
): { cli: string; command: string; installHint: string; tasks: string[] }[] {
  const out = new Map<
    string,
    { cli: string; command: string; installHint: string; tasks: string[] }
  >();
  for (const task of tasks) {
    for (const req of requiredCommands([task], plan.agents)) {
      if (which(req.command, env)) continue;
      const entry = out.get(req.command) ?? { ...req, tasks: [] };
      entry.tasks.push(task.id);
      out.set(req.command, entry);
    }
  }
  return [...out.values()];
}

function totalCost(state: RunState): number {
  let sum = 0;
  for (const r of Object.values(state.tasks)) sum += r.costUsd;
  return sum;
}

interface TaskOutcome {
  outcome: TaskEndOutcome;
  attempt: AttemptRecord;
  failure?: Failure;
}

function stopReasonFor(o: TaskOutcome, task: Task): StopReason | undefined {
  const f = o.failure;
  if (o.outcome === 'interrupted') return { kind: 'interrupted' };
  if (o.outcome === 'awaiting-review') return { kind: 'paused', task: task.id };
  if (f?.reason === 'rate-limited') {
    return {
      kind: 'rate-limited',
      task: task.id,
      cli: task.cli,
      message: f.message,
      ...(f.resetsAt ? { resetsAt: f.resetsAt } : {}),
    };
  }
  if (f?.reason === 'auth-error')
    return { kind: 'auth-error', task: task.id, cli: task.cli, message: f.message };
  if (o.outcome === 'failed' && task.onFailure === 'stop')
    return { kind: 'stopped', task: task.id };
  return undefined;
}

function recordFor(state: RunState, task: Task, now: Date): TaskRecord {
  let record = state.tasks[task.id];
  if (!record) {
    record = {
      id: task.id,
      status: 'queued',
      attempts: [],
      costUsd: 0,
      usage: ZERO_USAGE,
      turns: 0,
      durationMs: 0,
      updatedAt: now.toISOString(),
    };
    state.tasks[task.id] = record;
  }
  return record;
}

function internalFailure(
  state: RunState,
  task: Task,
  error: unknown,
  now: () => Date,
): TaskOutcome {
  const record = recordFor(state, task, now());
  const failure: Failure = {
    reason: 'internal-error',
    message: error instanceof Error ? error.message : String(error),
    version: VERSION,
  };
  const last = record.attempts.at(-1);
  const attempt: AttemptRecord =
    last && last.outcome === 'running'
      ? Object.assign(last, { outcome: 'failed' as const, failure, endedAt: now().toISOString() })
      : {
          attempt: record.attempts.length + 1,
          startedAt: now().toISOString(),
          outcome: 'failed',
          failure,
        };
  if (attempt !== last) record.attempts.push(attempt);
  record.status = 'failed';
  record.failure = failure;
  record.updatedAt = now().toISOString();
  return { outcome: 'failed', attempt, failure };
}

/** Approve or retry requested by another process while this run holds the lock. */
function applyRequest(
  state: RunState,
  request: InboxRequest,
  running: ReadonlyMap<string, unknown>,
  onEvent: EventSink,
): boolean {
  const result = applyReviewAction(
    state,
    request.action,
    request.id,
    running.has(request.id),
    new Date(),
  );
  onEvent({
    type: 'request',
    action: request.action,
    id: request.id,
    applied: result.ok,
    message: result.message,
  });
  return result.ok;
}

/**
 * `bearing approve` / `bearing retry` on the state: shared by the commands
 * (when no run is active) and the run loop (when one is).
 */
export function applyReviewAction(
  state: RunState,
  action: 'approve' | 'retry',
  id: string,
  isRunning: boolean,
  now: Date,
): { ok: boolean; message: string } {
  const record = state.tasks[id];
  if (isRunning || record?.status === 'running') {
    return { ok: false, message: `${id} is running; wait for it to finish` };
  }
  if (action === 'approve') {
    if (!record || (record.status !== 'awaiting-review' && record.status !== 'failed')) {
      return {
        ok: false,
        message: `${id} is ${record?.status ?? 'queued'}; only tasks awaiting review or failed can be approved`,
      };
    }
    // on_failure: pause leaves a failed attempt awaiting review: accepting it is accepting a failure.
    const wasFailed = record.status === 'failed' || record.failure !== undefined;
    record.status = 'completed';
    record.flagged = false;
    if (wasFailed) {
      // The accepted work is the last attempt's: its last words are the hand-off.
      record.summary = record.attempts.at(-1)?.summary || record.summary || '';
      delete record.failure;
    }
    record.updatedAt = now.toISOString();
    return {
      ok: true,
      message: wasFailed
        ? `${id} accepted as completed despite its failure; its dependents can run`
        : `${id} approved; its dependents can run`,
    };
  }
  if (!record || record.status === 'queued') {
    return { ok: false, message: `${id} is already queued` };
  }
  record.status = 'queued';
  record.flagged = false;
  record.retryFrom = record.attempts.length;
  record.updatedAt = now.toISOString();
  return { ok: true, message: `${id} queued to run again` };
}

interface SnapshotCache {
  latest: Snapshot | undefined;
  /** Bumped whenever a task starts; a snapshot is reusable only within one generation. */
  generation: number;
}

interface ExecuteInput {
  task: Task;
  plan: Plan;
  state: RunState;
  root: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  gitRepo: boolean;
  snapshots: SnapshotCache;
  /** No other task runs alongside this one (so far): its before-snapshot may be reused. */
  alone: boolean;
  killGraceMs: number | undefined;
  now: () => Date;
  onStarted: (attempt: number, resume: boolean) => void;
}

/** One attempt of one task, from prompt to recorded result. */
async function executeTask(input: ExecuteInput): Promise<TaskOutcome> {
  const { task, plan, state, root, env, signal, now } = input;
  const record = recordFor(state, task, now());
  const adapter = adapterFor(task, plan.agents);
  const next = nextAttempt(record, adapter.resumable);
  const format = plan.run.promptFormat;
  const resume = Boolean(next.resumeSessionId && next.retry);
  const prompt =
    task.cli === 'shell'
      ? ''
      : resume
        ? resumePrompt(next.retry!, format)
        : assemblePrompt(plan, state, task, {
            format,
            contextLimit: plan.run.contextLimit,
            ...(next.retry ? { retry: next.retry } : {}),
          });
  const invocation = adapter.buildInvocation({
    task,
    prompt,
    isGitRepo: input.gitRepo,
    ...(resume ? { resumeSessionId: next.resumeSessionId! } : {}),
    ...(plan.agents[task.cli] ? { agent: plan.agents[task.cli]! } : {}),
  });

  const dir = attemptDir(root, task.id, next.attempt);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'prompt.txt'), prompt);
  writeFileSync(
    join(dir, 'meta.json'),
    `${JSON.stringify({ task: task.id, attempt: next.attempt, cli: task.cli, file: invocation.file, args: invocation.args.map((a) => (a === prompt && prompt ? '<prompt.txt>' : a)), resume: resume ? next.resumeSessionId : null, startedAt: now().toISOString() }, null, 2)}\n`,
  );

  // Invalidate first: a task started alongside this one must measure for itself.
  const cached = input.snapshots.latest;
  input.snapshots.latest = undefined;
  input.snapshots.generation++;
  const before = input.alone && cached ? cached : await snapshotWorkTree(root);
  const generation = input.snapshots.generation;
  const attempt: AttemptRecord = {
    attempt: next.attempt,
    startedAt: now().toISOString(),
    outcome: 'running',
  };
  record.attempts.push(attempt);
  record.status = 'running';
  record.updatedAt = attempt.startedAt;
  input.onStarted(next.attempt, resume);

  // codex reports usage cumulatively per session: on resume, subtract what the
  // earlier attempts of that session already reported.
  const parser = adapter.createParser(
    resume
      ? {
          previousUsage: record.attempts
            .filter((a) => a !== attempt && a.sessionId === next.resumeSessionId && a.usage)
            .reduce((sum, a) => addUsage(sum, a.usage!), ZERO_USAGE),
        }
      : undefined,
  );
  const outcome = await runProcess({
    file: invocation.file,
    args: invocation.args,
    cwd: root,
    env: {
      ...env,
      ...invocation.env,
      BEARING_TASK_ID: task.id,
      BEARING_ATTEMPT: String(next.attempt),
    },
    signal,
    timeoutMs: task.timeoutMs,
    idleTimeoutMs: task.idleTimeoutMs,
    stdoutFile: join(dir, 'stdout.log'),
    stderrFile: join(dir, 'stderr.log'),
    maxLineBytes: MAX_AGENT_LINE_BYTES,
    onLine: (line, stream) => {
      // A shell step's errors are on stderr: its output is both streams, as in a terminal.
      if (stream === 'stdout' || task.cli === 'shell') parser.push(line);
    },
    ...(input.killGraceMs !== undefined ? { killGraceMs: input.killGraceMs } : {}),
  });

  let result = resultFromOutcome(outcome, parser, invocation.file);
  if (result.status === 'completed' && task.verify && !signal.aborted) {
    const gate = await runShellCommand(task.verify, {
      cwd: root,
      env: { ...env, BEARING_TASK_ID: task.id },
      signal,
      timeoutMs: task.timeoutMs,
      outputFile: join(dir, 'verify.log'),
    });
    if (gate.outcome.kind === 'aborted') {
      result = {
        ...result,
        status: 'failed',
        failure: { reason: 'interrupted', message: 'verify was interrupted' },
      };
    } else if (gate.outcome.kind !== 'exited' || gate.outcome.exitCode !== 0) {
      result = {
        ...result,
        status: 'failed',
        failure: {
          reason: 'verify-failed',
          command: task.verify,
          exitCode: gate.outcome.kind === 'exited' ? gate.outcome.exitCode : -1,
          output: gate.output,
        },
      };
    }
  }

  const after = await snapshotWorkTree(root);
  const files = changedFiles(before, after);
  // Reusable only if no other task started since this one did.
  if (input.snapshots.generation === generation) input.snapshots.latest = after;
  const endedAt = now();
  Object.assign(attempt, {
    endedAt: endedAt.toISOString(),
    durationMs: outcome.durationMs,
    outcome:
      result.status === 'completed'
        ? 'completed'
        : result.failure?.reason === 'interrupted'
          ? 'interrupted'
          : 'failed',
    ...(result.failure ? { failure: result.failure } : {}),
    ...(result.costUsd !== undefined ? { costUsd: result.costUsd } : {}),
    usage: result.usage,
    ...(result.turns !== undefined ? { turns: result.turns } : {}),
    ...(result.sessionId ? { sessionId: result.sessionId } : {}),
    summary: result.summary,
    ...(outcome.kind === 'exited' ? { exitCode: outcome.exitCode } : {}),
  } satisfies Partial<AttemptRecord>);
  writeFileSync(
    join(dir, 'result.json'),
    `${JSON.stringify({ ...attempt, filesChanged: files }, null, 2)}\n`,
  );

  record.costUsd += result.costUsd ?? 0;
  record.usage = addUsage(record.usage, result.usage);
  record.turns += result.turns ?? 0;
  record.durationMs += outcome.durationMs;
  if (result.sessionId) record.sessionId = result.sessionId;
  record.updatedAt = endedAt.toISOString();

  if (result.status === 'completed') {
    record.summary = result.summary;
    record.filesChanged = files;
    delete record.failure;
    if (task.checkpoint === 'pause') {
      record.status = 'awaiting-review';
      return { outcome: 'awaiting-review', attempt };
    }
    record.status = 'completed';
    record.flagged = task.checkpoint === 'notify';
    return { outcome: 'completed', attempt };
  }

  const failure = result.failure ?? { reason: 'agent-exit', exitCode: -1, message: 'no result' };
  record.failure = failure;
  // The work an attempt did is still worth knowing about when it failed.
  record.filesChanged = files;
  if (failure.reason === 'interrupted') {
    record.status = 'interrupted';
    return { outcome: 'interrupted', attempt, failure };
  }
  if (failure.reason === 'rate-limited' || failure.reason === 'auth-error') {
    // Not the task's fault: it stays queued and the run stops instead of hammering the limit.
    record.status = 'queued';
    return { outcome: 'requeued', attempt, failure };
  }
  switch (task.onFailure) {
    case 'retry': {
      const failedInChain = trailingFailures(record);
      if (failedInChain <= task.retries && isRetryable(failure)) {
        record.status = 'queued';
        return { outcome: 'retrying', attempt, failure };
      }
      record.status = 'failed';
      return { outcome: 'failed', attempt, failure };
    }
    case 'skip':
      record.status = 'skipped';
      return { outcome: 'skipped', attempt, failure };
    case 'pause':
      record.status = 'awaiting-review';
      return { outcome: 'awaiting-review', attempt, failure };
    case 'stop':
      record.status = 'failed';
      return { outcome: 'failed', attempt, failure };
  }
}

/** Failed attempts since the last completion or fresh start: the retry budget in use. */
function trailingFailures(record: TaskRecord): number {
  let n = 0;
  for (let i = record.attempts.length - 1; i >= (record.retryFrom ?? 0); i--) {
    const a = record.attempts[i]!;
    // A usage limit or a login problem is not the task's failure: it costs no retry.
    const external = a.failure?.reason === 'rate-limited' || a.failure?.reason === 'auth-error';
    if (a.outcome === 'failed' && !external) n++;
    else if (a.outcome === 'completed') break;
  }
  return n;
}

function resultFromOutcome(
  outcome: ProcessOutcome,
  parser: { finish(exit: { exitCode?: number; signal?: string }): AgentRunResult },
  file: string,
): AgentRunResult {
  const base = { summary: '', usage: ZERO_USAGE };
  switch (outcome.kind) {
    case 'exited':
      return withStderr(parser.finish({ exitCode: outcome.exitCode }), outcome.stderrTail);
    case 'signaled': {
      const parsed = parser.finish({ signal: outcome.signal });
      return { ...parsed, status: 'failed', failure: { reason: 'signal', signal: outcome.signal } };
    }
    case 'timeout': {
      const parsed = parser.finish({});
      return {
        ...parsed,
        status: 'failed',
        failure: { reason: 'agent-timeout', kind: outcome.which, afterMs: outcome.afterMs },
      };
    }
    case 'aborted': {
      const parsed = parser.finish({});
      return {
        ...parsed,
        status: 'failed',
        failure: { reason: 'interrupted', message: 'stopped by Ctrl-C or SIGTERM' },
      };
    }
    case 'spawn-error':
      return {
        ...base,
        status: 'failed',
        failure: { reason: 'spawn-error', command: file, message: outcome.message },
      };
  }
}

/**
 * An agent that exits non-zero without a structured error (a crash, a bad
 * flag) says why on stderr, which the parser never sees: quote its end.
 */
function withStderr(result: AgentRunResult, stderrTail: string): AgentRunResult {
  const f = result.failure;
  if (f?.reason !== 'agent-exit' && f?.reason !== 'unparseable-output') return result;
  const lines = stderrTail
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const tail = lines.slice(-5).join(' | ').slice(-1000);
  if (!tail) return result;
  return { ...result, failure: { ...f, message: `${f.message}; stderr: ${tail}` } };
}
