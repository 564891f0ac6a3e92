/**
 * What travels through the queue: an attempt's job (the agent's job, plus
 * where the project's git remote is and which commit to start from) and its
 * result (the agent's run, the commit pushed, the raw logs). Prompts and
 * results only: no environment, no credentials. Each worker runs the agent
 * with its own environment and its own CLI logins.
 */
import type { LiveProgress } from '../core/progress.js';
import type { AgentJob, AgentRun } from '../run/agent-run.js';

/** The queue of one CLI: jobs go to the workers that have it (see docs/architecture.md). */
export function queueName(cli: string): string {
  return `attempts-${cli}`;
}

/**
 * One attempt's job id: the same for the same attempt, so adding it again
 * (a coordinator rejoining after a crash) finds the job already there.
 */
export function attemptJobId(taskId: string, attempt: number, token: string): string {
  return `${taskId}.${attempt}.${token}`;
}

export interface AttemptJobData {
  /** Bumped when the shape changes: a worker refuses a job it cannot read. */
  version: 1;
  agent: AgentJob;
  /** The project's git remote, as the workers reach it. */
  remote: string;
  /** A ref on the remote that holds `base` (the target's tip, pushed by the coordinator). */
  baseRef: string;
  /** The commit the attempt starts from: everything landed so far. */
  base: string;
  /** The branch the worker pushes the attempt's work to (`bearing/<task>/<n>`). */
  branch: string;
  /** The project's folder inside the repository ('' at the top, 'sub/dir/' below). */
  prefix: string;
}

export interface AttemptJobResult {
  /** The worker that ran it (`host:pid`). */
  worker: string;
  run: AgentRun;
  /** The attempt's work as one commit on `base`, pushed to `branch`; absent when it changed nothing. */
  commit?: string;
  /** The raw logs, base64, each already capped by run.max_log_size. */
  logs: Partial<Record<AttemptLog, string>>;
}

export const ATTEMPT_LOGS = ['stdout.log', 'stderr.log', 'verify.log'] as const;
export type AttemptLog = (typeof ATTEMPT_LOGS)[number];

/** How a job's failure starts when its worker was stopped while running it. */
export const WORKER_STOPPED = 'worker-stopped';

/** What a worker says about a job while it runs (BullMQ progress). */
export type JobProgress =
  | { kind: 'started'; worker: string }
  /** What the agent's events say it has done so far, sent at most once a second. */
  | { kind: 'progress'; worker: string; progress: LiveProgress }
  /** The CLI hit its usage limit on this worker: the job goes back for another worker. */
  | { kind: 'limited'; worker: string; until: string; message: string };
