import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ProcessOutcome,
  type RunProcessOptions,
  runProcess,
} from '../../src/process/run-process.js';
import {
  isAlive,
  killQuietly,
  killRecordedPids,
  makeTempDir,
  NODE,
  readPid,
  STUBBORN_GRANDCHILD,
  WAIT_FOR_FILE,
  waitForDeath,
  writeScript,
} from './support.js';

let dir: string;
let cleanup: () => void;
const leftovers: number[] = [];

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});

afterEach(() => {
  for (const pid of leftovers.splice(0)) killQuietly(pid);
  killRecordedPids(dir);
  cleanup();
});

/** Runs a node script with an empty environment; lines are collected. */
async function runNode(
  source: string,
  extra: Partial<RunProcessOptions> & { scriptArgs?: string[] } = {},
): Promise<{ outcome: ProcessOutcome; lines: string[]; stderrLines: string[] }> {
  const script = writeScript(dir, `child-${Math.random().toString(36).slice(2)}.mjs`, source);
  const lines: string[] = [];
  const stderrLines: string[] = [];
  const { scriptArgs = [], onLine, ...rest } = extra;
  const outcome = await runProcess({
    file: NODE,
    args: [script, ...scriptArgs],
    cwd: dir,
    env: {},
    ...rest,
    onLine: (line, stream) => {
      (stream === 'stdout' ? lines : stderrLines).push(line);
      onLine?.(line, stream);
    },
    onSpawn: (pid) => {
      leftovers.push(pid);
      rest.onSpawn?.(pid);
    },
  });
  return { outcome, lines, stderrLines };
}

describe('runProcess: how a run ended', () => {
  it.each([0, 1, 42])('reports exit code %i', async (code) => {
    const { outcome } = await runNode(`process.exitCode = ${code};`);
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: code });
    expect(outcome.pid).toBeGreaterThan(0);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('keeps the last ~4 KB of stderr, for error messages', async () => {
    const { outcome } = await runNode(
      `process.stderr.write('x'.repeat(10000) + 'THE END\\n'); process.exitCode = 3;`,
    );
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 3 });
    expect(outcome.stderrTail.endsWith('THE END\n')).toBe(true);
    expect(outcome.stderrTail.length).toBeLessThanOrEqual(4096);
    expect(outcome.stderrTail.length).toBeGreaterThan(4000);
  });

  it.each(['SIGKILL', 'SIGTERM'] as const)(
    'reports a child killed by someone else with %s as signaled',
    async (signal) => {
      let pid = 0;
      const { outcome } = await runNode(`console.log('ready'); setInterval(() => {}, 1000);`, {
        onSpawn: (p) => {
          pid = p;
        },
        onLine: (line) => {
          if (line === 'ready') process.kill(pid, signal);
        },
      });
      expect(outcome).toMatchObject({ kind: 'signaled', signal, pid });
    },
  );

  it('reports a missing program as spawn-error ENOENT', async () => {
    let spawned = false;
    const outcome = await runProcess({
      file: join(dir, 'no-such-cli'),
      args: [],
      cwd: dir,
      env: {},
      onSpawn: () => {
        spawned = true;
      },
    });
    expect(outcome).toMatchObject({ kind: 'spawn-error', code: 'ENOENT' });
    expect(outcome.pid).toBeUndefined();
    expect(spawned).toBe(false);
  });

  it('reports a bare command not on PATH as spawn-error ENOENT', async () => {
    const outcome = await runProcess({
      file: 'bearing-no-such-cli',
      args: [],
      cwd: dir,
      env: { PATH: dir },
    });
    expect(outcome).toMatchObject({ kind: 'spawn-error', code: 'ENOENT' });
    if (outcome.kind === 'spawn-error') expect(outcome.message).toContain('bearing-no-such-cli');
  });

  it('reports a file without the execute bit as spawn-error EACCES', async () => {
    const file = writeScript(dir, 'not-executable.sh', '#!/bin/sh\necho hi\n', 0o644);
    const outcome = await runProcess({ file, args: [], cwd: dir, env: {} });
    expect(outcome).toMatchObject({ kind: 'spawn-error', code: 'EACCES' });
  });

  it('reports a missing working directory as such, not as a missing program', async () => {
    const outcome = await runProcess({ file: NODE, args: [], cwd: join(dir, 'gone'), env: {} });
    expect(outcome).toMatchObject({ kind: 'spawn-error', code: 'ENOENT' });
    if (outcome.kind === 'spawn-error') expect(outcome.message).toMatch(/working directory/);
  });
});

