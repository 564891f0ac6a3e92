/**
 * `finishedSignal`: the caller has the program's final result (claude printed
 * its `result` event) but the program does not exit. The process layer ends
 * the group and says so (`finished`), without turning it into a timeout.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ProcessOutcome,
  type RunProcessOptions,
  runProcess,
} from '../../src/process/run-process.js';
import {
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

async function runNode(
  source: string,
  options: Partial<RunProcessOptions> & { onLine: NonNullable<RunProcessOptions['onLine']> },
): Promise<ProcessOutcome> {
  const script = writeScript(dir, `child-${Math.random().toString(36).slice(2)}.mjs`, source);
  return runProcess({
    file: NODE,
    args: [script],
    cwd: dir,
    env: {},
    ...options,
    onSpawn: (pid) => {
      leftovers.push(pid);
    },
  });
}

/** What claude does when it hangs after success: the final event, then nothing, forever. */
const RESULT_THEN_HANG = `
console.log(JSON.stringify({ type: 'result', subtype: 'success', is_error: false, result: 'done' }));
setInterval(() => {}, 1000);
`;

describe('runProcess: finishedSignal', () => {
  it('ends a program that stays after its final result: outcome `finished`', async () => {
    const finished = new AbortController();
    const outcome = await runNode(RESULT_THEN_HANG, {
      finishedSignal: finished.signal,
      onLine: (line) => {
        if (line.includes('"type":"result"')) finished.abort();
      },
    });
    expect(outcome).toMatchObject({ kind: 'finished' });
    expect(await waitForDeath(outcome.pid!)).toBe(true);
  });

  it('ends the whole group: a grandchild that ignores SIGTERM is killed after the grace period', async () => {
    const grandchild = writeScript(dir, 'grandchild.mjs', STUBBORN_GRANDCHILD);
    const pidFile = join(dir, 'grandchild.pid');
    const finished = new AbortController();
    const outcome = await runNode(
      `
      import { spawn } from 'node:child_process';
      ${WAIT_FOR_FILE}
      process.on('SIGTERM', () => {}); // the leader ignores it too: SIGKILL must follow
      spawn(process.execPath, [${JSON.stringify(grandchild)}, ${JSON.stringify(pidFile)}], { stdio: 'ignore' });
      await waitForFile(${JSON.stringify(pidFile)});
      ${RESULT_THEN_HANG}
      `,
      {
        finishedSignal: finished.signal,
        killGraceMs: 300,
        onLine: (line) => {
          if (line.includes('"type":"result"')) finished.abort();
        },
      },
    );
    const grandchildPid = readPid(pidFile);
    leftovers.push(grandchildPid);
    // Died of SIGKILL, but that was our doing: still `finished`, not `signaled`.
    expect(outcome).toMatchObject({ kind: 'finished' });
    expect(await waitForDeath(outcome.pid!)).toBe(true);
    expect(await waitForDeath(grandchildPid)).toBe(true);
  });

  it('keeps the output read until the end in the log and the lines', async () => {
    const finished = new AbortController();
    const stdoutFile = join(dir, 'out.log');
    const lines: string[] = [];
    const outcome = await runNode(
      `
      process.on('SIGTERM', () => { console.log('bye'); process.exit(143); });
      ${RESULT_THEN_HANG}
      `,
      {
        finishedSignal: finished.signal,
        stdoutFile,
        onLine: (line) => {
          lines.push(line);
          if (line.includes('"type":"result"')) finished.abort();
        },
      },
    );
    expect(outcome).toMatchObject({ kind: 'finished' });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('bye');
    expect(readFileSync(stdoutFile, 'utf8').endsWith('\nbye\n')).toBe(true);
  });

  it.runIf(process.platform === 'linux')(
    'a program that exited by itself keeps its exit code, even when its exit was not seen yet',
    async () => {
      const finished = new AbortController();
      let pid = 0;
      const outcome = await runProcess({
        file: NODE,
        args: ['-e', `console.log('last line'); process.exitCode = 3;`],
        cwd: dir,
        env: {},
        finishedSignal: finished.signal,
        onSpawn: (p) => {
          pid = p;
          leftovers.push(p);
        },
        onLine: () => {
          // Our event loop is blocked here, so the child's exit cannot be seen:
          // wait until it is a zombie, the window in which the caller may abort.
          const deadline = Date.now() + 10_000;
          while (Date.now() < deadline && !isZombie(pid)) {
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
          }
          finished.abort();
        },
      });
      expect(outcome).toMatchObject({ kind: 'exited', exitCode: 3 });
    },
  );

  it('an abort of finishedSignal after the exit changes nothing', async () => {
    const finished = new AbortController();
    const outcome = await runNode(`console.log('x');`, {
      finishedSignal: finished.signal,
      onLine: () => {},
    });
    finished.abort();
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
  });

  it('our Ctrl-C, when it came first, wins over a later finishedSignal', async () => {
    const finished = new AbortController();
    const ctrlC = new AbortController();
    const outcome = await runNode(
      `
      process.on('SIGTERM', () => {}); // stays through the grace period
      ${RESULT_THEN_HANG}
      `,
      {
        signal: ctrlC.signal,
        finishedSignal: finished.signal,
        killGraceMs: 500,
        onLine: (line) => {
          if (!line.includes('"type":"result"')) return;
          ctrlC.abort();
          finished.abort();
        },
      },
    );
    expect(outcome).toMatchObject({ kind: 'aborted' });
  });

  it('a timeout, when it came first, wins over a later finishedSignal', async () => {
    const finished = new AbortController();
    const outcome = await runNode(
      `
      process.on('SIGTERM', () => { console.log('term'); });
      console.log('ready');
      setInterval(() => {}, 1000);
      `,
      {
        finishedSignal: finished.signal,
        // Generous: node must start and install its handler before it fires.
        idleTimeoutMs: 2000,
        killGraceMs: 500,
        onLine: (line) => {
          if (line === 'term') finished.abort();
        },
      },
    );
    expect(outcome).toMatchObject({ kind: 'timeout', which: 'idle' });
  });

  it('finishedSignal first, then Ctrl-C during the grace period: still `finished`', async () => {
    const finished = new AbortController();
    const ctrlC = new AbortController();
    const outcome = await runNode(
      `
      process.on('SIGTERM', () => { console.log('term'); });
      ${RESULT_THEN_HANG}
      `,
      {
        signal: ctrlC.signal,
        finishedSignal: finished.signal,
        killGraceMs: 500,
        onLine: (line) => {
          if (line.includes('"type":"result"')) finished.abort();
          if (line === 'term') ctrlC.abort();
        },
      },
    );
    expect(outcome).toMatchObject({ kind: 'finished' });
  });
});

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
