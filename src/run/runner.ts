/**
 * `bearing run`: the loop that connects task files, agents, processes and
 * state. Before every decision it re-reads the task files (cheaply: only
 * when they changed), asks the pure scheduler what is ready, and starts it
 * through a worker pool. Every transition is saved atomically and status.md
 * follows, so a crash, kill -9 or Ctrl-C never loses a recorded result and a
 * completed task never runs twice.
 *
 * A run is left alone for hours, so every way it can stop is a value, not an
 * exception: a failed write (disk full), a bug in Bearing, a lost lock, an
 * outage, a breaker that tripped. Each stops the run the same way: start no
 * more tasks, end or await the running ones, save what can be saved, release
 * the lock (the caller's `finally`), and say what to do next.
 */

import { adapterFor } from '../agents/registry.js';
import { type Clock, systemClock } from '../core/clock.js';
import { codexCost, codexPrice } from '../core/codex-prices.js';
import { addCost, type Cost, taskCost } from '../core/cost.js';
import type { Diagnostic } from '../core/diagnostic.js';
import type { Failure } from '../core/failure.js';
import { fingerprintOf } from '../core/fingerprint.js';
import {
  awaitsPerson,
  descendants,
  isRunnable,
  schedule,
  settledPrefix,
  statusOf,
} from '../core/graph.js';
import { nextStep, type RunGate, type StopReason } from '../core/next-step.js';
import { runningSpend } from '../core/progress.js';
import { recoverInterrupted } from '../core/recovery.js';
import { applyReviewAction } from '../core/review-action.js';
import { runTotals } from '../core/run-totals.js';
import {
  dollars,
  type Estimator,
  estimateText,
  type RunSpend,
  runSpend,
  startEstimate,
} from '../core/spend-cap.js';
import { describeStale, refreshStale, type StaleRefresh } from '../core/stale.js';
import {
  type AttemptProcess,
  type Fingerprint,
  putRecord,
  type RecordedStop,
  type RunState,
} from '../core/state.js';
import { renderStatusFiles, type StatusFiles } from '../core/status-report.js';
import type { IsolationMode, Plan, Task } from '../core/task.js';
import { abandonAttempt, stopReasonFor, type TaskOutcome } from '../core/transitions.js';
import { DEFAULT_KILL_GRACE_MS } from '../process/run-process.js';
import { endStrayProcesses } from '../process/strays.js';
import type { QueueWorkspace } from '../queue/workspace.js';
import { isGitRepo } from '../state/changes.js';
import { digest } from '../state/digest.js';
import { freeDiskBytes } from '../state/disk-space.js';
import { Inbox } from '../state/inbox.js';
import { acquireRunLock, type Lock, type LockHeld } from '../state/lock.js';
import { type LoadedState, loadState, readState } from '../state/store.js';
import { VERSION } from '../version.js';
import { chooseWorkspace, uncleanCheckout } from '../workspace/choose.js';
import type { AttemptName, Workspace } from '../workspace/workspace.js';
import { WorktreeWorkspace } from '../workspace/worktrees.js';
import { concludeAttempt, executeAttempt, RESULT_GRACE_MS } from './attempt.js';
import { CircuitBreaker } from './breaker.js';
import type { EventSink, RunEvent } from './events.js';
import { Holds, holdsDealWith } from './holds.js';
import { clearLeftovers, landWaiting, recoverLandings, undoCutLandings } from './land.js';
import type { LoopEvent, RunListener } from './listeners.js';
import { type MissingCommand, missingCommands, missingForPending } from './missing-commands.js';
import { Notifier } from './notifier.js';
import { PlanWatcher } from './plan-watcher.js';
import { ProgressSaver } from './progress-saver.js';
import { RunRecorder, WriteError, type WriteFailure } from './recorder.js';
import { StatusWriter } from './status-writer.js';
import { type Tick, Ticker } from './ticker.js';

export interface RunOptions {
  root: string;
  /** Paths in messages are shown relative to this. */
  displayBase: string;
  env: NodeJS.ProcessEnv;
  /** Ctrl-C / SIGTERM / SIGHUP: stop spawning, end every agent, record the interruption. */
  signal: AbortSignal;
  /** Overrides config.yaml run.concurrency. */
  concurrency?: number;
  /** Overrides config.yaml run.isolation. */
  isolation?: IsolationMode;
  onEvent: EventSink;
  /** Read by the run and everything it creates (recorder, holds, lock, watcher); tests pass their own. */
  now?: Clock;
  /** How long after a reported limit reset to go on; tests shorten it. */
  limitMarginMs?: number;
  /** Kill grace for agents (SIGTERM → SIGKILL); tests shorten it. */
  killGraceMs?: number;
  /** How long an agent may linger after its final result; tests shorten it. */
  resultGraceMs?: number;
  /** The waits after an outage (see holds.ts); tests shorten them. */
  outageBackoffMs?: readonly number[];
  /** Queue mode: the Redis URL through which workers run the attempts (overrides run.queue). */
  queue?: string;
  /** The run's spend cap in US dollars (`--max-cost`; overrides run.max_cost_usd). */
  maxCostUsd?: number;
  /** Queue mode: how often awaited jobs are looked at besides BullMQ's events; tests shorten it. */
  queuePollMs?: number;
}

/**
 * Queue mode without --concurrency: every ready attempt goes on the queue,
 * up to this many, and the workers' own --concurrency decides how many run.
 */
const QUEUED_AT_ONCE = 256;

/** How many of the attempts to open next the workspace is told of (it makes their sites ready beforehand). */
const NEXT_ATTEMPTS_TOLD = 4;

