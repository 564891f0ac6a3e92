/**
 * Queue mode end to end: a real redis-server, a bare git repository as the
 * remote, a coordinator (`bearing run --queue`) and three workers (`bearing
 * worker`), each its own process, with the fake agents. Stalls are detected
 * quickly because the workers run with a short lock (--lock-ms), not because
 * the tests sleep.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { which } from '../../src/process/which.js';
import {
  childrenOf,
  Project,
  type Running,
  tasksYaml,
  tempDir,
  trackGroupOf,
  useRig,
  waitFor,
} from '../e2e/rig.js';
import { type RedisServer, redisSkipReason, startRedis } from '../helpers/redis.js';

useRig();

let redis: RedisServer | undefined;
afterEach(async () => {
  await redis?.stop();
  redis = undefined;
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

/** The project with a bare clone of itself as `origin`. */
function addRemote(p: Project): string {
  const remote = join(tempDir('bearing-remote-'), 'remote.git');
  git(p.dir, 'clone', '-q', '--bare', p.dir, remote);
  git(p.dir, 'remote', 'add', 'origin', remote);
  return remote;
}

/**
 * A worker serving claude. `lockMs`: how soon its job is seen as stalled
 * once it stops renewing its lock; short only where a test kills a worker
 * (a loaded machine can delay a renewal by a second or two).
 */
function startWorker(
  p: Project,
  url: string,
  lockMs = 30_000,
  env: Record<string, string> = {},
): Running {
  const cache = tempDir('bearing-worker-');
  return p.start(
    ['worker', '--queue', url, '--cache', cache, '--lock-ms', String(lockMs), '--cli', 'claude'],
    { timeoutMs: 300_000, env },
  );
}

/** Subjects of the commits on main, oldest first, without the fixture's own. */
function landed(p: Project): string[] {
  return git(p.dir, 'log', '--reverse', '--format=%s', 'main')
    .split('\n')
    .filter((s) => s !== 'fixture');
}

/**
 * A DAG of `n` tasks in layers of five: each task after the first layer
 * depends on two of the layer before. Each writes its own file.
 */
function dag(n: number): { id: string; prompt: string; depends_on?: string[] }[] {
  const tasks: { id: string; prompt: string; depends_on?: string[] }[] = [];
  for (let i = 0; i < n; i++) {
    const id = `t${String(i).padStart(2, '0')}`;
    const layer = Math.floor(i / 5);
    const deps =
      layer === 0
        ? undefined
        : [
            `t${String((layer - 1) * 5 + (i % 5)).padStart(2, '0')}`,
            `t${String((layer - 1) * 5 + ((i + 1) % 5)).padStart(2, '0')}`,
          ];
    tasks.push({ id, prompt: `[[${id}]] write ${id}.txt`, ...(deps ? { depends_on: deps } : {}) });
  }
  return tasks;
}

async function dagProject(n: number, delayMs: number): Promise<Project> {
  const tasks = dag(n);
  return Project.create(
    { 'bearing/tasks/t.yaml': tasksYaml(tasks), '.gitignore': 'bearing/.state/\n' },
    {
      scenarios: tasks.map((t) => ({
        match: `[[${t.id}]]`,
        delayMs,
        summary: `Wrote ${t.id}.txt`,
        writeFiles: { [`${t.id}.txt`]: `${t.id}\n` },
      })),
    },
  );
}

/** Every task completed, its file on main, and exactly one commit of its own there. */
function expectAllLandedOnce(p: Project, n: number): void {
  const subjects = landed(p);
  for (const t of dag(n)) {
    expect(p.task(t.id).status, t.id).toBe('completed');
    expect(
      subjects.filter((s) => s.startsWith(`${t.id}:`)),
      t.id,
    ).toHaveLength(1);
    expect(readFileSync(p.path(`${t.id}.txt`), 'utf8')).toBe(`${t.id}\n`);
  }
  expect(subjects).toHaveLength(n);
}

