/**
 * The coordinator's side of the queue: put an attempt's job on its CLI's
 * queue, and wait for how it ended. A job's end is learned from BullMQ's
 * events and, as events can be missed (Redis restarted, the connection
 * dropped), from its state, looked at every `pollMs`. Results stay in Redis
 * until the coordinator has recorded them and removes them (`forget`): a
 * coordinator killed meanwhile finds them there when it runs again.
 */
import { Queue, QueueEvents } from 'bullmq';
import { connectionOptions, QUEUE_PREFIX, type QueueAddress } from './connection.js';
import {
  type AttemptJobData,
  type AttemptJobResult,
  type JobProgress,
  queueName,
  WORKER_STOPPED,
} from './job.js';

/** BullMQ's reason for a job whose worker stopped renewing its lock. */
const STALLED = 'job stalled more than allowable limit';
const LOST = 'its worker stopped answering (killed, or its machine is gone)';

export type JobEnd =
  | { kind: 'done'; result: AttemptJobResult }
  /** The worker stopped renewing its lock (killed, its machine gone), or the job vanished. */
  | { kind: 'lost'; message: string }
  /** The worker could not run it (a git error, a job it cannot read). */
  | { kind: 'failed'; message: string }
  /** The coordinator stopped waiting (Ctrl-C, a fatal stop). */
  | { kind: 'aborted' };

interface Waiter {
  cli: string;
  resolve: (end: JobEnd) => void;
}

export interface AttemptQueueOptions {
  /** How often the state of every awaited job is looked at, besides the events. */
  pollMs?: number;
  /** A worker said something about a job (it started it, it hit a limit). */
  onProgress?: (jobId: string, progress: JobProgress) => void;
}

export class AttemptQueue {
  readonly #queues = new Map<string, Queue<AttemptJobData, AttemptJobResult>>();
  readonly #events = new Map<string, QueueEvents>();
  readonly #waiters = new Map<string, Waiter>();
  #poll: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    readonly address: QueueAddress,
    readonly options: AttemptQueueOptions = {},
  ) {}

  /** Put the job on its CLI's queue; a job of that id already there (a rejoin) is left as it is. */
  async add(cli: string, id: string, data: AttemptJobData): Promise<void> {
    this.#listen(cli);
    // Listening before the job is there: a worker's first events follow at once.
    await this.#events.get(cli)?.waitUntilReady();
    await this.#queue(cli).add('attempt', data, {
      jobId: id,
      // One run per job: a stalled or failed job is the coordinator's to deal with.
      attempts: 1,
      removeOnComplete: false,
      removeOnFail: false,
    });
  }

  /** How the job ended, once it has. */
  wait(cli: string, id: string, signal: AbortSignal): Promise<JobEnd> {
    this.#listen(cli);
    return new Promise<JobEnd>((resolve) => {
      const onAbort = (): void => settle({ kind: 'aborted' });
      const settle = (end: JobEnd): void => {
        if (this.#waiters.get(id)?.resolve !== settle) return;
        this.#waiters.delete(id);
        signal.removeEventListener('abort', onAbort);
        resolve(end);
      };
      this.#waiters.set(id, { cli, resolve: settle });
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      void this.#check(id);
      this.#startPolling();
    });
  }

  /** Whether the job is still in Redis (waiting, running or ended, not yet recorded). */
  async exists(cli: string, id: string): Promise<boolean> {
    return (await this.#queue(cli).getJob(id)) !== undefined;
  }

  /** The job's end is recorded: it leaves Redis. A job a worker still holds stays (and fails on its own). */
  async forget(cli: string, id: string): Promise<void> {
    const job = await this.#queue(cli).getJob(id);
    await job?.remove().catch(() => undefined);
  }

  /** How many workers serve this CLI now. */
  async workers(cli: string): Promise<number> {
    return this.#queue(cli).getWorkersCount();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#poll);
    for (const waiter of this.#waiters.values()) waiter.resolve({ kind: 'aborted' });
    await Promise.all([...this.#events.values()].map((e) => e.close()));
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
  }

  #queue(cli: string): Queue<AttemptJobData, AttemptJobResult> {
    let queue = this.#queues.get(cli);
    if (!queue) {
      queue = new Queue(queueName(cli), {
        connection: connectionOptions(this.address),
        prefix: QUEUE_PREFIX,
      });
      // Redis away: the client reconnects by itself; commands wait meanwhile.
      queue.on('error', () => undefined);
      this.#queues.set(cli, queue);
    }
    return queue;
  }

  /** BullMQ's events for a CLI's queue: a job's end is known at once, not at the next poll. */
  #listen(cli: string): void {
    if (this.#events.has(cli) || this.#closed) return;
    const events = new QueueEvents(queueName(cli), {
      connection: connectionOptions(this.address),
      prefix: QUEUE_PREFIX,
    });
    events.on('error', () => undefined);
    events.on('completed', ({ jobId }) => void this.#check(jobId));
    events.on('failed', ({ jobId }) => void this.#check(jobId));
    events.on('stalled', ({ jobId }) => this.#lost(jobId));
    events.on('progress', ({ jobId, data }) => {
      if (this.#waiters.has(jobId) && isProgress(data)) this.options.onProgress?.(jobId, data);
    });
    this.#events.set(cli, events);
  }

  /**
   * Its worker stopped renewing its lock: BullMQ put the job back, marked to
   * fail when next taken (workers run with maxStalledCount 0). It is removed
   * if it can be, so no worker even starts it.
   */
  #lost(id: string): void {
    const waiter = this.#waiters.get(id);
    if (!waiter) return;
    void this.forget(waiter.cli, id);
    waiter.resolve({
      kind: 'lost',
      message: LOST,
    });
  }

  async #check(id: string): Promise<void> {
    const waiter = this.#waiters.get(id);
    if (!waiter) return;
    try {
      const queue = this.#queue(waiter.cli);
      // The state first, then the job: read the other way round, a job that
      // ended in between would be seen completed without its result.
      const state = await queue.getJobState(id);
      if (state === 'unknown') {
        waiter.resolve({
          kind: 'lost',
          message: 'its job is no longer in Redis (restarted without persistence?)',
        });
        return;
      }
      if (state !== 'completed' && state !== 'failed') return;
      const job = await queue.getJob(id);
      if (!job) return;
      if (state === 'completed') waiter.resolve({ kind: 'done', result: job.returnvalue });
      else {
        const reason = job.failedReason ?? 'no reason given';
        if (reason === STALLED) waiter.resolve({ kind: 'lost', message: LOST });
        else if (reason.startsWith(WORKER_STOPPED)) {
          waiter.resolve({ kind: 'lost', message: reason.slice(WORKER_STOPPED.length + 2) });
        } else waiter.resolve({ kind: 'failed', message: reason });
      }
    } catch {
      // Redis is away: the next poll looks again.
    }
  }

  #startPolling(): void {
    if (this.#poll || this.#closed) return;
    let busy = false;
    this.#poll = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        for (const id of [...this.#waiters.keys()]) await this.#check(id);
      } finally {
        busy = false;
      }
    }, this.options.pollMs ?? 2000);
    this.#poll.unref();
  }
}

function isProgress(data: unknown): data is JobProgress {
  return typeof data === 'object' && data !== null && 'kind' in data && 'worker' in data;
}
