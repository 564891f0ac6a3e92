/**
 * What Bearing records about tasks (bearing/.state/state.json). Task files
 * are never written; everything learned from running lives here.
 */
import type { Failure } from './failure.js';
import type { StopReason } from './next-step.js';
import type { LiveProgress } from './progress.js';

export type TaskStatus =
  | 'queued'
  | 'running'
  | 'completed'
  | 'failed'
  | 'skipped'
  | 'awaiting-review'
  | 'interrupted'
  /** The agent said it was done but its hand-off did not hold (it changed no file): a person decides. */
  | 'needs-review'
  /** Completed, but what produced it changed since (an edit, an upstream task ran again): runs again. */
  | 'stale';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export const ZERO_USAGE: Usage = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
};

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
  };
}

export interface AttemptRecord {
  /** 1-based; also the directory name under .state/runs/<task>/. */
  attempt: number;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  outcome: 'running' | 'completed' | 'failed' | 'interrupted';
  failure?: Failure;
  costUsd?: number;
  /** costUsd is Bearing's estimate from the tokens (codex, priced by run.codex_prices). */
  costEstimated?: boolean;
  usage?: Usage;
  turns?: number;
  sessionId?: string;
  /** The model the agent CLI reported running (claude says; codex does not). */
  model?: string;
  summary?: string;
  exitCode?: number;
  /** Things worth knowing about how the attempt went (retries, fallbacks, Bearing had to end it...). */
  notes?: string[];
  /**
   * Who ran the attempt, so that a later run can end it if this run dies
   * (kill -9, OOM) while the agent lives on. The token is saved before the
   * spawn and is in the agent's environment (BEARING_ATTEMPT_TOKEN), so even
   * an agent started a moment before a crash can be recognised; the group id
   * and the leader's start time follow right after the spawn.
   */
  process?: AttemptProcess;
  /** In worktree mode: where the attempt ran and what became of its work. */
  worktree?: AttemptWorktree;
  /**
   * While it runs: what its agent's events say it has done so far, saved at
   * most once a second (run/progress-saver.ts) so other processes (`bearing
   * status`, `watch`) can show it. Dropped when the attempt ends, whose own
   * figures are then final.
   */
  progress?: LiveProgress;
  /** What produced this attempt: its settings and the hand-offs it received (core/fingerprint.ts). */
  fingerprint?: Fingerprint;
}

/**
 * What produced a task's result, as digests (core/fingerprint.ts): one per
 * setting that shapes the work, by its task-file key, and one per hand-off
 * the task received, by the dependency's id. Digests, not values: the
 * prompts stay in the task files; a digest per key is enough to name the
 * key an edit changed.
 */
export interface Fingerprint {
  /** The digest of all of `fields` together, compared first. */
  digest: string;
  fields: Record<string, string>;
  upstream: Record<string, string>;
}

/**
 * Why a completed task is stale: an edit changed settings that shape its
 * work (`fields`, by task-file key), or a task it builds on is stale, is to
 * run again, or ran again since (`upstream`).
 */
export type StaleReason =
  | { kind: 'edited'; fields: string[] }
  | { kind: 'upstream'; task: string; change: 'stale' | 'rerun' | 'new-result' };

/**
 * What a task's hand-off was checked against when it ended, beside the
 * agent's own word: shown for each completed task, and the files its summary
 * names that are nowhere are handed on to its dependents as a warning.
 */
export interface HandOffChecks {
  /** The `verify` gate it passed. */
  verify?: string;
  /** It was expected to change files (expect_changes) and did. */
  changes?: boolean;
  /** Paths its summary names that it did not change and that do not exist. */
  unknownFiles?: string[];
  /** A person accepted the result (`bearing approve`) rather than a check. */
  approved?: boolean;
}

/**
 * An attempt's own git worktree. Saved before the agent starts, and again
 * before its work lands, so a run killed at any moment can tell what it left.
 */
export interface AttemptWorktree {
  /** Absolute path of the worktree. */
  path: string;
  /** Its branch, `bearing/<task>/<attempt>`. */
  branch: string;
  /** The commit it started from: everything landed when it started. */
  base: string;
  /** The attempt's work as one commit on `base` (absent while it runs, or when it changed nothing). */
  commit?: string;
  /** The commit made on the target branch from `commit`, and the tip it was made on; saved before the branch moves. */
  landing?: { commit: string; onto: string };
  /**
   * Queue mode: the worktree is on a worker, not here (`path` never exists
   * here). `job`: the attempt's job, on the queue of `cli`; `worker`: the
   * worker that took it (`host:pid`), once one has.
   */
  queued?: { job: string; cli: string; worker?: string };
}

export interface AttemptProcess {
  token: string;
  /** Process group id (the leader's pid). */
  pgid?: number;
  /** The leader's start time as the OS reports it, so a reused pid is never mistaken for it. */
  startTime?: string;
}

