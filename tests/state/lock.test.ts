import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  acquireRunLock,
  hostLockName,
  type LockInfo,
  readLock,
  realProbe,
} from '../../src/state/lock.js';
import { lockFile, stateDir } from '../../src/state/paths.js';
import { bundle, deadPid, nodeChild, useTempDirs, waitFor } from './support.js';

const tempDir = useTempDirs();
let lockModule = '';

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bearing-bundle-'));
  lockModule = (await bundle(dir, { lock: 'src/state/lock.ts' })).lock!;
  return () => rmSync(dir, { recursive: true, force: true });
});

function writeLock(project: string, info: Partial<LockInfo>): void {
  mkdirSync(stateDir(project), { recursive: true });
  const full: LockInfo = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: '2026-01-01T00:00:00.000Z',
    token: 'planted',
    ...info,
  };
  writeFileSync(lockFile(project), JSON.stringify(full));
}

function lockOnDisk(project: string): LockInfo {
  return JSON.parse(readFileSync(lockFile(project), 'utf8')) as LockInfo;
}

/**
 * A child process that waits until `startAt` (epoch ms), tries to take the
 * lock (`run`: acquireRunLock, `file`: acquireRunLock without the host lock),
 * prints the outcome, and keeps whatever it got until its stdin closes. Lines
 * on stdin drive it: `ensure` prints what lock.ensure() says, `release`
 * releases. `keeper` (ms) is the lock's keeper interval; 0 turns it off.
 */
const CONTENDER = `
import { acquireRunLock } from ${JSON.stringify('MODULE')};
const [project, startAt, mode, keeper] = process.argv.slice(1);
while (Date.now() < Number(startAt)) {}
const r = await acquireRunLock(project, { hostLock: mode === 'run', keeperIntervalMs: Number(keeper) });
process.stdout.write(JSON.stringify(r.ok ? { ok: true, pid: process.pid } : { ok: false, reason: r.error.reason, pid: r.error.pid, message: r.error.message }) + '\\n');
let buf = '';
process.stdin.setEncoding('utf8').on('data', (d) => {
  buf += d;
  for (let i = buf.indexOf('\\n'); i >= 0; i = buf.indexOf('\\n')) {
    const cmd = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (cmd === 'ensure') process.stdout.write(JSON.stringify({ ensure: r.value.ensure() }) + '\\n');
    if (cmd === 'release') process.stdout.write(JSON.stringify({ released: r.value.release() }) + '\\n');
  }
});
process.stdin.on('end', () => process.exit(0));
`;

type Mode = 'run' | 'file';
/** The host lock exists on Linux only; elsewhere `run` is the file lock alone. */
const MODES: Mode[] = process.platform === 'linux' ? ['run', 'file'] : ['file'];

function contender(project: string, startAt: number, mode: Mode = 'run', keeperMs = 500) {
  return nodeChild(CONTENDER.replace('MODULE', lockModule), [
    project,
    String(startAt),
    mode,
    String(keeperMs),
  ]);
}

interface Outcome {
  ok: boolean;
  pid?: number;
  reason?: string;
  message?: string;
}

/** Start a contender and wait for its outcome line. */
async function tryInChild(project: string, mode: Mode = 'run', keeperMs = 500) {
  const c = contender(project, 0, mode, keeperMs);
  await waitFor(() => c.lines.length > 0);
  return { ...c, outcome: JSON.parse(c.lines[0]!) as Outcome };
}

/** Send a command to a contender and wait for its answer line. */
async function command(
  c: ReturnType<typeof contender>,
  cmd: 'ensure' | 'release',
): Promise<Record<string, unknown>> {
  const before = c.lines.length;
  c.child.stdin!.write(`${cmd}\n`);
  await waitFor(() => c.lines.length > before);
  return JSON.parse(c.lines[before]!) as Record<string, unknown>;
}