export type RunEnd =
  | { kind: 'done'; next: string }
  | { kind: 'failed'; next: string }
  | { kind: 'paused'; next: string }
  | { kind: 'stopped'; next: string }
  | { kind: 'interrupted'; next: string }
  /** Bearing could not write its files, or the disk is too full to start tasks. */
  | { kind: 'io-error'; next: string }
  /** A bug in Bearing stopped the run or failed a task. */
  | { kind: 'internal-error'; next: string }
  /** Another process took the run lock. */
  | { kind: 'lock-lost'; next: string }
  /** The spend cap stopped the run, or kept tasks from starting. */
  | { kind: 'cost-cap'; next: string }
  | { kind: 'invalid'; diagnostics: Diagnostic[] }
  | { kind: 'locked'; holder: LockHeld }
  | { kind: 'missing-cli'; missing: MissingCommand[] }
  | { kind: 'state-error'; message: string }
  /** Worktree isolation cannot be used here (no repository, a dirty checkout...): nothing ran. */
  | { kind: 'workspace-error'; message: string };

const TERMINAL_OK = new Set(['completed', 'skipped']);

/** Stop reasons after which the run cannot go on at all: running agents are ended too. */
const FATAL: ReadonlySet<StopReason['kind']> = new Set([
  'state-write-failed',
  'internal-error',
  'lock-lost',
]);

/** Whether the run ends its running agents for this reason: a fatal one, or spend past the cap. */
function endsAgents(reason: StopReason): boolean {
  return FATAL.has(reason.kind) || (reason.kind === 'cost-cap' && reason.passed);
}

export async function runProject(options: RunOptions): Promise<RunEnd> {
  const { root, env } = options;
  const now = options.now ?? systemClock;
  const watcher = new PlanWatcher(root, options.displayBase, { now });
  const first = await watcher.load();
  if (!first.plan) return { kind: 'invalid', diagnostics: first.diagnostics };

  const initial = loadState(root, { now });
  if (!initial.ok) return { kind: 'state-error', message: initial.error.message };

  const queue = options.queue ?? first.plan.run.queue;
  // A missing CLI is reported before anything starts, with how to install it.
  // (Not in queue mode: the agents run on the workers, which have them.)
  const missing = queue ? [] : missingForPending(first.plan, initial.value, env, root);
  if (missing.length > 0) return { kind: 'missing-cli', missing };

  const lock = await acquireRunLock(root, { now });
  if (!lock.ok) {
    return lock.error.reason === 'held'
      ? { kind: 'locked', holder: lock.error }
      : { kind: 'state-error', message: lock.error.message };
  }
  let run: Run | undefined;
  try {
    // Re-read under the lock: the previous holder may have written since.
    const loaded = readState(root, { now });
    if (!loaded.ok) return { kind: 'state-error', message: loaded.error.message };
    const concurrency = Math.max(
      1,
      options.concurrency ?? (queue ? QUEUED_AT_ONCE : first.plan.run.concurrency),
    );
    // Queue mode lands work from workers' branches: worktree mode's landing.
    const isolation = queue ? 'worktree' : options.isolation;
    const chosen = await chooseWorkspace(root, first.plan.run, concurrency, isolation);
    if (!chosen.ok) return { kind: 'workspace-error', message: chosen.message };
    let queued: QueueWorkspace | undefined;
    if (queue && chosen.workspace instanceof WorktreeWorkspace) {
      // Loaded only in queue mode: BullMQ and its Redis client take a while to import.
      const { openQueueWorkspace } = await import('../queue/workspace.js');
      const opened = await openQueueWorkspace(chosen.workspace, {
        url: queue,
        remote: first.plan.run.remote,
        root,
        note: (message) => options.onEvent({ type: 'note', message }),
        ...(options.queuePollMs !== undefined ? { pollMs: options.queuePollMs } : {}),
      });
      if (!opened.ok) return { kind: 'workspace-error', message: opened.message };
      chosen.workspace = queued = opened.workspace;
    }
    if (chosen.workspace instanceof WorktreeWorkspace) {
      await undoCutLandings(loaded.value.state, chosen.workspace);
    }
    const unclean = await uncleanCheckout(chosen.workspace);
    if (unclean) return { kind: 'workspace-error', message: unclean };
    if (chosen.note) options.onEvent({ type: 'note', message: chosen.note });
    run = new Run(
      { ...options, now, concurrency },
      watcher,
      first.plan,
      loaded.value,
      lock.value,
      chosen.workspace,
      queued,
    );
    return await run.execute();
  } finally {
    lock.value.release();
    // After the lock: a slow notify command must not hold up the next run.
    await run?.notified();
  }
}

interface RunningTask {
  startedAt: number;
  job: Promise<void>;
  /**
   * `opening`: started, its site not open yet (in worktree mode, an attempt
   * still to take a worktree). `agent`: its agent or gate runs. `landing`:
   * no agent runs for it any more (or none ever did), its work lands in
   * worktree mode; `run.concurrency` counts agents, so it takes no place.
   */
  phase: 'opening' | 'agent' | 'landing';
}

/**
 * One `bearing run` while it holds the lock: its phases are the methods
 * below. What reacts to the run without steering it (status.md, the holds,
 * the ticker, the UI) are its listeners (listeners.ts), told each event in
 * order.
 */