const skip = redisSkipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== undefined)('queue mode', () => {
  it('a 30-task DAG run by three workers lands every task exactly once, in dependency order', async () => {
    redis = await startRedis();
    const p = await dagProject(30, 50);
    const remote = addRemote(p);
    const workers = [0, 1, 2].map(() => startWorker(p, redis!.url));
    await Promise.all(workers.map((w) => w.waitForOutput(/serving claude/, 60_000)));
    const run = await p.run(['run', '--queue', redis.url], { timeoutMs: 280_000 });
    expect(run.stderr + run.stdout).not.toMatch(/Error|failed/);
    expect(run.code).toBe(0);
    expectAllLandedOnce(p, 30);
    // A dependent's commit comes after both of its dependencies'.
    const order = landed(p).map((s) => s.split(':')[0]!);
    for (const t of dag(30)) {
      for (const d of t.depends_on ?? [])
        expect(order.indexOf(d)).toBeLessThan(order.indexOf(t.id));
    }
    // Every worker took part, and each attempt says which one ran it.
    const ranOn = new Set(
      dag(30).map((t) => p.task(t.id).attempts.at(-1)!.worktree!.queued!.worker),
    );
    expect(ranOn.size).toBe(3);
    // The logs came back with the results.
    expect(existsSync(join(p.attemptDir('t00', 1), 'stdout.log'))).toBe(true);
    // The attempts' branches are gone from the remote once their work landed.
    expect(git(remote, 'for-each-ref', 'refs/heads/bearing/')).toBe('');
  }, 300_000);

  it('kill -9 of a worker mid-task loses nothing: its attempt is recorded interrupted and runs again elsewhere', async () => {
    redis = await startRedis();
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'slow', prompt: '[[slow]] go' },
          { id: 'after', prompt: '[[after]] go', depends_on: ['slow'] },
        ]),
        '.gitignore': 'bearing/.state/\n',
      },
      {
        scenarios: [
          {
            match: '[[slow]]',
            attempts: [
              { hang: true },
              { summary: 'slow done', writeFiles: { 'slow.txt': 'slow\n' } },
            ],
          },
          { match: '[[after]]', summary: 'after done', writeFiles: { 'after.txt': 'after\n' } },
        ],
      },
    );
    addRemote(p);
    const first = startWorker(p, redis.url, 5000);
    await first.waitForOutput(/serving claude/, 60_000);
    const run = p.start(['run', '--queue', redis.url], { timeoutMs: 200_000 });
    await first.waitForOutput(/slow \(attempt 1\): started/, 120_000);
    // The fake is running on the first worker: kill it, and start another.
    await waitFor(() => p.callsFor('[[slow]]').length === 1, 'the agent to start', 60_000);
    // The agent outlives its worker (its own process group): ended after the test.
    for (const pid of childrenOf(first.pid)) trackGroupOf(pid);
    first.child.kill('SIGKILL');
    const second = startWorker(p, redis.url, 5000);
    await second.waitForOutput(/serving claude/, 60_000);
    const end = await run.done;
    expect(end.code).toBe(0);
    const slow = p.task('slow');
    expect(slow.status).toBe('completed');
    expect(slow.attempts.map((a) => a.outcome)).toEqual(['interrupted', 'completed']);
    expect(slow.attempts[0]!.failure?.reason).toBe('worker-lost');
    expect(landed(p).filter((s) => s.startsWith('slow:'))).toHaveLength(1);
    expect(p.task('after').status).toBe('completed');
  }, 240_000);

  it('kill -9 of the coordinator mid-run loses nothing: the next run takes the results that arrived meanwhile', async () => {
    redis = await startRedis();
    const p = await dagProject(10, 1500);
    addRemote(p);
    const workers = [0, 1, 2].map(() => startWorker(p, redis!.url));
    await Promise.all(workers.map((w) => w.waitForOutput(/serving claude/, 60_000)));
    const first = p.start(['run', '--queue', redis.url], { timeoutMs: 200_000 });
    // Some work is running on the workers; then the coordinator dies.
    await waitFor(() => p.calls().length >= 3, 'three agents to start', 60_000);
    first.child.kill('SIGKILL');
    await first.done;
    // The workers finish what they had; those results wait in Redis.
    await Promise.all(workers.map((w) => w.waitForOutput(/completed, pushed/, 60_000)));
    const second = await p.run(['run', '--queue', redis.url], { timeoutMs: 200_000 });
    expect(second.code).toBe(0);
    expectAllLandedOnce(p, 10);
    // Nothing ran twice: one agent call per task.
    for (const t of dag(10)) expect(p.callsFor(`[[${t.id}]]`), t.id).toHaveLength(1);
  }, 300_000);

  it('Redis restarts mid-run: the coordinator and the worker wait, reconnect and go on; nothing runs twice', async () => {
    redis = await startRedis({ persist: true });
    const p = await dagProject(6, 2500);
    addRemote(p);
    const worker = startWorker(p, redis.url);
    await worker.waitForOutput(/serving claude/, 60_000);
    const run = p.start(['run', '--queue', redis.url], { timeoutMs: 240_000 });
    await waitFor(() => p.callsFor('[[t00]]').length === 1, 'the first agent to start', 60_000);
    await redis.restart();
    const end = await run.done;
    expect(end.code).toBe(0);
    expectAllLandedOnce(p, 6);
    for (const t of dag(6)) expect(p.callsFor(`[[${t.id}]]`), t.id).toHaveLength(1);
  }, 300_000);

  it('a usage limit on one worker holds the CLI on that worker only: the job goes to another', async () => {
    redis = await startRedis();
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([{ id: 'limited', prompt: '[[limited]] go' }]),
        '.gitignore': 'bearing/.state/\n',
      },
      {
        scenarios: [
          {
            match: '[[limited]]',
            attempts: [
              { outcome: 'usage-limit', resetsAt: Math.floor(Date.now() / 1000) + 3600 },
              { summary: 'done elsewhere', writeFiles: { 'limited.txt': 'x\n' } },
            ],
          },
        ],
      },
    );
    addRemote(p);
    const first = startWorker(p, redis.url);
    await first.waitForOutput(/serving claude/, 60_000);
    const run = p.start(['run', '--queue', redis.url], { timeoutMs: 200_000 });
    await first.waitForOutput(/usage limit on this worker/, 120_000);
    // Only now another worker joins: the job waited for it, the first took it no more.
    const second = startWorker(p, redis.url);
    const end = await run.done;
    expect(end.code).toBe(0);
    const record = p.task('limited');
    expect(record.status).toBe('completed');
    // The limited try is not the task's attempt: one attempt, run by the second worker.
    expect(record.attempts).toHaveLength(1);
    expect(second.stderr()).toMatch(/limited \(attempt 1\): completed/);
    expect(end.stdout + end.stderr).toMatch(/hit a usage limit/);
    expect(end.stdout + end.stderr).not.toMatch(/waiting/i);
  }, 240_000);

  it('no worker has the CLI: the run says so, and the task waits for a worker that has it', async () => {
    redis = await startRedis();
    const p = await dagProject(1, 0);
    addRemote(p);
    const shellOnly = p.start(
      ['worker', '--queue', redis.url, '--cache', tempDir('bearing-worker-'), '--cli', 'shell'],
      { timeoutMs: 200_000 },
    );
    await shellOnly.waitForOutput(/serving shell/, 60_000);
    const run = p.start(['run', '--queue', redis.url], { timeoutMs: 200_000 });
    await run.waitForOutput(/no worker serves claude yet/, 120_000);
    expect(shellOnly.stderr()).not.toMatch(/t00/);
    startWorker(p, redis.url);
    const end = await run.done;
    expect(end.code).toBe(0);
    expectAllLandedOnce(p, 1);
  }, 240_000);

  it('a Redis with a password: the URL carries it to the client, and nothing Bearing prints shows it', async () => {
    redis = await startRedis({ password: 'not-to-be-printed' });
    const p = await dagProject(3, 0);
    addRemote(p);
    const worker = startWorker(p, redis.url);
    await worker.waitForOutput(/serving claude/, 60_000);
    const run = await p.run(['run', '--queue', redis.url], { timeoutMs: 120_000 });
    expect(run.code).toBe(0);
    expectAllLandedOnce(p, 3);
    expect(worker.stderr()).toContain(':***@127.0.0.1');
    for (const text of [run.stdout, run.stderr, worker.stderr(), p.statusMd()]) {
      expect(text).not.toContain('not-to-be-printed');
    }
    // Nothing of the environment travels: the job holds the prompt, not the coordinator's variables.
    expect(JSON.stringify(p.state())).not.toContain('not-to-be-printed');
  }, 180_000);

  // Its certificates are made by openssl, which .ci/run installs; elsewhere, without it, skipped.
  it.skipIf(!which('openssl', process.env) && !process.env.CI)(
    'a Redis reached over TLS only (rediss://), its certificate authority trusted through NODE_EXTRA_CA_CERTS',
    async () => {
      redis = await startRedis({ tls: true });
      expect(redis.url).toMatch(/^rediss:\/\/127\.0\.0\.1:\d+$/);
      const p = await dagProject(3, 0);
      addRemote(p);
      // Node's own way to trust a private CA: no flag of Bearing's, no certificate in the queue URL.
      const env = { NODE_EXTRA_CA_CERTS: redis.caFile! };
      const worker = startWorker(p, redis.url, 30_000, env);
      await worker.waitForOutput(/serving claude/, 60_000);
      const run = await p.run(['run', '--queue', redis.url], { timeoutMs: 120_000, env });
      expect(run.code).toBe(0);
      expectAllLandedOnce(p, 3);
    },
    180_000,
  );

  it("a worker's attempt shows its live progress and its worker at the coordinator, as a local one does", async () => {
    redis = await startRedis();
    const release = join(tempDir('bearing-release-'), 'go');
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([{ id: 'slow', prompt: '[[slow]]' }]),
        '.gitignore': 'bearing/.state/\n',
      },
      // Its Write tool call, then it waits for the test before its final message.
      {
        scenarios: [{ match: '[[slow]]', writeFiles: { 'slow.txt': 'x\n' }, releaseFile: release }],
      },
    );
    addRemote(p);
    const worker = startWorker(p, redis.url);
    await worker.waitForOutput(/serving claude/, 60_000);
    const run = p.start(['run', '--queue', redis.url], { timeoutMs: 120_000 });
    await waitFor(
      () => p.state().tasks.slow?.attempts.at(-1)?.progress?.tool !== undefined,
      "the worker's progress in the coordinator's state",
    );
    const status = JSON.parse((await p.run(['status', '--json'])).stdout);
    const slow = status.tasks.find((t: { id: string }) => t.id === 'slow');
    expect(slow.status).toBe('running');
    expect(slow.worker).toMatch(/:\d+$/);
    expect(slow.progress.tool).toEqual({ name: 'Write', target: 'slow.txt' });
    expect(slow.progress.tokens.input).toBeGreaterThan(0);
    writeFileSync(release, '');
    expect((await run.done).code).toBe(0);
    expect(p.task('slow').status).toBe('completed');
  }, 180_000);

  it('a queue URL that is not redis:// or rediss:// is refused before anything runs, exit 2', async () => {
    const p = await dagProject(1, 0);
    addRemote(p);
    const bad = await p.run(['run', '--queue', 'http://localhost:6379']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('http:// is not a Redis URL');
    const worker = await p.run(['worker', '--queue', 'localhost:6379']);
    expect(worker.code).toBe(2);
  }, 60_000);
});
