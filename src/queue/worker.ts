/**
 * `bearing worker`: runs attempts that a coordinator (`bearing run --queue`)
 * put on the queue. For each job: fetch the project from its git remote into
 * this worker's cache, make a worktree at the job's base commit, run the
 * agent there exactly as a local attempt runs (run/agent-run.ts), commit
 * what it left as one commit on the base, push it to the attempt's branch,
 * and hand back the result with the raw logs.
 *
 * One BullMQ worker per CLI this machine has, each consuming that CLI's
 * queue: a job only ever reaches a machine that can run it. A usage limit
 * pauses that one consumer here until the limit resets, and gives the job
 * back for another machine; nothing else is held.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type Job, WaitingError, Worker } from 'bullmq';
import type { AgentRunResult } from '../agents/types.js';
import type { LiveProgress } from '../core/progress.js';
import { gitOk } from '../process/git.js';
import { which } from '../process/which.js';
import { type AgentRun, runAgent } from '../run/agent-run.js';
import { ProgressSaver } from '../run/progress-saver.js';
import { GitRepo } from '../workspace/repo.js';
import { landingMessage } from '../workspace/worktrees.js';
import { connectionOptions, QUEUE_PREFIX, type QueueAddress } from './connection.js';
import {
  ATTEMPT_LOGS,
  type AttemptJobData,
  type AttemptJobResult,
  type JobProgress,
  queueName,
  WORKER_STOPPED,
} from './job.js';

/** The CLIs a worker serves when not told: these, when their command is on PATH. */
const BUILT_IN_CLIS = ['claude', 'codex', 'shell'] as const;
const COMMAND_OF: Record<string, string> = { claude: 'claude', codex: 'codex', shell: 'sh' };

/** How long a CLI is held on this worker after a limit with no reset time. */
const LIMIT_BACKOFF_MS = 5 * 60 * 1000;

export interface WorkerOptions {
  address: QueueAddress;
  /** Agents at once, per CLI. */
  concurrency: number;
  /** The CLIs to serve; by default those of claude, codex and shell found on PATH. */
  clis?: string[];
  /** Where projects are cloned and attempts' worktrees made. */
  cacheDir: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /**
   * How long a job's lock lasts without renewal: a worker that stops (kill
   * -9, a lost machine) has its job seen as stalled after about this long.
   */
  lockMs?: number;
  log: (line: string) => void;
}

/** The CLIs this machine can serve, from the list given or by looking on PATH. */
export function availableClis(env: NodeJS.ProcessEnv, given?: readonly string[]): string[] {
  if (given && given.length > 0) return [...new Set(given)];
  return BUILT_IN_CLIS.filter((cli) => which(COMMAND_OF[cli]!, env) !== undefined);
}

