import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
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

async function collect(
  source: string,
  options: { maxLineBytes?: number; stdoutFile?: string } = {},
) {
  const script = writeScript(dir, 'child.mjs', source);
  const lines: string[] = [];
  const outcome = await runProcess({
    file: NODE,
    args: [script],
    cwd: dir,
    env: {},
    ...options,
    onLine: (line, stream) => {
      if (stream === 'stdout') lines.push(line);
    },
  });
  return { outcome, lines };
}

/** Child source: writes each part to stdout, waiting for the pipe and a pause in between. */
function writesInParts(parts: string[]): string {
  return `
    const parts = ${JSON.stringify(parts)}.map((p) => Buffer.from(p, 'base64'));
    for (const part of parts) {
      await new Promise((resolve) => process.stdout.write(part, resolve));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  `;
}
const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

describe('runProcess: lines', () => {
  it('delivers a line split across chunks whole', async () => {
    const { outcome, lines } = await collect(
      writesInParts([b64('{"type":"resu'), b64('lt","ok":true}\n{"n":'), b64('2}\n')]),
    );
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(lines).toEqual(['{"type":"result","ok":true}', '{"n":2}']);
  });

  it('keeps a multi-byte character split across chunks intact', async () => {
    const e = Buffer.from('é→😀\n');
    const { lines } = await collect(
      writesInParts([b64(e.subarray(0, 1)), b64(e.subarray(1, 4)), b64(e.subarray(4))]),
    );
    expect(lines).toEqual(['é→😀']);
  });

  it('strips \\r\\n, keeps empty lines, and emits a last line without a newline', async () => {
    const { lines } = await collect(writesInParts([b64('a\r\n\nb\n'), b64('last')]));
    expect(lines).toEqual(['a', '', 'b', 'last']);
  });

  it('delivers a 300 KB line (many pipe reads) whole', async () => {
    const big = 'y'.repeat(300 * 1024);
    const { lines } = await collect(`process.stdout.write(${JSON.stringify(big)} + '\\nnext\\n');`);
    expect(lines.length).toBe(2);
    expect(lines[0]).toBe(big);
    expect(lines[1]).toBe('next');
  });

  it('cuts a huge line for the callback but keeps every byte in the file', async () => {
    const stdoutFile = join(dir, 'stdout.log');
    const { lines } = await collect(
      `process.stdout.write('x'.repeat(3 * 1024 * 1024) + '\\n{"after":1}\\n');`,
      { stdoutFile, maxLineBytes: 1024 * 1024 },
    );
    expect(lines.length).toBe(2);
    expect(lines[0]).toBe('x'.repeat(1024 * 1024));
    expect(lines[1]).toBe('{"after":1}');
    expect(statSync(stdoutFile).size).toBe(3 * 1024 * 1024 + 13);
  });
});

describe('runProcess: files', () => {
  it('streams 50 MB of output to the file intact', async () => {
    const stdoutFile = join(dir, 'stdout.log');
    // 50 MiB of numbered 1 KiB lines, written as fast as the pipe takes them.
    const { outcome, lines } = await collect(
      `
      const line = (i) => (String(i).padStart(8, '0') + ' ' + 'z'.repeat(1014) + '\\n');
      let i = 0;
      const write = () => {
        while (i < 51200) {
          let chunk = '';
          for (let k = 0; k < 64 && i < 51200; k++) chunk += line(i++);
          if (!process.stdout.write(chunk)) return process.stdout.once('drain', write);
        }
      };
      write();
      `,
      { stdoutFile },
    );
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(statSync(stdoutFile).size).toBe(50 * 1024 * 1024);
    expect(lines.length).toBe(51200);
    expect(lines[51199]!.startsWith('00051199 ')).toBe(true);
    const expected = createHash('sha256');
    for (let i = 0; i < 51200; i++) {
      expected.update(`${String(i).padStart(8, '0')} ${'z'.repeat(1014)}\n`);
    }
    const actual = createHash('sha256').update(readFileSync(stdoutFile)).digest('hex');
    expect(actual).toBe(expected.digest('hex'));
  });

  it('appends to an existing file instead of truncating it', async () => {
    const stdoutFile = join(dir, 'stdout.log');
    await collect(`console.log('first');`, { stdoutFile });
    await collect(`console.log('second');`, { stdoutFile });
    expect(readFileSync(stdoutFile, 'utf8')).toBe('first\nsecond\n');
  });

  it('sends stdout and stderr to one file in arrival order when given the same path', async () => {
    const file = join(dir, 'combined.log');
    const script = writeScript(
      dir,
      'both.mjs',
      `
      const say = (stream, text) => new Promise((r) => stream.write(text, r));
      for (let i = 0; i < 3; i++) {
        await say(process.stdout, 'out ' + i + '\\n');
        await new Promise((r) => setTimeout(r, 50));
        await say(process.stderr, 'err ' + i + '\\n');
        await new Promise((r) => setTimeout(r, 50));
      }
      `,
    );
    await runProcess({
      file: NODE,
      args: [script],
      cwd: dir,
      env: {},
      stdoutFile: file,
      stderrFile: file,
    });
    expect(readFileSync(file, 'utf8')).toBe('out 0\nerr 0\nout 1\nerr 1\nout 2\nerr 2\n');
  });
});
