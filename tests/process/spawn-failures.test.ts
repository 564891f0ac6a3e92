/**
 * Spawns that fail inside child_process.spawn itself (it throws instead of
 * emitting 'error'): execa 9 then hands back a stand-in child that never
 * emits anything, so a run that waits for 'spawn' or 'error' waits forever.
 * Real processes, real errors; each test fails by hanging past its bound.
 */
import { closeSync, openSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ProcessOutcome, runProcess } from '../../src/process/run-process.js';
import { makeTempDir, NODE, writeScript } from './support.js';

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});

afterEach(() => {
  cleanup();
});

/** A hang shows up as 'hung' well before the test's own timeout, instead of as a timeout error. */
async function settlesWithin(
  running: Promise<ProcessOutcome>,
  ms: number,
): Promise<ProcessOutcome | 'hung'> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      running,
      delay(ms, 'hung' as const, { signal: timer.signal }).catch(() => 'hung' as const),
    ]);
  } finally {
    timer.abort();
  }
}

describe('runProcess: spawns that fail inside spawn() itself', () => {
  it('a 200 KiB argument (E2BIG) is a spawn-error at once, with no timeout or abort armed', async () => {
    let spawned = false;
    const outcome = await settlesWithin(
      runProcess({
        file: NODE,
        args: ['-e', '', 'x'.repeat(200 * 1024)],
        cwd: dir,
        env: {},
        onSpawn: () => {
          spawned = true;
        },
      }),
      10_000,
    );
    expect(outcome).toMatchObject({
      kind: 'spawn-error',
      code: 'E2BIG',
      message:
        'argument list too long: the arguments and environment are over what the OS allows for one program (E2BIG)',
    });
    expect(spawned).toBe(false);
    if (outcome !== 'hung') expect(outcome.pid).toBeUndefined();
  });

  it('an executable held open for writing (ETXTBSY) is a spawn-error that says to try again', async () => {
    const script = writeScript(dir, 'agent.sh', '#!/bin/sh\necho hi\n', 0o755);
    // What a package manager replacing the binary looks like to execve().
    const writer = openSync(script, 'a');
    try {
      const outcome = await settlesWithin(
        runProcess({ file: script, args: [], cwd: dir, env: {} }),
        10_000,
      );
      expect(outcome).toMatchObject({
        kind: 'spawn-error',
        code: 'ETXTBSY',
        message: `${script} is being written or replaced (ETXTBSY); try again`,
      });
    } finally {
      closeSync(writer);
    }
  });

  it('a timeout and an abort signal do not change the outcome of a spawn that failed', async () => {
    const controller = new AbortController();
    const running = runProcess({
      file: NODE,
      args: ['x'.repeat(200 * 1024)],
      cwd: dir,
      env: {},
      signal: controller.signal,
      timeoutMs: 60_000,
      idleTimeoutMs: 60_000,
    });
    const outcome = await settlesWithin(running, 10_000);
    controller.abort();
    expect(outcome).toMatchObject({ kind: 'spawn-error', code: 'E2BIG' });
  });
});