export async function runWorker(options: WorkerOptions): Promise<void> {
  const clis = availableClis(options.env, options.clis);
  if (clis.length === 0) {
    throw new Error('no agent CLI found on PATH (claude, codex, sh): nothing to serve');
  }
  const name = `${hostname()}:${process.pid}`;
  const cache = new ProjectCache(options.cacheDir);
  const lockMs = options.lockMs ?? 30_000;
  const workers: Worker[] = [];
  for (const cli of clis) {
    const worker: Worker<AttemptJobData, AttemptJobResult> = new Worker(
      queueName(cli),
      (job, token, signal) => runJob(job, { worker, token, signal, name, cache, options, cli }),
      {
        connection: connectionOptions(options.address),
        prefix: QUEUE_PREFIX,
        name,
        concurrency: options.concurrency,
        lockDuration: lockMs,
        stalledInterval: lockMs,
        // A stalled job is not run again behind the coordinator's back: it
        // fails, the coordinator records the attempt interrupted and queues
        // the task again, as a new attempt with its own job.
        maxStalledCount: 0,
        // Ended jobs are kept (BullMQ's default) until the coordinator has
        // recorded them; it removes them then.
      },
    );
    worker.on('error', (error) => options.log(`worker: ${cli}: ${error.message}`));
    workers.push(worker);
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  options.log(
    `bearing worker ${name}: serving ${clis.join(', ')} from ${options.address.shown}, ${options.concurrency} at a time each`,
  );
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    else options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  options.log('bearing worker: stopping; running attempts are ended and given back');
  for (const w of workers) w.cancelAllJobs('the worker is stopping');
  await Promise.all(workers.map((w) => w.close()));
}

interface JobContext {
  worker: Worker<AttemptJobData, AttemptJobResult>;
  token: string | undefined;
  signal: AbortSignal | undefined;
  name: string;
  cache: ProjectCache;
  options: WorkerOptions;
  cli: string;
}

async function runJob(
  job: Job<AttemptJobData, AttemptJobResult>,
  ctx: JobContext,
): Promise<AttemptJobResult> {
  const data = job.data;
  if (data.version !== 1) {
    throw new Error(`job format ${String(data.version)} is not one this bearing reads: update it`);
  }
  const { agent } = data;
  const { options, name } = ctx;
  const signal = ctx.signal ?? new AbortController().signal;
  await job.updateProgress({ kind: 'started', worker: name } satisfies JobProgress);
  options.log(`${agent.task.id} (attempt ${agent.attempt}): started`);

  const repo = await ctx.cache.project(data.remote);
  const base = await ctx.cache.fetchBase(repo, data);
  const slot = `${agent.task.id}-${agent.attempt}-${agent.token.slice(0, 8)}`;
  const path = join(ctx.cache.worktreesDir(repo), slot);
  const dir = join(ctx.cache.logsDir(repo), slot);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'prompt.txt'), agent.prompt);
  await repo.exclusive('worktrees', async () => {
    if (existsSync(path)) rmSync(path, { recursive: true, force: true });
    await repo.git(['worktree', 'prune']);
    await repo.ok(['worktree', 'add', '--detach', path, base]);
  });
  try {
    const cwd = join(path, data.prefix);
    mkdirSync(cwd, { recursive: true });
    // The coordinator shows the agent's progress as for a local attempt: the
    // latest, at most once a second (each is a write to Redis).
    let latest: LiveProgress | undefined;
    const relay = new ProgressSaver(() => {
      const progress = latest;
      if (!progress) return;
      job
        .updateProgress({ kind: 'progress', worker: name, progress } satisfies JobProgress)
        .catch(() => undefined);
    });
    const run = await runAgent(agent, {
      cwd,
      dir,
      env: options.env,
      signal,
      abortMessage: () => `the worker ${name} stopped the attempt`,
      onProgress: (progress) => {
        latest = progress;
        relay.onEvent({ type: 'progress', id: agent.task.id, attempt: agent.attempt, progress });
      },
    }).finally(() => relay.close());
    if (run.result.failure?.reason === 'rate-limited' && ctx.token) {
      await giveBack(job, ctx, run.result);
    }
    if (signal.aborted) {
      // The worker is stopping (Ctrl-C, SIGTERM): the attempt was cut short
      // by this machine, not by the task; the coordinator runs it again.
      throw new Error(`${WORKER_STOPPED}: the worker ${name} was stopped during the attempt`);
    }
    const message = landingMessage(agent.task.id, agent.attempt, run.result.summary);
    const commit = await commitWork(repo, path, base, message);
    if (commit) {
      await repo.ok(['push', '-q', data.remote, `+${commit}:refs/heads/${data.branch}`]);
    }
    options.log(
      `${agent.task.id} (attempt ${agent.attempt}): ${describeRun(run)}${commit ? `, pushed ${data.branch}` : ''}`,
    );
    return { worker: name, run, ...(commit ? { commit } : {}), logs: readLogs(dir) };
  } finally {
    rmSync(path, { recursive: true, force: true });
    await repo.exclusive('worktrees', () => repo.git(['worktree', 'prune']));
  }
}

/**
 * The CLI is out of its usage on this machine: stop taking its jobs here
 * until the limit resets, and put this one back for another worker. The
 * agent's run is not reported; the task runs from the start elsewhere.
 */
async function giveBack(
  job: Job<AttemptJobData, AttemptJobResult>,
  ctx: JobContext,
  result: AgentRunResult,
): Promise<never> {
  const f = result.failure as Extract<AgentRunResult['failure'], { reason: 'rate-limited' }>;
  const reset = f.resetsAt ? Date.parse(f.resetsAt) : Number.NaN;
  const until = Number.isFinite(reset)
    ? Math.max(reset, Date.now())
    : Date.now() + LIMIT_BACKOFF_MS;
  await ctx.worker.pause(true);
  const timer = setTimeout(() => ctx.worker.resume(), until - Date.now());
  timer.unref();
  const at = new Date(until).toISOString();
  ctx.options.log(`${ctx.cli}: usage limit on this worker; taking no ${ctx.cli} jobs until ${at}`);
  await job.updateProgress({
    kind: 'limited',
    worker: ctx.name,
    until: at,
    message: f.message,
  } satisfies JobProgress);
  await job.moveToWait(ctx.token);
  throw new WaitingError();
}