describe('runProcess: the child and its environment', () => {
  it('gives the child exactly the environment passed, nothing from ours', async () => {
    process.env.BEARING_TEST_MUST_NOT_LEAK = 'leak';
    try {
      const { outcome, lines } = await runNode(`console.log(JSON.stringify(process.env));`, {
        env: { FOO: 'bar', EMPTY: '', DROPPED: undefined },
      });
      expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
      expect(JSON.parse(lines.join(''))).toEqual({ FOO: 'bar', EMPTY: '' });
    } finally {
      delete process.env.BEARING_TEST_MUST_NOT_LEAK;
    }
  });

  it('gives the child /dev/null as stdin: reading it ends at once', async () => {
    const { outcome, lines } = await runNode(
      `
      import { readlinkSync } from 'node:fs';
      let bytes = 0;
      process.stdin.on('data', (d) => { bytes += d.length; });
      process.stdin.on('end', () => {
        console.log('eof ' + bytes);
        if (process.platform === 'linux') console.log(readlinkSync('/proc/self/fd/0'));
      });
      `,
      // Only a hang would reach this; it must not decide the outcome.
      { timeoutMs: 20_000 },
    );
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(lines[0]).toBe('eof 0');
    if (process.platform === 'linux') expect(lines[1]).toBe('/dev/null');
  });

  it('makes the child the leader of its own process group', async () => {
    const controller = new AbortController();
    let pid = 0;
    let pgid = -1;
    const { outcome } = await runNode(`console.log('ready'); setInterval(() => {}, 1000);`, {
      signal: controller.signal,
      onSpawn: (p) => {
        pid = p;
      },
      onLine: (line) => {
        if (line !== 'ready') return;
        pgid = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }));
        controller.abort();
      },
    });
    expect(outcome.kind).toBe('aborted');
    expect(pgid).toBe(pid);
    expect(pgid).not.toBe(
      Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(process.pid)], { encoding: 'utf8' })),
    );
  });

  it('runs with the given cwd and no shell: arguments arrive verbatim', async () => {
    const { lines } = await runNode(
      `console.log(process.cwd()); console.log(JSON.stringify(process.argv.slice(2)));`,
      { scriptArgs: ['$HOME', 'a b', '"q"', '*', ';echo x'] },
    );
    expect(lines[0]).toBe(realpathSync(dir));
    expect(JSON.parse(lines[1]!)).toEqual(['$HOME', 'a b', '"q"', '*', ';echo x']);
  });
});

describe('runProcess: timeouts', () => {
  it('wall timeout kills the child and a grandchild that ignores SIGTERM', async () => {
    const grandchild = writeScript(dir, 'grandchild.mjs', STUBBORN_GRANDCHILD);
    const pidFile = join(dir, 'grandchild.pid');
    let ready = false;
    const { outcome } = await runNode(
      `
      import { spawn } from 'node:child_process';
      ${WAIT_FOR_FILE}
      spawn(process.execPath, [${JSON.stringify(grandchild)}, ${JSON.stringify(pidFile)}], { stdio: 'inherit' });
      await waitForFile(${JSON.stringify(pidFile)});
      console.log('ready');
      setInterval(() => {}, 1000);
      `,
      {
        // Generous: two node processes must start before the deadline.
        timeoutMs: 4000,
        killGraceMs: 1000,
        onLine: (line) => {
          if (line === 'ready') ready = true;
        },
      },
    );
    expect(ready, 'the grandchild was set up before the deadline').toBe(true);
    const grandchildPid = readPid(pidFile);
    leftovers.push(grandchildPid);
    expect(outcome).toMatchObject({ kind: 'timeout', which: 'wall', afterMs: 4000 });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(4000);
    expect(await waitForDeath(outcome.pid!)).toBe(true);
    expect(await waitForDeath(grandchildPid)).toBe(true);
  });

  it('idle timeout fires for a silent child', async () => {
    const { outcome } = await runNode(`setInterval(() => {}, 1000);`, { idleTimeoutMs: 500 });
    expect(outcome).toMatchObject({ kind: 'timeout', which: 'idle', afterMs: 500 });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(500);
    expect(await waitForDeath(outcome.pid!)).toBe(true);
  });

  it('idle timeout does not fire for a chatty child that runs longer than the limit', async () => {
    const { outcome, lines, stderrLines } = await runNode(
      `
      const started = Date.now();
      let n = 0;
      const timer = setInterval(() => {
        (n++ % 2 ? process.stderr : process.stdout).write('tick\\n');
        if (Date.now() - started > 2500) clearInterval(timer);
      }, 100);
      `,
      { idleTimeoutMs: 1500 },
    );
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(outcome.durationMs).toBeGreaterThan(2500);
    // Both streams count as activity.
    expect(lines.length).toBeGreaterThan(0);
    expect(stderrLines.length).toBeGreaterThan(0);
  });
});