class Run {
  readonly #options: RunOptions;
  readonly #watcher: PlanWatcher;
  readonly #lock: Lock;
  readonly #now: Clock;
  #plan: Plan;
  #state: RunState;
  readonly #recorder: RunRecorder;
  readonly #running = new Map<string, RunningTask>();
  readonly #holds: Holds;
  readonly #breaker = new CircuitBreaker();
  /** `bearing approve/retry` requests, taken at the start of each step. */
  readonly #inbox: Inbox;
  /**
   * In this order: status.md is written before the UI hears the run started,
   * and the UI, last, hears each event after the run's own parts acted on it.
   */
  readonly #listeners: readonly RunListener[];
  /** Where attempts run: the project folder, or a worktree each. */
  readonly #workspace: Workspace;
  /** Worktrees being removed beside the run. */
  readonly #releases: Promise<void>[] = [];
  /** Ends every agent when the run must stop at once (a failed write, a bug, a lost lock). */
  readonly #halt = new AbortController();
  /** What agents obey: the person's Ctrl-C or the run's own halt. */
  readonly #signal: AbortSignal;
  readonly #concurrency: number;
  #gitRepo = false;
  #stop: StopReason | undefined;
  /** Queue mode: the workspace, whose attempts run on workers. */
  readonly #queued: QueueWorkspace | undefined;
  /** Queue mode: attempts a killed coordinator left with workers, waited for again. */
  #rejoining: Task[] = [];
  /** Tasks this run paused after (checkpoint or on_failure: pause), in order. */
  readonly #pausedInRun: string[] = [];
  /** When the run started (ms): the attempts it started since count against its spend cap. */
  #startedMs = 0;
  /** Running tasks: what each was counted as spending when it started (see runSpend). */
  readonly #reserved = new Map<string, number>();
  /** Ready tasks the spend cap kept from starting, with what each was counted as. */
  readonly #heldByCap = new Map<string, string>();
  /** Ready tasks whose CLI is missing: each reported once, and named when the run ends. */
  readonly #reportedMissing = new Map<string, { command: string; installHint: string }>();
  /** Tasks removed from the task files during the run before they completed. */
  readonly #removedUnrun = new Set<string>();
  /**
   * How many of the plan's first tasks are settled (graph.ts settledPrefix):
   * scheduling starts after them. Back to 0 when a review action is applied
   * or the plan is reloaded, which may unsettle any task.
   */
  #settled = 0;
  #internalErrors = 0;
  /** The final save is being made: readers of status.md will find no run active. */
  #ended = false;
  readonly #notifier: Notifier;