/** Everything the attempt left, as one commit on the base; undefined when it changed nothing. */
async function commitWork(
  repo: GitRepo,
  path: string,
  base: string,
  message: string,
): Promise<string | undefined> {
  await repo.ok(['add', '-A'], path);
  const tree = await repo.ok(['write-tree'], path);
  if (tree === (await repo.ok(['rev-parse', `${base}^{tree}`], path))) return undefined;
  return repo.ok(['commit-tree', tree, '-p', base, '-F', '-'], path, message);
}

function readLogs(dir: string): AttemptJobResult['logs'] {
  const logs: AttemptJobResult['logs'] = {};
  for (const log of ATTEMPT_LOGS) {
    const file = join(dir, log);
    if (existsSync(file)) logs[log] = readFileSync(file).toString('base64');
  }
  return logs;
}

function describeRun(run: AgentRun): string {
  return run.result.status === 'completed' ? 'completed' : `failed (${run.result.failure?.reason})`;
}

/**
 * The projects this worker has cloned, one plain repository each (nothing
 * checked out in it; attempts get worktrees), named after the remote's URL.
 */
class ProjectCache {
  readonly #repos = new Map<string, Promise<GitRepo>>();

  constructor(readonly dir: string) {}

  project(remote: string): Promise<GitRepo> {
    let repo = this.#repos.get(remote);
    if (!repo) {
      repo = this.#open(remote);
      this.#repos.set(remote, repo);
      repo.catch(() => this.#repos.delete(remote));
    }
    return repo;
  }

  worktreesDir(repo: GitRepo): string {
    return join(repo.top, '.bearing-worktrees');
  }

  logsDir(repo: GitRepo): string {
    return join(repo.top, '.bearing-logs');
  }

  async #open(remote: string): Promise<GitRepo> {
    const dir = join(this.dir, cacheName(remote));
    if (!existsSync(join(dir, '.git'))) {
      mkdirSync(dir, { recursive: true });
      await gitOk(dir, ['init', '-q']);
    }
    const repo = await GitRepo.open(dir);
    if (!repo) throw new Error(`${dir} is not a git repository`);
    // The cache's own folders never show as work to commit.
    writeFileSync(join(dir, '.git', 'info', 'exclude'), '.bearing-worktrees/\n.bearing-logs/\n');
    return repo;
  }

  /** The job's base commit, fetched from the remote unless this cache has it already. */
  async fetchBase(repo: GitRepo, data: AttemptJobData): Promise<string> {
    const have = async () =>
      (await repo.git(['cat-file', '-e', `${data.base}^{commit}`])).code === 0;
    if (await have()) return data.base;
    await repo.exclusive('landing', async () => {
      if (await have()) return;
      const r = await repo.git([
        'fetch',
        '-q',
        '--no-tags',
        data.remote,
        `+${data.baseRef}:${data.baseRef}`,
      ]);
      if (r.code !== 0)
        throw new Error(`git fetch ${data.remote} ${data.baseRef} failed: ${oneLine(r.stderr)}`);
    });
    if (!(await have())) {
      throw new Error(
        `${data.remote} has no commit ${data.base} under ${data.baseRef}: was the branch rewound?`,
      );
    }
    return data.base;
  }
}

/** Git's message on one line: the failure is one line wherever it is shown. */
function oneLine(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' | ');
}

/** A folder name for a remote: readable, and unique per URL. */
function cacheName(remote: string): string {
  const readable = remote
    .replace(/\.git$/, '')
    .split(/[/:]/)
    .filter(Boolean)
    .slice(-2)
    .join('-')
    .replace(/[^A-Za-z0-9._-]/g, '_');
  const hash = createHash('sha256').update(remote).digest('hex').slice(0, 12);
  return `${readable || 'project'}-${hash}`;
}