describe('the file lock (acquireRunLock without the host lock)', () => {
  it('creates the lock with pid, host, start times, and release removes it', async () => {
    const project = tempDir();
    const lock = await acquireRunLock(project, {
      hostLock: false,
      now: () => new Date('2026-03-04T05:06:07.000Z'),
    });
    if (!lock.ok) throw new Error(lock.error.message);
    const info = lockOnDisk(project);
    expect(info).toMatchObject({
      pid: process.pid,
      hostname: hostname(),
      startedAt: '2026-03-04T05:06:07.000Z',
    });
    if (process.platform === 'linux') {
      expect(info.processStart).toBe(realProbe.processStart(process.pid));
      expect(info.processStart).toMatch(/^\d+$/);
    }
    expect(readLock(project)).toMatchObject({ state: 'held', sameHost: true });
    expect(lock.value.release()).toBe(true);
    expect(existsSync(lockFile(project))).toBe(false);
    expect(lock.value.release()).toBe(false);
    expect(readLock(project)).toEqual({ state: 'free' });
    expect(readdirSync(stateDir(project))).toEqual([]);
  });

  it('refuses while a live process holds it, and takes it over once that process is killed', async () => {
    const project = tempDir();
    const holder = contender(project, 0);
    await waitFor(() => holder.lines.length > 0);
    expect(JSON.parse(holder.lines[0]!)).toEqual({ ok: true, pid: holder.child.pid });

    const refused = await acquireRunLock(project, { hostLock: false });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error).toMatchObject({
      reason: 'held',
      pid: holder.child.pid,
      hostname: hostname(),
      sameHost: true,
    });
    expect(refused.error.message).toContain(`pid ${holder.child.pid}`);
    expect(readLock(project)).toMatchObject({ state: 'held', holder: { pid: holder.child.pid } });

    holder.child.kill('SIGKILL');
    await holder.exited;
    expect(readLock(project)).toMatchObject({ state: 'stale', holder: { pid: holder.child.pid } });
    const taken = await acquireRunLock(project, { hostLock: false });
    expect(taken.ok).toBe(true);
    expect(lockOnDisk(project).pid).toBe(process.pid);
    if (taken.ok) taken.value.release();
  });

  it('takes over a lock whose process is gone', async () => {
    const project = tempDir();
    const pid = await deadPid();
    writeLock(project, { pid });
    const lock = await acquireRunLock(project, { hostLock: false });
    expect(lock.ok).toBe(true);
    expect(lockOnDisk(project).pid).toBe(process.pid);
    expect(readdirSync(stateDir(project))).toEqual(['lock']);
  });

  it.runIf(process.platform === 'linux')(
    'takes over a lock whose pid now belongs to another process (different start time)',
    async () => {
      const project = tempDir();
      writeLock(project, { pid: process.pid, processStart: '1' });
      expect(readLock(project)).toMatchObject({
        state: 'stale',
        why: expect.stringMatching(/another process/),
      });
      const lock = await acquireRunLock(project, { hostLock: false });
      expect(lock.ok).toBe(true);
      expect(lockOnDisk(project).token).not.toBe('planted');
    },
  );

  it('treats a lock from another host as held and says so', async () => {
    const project = tempDir();
    writeLock(project, { hostname: 'build-box-7', pid: 4242 });
    const lock = await acquireRunLock(project, { hostLock: false });
    expect(lock.ok).toBe(false);
    if (lock.ok) return;
    expect(lock.error).toMatchObject({ reason: 'held', sameHost: false, hostname: 'build-box-7' });
    expect(lock.error.message).toMatch(
      /host "build-box-7".*cannot check processes on another machine/,
    );
    expect(lockOnDisk(project).hostname).toBe('build-box-7');
  });

  it('takes over a damaged lock file only once it is old', async () => {
    const project = tempDir();
    mkdirSync(stateDir(project), { recursive: true });
    writeFileSync(lockFile(project), '{"pid": 12');
    expect(readLock(project)).toMatchObject({ state: 'unknown' });
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile(project), old, old);
    expect(readLock(project)).toMatchObject({ state: 'stale' });
    expect((await acquireRunLock(project, { hostLock: false })).ok).toBe(true);
  });

  it("judges a damaged lock file's age by the lock's clock", async () => {
    const project = tempDir();
    mkdirSync(stateDir(project), { recursive: true });
    writeFileSync(lockFile(project), '{"pid": 12');
    // An hour old by its clock, past a grace of ten minutes: taken over at once.
    // (Judged by the wall clock it is new, and the lock would wait those ten minutes.)
    const taken = await acquireRunLock(project, {
      hostLock: false,
      unreadableGraceMs: 600_000,
      now: () => new Date(Date.now() + 3_600_000),
    });
    expect(taken.ok).toBe(true);
    if (taken.ok) taken.value.release();
  });

  it('release leaves a lock that is no longer ours', async () => {
    const project = tempDir();
    const lock = await acquireRunLock(project, { hostLock: false });
    if (!lock.ok) throw new Error(lock.error.message);
    writeLock(project, { pid: 999_999, token: 'someone-else' });
    expect(lock.value.release()).toBe(false);
    expect(lockOnDisk(project).token).toBe('someone-else');
  });

  it('reports a project it cannot write as a value, not a throw', async () => {
    const project = tempDir();
    writeFileSync(join(project, 'bearing'), 'a file where the directory should be');
    const lock = await acquireRunLock(project, { hostLock: false });
    expect(lock.ok).toBe(false);
    if (!lock.ok) expect(lock.error).toMatchObject({ reason: 'io' });
  });

  it.each(MODES)(
    'lets exactly one of several processes racing for a stale lock win (%s)',
    async (mode) => {
      // A naive takeover (unlink the stale lock, then create) lets two of them win in most rounds.
      for (let round = 0; round < 5; round++) {
        const project = tempDir();
        writeLock(project, { pid: await deadPid(), token: `stale-${round}` });
        const startAt = Date.now() + 700;
        const racers = Array.from({ length: 8 }, () => contender(project, startAt, mode));
        await waitFor(() => racers.every((r) => r.lines.length > 0), 20_000);
        const results = racers.map((r) => JSON.parse(r.lines[0]!) as Outcome);
        const winners = results.filter((r) => r.ok);
        expect(winners).toHaveLength(1);
        const winnerPid = winners[0]!.pid;
        expect(lockOnDisk(project).pid).toBe(winnerPid);
        for (const loser of results.filter((r) => !r.ok)) {
          expect(loser).toMatchObject({ ok: false, reason: 'held', pid: winnerPid });
        }
        for (const r of racers) r.child.stdin!.end();
        await Promise.all(racers.map((r) => r.exited));
        // No claim or temp files are left behind.
        expect(readdirSync(stateDir(project))).toEqual(['lock']);
      }
    },
  );
});

