/**
 * Lines over 1 MiB wait in a spill file beside the log, not in memory, and
 * are handed over from there: a claude `result` event can be a 20 MB line,
 * and its parser must get every byte of it, whatever the log cap keeps.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runProcess } from '../../src/process/run-process.js';
import { makeTempDir, NODE, writeScript } from './support.js';

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});

afterEach(() => cleanup());

const MB = 1024 * 1024;

/**
 * Prints short lines, then one line of `bytes` bytes (made of multi-byte
 * characters, cut across pipe chunks anywhere) ending in "THE END", slowly
 * enough that the pipe delivers it in many chunks.
 */
const CHILD = `
  const bytes = Number(process.argv[2]);
  const write = (text) => new Promise((resolve) => process.stdout.write(text, resolve));
  await write('{"type":"start"}\\nsecond line\\r\\n');
  const unit = 'aé😀€';
  let line = unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit)));
  line = Buffer.from(line).subarray(0, bytes - 7).toString('utf8');
  line += 'THE END';
  for (let i = 0; i < line.length; i += 100_000) await write(line.slice(i, i + 100_000));
  await write('\\n');
  process.stderr.write('done\\n');
`;

/** The line the child prints, to compare with what was handed over. */
function expectedLine(bytes: number): string {
  const unit = 'aé😀€';
  const line = unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit)));
  return `${Buffer.from(line)
    .subarray(0, bytes - 7)
    .toString('utf8')}THE END`;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('runProcess: long lines', () => {
  it('hands a 20 MB line to onLongLine in pieces, every byte, even past the log cap', async () => {
    const script = writeScript(dir, 'child.mjs', CHILD);
    const stdoutFile = join(dir, 'stdout.log');
    const short: string[] = [];
    const long: Array<{ pieces: number; length: number; hash: string; end: string }> = [];
    const outcome = await runProcess({
      file: NODE,
      args: [script, String(20 * MB)],
      cwd: dir,
      env: {},
      stdoutFile,
      stderrFile: join(dir, 'stderr.log'),
      maxLineBytes: 64 * MB,
      // The log keeps 1 MiB of the 20: the line is read from the spill file, not from the log.
      maxLogBytes: MB,
      onLine: (line, stream) => short.push(`${stream}: ${line}`),
      onLongLine: (line, stream) => {
        expect(stream).toBe('stdout');
        const hash = createHash('sha256');
        let pieces = 0;
        let length = 0;
        let last = '';
        for (const piece of line.pieces()) {
          hash.update(piece);
          pieces += 1;
          length += piece.length;
          last = piece;
        }
        long.push({ pieces, length, hash: hash.digest('hex'), end: last.slice(-7) });
      },
    });
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(short).toEqual(['stdout: {"type":"start"}', 'stdout: second line', 'stderr: done']);
    const line = expectedLine(20 * MB);
    expect(long).toEqual([
      { pieces: expect.any(Number), length: line.length, hash: sha(line), end: 'THE END' },
    ]);
    expect(long[0]!.pieces).toBeGreaterThan(100);
    expect(statSync(stdoutFile).size).toBeLessThan(2 * MB);
    // The spill file was removed as soon as it was opened: only the logs are left.
    expect(readdirSync(dir).sort()).toEqual(['child.mjs', 'stderr.log', 'stdout.log']);
  });

  it('without onLongLine, onLine gets the long line whole', async () => {
    const script = writeScript(dir, 'child.mjs', CHILD);
    const lines: string[] = [];
    const outcome = await runProcess({
      file: NODE,
      args: [script, String(3 * MB)],
      cwd: dir,
      env: {},
      stdoutFile: join(dir, 'stdout.log'),
      maxLineBytes: 64 * MB,
      onLine: (line, stream) => {
        if (stream === 'stdout') lines.push(line);
      },
    });
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(lines.length).toBe(3);
    expect(sha(lines[2]!)).toBe(sha(expectedLine(3 * MB)));
  });

  it('a spill file that cannot be made fails the run, like a log that cannot be written', async () => {
    const script = writeScript(dir, 'child.mjs', CHILD);
    const stdoutFile = join(dir, 'stdout.log');
    // A directory where the spill file would go.
    mkdirSync(`${stdoutFile}.stdout-line`);
    await expect(
      runProcess({
        file: NODE,
        args: [script, String(3 * MB)],
        cwd: dir,
        env: {},
        stdoutFile,
        maxLineBytes: 64 * MB,
        killGraceMs: 500,
        onLine: () => {},
        onLongLine: () => {},
      }),
    ).rejects.toThrow(/EISDIR/);
  });
});
