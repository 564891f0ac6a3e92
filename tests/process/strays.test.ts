/**
 * endStrayProcesses on real process trees: what an earlier Bearing, killed
 * with kill -9, left running. Each tree is started detached (as runProcess
 * starts agents) with the attempt's token in its environment, then recorded
 * the way the runner records an attempt.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processStartTime, readProcStat } from '../../src/process/proc-stat.js';
import {
  ATTEMPT_TOKEN_ENV,
  type AttemptProcessRecord,
  endStrayProcesses,
  newAttemptToken,
} from '../../src/process/strays.js';
import {
  isAlive,
  killQuietly,
  killRecordedPids,
  makeTempDir,
  readPid,
  waitForDeath,
} from './support.js';

let dir: string;
let cleanup: () => void;
const leftovers: number[] = [];

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});

afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
    killQuietly(pid);
  }
  killRecordedPids(dir);
  cleanup();
});

/** Starts `sh -c script` as the leader of its own group, like an agent; resolves once it wrote `ready`. */
async function startTree(script: string, token?: string): Promise<ChildProcess & { pid: number }> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  if (token !== undefined) env[ATTEMPT_TOKEN_ENV] = token;
  const child = spawn('sh', ['-c', script], { cwd: dir, env, detached: true, stdio: 'ignore' });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error('sh did not start');
  leftovers.push(pid);
  await waitForFile(join(dir, 'ready'));
  return child as ChildProcess & { pid: number };
}