describe('lock.ensure and the keeper', () => {
  it.each(MODES)(
    'ensure: ok while the file is ours, recreated (same content) when it or .state is gone, lost when another lock is there (%s)',
    async (mode) => {
      const project = tempDir();
      const lock = await acquireRunLock(project, { hostLock: mode === 'run', keeperIntervalMs: 0 });
      if (!lock.ok) throw new Error(lock.error.message);
      try {
        const original = readFileSync(lockFile(project), 'utf8');
        expect(lock.value.ensure()).toBe('ok');
        rmSync(lockFile(project));
        expect(lock.value.ensure()).toBe('recreated');
        expect(readFileSync(lockFile(project), 'utf8')).toBe(original);
        rmSync(stateDir(project), { recursive: true });
        expect(lock.value.ensure()).toBe('recreated');
        expect(readFileSync(lockFile(project), 'utf8')).toBe(original);
        expect(readdirSync(stateDir(project))).toEqual(['lock']);
        expect(lock.value.ensure()).toBe('ok');
        writeLock(project, { pid: 4242, token: 'someone-else' });
        expect(lock.value.ensure()).toBe('lost');
        expect(lockOnDisk(project).token).toBe('someone-else');
      } finally {
        lock.value.release();
      }
    },
  );

  it.runIf(process.platform === 'linux')(
    'deleting .state while a run holds the lock: the file is back within a second, and another process is refused while it is missing and after',
    async () => {
      const project = tempDir();
      // The holder runs without its keeper first, so the file stays missing as long as the test needs.
      const holder = await tryInChild(project, 'run', 0);
      expect(holder.outcome).toEqual({ ok: true, pid: holder.child.pid });
      rmSync(stateDir(project), { recursive: true });

      const whileMissing = await tryInChild(project);
      expect(whileMissing.outcome).toMatchObject({ ok: false, reason: 'held' });
      expect(whileMissing.outcome.message).toMatch(
        /^another bearing run is active in this project, though its lock file .*\/bearing\/\.state\/lock is missing/,
      );
      expect(existsSync(lockFile(project))).toBe(false);

      expect(await command(holder, 'ensure')).toEqual({
        ensure: 'recreated',
      });
      const afterBack = await tryInChild(project);
      expect(afterBack.outcome).toMatchObject({ ok: false, reason: 'held', pid: holder.child.pid });
      expect(afterBack.outcome.message).toContain(`pid ${holder.child.pid}`);
      expect(await command(holder, 'release')).toEqual({ released: true });
      const free = await tryInChild(project);
      expect(free.outcome).toEqual({ ok: true, pid: free.child.pid });
    },
  );

  it('the keeper puts a deleted lock file back within a second, until release', async () => {
    const project = tempDir();
    const holder = await tryInChild(project);
    expect(holder.outcome.ok).toBe(true);
    const content = readFileSync(lockFile(project), 'utf8');
    rmSync(stateDir(project), { recursive: true });
    const deletedAt = Date.now();
    await waitFor(() => existsSync(lockFile(project)), 5000);
    expect(Date.now() - deletedAt).toBeLessThan(2000);
    expect(readFileSync(lockFile(project), 'utf8')).toBe(content);
    expect(readLock(project)).toMatchObject({ state: 'held', holder: { pid: holder.child.pid } });

    expect(await command(holder, 'release')).toEqual({ released: true });
    expect(existsSync(lockFile(project))).toBe(false);
    await new Promise((r) => setTimeout(r, 1200));
    expect(existsSync(lockFile(project))).toBe(false);
  });
});