  constructor(
    options: RunOptions & { now: Clock },
    watcher: PlanWatcher,
    plan: Plan,
    loaded: LoadedState,
    lock: Lock,
    workspace: Workspace,
    /** Queue mode: the workspace, as the queue's (attempts run on workers). */
    queued?: QueueWorkspace,
  ) {
    this.#workspace = workspace;
    this.#queued = queued;
    this.#options = options;
    this.#watcher = watcher;
    this.#lock = lock;
    this.#now = options.now;
    this.#plan = plan;
    this.#state = loaded.state;
    this.#signal = AbortSignal.any([options.signal, this.#halt.signal]);
    this.#concurrency = Math.max(1, options.concurrency ?? plan.run.concurrency);
    this.#inbox = new Inbox(options.root);
    this.#recorder = new RunRecorder({
      root: options.root,
      state: () => this.#state,
      seq: loaded.seq,
      live: () => this.#running.keys(),
      renderStatus: () => this.#renderStatus(),
      onFailure: (failure) => this.#writeFailed(failure),
      now: options.now,
    });
    this.#holds = new Holds({
      now: options.now,
      waitForLimits: () => this.#plan.run.waitForLimits,
      limitMarginMs: options.limitMarginMs,
      outageBackoffMs: options.outageBackoffMs,
      emit: (event) => this.#emit(event),
      requestStop: (reason) => this.#requestStop(reason),
    });
    this.#notifier = new Notifier({
      command: () => this.#plan.run.notify,
      root: options.root,
      env: options.env,
      note: (message) => this.#emit({ type: 'note', message }),
    });
    this.#listeners = [
      new StatusWriter(this.#recorder),
      this.#holds,
      new ProgressSaver(() => {
        if (this.#ended) return;
        this.#save();
        // status.md shows running tasks' progress too (spaced by the recorder).
        this.#recorder.flushStatus();
      }),
      new Ticker(
        () => this.#tick(),
        (event) => this.#emit(event),
      ),
      this.#notifier,
      { onEvent: options.onEvent },
    ];
  }

  async execute(): Promise<RunEnd> {
    const { signal } = this.#options;
    const onAbort = (): void => {
      this.#requestStop({ kind: 'interrupted' });
      this.#emit({ type: 'stopping', reason: 'interrupted: ending every agent' });
      this.#watcher.wake();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.#recover();
      this.#gitRepo = await isGitRepo(this.#options.root);
      this.#startedMs = this.#clock();
      this.#state.lastRun = { startedAt: this.#now().toISOString(), pid: process.pid };
      const { stale } = this.#refreshStale();
      this.#save();
      this.#emit({
        type: 'run-start',
        tasks: this.#plan.tasks.length,
        pending: this.#plan.tasks.filter((t) => !TERMINAL_OK.has(statusOf(this.#state, t.id)))
          .length,
        concurrency: this.#concurrency,
        ...(this.#workspace instanceof WorktreeWorkspace
          ? { landsOn: this.#workspace.target.branch }
          : {}),
      });
      // Before anything starts: which finished tasks run again, and why.
      this.#tellStale(stale.map((t) => t.id));
      await this.#watcher.start();
      await this.#loop();
    } catch (error) {
      // A bug in the loop itself: stop as for any fatal problem, never as a stack trace.
      this.#internalError(error);
      await this.#settleRunning();
    } finally {
      signal.removeEventListener('abort', onAbort);
      await this.#watcher.close();
    }
    await this.#closeWorkspace();
    try {
      return this.#end();
    } finally {
      for (const listener of this.#listeners) listener.close?.();
    }
  }

  /** The notify commands started so far have ended (each within its time limit). */
  notified(): Promise<void> {
    return this.#notifier.settled();
  }

  #emit(event: RunEvent): void {
    for (const listener of this.#listeners) listener.onEvent?.(event);
  }

  #tell(event: LoopEvent): void {
    for (const listener of this.#listeners) listener.onLoop?.(event);
  }

  /**
   * After a crash or kill -9, end what the dead run left running before
   * anything runs again, then mark those attempts interrupted so they run again.
   */
  async #recover(): Promise<void> {
    const left: AttemptProcess[] = [];
    for (const record of Object.values(this.#state.tasks)) {
      for (const a of record.attempts) {
        // A queued attempt's agent is a worker's, which may be on this machine
        // and carries the attempt's token: the worker ends it, or it is waited for.
        if (a.outcome === 'running' && a.process && !a.worktree?.queued) left.push(a.process);
      }
    }
    const strays = left.length > 0 ? await endStrayProcesses(left, this.#killGraceMs()) : undefined;
    const ended = { groups: strays?.groups.length ?? 0, escaped: strays?.escaped.length ?? 0 };
    const workspace = this.#workspace;
    // Attempts that were landing their work: git says whether it landed.
    const landings =
      workspace instanceof WorktreeWorkspace
        ? await recoverLandings(this.#state, this.#plan, workspace, this.#now())
        : [];
    for (const id of landings) {
      const record = this.#state.tasks[id]!;
      this.#emit({
        type: 'note',
        message: record.land
          ? `recovered after a crash or kill: ${id} had finished; its work lands now, without running it again`
          : `recovered after a crash or kill: ${id} had finished and its work had landed`,
      });
    }
    // Queue mode: attempts whose jobs are still in Redis are waited for again, not run again.
    this.#rejoining = this.#queued ? await this.#rejoinable(this.#queued) : [];
    const recovered = recoverInterrupted(
      this.#state,
      this.#now(),
      new Set(this.#rejoining.map((t) => t.id)),
    );
    this.#state = recovered.state;
    if (recovered.recovered.length > 0) {
      this.#emit({ type: 'recovered', ids: recovered.recovered, ended });
    }
    if (workspace instanceof WorktreeWorkspace) {
      const cleared = await clearLeftovers(this.#state, workspace);
      if (cleared > 0) {
        this.#emit({
          type: 'note',
          message: `cleaned up ${cleared} worktree${cleared === 1 ? '' : 's'} left by earlier runs`,
        });
      }
    }
  }

  /**
   * Queue mode, after a coordinator was killed: running attempts whose jobs
   * are still in Redis (waiting, running on a worker, or ended and not yet
   * recorded). Those whose work was landing are left to recoverLandings.
   */
  async #rejoinable(workspace: QueueWorkspace): Promise<Task[]> {
    const found: Task[] = [];
    for (const task of this.#plan.tasks) {
      const attempt = this.#state.tasks[task.id]?.attempts.at(-1);
      if (attempt?.outcome !== 'running' || !attempt.worktree?.queued || attempt.worktree.commit) {
        continue;
      }
      if (await workspace.canRejoin(task, attempt)) found.push(task);
    }
    return found;
  }

  async #loop(): Promise<void> {
    for (const task of this.#rejoining) this.#startRejoin(task);
    while (true) {
      this.#applyRequests();
      await this.#reloadPlan();
      const wakeAt = this.#startReady();
      this.#tell({ type: 'step-done' });
      if (this.#running.size === 0 && wakeAt === undefined) break;
      // Nothing else to do until a hold ends: sleep until then (a task's end,
      // an edit or Ctrl-C wakes the loop earlier).
      const timer =
        wakeAt === undefined
          ? undefined
          : setTimeout(() => this.#watcher.wake(), Math.max(0, wakeAt - this.#clock()) + 10);
      await this.#watcher.nextWake();
      if (timer) clearTimeout(timer);
    }
  }

  /** Requests from `bearing approve/retry` made while this run holds the lock. */
  #applyRequests(): void {
    const applied: string[] = [];
    for (const request of this.#inbox.take()) {
      const result = applyReviewAction(
        this.#state,
        request.action,
        request.id,
        this.#running.has(request.id),
        this.#now(),
        () => this.#fingerprintNow(request.id),
      );
      this.#emit({
        type: 'request',
        action: request.action,
        id: request.id,
        applied: result.ok,
        message: result.message,
      });
      if (result.ok) applied.push(request.id);
    }
    if (applied.length === 0) return;
    this.#settled = 0;
    // An approval makes what was stale only because of it current; a retry
    // of a completed task makes its dependents stale.
    this.#tellStale(this.#refreshStale().became);
    // Review actions change the record in place.
    this.#save({ touched: applied });
    // A pause of this run ends once what it waited for is approved or re-queued.
    if (this.#stop?.kind === 'paused') {
      const still = this.#pausedInRun.find((id) => awaitsPerson(statusOf(this.#state, id)));
      this.#stop = still === undefined ? undefined : { kind: 'paused', task: still };
    }
  }

  async #reloadPlan(): Promise<void> {
    const reloaded = await this.#watcher.reloadIfChanged();
    if (reloaded.kind === 'invalid') {
      this.#emit({ type: 'plan-invalid', diagnostics: reloaded.diagnostics });
    } else if (reloaded.kind === 'unsure') {
      this.#emit({
        type: 'plan-unsure',
        missing: reloaded.missing,
        until: reloaded.until,
      });
    } else if (reloaded.kind === 'changed') {
      for (const id of reloaded.removed) {
        if (!TERMINAL_OK.has(statusOf(this.#state, id))) this.#removedUnrun.add(id);
      }
      for (const id of reloaded.added) this.#removedUnrun.delete(id);
      this.#emit({
        type: 'plan-changed',
        added: reloaded.added,
        removed: reloaded.removed,
      });
      this.#plan = reloaded.plan;
      this.#settled = 0;
      const { became } = this.#refreshStale();
      this.#save();
      this.#tellStale(became);
    }
  }

  /**
   * Completed tasks whose fingerprint no longer matches become stale (and
   * stale ones whose cause went away, completed): core/stale.ts. Returns
   * what is stale now and what became so. Results from before fingerprints
   * are adopted.
   *
   * `after`: only what a new result of this task can have made stale: it,
   * and what builds on it, as far as finished tasks reach. One neither
   * completed nor stale cannot become stale, and hands on what it did
   * before, so nothing past it can change (a task ending early in a
   * 10,000-task chain would otherwise look at all that follow).
   */
  #refreshStale(after?: string): StaleRefresh {
    const finished = (t: Task): boolean => {
      const status = statusOf(this.#state, t.id);
      return status === 'completed' || status === 'stale';
    };
    const only =
      after === undefined
        ? undefined
        : new Set([after, ...descendants(this.#plan, after, finished).map((t) => t.id)]);
    return refreshStale(this.#plan, this.#state, digest, this.#now(), {
      adopt: true,
      ...(only ? { only } : {}),
    });
  }

  /** Say which tasks are stale, and why: they run again. */
  #tellStale(ids: string[]): void {
    const tasks = ids.flatMap((id) => {
      const reason = this.#state.tasks[id]?.stale;
      return reason ? [{ id, reason, message: describeStale(reason) }] : [];
    });
    if (tasks.length > 0) this.#emit({ type: 'stale', tasks });
  }

  /** A task's fingerprint as its task file and its dependencies' results stand now. */
  #fingerprintNow(id: string): Fingerprint | undefined {
    const task = this.#plan.tasks.find((t) => t.id === id);
    return task ? fingerprintOf(task, this.#state, digest) : undefined;
  }

  /**
   * Start what is ready, within the concurrency and the holds. Returns when
   * the loop must look again even if nothing wakes it (a hold ends, a removal
   * of task files is confirmed), or undefined.
   */
  #startReady(): number | undefined {
    if (this.#stop || this.#signal.aborted) return undefined;
    // Task files vanished a moment ago (a branch switch, `git stash`): until it
    // is clear whether they are gone for good, the plan is in doubt; start nothing.
    const removalPending = this.#watcher.removalPendingUntil();
    if (removalPending !== undefined) return removalPending;
    let wakeAt: number | undefined;
    const running = new Set(this.#running.keys());
    const { ready, waiting } = schedule(this.#plan, this.#state, running, this.#settled);
    this.#settled = settledPrefix(this.#plan, this.#state, running, this.#settled);
    let started = 0;
    let full = ready.length;
    for (const [i, task] of ready.entries()) {
      const heldUntil = this.#holds.heldUntil(task.cli);
      if (heldUntil !== undefined) {
        wakeAt = Math.min(wakeAt ?? Number.POSITIVE_INFINITY, heldUntil);
        continue;
      }
      if (this.#agentsRunning() >= this.#concurrency) {
        full = i;
        break;
      }
      if (this.#lacksCommand(task)) continue;
      if (!this.#withinCap(task)) continue;
      if (!this.#mayStart()) break;
      this.#start(task);
      started++;
    }
    // Attempts to come: tasks yet to start, and started ones yet to take a site.
    let opening = 0;
    for (const r of this.#running.values()) if (r.phase === 'opening') opening++;
    void this.#workspace.expect(
      ready.length - started + waiting + opening,
      this.#nextAttempts(ready, full),
    );
    return wakeAt;
  }

  /**
   * The first attempts of ready tasks left for want of a place, from `from`
   * on: the next the run opens, as places free (see Workspace.expect).
   */
  #nextAttempts(ready: readonly Task[], from: number): AttemptName[] {
    const next: AttemptName[] = [];
    for (let i = from; i < ready.length && next.length < NEXT_ATTEMPTS_TOLD; i++) {
      const task = ready[i]!;
      if (this.#state.tasks[task.id]?.attempts.length) continue; // a retry may resume where it ran
      if (this.#holds.heldUntil(task.cli) !== undefined) continue;
      next.push({ taskId: task.id, attempt: 1 });
    }
    return next;
  }

  /** The checks a spawn must pass that are about the run, not the task: the lock and the disk. */
  #mayStart(): boolean {
    if (this.#lock.ensure() === 'lost') {
      this.#requestStop({
        kind: 'lock-lost',
        message:
          "another process took this project's run lock (bearing/.state/lock) while this run held it; this run stopped its agents. Check `bearing status`.",
      });
      return false;
    }
    const { root } = this.#options;
    const free = freeDiskBytes(root);
    const minFreeBytes = this.#plan.run.minFreeBytes;
    if (minFreeBytes > 0 && free !== undefined && free < minFreeBytes) {
      this.#requestStop({ kind: 'disk-full', path: root, freeBytes: free, minFreeBytes });
      return false;
    }
    return true;
  }

  /** The spend cap in force: `--max-cost`, else run.max_cost_usd as the task files say now. */
  #capUsd(): number | undefined {
    return this.#options.maxCostUsd ?? this.#plan.run.maxCostUsd;
  }

  /**
   * Whether starting `task` keeps the run within its spend cap, counting
   * what the running tasks were counted as. One that would pass it waits:
   * a cheaper task may still fit, and a running one may end spending less.
   */
  #withinCap(task: Task): boolean {
    const cap = this.#capUsd();
    if (cap === undefined) return true;
    const estimate = startEstimate(task, this.#plan.tasks, this.#state, this.#estimator);
    const spent = this.#spent(this.#reserved);
    if (spent.usd + estimate.usd <= cap) {
      this.#heldByCap.delete(task.id);
      this.#reserved.set(task.id, estimate.usd);
      return true;
    }
    this.#heldByCap.set(task.id, estimateText(estimate));
    return false;
  }

  /** What this run's attempts spent; codex's, which report no cost, at Bearing's estimate. */
  #spent(reserved?: ReadonlyMap<string, number>): RunSpend {
    return runSpend(this.#state, this.#startedMs, reserved, this.#estimator);
  }

  /** codex reports no cost: its attempts' cost is estimated from their tokens (run.codex_prices). */
  readonly #estimator: Estimator = (id, usage) => {
    const task = this.#plan.tasks.find((t) => t.id === id);
    if (!task || adapterFor(task, this.#plan.agents).output !== 'codex') return undefined;
    return codexCost(usage, codexPrice(task.model, this.#plan.run.codexPrices));
  };

  /** After a spend: once what this run's agents spent passes the cap, they are stopped. */
  #checkSpend(): void {
    const cap = this.#capUsd();
    if (cap === undefined || this.#stop?.kind === 'cost-cap') return;
    const spent = this.#spent();
    if (spent.usd <= cap) return;
    this.#requestStop({
      kind: 'cost-cap',
      capUsd: cap,
      spentUsd: spent.usd,
      estimated: spent.estimated,
      passed: true,
      held: [],
    });
  }

  #lacksCommand(task: Task): boolean {
    // Queue mode: the workers have the CLIs (and a CLI no worker has is said by the workspace).
    if (this.#queued) return false;
    const lacking = missingCommands([task], this.#plan, this.#options.env, this.#options.root);
    const m = lacking[0];
    if (!m) return false;
    if (!this.#reportedMissing.has(task.id)) {
      this.#reportedMissing.set(task.id, { command: m.command, installHint: m.installHint });
      this.#emit({
        type: 'missing-cli',
        task: task.id,
        cli: m.cli,
        command: m.command,
        installHint: m.installHint,
      });
    }
    return true;
  }

  /** Queue mode: wait again for an attempt a worker runs, or ran, while no run was there. */
  #startRejoin(task: Task): void {
    const workspace = this.#queued!;
    const attempt = this.#state.tasks[task.id]!.attempts.at(-1)!;
    const startedAt = this.#clock();
    // Its site is the worker's, open already.
    const running: RunningTask = { startedAt, job: Promise.resolve(), phase: 'agent' };
    this.#emit({ type: 'task-start', task, attempt: attempt.attempt, resume: false, startedAt });
    const work = workspace.rejoin(task, attempt, this.#signal).then(({ site, ran }) =>
      concludeAttempt(
        {
          task,
          plan: this.#plan,
          state: this.#state,
          root: this.#options.root,
          now: this.#now,
          recorder: this.#recorder,
          workspace,
          onPhase: this.#phaseOf(running),
          save: () => this.#save(),
        },
        site,
        attempt,
        ran,
      ),
    );
    this.#track(task, running, work);
  }

  #start(task: Task): void {
    const startedAt = this.#clock();
    // Work waiting to land, in worktree mode, lands without running the agent.
    const landsFrom =
      this.#state.tasks[task.id]?.land && this.#workspace instanceof WorktreeWorkspace
        ? this.#workspace
        : undefined;
    const running: RunningTask = {
      startedAt,
      job: Promise.resolve(),
      phase: landsFrom ? 'landing' : 'opening',
    };
    const work: Promise<TaskOutcome> = landsFrom
      ? this.#landWaiting(task, landsFrom, startedAt)
      : this.#attempt(task, startedAt, this.#phaseOf(running));
    this.#track(task, running, work);
  }

  /** Follows an attempt's phases; a landing frees its agent's place, so the loop looks again. */
  #phaseOf(running: RunningTask): (phase: 'opened' | 'landing') => void {
    return (phase) => {
      running.phase = phase === 'opened' ? 'agent' : 'landing';
      if (phase === 'landing') this.#watcher.wake();
    };
  }

  /** The task's job is in the pool until it ends; it always ends in #finish. */
  #track(task: Task, running: RunningTask, work: Promise<TaskOutcome>): void {
    running.job = work
      .catch((error: unknown) => this.#abandonAttempt(task, error))
      .then((outcome) => {
        try {
          this.#finish(task, outcome);
        } catch (error) {
          this.#internalError(error);
        } finally {
          this.#running.delete(task.id);
          this.#watcher.wake();
        }
      });
    this.#running.set(task.id, running);
  }

  #agentsRunning(): number {
    let n = 0;
    for (const r of this.#running.values()) if (r.phase !== 'landing') n++;
    return n;
  }

  /** Work done and waiting to land (see land.ts): land it, without running the agent. */
  #landWaiting(task: Task, workspace: WorktreeWorkspace, startedAt: number): Promise<TaskOutcome> {
    const record = this.#state.tasks[task.id]!;
    this.#emit({
      type: 'task-start',
      task,
      attempt: record.land!.attempt,
      resume: false,
      landing: true,
      startedAt,
    });
    return landWaiting({
      task,
      plan: this.#plan,
      state: this.#state,
      workspace,
      now: this.#now,
      save: () => this.#save(),
    });
  }

  #attempt(
    task: Task,
    startedAt: number,
    onPhase: (phase: 'opened' | 'landing') => void,
  ): Promise<TaskOutcome> {
    const { root, env } = this.#options;
    if (this.#state.tasks[task.id]?.land) {
      // Waiting to land, but this run shares the folder: the work is in a worktree
      // this run does not land from. The task runs again instead.
      delete this.#state.tasks[task.id]!.land;
    }
    return executeAttempt({
      task,
      plan: this.#plan,
      state: this.#state,
      root,
      env,
      signal: this.#signal,
      abortMessage: () => this.#abortMessage(),
      gitRepo: this.#gitRepo,
      workspace: this.#workspace,
      othersRunning: () => [...this.#running.keys()].some((id) => id !== task.id),
      recorder: this.#recorder,
      killGraceMs: this.#options.killGraceMs,
      resultGraceMs: this.#options.resultGraceMs ?? RESULT_GRACE_MS,
      now: this.#now,
      onStarted: (attempt, resume) => {
        this.#emit({ type: 'task-start', task, attempt, resume, startedAt });
        this.#save();
      },
      onProgress: (attempt, progress) => {
        this.#emit({ type: 'progress', id: task.id, attempt, progress });
        this.#checkSpend();
      },
      onPhase,
      save: () => this.#save(),
    });
  }

  /** What follows from one attempt's end: the breaker, holds, a stop, the save. */
  #finish(task: Task, o: TaskOutcome): void {
    const f = o.failure;
    this.#reserved.delete(task.id);
    this.#checkSpend();
    if (o.outcome !== 'interrupted') {
      const tripped = this.#breaker.record(task.id, f);
      if (tripped) this.#requestStop({ kind: 'circuit-open', ...tripped });
    }
    if (f?.reason === 'internal-error') this.#internalErrors++;
    // The holds hold the CLI after a limit or an outage, or stop the run when they cannot.
    this.#tell({ type: 'outcome', task, outcome: o });
    if (!holdsDealWith(f)) this.#stopAfter(task, o);
    this.#releaseIfDone(task.id);
    // A new result upstream: what was built on the old one is stale.
    this.#refreshStale(task.id);
    this.#save();
    this.#emit({
      type: 'task-end',
      task,
      attempt: o.attempt,
      record: this.#state.tasks[task.id]!,
      outcome: o.outcome,
      ...(f ? { failure: f } : {}),
    });
  }

  /**
   * A task whose work landed needs none of its worktrees any more. Removing
   * them (deleting files) goes on beside the run; the run awaits it at the end.
   */
  #releaseIfDone(id: string): void {
    const record = this.#state.tasks[id];
    const landed = record?.status === 'completed' || record?.status === 'awaiting-review';
    if (!record || !landed || record.land) return;
    const worktrees = record.attempts.flatMap((a) => (a.worktree ? [a.worktree] : []));
    if (worktrees.length === 0) return;
    this.#releases.push(
      this.#workspace.release(worktrees).catch((error: unknown) => {
        this.#emit({
          type: 'note',
          message: `could not remove the worktrees of ${id}: ${error instanceof Error ? error.message : String(error)}`,
        });
      }),
    );
  }

  /** Worktrees being released, then the spares: none of Bearing's worktrees outlives a run it ended itself. */
  async #closeWorkspace(): Promise<void> {
    await Promise.all(this.#releases);
    await this.#workspace.close().catch((error: unknown) => {
      this.#emit({
        type: 'note',
        message: `could not remove spare worktrees: ${error instanceof Error ? error.message : String(error)}`,
      });
    });
  }

  /** A stop the outcome calls for: work that cannot land, or what the task's policy says. */
  #stopAfter(task: Task, o: TaskOutcome): void {
    if (o.blockedBy && this.#workspace instanceof WorktreeWorkspace) {
      this.#requestStop({
        kind: 'landing-blocked',
        task: task.id,
        branch: this.#workspace.target.branch,
        files: o.blockedBy,
      });
      return;
    }
    const reason = stopReasonFor(o, task);
    if (reason) this.#requestStop(reason);
  }

  /**
   * The attempt threw instead of returning an outcome. A failed write is the
   * run's problem (it stops; the attempt runs again next time); anything else
   * is a bug, recorded on the task as an internal error with the version.
   */
  #abandonAttempt(task: Task, error: unknown): TaskOutcome {
    const failure: Failure =
      error instanceof WriteError
        ? { reason: 'interrupted', message: `Bearing could not write ${error.message}` }
        : {
            reason: 'internal-error',
            message: error instanceof Error ? error.message : String(error),
            version: VERSION,
          };
    const abandoned = abandonAttempt(this.#state.tasks[task.id], task.id, failure, this.#now());
    putRecord(this.#state, task.id, abandoned.record);
    return abandoned.outcome;
  }

  #requestStop(reason: StopReason): void {
    this.#tell({ type: 'stop', reason });
    if (reason.kind === 'paused') this.#pausedInRun.push(reason.task);
    const current = this.#stop;
    // The first reason wins, but an interruption outranks a pause or a failure,
    // and a run that cannot go on at all outranks everything. A stop that ended
    // the agents itself is not outranked by their attempts' interruption.
    if (
      !current ||
      (FATAL.has(reason.kind) && !FATAL.has(current.kind)) ||
      (reason.kind === 'interrupted' && !endsAgents(current))
    ) {
      this.#stop = reason;
    }
    if (endsAgents(reason) && !this.#halt.signal.aborted) {
      this.#emit({ type: 'stopping', reason: describeStop(reason) });
      this.#halt.abort();
    }
    this.#watcher.wake();
  }

  #writeFailed(failure: WriteFailure): void {
    this.#requestStop({ kind: 'state-write-failed', file: failure.file, message: failure.message });
  }

  #internalError(error: unknown): void {
    this.#internalErrors++;
    const message = error instanceof Error ? error.message : String(error);
    if (process.env.BEARING_DEBUG && error instanceof Error && error.stack) {
      this.#emit({ type: 'stopping', reason: error.stack });
    }
    this.#requestStop({ kind: 'internal-error', message, version: VERSION });
  }

  /** After a bug in the loop: the running attempts end (halted) and are recorded before the run ends. */
  async #settleRunning(): Promise<void> {
    await Promise.allSettled([...this.#running.values()].map((r) => r.job));
  }

  #end(): RunEnd {
    if (this.#options.signal.aborted) this.#requestStop({ kind: 'interrupted' });
    // The run ran out of work because a CLI is missing: say so, not "run again".
    const unstarted = [...this.#reportedMissing]
      .filter(
        ([id]) =>
          this.#plan.tasks.some((t) => t.id === id) && isRunnable(statusOf(this.#state, id)),
      )
      .map(([task, m]) => ({ task, ...m }));
    if (unstarted.length > 0) this.#requestStop({ kind: 'missing-cli', tasks: unstarted });
    // The run ran out of work because the cap kept tasks from starting: say so.
    const held = [...this.#heldByCap]
      .filter(([id]) => isRunnable(statusOf(this.#state, id)))
      .map(([task, estimate]) => ({ task, estimate }));
    const cap = this.#capUsd();
    if (held.length > 0 && cap !== undefined) {
      const spent = this.#spent();
      this.#requestStop({
        kind: 'cost-cap',
        capUsd: cap,
        spentUsd: spent.usd,
        estimated: spent.estimated,
        passed: false,
        held,
      });
    }
    const lastRun = this.#state.lastRun ?? {
      startedAt: this.#now().toISOString(),
      pid: process.pid,
    };
    const removed = [...this.#removedUnrun].filter(
      (id) => !this.#plan.tasks.some((t) => t.id === id),
    );
    let next = nextStep(this.#plan, this.#state, new Set(), this.#stop, []);
    if (removed.length > 0) {
      next += `\nRemoved from the task files during the run before they completed: ${removed.join(', ')}.`;
    }
    this.#state.lastRun = { ...lastRun, endedAt: this.#now().toISOString(), stopReason: next };
    delete this.#state.lastRun.waits;
    const recorded = recordedStop(this.#stop);
    if (recorded) this.#state.lastRun.stop = recorded;
    this.#ended = true;
    this.#save({ whole: true });
    this.#tell({ type: 'final-save' });
    // A write that failed at the very end still changes the verdict.
    if (this.#recorder.failure && this.#stop?.kind !== 'state-write-failed') {
      const f = this.#recorder.failure;
      this.#stop = { kind: 'state-write-failed', file: f.file, message: f.message };
      next = nextStep(this.#plan, this.#state, new Set(), this.#stop, []);
    }
    this.#emit({
      type: 'run-end',
      next,
      totals: runTotals(this.#state, lastRun.startedAt, this.#now()),
    });
    return runEnd(this.#stop, this.#plan, this.#state, next, this.#internalErrors > 0);
  }

  #save(options: { touched?: readonly string[]; whole?: boolean } = {}): void {
    if (this.#state.lastRun && !this.#state.lastRun.endedAt) {
      const waits = this.#holds.waits();
      if (waits.length > 0) this.#state.lastRun.waits = waits;
      else delete this.#state.lastRun.waits;
    }
    this.#recorder.save(options);
  }

  #renderStatus(): StatusFiles {
    const running = new Set(this.#running.keys());
    const since = this.#state.lastRun?.startedAt;
    const gate: RunGate = this.#ended
      ? { kind: 'free' }
      : { kind: 'active', pid: process.pid, ...(since ? { since } : {}) };
    const next = nextStep(
      this.#plan,
      this.#state,
      running,
      this.#stop,
      this.#ended ? [] : this.#holds.waits(),
      gate,
    );
    return renderStatusFiles({
      plan: this.#plan,
      state: this.#state,
      next,
      gate,
      now: this.#now(),
      running: Object.fromEntries(
        [...this.#running].map(([id, r]) => [
          id,
          { startedAt: new Date(r.startedAt).toISOString() },
        ]),
      ),
    });
  }

  #tick(): Tick {
    const live = runningSpend(this.#state);
    let cost: Cost = { usd: live.usd, estimated: live.estimated, unknown: false };
    for (const r of Object.values(this.#state.tasks)) cost = addCost(cost, taskCost(r));
    return {
      type: 'tick',
      running: [...this.#running].map(([id, r]) => ({ id, startedAt: r.startedAt })),
      cost,
      done: this.#plan.tasks.filter((t) => TERMINAL_OK.has(statusOf(this.#state, t.id))).length,
      total: this.#plan.tasks.length,
    };
  }

  #abortMessage(): string {
    if (this.#options.signal.aborted) return 'stopped by Ctrl-C or SIGTERM';
    return this.#stop ? `the run stopped: ${describeStop(this.#stop)}` : 'the run stopped';
  }

  #killGraceMs(): number {
    return this.#options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  }

  #clock(): number {
    return this.#now().getTime();
  }
}

/** How the run ended, from why it stopped (if it did) and what is left. */
function runEnd(
  stop: StopReason | undefined,
  plan: Plan,
  state: RunState,
  next: string,
  hadInternalError: boolean,
): RunEnd {
  if (stop) {
    switch (stop.kind) {
      case 'interrupted':
        return { kind: 'interrupted', next };
      case 'paused':
        return { kind: 'paused', next };
      case 'state-write-failed':
      case 'disk-full':
        return { kind: 'io-error', next };
      case 'internal-error':
        return { kind: 'internal-error', next };
      case 'lock-lost':
        return { kind: 'lock-lost', next };
      case 'cost-cap':
        return { kind: 'cost-cap', next };
      default:
        return hadInternalError ? { kind: 'internal-error', next } : { kind: 'stopped', next };
    }
  }
  if (hadInternalError) return { kind: 'internal-error', next };
  const statuses = plan.tasks.map((t) => statusOf(state, t.id));
  if (statuses.some(awaitsPerson)) return { kind: 'paused', next };
  if (statuses.some((st) => st === 'failed' || isRunnable(st))) {
    return { kind: 'failed', next };
  }
  return { kind: 'done', next };
}

/** The stop, if readers of the state could not work it out after the run. */
function recordedStop(stop: StopReason | undefined): RecordedStop | undefined {
  switch (stop?.kind) {
    case 'circuit-open':
    case 'state-write-failed':
    case 'disk-full':
    case 'lock-lost':
    case 'internal-error':
    case 'cost-cap':
      return stop;
    default:
      return undefined;
  }
}

/** One line for the terminal when the run stops itself. */
function describeStop(stop: StopReason): string {
  switch (stop.kind) {
    case 'state-write-failed':
      return `cannot write ${stop.file} (${stop.message}); ending every agent`;
    case 'internal-error':
      return `internal error in bearing ${stop.version}: ${stop.message}; ending every agent`;
    case 'lock-lost':
      return stop.message;
    case 'cost-cap':
      return `the run spent ${stop.estimated ? '~' : ''}${dollars(stop.spentUsd)}, past its spend cap of ${dollars(stop.capUsd)}; ending every agent`;
    default:
      return stop.kind;
  }
}
