/**
 * Queue mode's workspace: worktree mode whose agents run on workers. The
 * coordinator keeps the plan, the state and the landing; an attempt's site
 * publishes the target's tip to the remote, puts the job on its CLI's queue,
 * waits for its end, fetches the branch the worker pushed and lands it
 * exactly as a local worktree's commit lands (WorktreeWorkspace.land):
 * one landing at a time, conflicts and blocked landings alike.
 */
import { writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { LiveProgress } from '../core/progress.js';
import { type AttemptRecord, type AttemptWorktree, ZERO_USAGE } from '../core/state.js';
import type { Task } from '../core/task.js';
import type { AgentJob, AgentRun } from '../run/agent-run.js';
import { attemptDir } from '../state/paths.js';
import { Queue } from '../workspace/repo.js';
import type { OpenRequest, Site } from '../workspace/workspace.js';
import { attemptBranch, WorktreeWorkspace } from '../workspace/worktrees.js';
import { AttemptQueue, type JobEnd } from './client.js';
import { parseQueueUrl, type QueueAddress } from './connection.js';
import { ATTEMPT_LOGS, type AttemptJobData, attemptJobId, type JobProgress } from './job.js';

export interface QueueSettings {
  address: QueueAddress;
  /** The git remote the workers fetch from and push to: its name here, and its URL as they reach it. */
  remote: { name: string; url: string };
  /** The project folder (attempt logs are written under it). */
  root: string;
  /** Something the person should know (no worker serves a CLI, a worker hit a limit). */
  note: (message: string) => void;
  /** How often awaited jobs' states are looked at besides BullMQ's events; tests shorten it. */
  pollMs?: number;
}

/**
 * Queue mode's workspace, from the worktree workspace the run chose: the
 * queue's URL must parse and the project must have the git remote the
 * workers will use.
 */
export async function openQueueWorkspace(
  from: WorktreeWorkspace,
  options: {
    url: string;
    remote: string;
    root: string;
    note: (m: string) => void;
    pollMs?: number;
  },
): Promise<{ ok: true; workspace: QueueWorkspace } | { ok: false; message: string }> {
  const address = parseQueueUrl(options.url);
  if (!address.ok) return { ok: false, message: `the queue: ${address.message}` };
  const url = await from.repo.git(['remote', 'get-url', options.remote]);
  if (url.code !== 0) {
    return {
      ok: false,
      message: `queue mode needs a git remote the workers can reach, and the repository has no remote "${options.remote}": \`git remote add ${options.remote} <url>\`, or set run.remote in config.yaml`,
    };
  }
  return {
    ok: true,
    workspace: new QueueWorkspace(from, {
      address: address.value,
      remote: {
        name: options.remote,
        url: remoteUrl(url.stdout.toString('utf8').trim(), from.repo.top),
      },
      root: options.root,
      note: options.note,
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    }),
  };
}

export class QueueWorkspace extends WorktreeWorkspace {
  readonly sessionsHere = false;
  protected override readonly prepareAhead = 0;
  readonly #settings: QueueSettings;
  readonly #queue: AttemptQueue;
  /** The worktree of each job this run waits for, to note which worker took it. */
  readonly #byJob = new Map<
    string,
    { wt: AttemptWorktree; onProgress: (progress: LiveProgress) => void }
  >();
  /** Pushes of the target's tip, one at a time. */
  readonly #publishing = new Queue();
  #published: string | undefined;
  /** Attempts' branches released this run, to delete on the remote when it ends. */
  readonly #pushedBranches = new Set<string>();
  /** CLIs whose workers were counted. */
  readonly #asked = new Set<string>();

  constructor(from: WorktreeWorkspace, settings: QueueSettings) {
    super(from.repo, from.dir, from.target, from.spares);
    this.#settings = settings;
    this.#queue = new AttemptQueue(settings.address, {
      ...(settings.pollMs !== undefined ? { pollMs: settings.pollMs } : {}),
      onProgress: (job, progress) => this.#progress(job, progress),
    });
  }

  #progress(job: string, progress: JobProgress): void {
    const waiting = this.#byJob.get(job);
    const wt = waiting?.wt;
    if (!wt?.queued) return;
    // Each update names its worker: one whose 'started' was missed is known at the next.
    if (progress.kind !== 'limited') wt.queued.worker = progress.worker;
    if (progress.kind === 'progress') waiting!.onProgress(progress.progress);
    else if (progress.kind === 'limited') {
      this.#settings.note(
        `${progress.worker} hit a usage limit (${progress.message}); it takes no more of these jobs until ${progress.until}, others go on`,
      );
    }
  }

  /** Where the target's tip is published for workers to fetch. */
  get baseRef(): string {
    return `refs/bearing/base/${this.target.branch}`;
  }

  override async open(request: OpenRequest): Promise<Site> {
    const { task, attempt } = request;
    const base = await this.#publishBase();
    const wt: AttemptWorktree = {
      // Never made here: named as a local worktree would be, so nothing else takes the name.
      path: join(this.dir, `${task.id}-${attempt}`),
      branch: attemptBranch(task.id, attempt),
      base,
      queued: { job: '', cli: task.cli },
    };
    return this.#site(task, wt, undefined);
  }

  /**
   * The site of an attempt a worker ran, or runs, while no coordinator was
   * there to wait for it: its job is waited for, not added again.
   */
  async rejoin(
    task: Task,
    attempt: AttemptRecord,
    signal: AbortSignal,
  ): Promise<{ site: Site; ran: AgentRun }> {
    const site = this.#site(task, attempt.worktree!, attempt);
    const job = { attempt: attempt.attempt, token: attempt.process?.token ?? '' };
    // Saved with the run's next save.
    const ran = await site.runAgent!(job as AgentJob, signal, (progress) => {
      attempt.progress = progress;
    });
    return { site, ran };
  }

  /** Whether the job of a running attempt is still in Redis, so a new coordinator can rejoin it. */
  async canRejoin(task: Task, attempt: AttemptRecord): Promise<boolean> {
    const job = attempt.worktree?.queued?.job || jobOf(task, attempt);
    return this.#queue.exists(task.cli, job).catch(() => false);
  }

  /** Attempts' branches go here and on the remote, and their ended jobs leave Redis. */
  override async release(
    worktrees: readonly { path: string; branch?: string; queued?: AttemptWorktree['queued'] }[],
  ): Promise<void> {
    const local = worktrees.filter((w) => !w.queued);
    if (local.length > 0) await super.release(local);
    const remote = worktrees.filter((w) => w.queued);
    for (const wt of remote) {
      if (wt.branch) await this.removeBranch(wt.branch);
    }
    // Deleted on the remote when the run ends, in one push rather than one per task.
    for (const wt of remote) if (wt.branch) this.#pushedBranches.add(wt.branch);
    for (const { queued } of remote) {
      if (queued?.job) await this.#queue.forget(queued.cli, queued.job).catch(() => undefined);
    }
  }

  override async close(): Promise<void> {
    await super.close();
    await this.#queue.close();
    const branches = [...this.#pushedBranches].map((b) => `:refs/heads/${b}`);
    // Best effort: a branch the worker never pushed is not there to delete.
    if (branches.length > 0)
      await this.repo.git(['push', '-q', this.#settings.remote.name, ...branches]);
  }

  /**
   * The target's tip, pushed to the remote under `baseRef` for workers to
   * fetch. The target only moves forward, so every earlier tip is an
   * ancestor of the ref: a job started from one is never left unfetchable.
   */
  #publishBase(): Promise<string> {
    return this.#publishing.run(async () => {
      const tip = await this.repo.resolve(`refs/heads/${this.target.branch}`);
      if (!tip) throw new Error(`the branch ${this.target.branch} no longer exists`);
      if (tip !== this.#published) {
        await this.repo.ok(['push', '-q', this.#settings.remote.name, `+${tip}:${this.baseRef}`]);
        this.#published = tip;
      }
      return tip;
    });
  }

  #site(task: Task, wt: AttemptWorktree, rejoined: AttemptRecord | undefined): Site {
    /** The commit the worker pushed, once fetched. */
    let pushed: string | undefined;
    return {
      cwd: this.repo.top,
      worktree: wt,
      runAgent: async (job, signal, onProgress) => {
        const ran = await this.#runRemote(task, wt, job, rejoined, signal, onProgress);
        pushed = ran.commit;
        return ran.run;
      },
      keep: async () => {
        if (!pushed) return { files: [] };
        const files = await this.repo.filesBetween(wt.base, pushed);
        return { files: files.map((f) => this.repo.projectPath(f)).sort(), commit: pushed };
      },
      land: (message, onIntent) => {
        if (pushed) wt.commit = pushed;
        return this.land(wt, message, onIntent);
      },
    };
  }

  async #runRemote(
    task: Task,
    wt: AttemptWorktree,
    job: AgentJob,
    rejoined: AttemptRecord | undefined,
    signal: AbortSignal,
    onProgress: (progress: LiveProgress) => void,
  ): Promise<{ run: AgentRun; commit?: string }> {
    const queue = this.#queue;
    const id =
      wt.queued?.job || jobOf(task, { attempt: job.attempt, process: { token: job.token } });
    wt.queued = { ...wt.queued, job: id, cli: task.cli };
    this.#byJob.set(id, { wt, onProgress });
    if (!rejoined) {
      await this.#sayIfUnserved(task.cli);
      const data: AttemptJobData = {
        version: 1,
        agent: job,
        remote: this.#settings.remote.url,
        baseRef: this.baseRef,
        base: wt.base,
        branch: wt.branch,
        prefix: this.repo.prefix,
      };
      await queue.add(task.cli, id, data);
    }
    const end = await queue.wait(task.cli, id, signal);
    this.#byJob.delete(id);
    // Not taken by a worker yet: no worker starts it now. (One a worker runs stays, and is not taken.)
    if (end.kind === 'aborted') await queue.forget(task.cli, id).catch(() => undefined);
    return this.#ended(task, wt, job.attempt, end);
  }

  async #ended(
    task: Task,
    wt: AttemptWorktree,
    attempt: number,
    end: JobEnd,
  ): Promise<{ run: AgentRun; commit?: string }> {
    const failed = (failure: AgentRun['result']['failure']): { run: AgentRun } => ({
      run: {
        result: {
          status: 'failed',
          summary: '',
          usage: ZERO_USAGE,
          ...(failure ? { failure } : {}),
        },
        durationMs: 0,
        notes: [],
      },
    });
    switch (end.kind) {
      case 'aborted':
        return failed({
          reason: 'interrupted',
          message:
            'the run stopped before the worker reported; what the worker does now is not taken',
        });
      case 'lost':
        return failed({
          reason: 'worker-lost',
          ...(wt.queued?.worker ? { worker: wt.queued.worker } : {}),
          message: end.message,
        });
      case 'failed':
        return failed({ reason: 'spawn-error', command: 'bearing worker', message: end.message });
      case 'done':
        break;
    }
    const { result } = end;
    if (wt.queued) wt.queued.worker = result.worker;
    const dir = attemptDir(this.#settings.root, task.id, attempt);
    for (const log of ATTEMPT_LOGS) {
      const content = result.logs[log];
      if (content !== undefined) writeFileSync(join(dir, log), Buffer.from(content, 'base64'));
    }
    const run: AgentRun = {
      ...result.run,
      notes: [...result.run.notes, `ran on the worker ${result.worker}`],
    };
    if (!result.commit) return { run };
    // The worker's branch, here too: to land from, or for a person to resolve a conflict on.
    await this.repo.exclusive('worktrees', () =>
      this.repo.ok([
        'fetch',
        '-q',
        '--no-tags',
        this.#settings.remote.name,
        `+refs/heads/${wt.branch}:refs/heads/${wt.branch}`,
      ]),
    );
    const fetched = await this.repo.resolve(`refs/heads/${wt.branch}`);
    if (fetched !== result.commit) {
      throw new Error(
        `${wt.branch} on ${this.#settings.remote.name} is ${fetched ?? 'missing'}, not the ${result.commit} the worker pushed`,
      );
    }
    return { run, commit: result.commit };
  }

  async #sayIfUnserved(cli: string): Promise<void> {
    // Asked once per CLI and run (it lists Redis's clients): the first job of each is enough.
    if (this.#asked.has(cli)) return;
    this.#asked.add(cli);
    const workers = await this.#queue.workers(cli).catch(() => undefined);
    if (workers !== 0) return;
    this.#settings.note(
      `no worker serves ${cli} yet: its tasks wait in the queue until one does (\`bearing worker --queue ${this.#queue.address.shown}\` on a machine with ${cli})`,
    );
  }
}

/**
 * The remote's URL as a worker elsewhere reads it: a relative path (to a
 * shared folder, say) is made absolute, as the worker's folder is not this one.
 */
function remoteUrl(url: string, top: string): string {
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(url);
  const isScp = /^[^/]+:/.test(url);
  return isUrl || isScp || isAbsolute(url) ? url : resolve(top, url);
}

function jobOf(task: Task, attempt: Pick<AttemptRecord, 'attempt' | 'process'>): string {
  return attemptJobId(task.id, attempt.attempt, attempt.process?.token ?? '');
}
