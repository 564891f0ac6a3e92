/**
 * `maxLogBytes`: a runaway child cannot fill the disk with its log. The file
 * keeps the head and the tail and says what it dropped; the lines handed to
 * onLine (what the parsers read) are all there.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatBytes, MAX_LOG_TAIL_BYTES } from '../../src/process/output-file.js';
import { type RunProcessOptions, runProcess } from '../../src/process/run-process.js';
import { makeTempDir, NODE, writeScript } from './support.js';

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});

afterEach(() => cleanup());

const MiB = 1024 * 1024;

/** Line n of the output: 10 bytes, so byte k of the output is in line floor(k / 10). */
const lineText = (n: number) => `${String(n).padStart(9, '0')}\n`;

/** Bytes [from, to) of the whole output of `lines` numbered lines. */
function expectedBytes(from: number, to: number): Buffer {
  let text = '';
  for (let n = Math.floor(from / 10); n * 10 < to; n += 1) text += lineText(n);
  const start = from - Math.floor(from / 10) * 10;
  return Buffer.from(text).subarray(start, start + (to - from));
}

/** A child printing `lines` numbered lines on stdout (and, if asked, the same on stderr), fast. */
function numberedLines(lines: number, alsoStderr = false): string {
  return `
    const line = (n) => String(n).padStart(9, '0') + '\\n';
    const write = (stream, text) => new Promise((resolve) => stream.write(text, resolve));
    for (let start = 0; start < ${lines}; start += 100000) {
      let block = '';
      for (let n = start; n < Math.min(start + 100000, ${lines}); n += 1) block += line(n);
      await write(process.stdout, block);
      ${alsoStderr ? 'await write(process.stderr, block);' : ''}
    }
  `;
}

async function run(source: string, options: Partial<RunProcessOptions>) {
  const script = writeScript(dir, 'child.mjs', source);
  let count = 0;
  let last = '';
  const outcome = await runProcess({
    file: NODE,
    args: [script],
    cwd: dir,
    env: {},
    ...options,
    onLine: (line, stream) => {
      if (stream !== 'stdout') return;
      count += 1;
      last = line;
    },
  });
  return { outcome, count, last };
}

describe('runProcess: maxLogBytes', () => {
  it('50 MB against a 1 MiB cap: bounded file, exact head and tail, one line saying what was dropped', async () => {
    const lines = 5_000_000; // 50 MB
    const total = lines * 10;
    const stdoutFile = join(dir, 'out.log');
    const { outcome, count, last } = await run(numberedLines(lines), {
      stdoutFile,
      maxLogBytes: MiB,
    });
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    // The parsers saw everything.
    expect(count).toBe(lines);
    expect(last).toBe(lineText(lines - 1).trimEnd());

    const file = readFileSync(stdoutFile);
    const head = MiB / 2;
    const tail = MiB / 2;
    const marker = `\n[bearing: ${formatBytes(total - head - tail)} of output dropped here; the log keeps the first 512 KB and the last 512 KB (run.max_log_size)]\n`;
    expect(file.length).toBe(head + marker.length + tail);
    expect(file.subarray(0, head).equals(expectedBytes(0, head))).toBe(true);
    expect(file.subarray(head, head + marker.length).toString()).toBe(marker);
    expect(file.subarray(head + marker.length).equals(expectedBytes(total - tail, total))).toBe(
      true,
    );
    expect(marker).toContain('[bearing: 46.7 MB of output dropped here;');
    expect(outcome.logDroppedBytes).toBe(total - MiB);
  });

  it('output within the cap is kept whole, with no line and no logDroppedBytes', async () => {
    const lines = 90_000; // 900 KB: past the head's share, within the cap
    const stdoutFile = join(dir, 'out.log');
    const { outcome } = await run(numberedLines(lines), { stdoutFile, maxLogBytes: MiB });
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(readFileSync(stdoutFile).equals(expectedBytes(0, lines * 10))).toBe(true);
    expect(outcome.logDroppedBytes).toBeUndefined();
  });

  it('stdout and stderr sent to one file share one cap', async () => {
    const lines = 200_000; // 2 MB on each stream
    const logFile = join(dir, 'all.log');
    const { outcome } = await run(numberedLines(lines, true), {
      stdoutFile: logFile,
      stderrFile: logFile,
      maxLogBytes: MiB,
    });
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    const size = statSync(logFile).size;
    expect(size).toBeGreaterThan(MiB);
    expect(size).toBeLessThan(MiB + 200);
    expect(outcome.logDroppedBytes).toBe(2 * lines * 10 - MiB);
  });

  it('the tail kept in memory never exceeds 8 MiB, whatever the cap', async () => {
    const lines = 3_000_000; // 30 MB against a 20 MiB cap
    const total = lines * 10;
    const stdoutFile = join(dir, 'out.log');
    const { outcome } = await run(numberedLines(lines), { stdoutFile, maxLogBytes: 20 * MiB });
    const head = 20 * MiB - MAX_LOG_TAIL_BYTES;
    const file = readFileSync(stdoutFile);
    const text = file.toString('latin1');
    expect(text).toContain('the log keeps the first 12 MB and the last 8 MB (run.max_log_size)]');
    expect(file.subarray(0, head).equals(expectedBytes(0, head))).toBe(true);
    expect(
      file.subarray(file.length - MAX_LOG_TAIL_BYTES).equals(expectedBytes(total - 8 * MiB, total)),
    ).toBe(true);
    expect(outcome.logDroppedBytes).toBe(total - 20 * MiB);
  });

  it('without a cap the file keeps everything', async () => {
    const lines = 300_000;
    const stdoutFile = join(dir, 'out.log');
    const { outcome } = await run(numberedLines(lines), { stdoutFile });
    expect(statSync(stdoutFile).size).toBe(lines * 10);
    expect(outcome.logDroppedBytes).toBeUndefined();
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 bytes'],
    [1, '1 byte'],
    [1023, '1023 bytes'],
    [1024, '1 KB'],
    [1536, '1.5 KB'],
    [64 * MiB, '64 MB'],
    [Math.round(712.4 * MiB), '712.4 MB'],
    [3 * 1024 * MiB, '3 GB'],
  ])('%i bytes is "%s"', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
