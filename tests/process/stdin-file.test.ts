/**
 * `stdinFile`: the prompt reaches the agent on stdin, whatever its size (one
 * argument is capped at 128 KiB on Linux). The child must see a regular file
 * that ends, never a pipe: agent CLIs wait on an open pipe.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunProcessOptions, runProcess } from '../../src/process/run-process.js';
import { makeTempDir, NODE, writeScript } from './support.js';

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});

afterEach(() => {
  cleanup();
});

const COPY_STDIN = `
import { fstatSync } from 'node:fs';
process.stderr.write(JSON.stringify({ isFile: fstatSync(0).isFile() }) + '\\n');
process.stdin.pipe(process.stdout);
`;

async function copyStdin(stdinFile: string, extra: Partial<RunProcessOptions> = {}) {
  const script = writeScript(dir, 'copy-stdin.mjs', COPY_STDIN);
  const stdoutFile = join(dir, 'stdout.log');
  const stderrLines: string[] = [];
  const outcome = await runProcess({
    file: NODE,
    args: [script],
    cwd: dir,
    env: {},
    stdinFile,
    stdoutFile,
    // Only a child waiting on stdin forever would reach this; it must not decide the outcome.
    timeoutMs: 20_000,
    onLine: (line, stream) => {
      if (stream === 'stderr') stderrLines.push(line);
    },
    ...extra,
  });
  return { outcome, copied: readFileSync(stdoutFile), stderrLines };
}

/** Our file descriptors open on `path`: a leaked stdin fd would show up here. */
function fdsOpenOn(path: string): string[] {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false; // the fd readdir itself used, already closed
    }
  });
}

describe('runProcess: stdinFile', () => {
  it('the child reads exactly the file, as a regular file, to EOF', async () => {
    const prompt = join(dir, 'prompt.txt');
    writeFileSync(prompt, 'Fix the bug.\nThen say "done" — ünïcödé.\n');
    const { outcome, copied, stderrLines } = await copyStdin(prompt);
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(copied.equals(readFileSync(prompt))).toBe(true);
    expect(stderrLines).toEqual(['{"isFile":true}']);
  });

  it('a 1 MiB file arrives byte for byte', async () => {
    const prompt = join(dir, 'prompt.bin');
    const bytes = randomBytes(1024 * 1024);
    writeFileSync(prompt, bytes);
    const { outcome, copied } = await copyStdin(prompt);
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(copied.length).toBe(bytes.length);
    expect(copied.equals(bytes)).toBe(true);
  });

  it.runIf(process.platform === 'linux')('closes our copy of the file descriptor', async () => {
    const prompt = join(dir, 'prompt.txt');
    writeFileSync(prompt, 'x');
    const { outcome } = await copyStdin(prompt);
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(fdsOpenOn(realpathSync(prompt))).toEqual([]);
  });

  it('an unreadable stdin file is our fault: rejects before spawning anything', async () => {
    let spawned = false;
    await expect(
      runProcess({
        file: NODE,
        args: ['-e', ''],
        cwd: dir,
        env: {},
        stdinFile: join(dir, 'no-such-prompt.txt'),
        onSpawn: () => {
          spawned = true;
        },
      }),
    ).rejects.toThrow(/ENOENT/);
    expect(spawned).toBe(false);
  });
});