export interface TaskRecord {
  id: string;
  status: TaskStatus;
  attempts: AttemptRecord[];
  /** The hand-off: final message of the completing attempt. */
  summary?: string;
  /** Files the completing attempt changed, relative to the project root. */
  filesChanged?: string[];
  /** Totals across all attempts. */
  costUsd: number;
  usage: Usage;
  turns: number;
  durationMs: number;
  /** Newest agent session id, for resuming. */
  sessionId?: string;
  /** The last failure, while the task is not completed. */
  failure?: Failure;
  /**
   * Index into `attempts` where the current retry budget starts: `bearing
   * retry` and completions reset it, so a re-queued task gets its retries again.
   */
  retryFrom?: number;
  /**
   * Worktree mode: work committed in one attempt's worktree that has yet to
   * land (its landing was blocked or cut short, or the person resolved a
   * conflict and approved it). The run lands it instead of running an agent.
   * `reviewed`: approved by the person, so no checkpoint applies.
   */
  land?: { attempt: number; reviewed: boolean };
  /** checkpoint: notify — flagged for the person's attention. */
  flagged?: boolean;
  /** What produced the current result (the completing attempt's fingerprint). */
  fingerprint?: Fingerprint;
  /** Status `stale`: why. */
  stale?: StaleReason;
  /** What the current hand-off was checked against. */
  checks?: HandOffChecks;
  updatedAt: string;
}

export interface RunInfo {
  startedAt: string;
  endedAt?: string;
  pid: number;
  /** Why the last run ended, for status.md's "what happens next". */
  stopReason?: string;
  /** CLIs the run is holding back (usage limit or outage), so readers can say so while it waits. */
  waits?: Wait[];
  /**
   * Why the run stopped, when the state alone cannot tell (the breaker
   * tripped, a write failed, the disk was full, the lock was lost, a bug),
   * so that `status` and `summary` say it after the run has ended.
   */
  stop?: RecordedStop;
}

/** The stop reasons a reader cannot work out from the task records. */
export type RecordedStop = Extract<
  StopReason,
  {
    kind:
      | 'circuit-open'
      | 'state-write-failed'
      | 'disk-full'
      | 'lock-lost'
      | 'internal-error'
      | 'landing-blocked'
      | 'cost-cap';
  }
>;

/** A CLI whose tasks wait for its usage limit to reset, or for its API to come back. */
export interface Wait {
  cli: string;
  /** `limit`: a usage or rate limit; `outage`: the API was unavailable (5xx, 529, connection refused). */
  kind: 'limit' | 'outage';
  /** ISO time the run goes on. */
  until: string;
  message: string;
}

export interface RunState {
  version: 1;
  tasks: Record<string, TaskRecord>;
  lastRun?: RunInfo;
}

export function emptyState(): RunState {
  return { version: 1, tasks: recordsOf() };
}

/**
 * A tasks object with no prototype, holding `records`. The run looks up
 * every task of the plan before each decision, most of them without a
 * record early on; on an ordinary object V8 then searches Object.prototype
 * too, which made scheduling 10,000 tasks five times slower.
 */
export function recordsOf(records: Record<string, TaskRecord> = {}): Record<string, TaskRecord> {
  return Object.assign(Object.create(null) as Record<string, TaskRecord>, records);
}

/**
 * The tasks whose records were put since the journal last took them: kept
 * on the tasks object itself, under a symbol (not part of the JSON, not seen
 * by `for...in` or Object.keys), so whoever holds the state can tell.
 */
const PUT = Symbol('records put');
type Marked = Record<string, TaskRecord> & { [PUT]?: Set<string> };

/**
 * Put a task's record in the state, in place of the one there. Every write
 * of a record goes through here (a test holds src/ to it): the run's journal
 * saves the records put since its last save, and those changed in place that
 * it is told of, instead of comparing every record on every save, which at
 * 10,000 tasks cost more than the rest of a transition.
 *
 * What is stored is a copy (see sameShape): the caller hands the record
 * over, and changes it afterwards through `state.tasks[id]`, never through
 * its own reference. Ended attempts are copied too, as run totals and
 * status.md read every one; the running attempt stays the object the
 * attempt's code holds and updates. Nothing deeper is copied.
 */
export function putRecord(state: RunState, id: string, record: TaskRecord): void {
  const stored = sameShape(record);
  stored.attempts = record.attempts.map((a) => (a.outcome === 'running' ? a : sameShape(a)));
  state.tasks[id] = stored;
  const tasks = state.tasks as Marked;
  if (tasks[PUT]) tasks[PUT].add(id);
  else Object.defineProperty(tasks, PUT, { value: new Set([id]), writable: true });
}

/**
 * The object's own fields, set one by one in their order on a new object.
 * Node 20's V8 gives each object that spread syntax makes (`{ ...record,
 * status }`, how transitions.ts makes records and attempts) a hidden class of
 * its own once the spread has run a few times, and code that reads a field of
 * thousands of such objects misses V8's caches on every read: PRIOR's walk
 * over a task's ancestors took 3.9 ms per task at 3,500 tasks, and 0.8 ms once
 * records were put this way. Objects whose fields are set in the same order
 * share one.
 */
function sameShape<T extends object>(from: T): T {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(from)) {
    const value = (from as Record<string, unknown>)[key];
    // Only a hand-edited state.json has such a key: it stays a field, not the prototype.
    if (key === '__proto__') {
      Object.defineProperty(copy, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      copy[key] = value;
    }
  }
  return copy as T;
}

/** The tasks whose records were put since the last call (state/journal.ts), forgotten here. */
export function takePut(tasks: Record<string, TaskRecord>): ReadonlySet<string> {
  const marked = tasks as Marked;
  const put = marked[PUT];
  if (!put || put.size === 0) return new Set();
  marked[PUT] = new Set();
  return put;
}