describe('runProcess: abort (our Ctrl-C)', () => {
  it('an abort before the call spawns nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const marker = join(dir, 'ran');
    let spawned = false;
    const outcome = await runProcess({
      file: NODE,
      args: ['-e', `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x')`],
      cwd: dir,
      env: {},
      signal: controller.signal,
      onSpawn: () => {
        spawned = true;
      },
    });
    expect(outcome).toMatchObject({ kind: 'aborted' });
    expect(outcome.pid).toBeUndefined();
    expect(spawned).toBe(false);
    await delay(200);
    expect(existsSync(marker)).toBe(false);
  });

  it('an abort during the spawn waits for the pid, then kills the group', async () => {
    const controller = new AbortController();
    const spawnedPids: number[] = [];
    const script = writeScript(dir, 'sleeper.mjs', `setInterval(() => {}, 1000);`);
    // runProcess is synchronous up to the spawn, and 'spawn' is emitted on a
    // later tick: this abort lands in the `starting` state.
    const running = runProcess({
      file: NODE,
      args: [script],
      cwd: dir,
      env: {},
      signal: controller.signal,
      onSpawn: (pid) => {
        spawnedPids.push(pid);
        leftovers.push(pid);
      },
    });
    controller.abort();
    const outcome = await running;
    expect(outcome).toMatchObject({ kind: 'aborted' });
    expect(outcome.pid).toBeGreaterThan(0);
    expect(spawnedPids).toEqual([outcome.pid]);
    expect(outcome.durationMs).toBeLessThan(20_000);
    expect(await waitForDeath(outcome.pid!)).toBe(true);
  });

  it('an abort while running is `aborted`, even though the child died of SIGTERM', async () => {
    const controller = new AbortController();
    const { outcome } = await runNode(`console.log('ready'); setInterval(() => {}, 1000);`, {
      signal: controller.signal,
      onLine: (line) => {
        if (line === 'ready') controller.abort();
      },
    });
    expect(outcome).toMatchObject({ kind: 'aborted' });
    expect(await waitForDeath(outcome.pid!)).toBe(true);
  });

  it('the first reason wins, and a stop while killing sends nothing more', async () => {
    const controller = new AbortController();
    const { outcome, lines } = await runNode(
      `
      process.on('SIGTERM', () => console.log('term'));
      console.log('ready');
      setInterval(() => {}, 1000);
      `,
      {
        signal: controller.signal,
        // Generous: node must start and install its handler before it fires.
        idleTimeoutMs: 2000,
        killGraceMs: 1500,
        // The idle timeout sent SIGTERM; an abort now must not change the
        // outcome nor signal again. SIGKILL ends it after the grace period.
        onLine: (line) => {
          if (line === 'term') controller.abort();
        },
      },
    );
    expect(outcome).toMatchObject({ kind: 'timeout', which: 'idle', afterMs: 2000 });
    expect(lines).toEqual(['ready', 'term']);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(3500);
    expect(await waitForDeath(outcome.pid!)).toBe(true);
  });

  it('a child that exits 143 on SIGTERM (as claude does) is still `aborted`', async () => {
    const controller = new AbortController();
    const { outcome } = await runNode(
      `
      process.on('SIGTERM', () => process.exit(143));
      console.log('ready');
      setInterval(() => {}, 1000);
      `,
      {
        signal: controller.signal,
        onLine: (line) => {
          if (line === 'ready') controller.abort();
        },
      },
    );
    expect(outcome).toMatchObject({ kind: 'aborted' });
  });
});

