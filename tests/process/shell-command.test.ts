import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runShellCommand, SHELL_OUTPUT_TAIL_BYTES } from '../../src/process/shell-command.js';
import { killRecordedPids, makeTempDir, readPid, waitForDeath } from './support.js';

let dir: string;
let cleanup: () => void;
const env = { PATH: '/usr/bin:/bin' };

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});

afterEach(() => {
  killRecordedPids(dir);
  cleanup();
});

describe('runShellCommand', () => {
  it('runs a shell command line and returns exit code and combined output', async () => {
    const outputFile = join(dir, 'verify.log');
    const result = await runShellCommand('echo one; echo two >&2; exit 3', {
      cwd: dir,
      env,
      outputFile,
    });
    expect(result.outcome).toMatchObject({ kind: 'exited', exitCode: 3 });
    // stdout and stderr are two pipes: each line is kept, in the order it was
    // read, which need not be the order the command wrote them.
    expect(result.output.split('\n').sort()).toEqual(['', 'one', 'two']);
    expect(readFileSync(outputFile, 'utf8').split('\n').sort()).toEqual(['', 'one', 'two']);
  });

  it('uses the shell: pipes, && and variables from the given env', async () => {
    const result = await runShellCommand('printf "b\\na\\n" | sort && echo "$GREETING"', {
      cwd: dir,
      env: { ...env, GREETING: 'hello' },
    });
    expect(result.outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(result.output).toBe('a\nb\nhello\n');
  });

  it('keeps only the last ~16 KB of output, and the whole of it in the file', async () => {
    const outputFile = join(dir, 'verify.log');
    // All on stdout: a last line on stderr may be read before the end of
    // stdout's pipe, so "ends with it" would hold only most of the time.
    const result = await runShellCommand(
      'i=0; while [ $i -lt 5000 ]; do echo "line $i"; i=$((i+1)); done; echo LAST',
      { cwd: dir, env, outputFile },
    );
    expect(result.outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(Buffer.byteLength(result.output)).toBeLessThanOrEqual(SHELL_OUTPUT_TAIL_BYTES);
    expect(result.output.endsWith('line 4999\nLAST\n')).toBe(true);
    expect(result.output).not.toContain('line 0\n');
    const file = readFileSync(outputFile, 'utf8');
    expect(file.startsWith('line 0\nline 1\n')).toBe(true);
    expect(file.endsWith('line 4999\nLAST\n')).toBe(true);
  });

  it('times out and kills what the command started', async () => {
    const pidFile = join(dir, 'sleep.pid');
    const result = await runShellCommand(`sleep 60 & echo $! > ${pidFile}; wait`, {
      cwd: dir,
      env,
      timeoutMs: 3000,
      killGraceMs: 500,
    });
    expect(result.outcome).toMatchObject({ kind: 'timeout', which: 'wall', afterMs: 3000 });
    const sleepPid = readPid(pidFile);
    expect(Number.isInteger(sleepPid) && sleepPid > 0).toBe(true);
    expect(await waitForDeath(sleepPid)).toBe(true);
  });

  it('is aborted by the signal', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const result = await runShellCommand('sleep 60', { cwd: dir, env, signal: controller.signal });
    expect(result.outcome.kind).toBe('aborted');
  });

  it('a command that does not exist is the shell exiting 127, not a spawn error', async () => {
    const result = await runShellCommand('bearing-no-such-command', { cwd: dir, env });
    expect(result.outcome).toMatchObject({ kind: 'exited', exitCode: 127 });
    expect(result.output).toMatch(/not found/);
  });
});
