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
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { acquireLock, type LockInfo, readLock, realProbe } from '../../src/state/lock.js';
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
 * lock, prints the outcome, and keeps whatever it got until its stdin closes.
 */
const CONTENDER = `
import { acquireLock } from ${JSON.stringify('MODULE')};
const [project, startAt] = process.argv.slice(1);
while (Date.now() < Number(startAt)) {}
const r = acquireLock(project);
process.stdout.write(JSON.stringify(r.ok ? { ok: true, pid: process.pid } : { ok: false, reason: r.error.reason, pid: r.error.pid, ...(r.error.reason === 'io' ? { message: r.error.message } : {}) }) + '\\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

function contender(project: string, startAt: number) {
  return nodeChild(CONTENDER.replace('MODULE', lockModule), [project, String(startAt)]);
}

describe('acquireLock', () => {
  it('creates the lock with pid, host, start times, and release removes it', () => {
    const project = tempDir();
    const lock = acquireLock(project, { now: () => new Date('2026-03-04T05:06:07.000Z') });
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

    const refused = acquireLock(project);
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
    const taken = acquireLock(project);
    expect(taken.ok).toBe(true);
    expect(lockOnDisk(project).pid).toBe(process.pid);
    if (taken.ok) taken.value.release();
  });

  it('takes over a lock whose process is gone', async () => {
    const project = tempDir();
    const pid = await deadPid();
    writeLock(project, { pid });
    const lock = acquireLock(project);
    expect(lock.ok).toBe(true);
    expect(lockOnDisk(project).pid).toBe(process.pid);
    expect(readdirSync(stateDir(project))).toEqual(['lock']);
  });

  it.runIf(process.platform === 'linux')(
    'takes over a lock whose pid now belongs to another process (different start time)',
    () => {
      const project = tempDir();
      writeLock(project, { pid: process.pid, processStart: '1' });
      expect(readLock(project)).toMatchObject({
        state: 'stale',
        why: expect.stringMatching(/another process/),
      });
      const lock = acquireLock(project);
      expect(lock.ok).toBe(true);
      expect(lockOnDisk(project).token).not.toBe('planted');
    },
  );

  it('treats a lock from another host as held and says so', () => {
    const project = tempDir();
    writeLock(project, { hostname: 'build-box-7', pid: 4242 });
    const lock = acquireLock(project);
    expect(lock.ok).toBe(false);
    if (lock.ok) return;
    expect(lock.error).toMatchObject({ reason: 'held', sameHost: false, hostname: 'build-box-7' });
    expect(lock.error.message).toMatch(
      /host "build-box-7".*cannot check processes on another machine/,
    );
    expect(lockOnDisk(project).hostname).toBe('build-box-7');
  });

  it('takes over a damaged lock file only once it is old', () => {
    const project = tempDir();
    mkdirSync(stateDir(project), { recursive: true });
    writeFileSync(lockFile(project), '{"pid": 12');
    expect(readLock(project)).toMatchObject({ state: 'unknown' });
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile(project), old, old);
    expect(readLock(project)).toMatchObject({ state: 'stale' });
    expect(acquireLock(project).ok).toBe(true);
  });

  it('release leaves a lock that is no longer ours', () => {
    const project = tempDir();
    const lock = acquireLock(project);
    if (!lock.ok) throw new Error(lock.error.message);
    writeLock(project, { pid: 999_999, token: 'someone-else' });
    expect(lock.value.release()).toBe(false);
    expect(lockOnDisk(project).token).toBe('someone-else');
  });

  it('reports a project it cannot write as a value, not a throw', () => {
    const project = tempDir();
    writeFileSync(join(project, 'bearing'), 'a file where the directory should be');
    const lock = acquireLock(project);
    expect(lock.ok).toBe(false);
    if (!lock.ok) expect(lock.error).toMatchObject({ reason: 'io' });
  });

  it('lets exactly one of several processes racing for a stale lock win', async () => {
    // A naive takeover (unlink the stale lock, then create) lets two of them win in most rounds.
    for (let round = 0; round < 5; round++) {
      const project = tempDir();
      writeLock(project, { pid: await deadPid(), token: `stale-${round}` });
      const startAt = Date.now() + 700;
      const racers = Array.from({ length: 8 }, () => contender(project, startAt));
      await waitFor(() => racers.every((r) => r.lines.length > 0), 20_000);
      const results = racers.map((r) => JSON.parse(r.lines[0]!) as { ok: boolean; pid: number });
      const winners = results.filter((r) => r.ok);
      expect(winners).toHaveLength(1);
      const winnerPid = winners[0]!.pid;
      expect(lockOnDisk(project).pid).toBe(winnerPid);
      for (const loser of results.filter((r) => !r.ok)) {
        expect(loser).toEqual({ ok: false, reason: 'held', pid: winnerPid });
      }
      for (const r of racers) r.child.stdin!.end();
      await Promise.all(racers.map((r) => r.exited));
      // No claim or temp files are left behind.
      expect(readdirSync(stateDir(project))).toEqual(['lock']);
    }
  });
});