async function waitForFile(file: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} never appeared`);
    await delay(20);
  }
}

/** Writes each pid to a *.pid file before `ready`, so a failed test still kills them. */
const TREE = `
sleep 1000 & echo $! > child.pid
sh -c 'sleep 1000 & echo $! > grandchild.pid; wait' &
setsid sleep 1000 & echo $! > escaped.pid
while [ ! -s grandchild.pid ]; do sleep 0.02; done
echo > ready
wait
`;

function pid(name: string): number {
  return readPid(join(dir, `${name}.pid`));
}

describe('endStrayProcesses', () => {
  it('ends a recorded group, its grandchildren and a setsid escapee carrying the token', async () => {
    const token = newAttemptToken();
    const tree = await startTree(TREE, token);
    const record: AttemptProcessRecord = {
      pgid: tree.pid,
      startTime: processStartTime(tree.pid)!,
      token,
    };
    const escaped = pid('escaped');
    // Staged as meant: the escapee left the group, the others are in it.
    expect(readProcStat(escaped)?.pgrp).not.toBe(tree.pid);
    expect(readProcStat(pid('grandchild'))?.pgrp).toBe(tree.pid);

    const result = await endStrayProcesses([record], 1000);

    expect(result).toEqual({ ended: 2, groups: [tree.pid], escaped: [escaped] });
    for (const p of [tree.pid, pid('child'), pid('grandchild'), escaped]) {
      expect(await waitForDeath(p), `pid ${p}`).toBe(true);
    }
  });

  it('SIGKILLs what ignores SIGTERM, after the grace period', async () => {
    const token = newAttemptToken();
    const tree = await startTree(
      `trap '' TERM; setsid sh -c 'trap "" TERM; echo $$ > escaped.pid; while :; do sleep 0.1; done' &
       while [ ! -s escaped.pid ]; do sleep 0.02; done; echo > ready; while :; do sleep 0.1; done`,
      token,
    );
    const record = { pgid: tree.pid, startTime: processStartTime(tree.pid)!, token };
    const result = await endStrayProcesses([record], 300);
    expect(result.groups).toEqual([tree.pid]);
    // With the escapee, maybe its `sleep 0.1` of the moment: it carries the token too.
    expect(result.escaped).toContain(pid('escaped'));
    expect(await waitForDeath(tree.pid)).toBe(true);
    expect(await waitForDeath(pid('escaped'))).toBe(true);
  });

  it('ends a group whose leader is gone but whose members still run', async () => {
    const tree = await startTree(`sleep 1000 & echo $! > member.pid; echo > ready`);
    const record = { pgid: tree.pid, startTime: processStartTime(tree.pid)! };
    await new Promise((resolve) => {
      if (tree.exitCode !== null) resolve(undefined);
      else tree.once('exit', resolve);
    });
    expect(isAlive(pid('member'))).toBe(true);

    const result = await endStrayProcesses([record], 1000);

    expect(result).toEqual({ ended: 1, groups: [tree.pid], escaped: [] });
    expect(await waitForDeath(pid('member'))).toBe(true);
  });

  it('leaves alone a group whose leader pid now belongs to another process (start time differs)', async () => {
    const stranger = await startTree(
      `sleep 1000 & echo $! > stranger-child.pid; echo > ready; wait`,
    );
    const startTime = processStartTime(stranger.pid)!;
    const result = await endStrayProcesses(
      [{ pgid: stranger.pid, startTime: `${startTime}1`, token: newAttemptToken() }],
      300,
    );
    expect(result).toEqual({ ended: 0, groups: [], escaped: [] });
    // A signal would have landed before endStrayProcesses resolved; sh and sleep die of it at once.
    await delay(200);
    expect(isAlive(stranger.pid)).toBe(true);
    expect(isAlive(pid('stranger-child'))).toBe(true);
  });

  it('leaves alone a live leader whose start time was never recorded', async () => {
    const stranger = await startTree(`echo > ready; sleep 1000`);
    const result = await endStrayProcesses([{ pgid: stranger.pid }], 300);
    expect(result.ended).toBe(0);
    await delay(200);
    expect(isAlive(stranger.pid)).toBe(true);
  });

  it('finds an attempt by its token alone (Bearing died before recording the group)', async () => {
    const token = newAttemptToken();
    const tree = await startTree(
      `setsid sleep 1000 & echo $! > escaped.pid; echo > ready; wait`,
      token,
    );
    const result = await endStrayProcesses([{ token }], 1000);
    expect(result.ended).toBe(2);
    expect(result.escaped.sort()).toEqual([tree.pid, pid('escaped')].sort());
    expect(await waitForDeath(tree.pid)).toBe(true);
    expect(await waitForDeath(pid('escaped'))).toBe(true);
  });

  it('does not touch processes carrying another token', async () => {
    const other = await startTree(`echo > ready; sleep 1000`, newAttemptToken());
    const result = await endStrayProcesses([{ token: newAttemptToken() }], 300);
    expect(result.ended).toBe(0);
    await delay(200);
    expect(isAlive(other.pid)).toBe(true);
  });

  it('ignores records that could name our own group, or every process', async () => {
    const ownGroup = readProcStat(process.pid)!.pgrp;
    const result = await endStrayProcesses(
      [
        { pgid: 0 },
        { pgid: 1, startTime: processStartTime(1)! },
        { pgid: -1 },
        { pgid: process.pid, startTime: processStartTime(process.pid)! },
        { pgid: ownGroup, startTime: processStartTime(ownGroup)! },
      ],
      300,
    );
    expect(result.ended).toBe(0);
  });
});

describe.runIf(process.platform === 'linux')('processStartTime', () => {
  it('is field 22 of /proc/<pid>/stat, stable for one process', async () => {
    const tree = await startTree(`echo > ready; sleep 1000`);
    const first = processStartTime(tree.pid);
    expect(first).toMatch(/^\d+$/);
    expect(processStartTime(tree.pid)).toBe(first);
    // Started after us: a later tick count (ticks since boot).
    expect(Number(first)).toBeGreaterThanOrEqual(Number(processStartTime(process.pid)));
  });

  it('is undefined for a pid that is not running', async () => {
    const tree = await startTree(`echo > ready`);
    await new Promise((resolve) => {
      if (tree.exitCode !== null) resolve(undefined);
      else tree.once('exit', resolve);
    });
    await waitForDeath(tree.pid);
    expect(processStartTime(tree.pid)).toBeUndefined();
  });
});