describe.runIf(process.platform === 'linux')('the host lock (Linux)', () => {
  it('a live holder refuses a second run whatever the file says', async () => {
    const project = tempDir();
    const holder = await tryInChild(project, 'run', 0);
    expect(holder.outcome.ok).toBe(true);
    // The file claims a dead holder: without the host lock this would be taken over.
    writeLock(project, { pid: await deadPid(), token: 'misleading' });
    const refused = await acquireRunLock(project);
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error).toMatchObject({ reason: 'held', sameHost: true });
      expect(refused.error.message).toMatch(/does not name it/);
    }
    expect(lockOnDisk(project).token).toBe('misleading');
  });

  it('kill -9 of the holder frees the host lock; the next run takes over the stale file at once', async () => {
    const project = tempDir();
    const holder = await tryInChild(project);
    expect(holder.outcome.ok).toBe(true);
    holder.child.kill('SIGKILL');
    await holder.exited;
    expect(lockOnDisk(project).pid).toBe(holder.child.pid);
    const started = Date.now();
    const taken = await acquireRunLock(project, { keeperIntervalMs: 0 });
    expect(taken.ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(lockOnDisk(project).pid).toBe(process.pid);
    if (taken.ok) taken.value.release();
  });

  it('does not keep the process alive, answers a connection by closing it, and is closed on release', async () => {
    const project = tempDir();
    // A process that takes the lock and does nothing else exits on its own.
    const idle = nodeChild(
      `import { acquireRunLock } from ${JSON.stringify(lockModule)};
       const r = await acquireRunLock(process.argv[1]);
       process.stdout.write(JSON.stringify({ ok: r.ok }) + '\\n');`,
      [project],
    );
    expect(await idle.exited).toBe(0);
    expect(idle.lines).toEqual(['{"ok":true}']);

    const lock = await acquireRunLock(project, { keeperIntervalMs: 0 });
    if (!lock.ok) throw new Error(lock.error.message);
    const name = hostLockName(project);
    const closed = await new Promise<string>((resolve) => {
      const socket = connect({ path: name });
      socket.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
      socket.on('close', () => resolve('closed'));
      socket.resume();
    });
    expect(closed).toBe('closed');
    lock.value.release();
    const refused = await new Promise<string>((resolve) => {
      const socket = connect({ path: name });
      socket.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
      socket.on('connect', () => {
        socket.destroy();
        resolve('connected');
      });
    });
    expect(refused).toBe('error ECONNREFUSED');
  });
});

describe('a damaged lock file', () => {
  it.runIf(process.platform === 'linux')(
    'one that is new but garbled is taken over at once when no run holds the host lock',
    async () => {
      const project = tempDir();
      mkdirSync(stateDir(project), { recursive: true });
      writeFileSync(lockFile(project), '{"pid": 12');
      const started = Date.now();
      const lock = await acquireRunLock(project, { keeperIntervalMs: 0 });
      expect(lock.ok).toBe(true);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(lockOnDisk(project).pid).toBe(process.pid);
      if (lock.ok) lock.value.release();
    },
  );

  it('without the host lock, one that stays unchanged is taken over once the grace period has passed', async () => {
    const project = tempDir();
    mkdirSync(stateDir(project), { recursive: true });
    writeFileSync(lockFile(project), '{"pid": 12');
    const lock = await acquireRunLock(project, {
      hostLock: false,
      keeperIntervalMs: 0,
      unreadableGraceMs: 600,
    });
    if (!lock.ok) throw new Error(lock.error.message);
    expect(lockOnDisk(project).pid).toBe(process.pid);
    lock.value.release();
  });

  it('without the host lock, one whose content keeps changing is reported as such', async () => {
    const project = tempDir();
    mkdirSync(stateDir(project), { recursive: true });
    const writer = nodeChild(
      `import { writeFileSync } from 'node:fs';
       let n = 0;
       writeFileSync(process.argv[1], 'garbage ' + n++);
       process.stdout.write('writing\\n');
       setInterval(() => writeFileSync(process.argv[1], 'garbage ' + n++), 50);`,
      [lockFile(project)],
    );
    await waitFor(() => writer.lines.length > 0);
    const lock = await acquireRunLock(project, {
      hostLock: false,
      keeperIntervalMs: 0,
      unreadableGraceMs: 300,
    });
    expect(lock.ok).toBe(false);
    if (!lock.ok) {
      expect(lock.error.reason).toBe('io');
      expect(lock.error.message).toMatch(/keeps changing/);
    }
  });
});