describe('runProcess: orphans', () => {
  it('after the child exits, a grandchild left behind (ignoring SIGTERM) is killed', async () => {
    const grandchild = writeScript(dir, 'grandchild.mjs', STUBBORN_GRANDCHILD);
    const pidFile = join(dir, 'grandchild.pid');
    const { outcome } = await runNode(
      `
      import { spawn } from 'node:child_process';
      ${WAIT_FOR_FILE}
      const child = spawn(process.execPath, [${JSON.stringify(grandchild)}, ${JSON.stringify(pidFile)}], { stdio: 'ignore' });
      child.unref();
      await waitForFile(${JSON.stringify(pidFile)});
      process.exitCode = 7;
      `,
      { killGraceMs: 500 },
    );
    const grandchildPid = readPid(pidFile);
    leftovers.push(grandchildPid);
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 7 });
    expect(await waitForDeath(grandchildPid)).toBe(true);
  });

  it('does not hang on a grandchild that keeps our pipes open', async () => {
    const { outcome, lines } = await runNode(
      `
      import { spawn } from 'node:child_process';
      const child = spawn(process.execPath, ['-e', 'console.log("grandchild"); setInterval(() => {}, 1000)'], { stdio: 'inherit' });
      child.unref();
      setTimeout(() => {}, 300);
      `,
      { killGraceMs: 500 },
    );
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(lines).toContain('grandchild');
  });

  it('stops reading after a short drain when a process outside the group holds the pipes', async () => {
    const pidFile = join(dir, 'escaped.pid');
    const { outcome } = await runNode(
      `
      import { spawn } from 'node:child_process';
      ${WAIT_FOR_FILE}
      const code = 'require("node:fs").writeFileSync(' + JSON.stringify(${JSON.stringify(pidFile)}) + ', String(process.pid)); setInterval(() => {}, 1000)';
      // detached: setsid(), so it leaves our process group but keeps stdout.
      const child = spawn(process.execPath, ['-e', code], { stdio: 'inherit', detached: true });
      child.unref();
      await waitForFile(${JSON.stringify(pidFile)});
      `,
      { killGraceMs: 500 },
    );
    const escapedPid = readPid(pidFile);
    leftovers.push(escapedPid);
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    // Documented limit: a process that leaves the group is not ours to kill.
    expect(isAlive(escapedPid)).toBe(true);
  });
});

describe('runProcess: our own faults reject, after the child is gone', () => {
  it('rejects when onLine throws, and kills the child', async () => {
    let pid = 0;
    await expect(
      runNode(`console.log('boom'); setInterval(() => {}, 1000);`, {
        onSpawn: (p) => {
          pid = p;
        },
        onLine: () => {
          throw new Error('parser bug');
        },
      }),
    ).rejects.toThrow('parser bug');
    expect(await waitForDeath(pid)).toBe(true);
  });

  it('rejects before spawning when the log file cannot be opened', async () => {
    let spawned = false;
    await expect(
      runProcess({
        file: NODE,
        args: ['-e', ''],
        cwd: dir,
        env: {},
        stdoutFile: join(dir, 'missing-dir', 'stdout.log'),
        onSpawn: () => {
          spawned = true;
        },
      }),
    ).rejects.toThrow(/ENOENT/);
    expect(spawned).toBe(false);
  });

  it('writes what it read to the files even when the child is killed', async () => {
    const controller = new AbortController();
    const stdoutFile = join(dir, 'out.log');
    const { outcome } = await runNode(
      `console.log('before the kill'); setInterval(() => {}, 1000);`,
      {
        signal: controller.signal,
        stdoutFile,
        onLine: () => controller.abort(),
      },
    );
    expect(outcome.kind).toBe('aborted');
    expect(readFileSync(stdoutFile, 'utf8')).toBe('before the kill\n');
  });
});
