import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LineSplitter, type LongLine } from '../../src/process/line-splitter.js';
import { TailBuffer } from '../../src/process/tail-buffer.js';

function split(chunks: Array<string | Buffer>, maxLineBytes = 1024): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter(maxLineBytes, (line) => lines.push(line));
  for (const chunk of chunks) splitter.push(Buffer.from(chunk));
  splitter.end();
  return lines;
}

describe('LineSplitter', () => {
  it('joins a line across chunks and splits several lines in one chunk', () => {
    expect(split(['ab', 'c\nd', 'e\nf\n'])).toEqual(['abc', 'de', 'f']);
  });

  it('emits nothing at end when the output ended with a newline', () => {
    expect(split(['a\n'])).toEqual(['a']);
    expect(split([])).toEqual([]);
  });

  it('emits empty lines', () => {
    expect(split(['\n\n'])).toEqual(['', '']);
  });

  it('cuts a long line at the cap and resumes at the next newline', () => {
    expect(split(['0123456789', 'abcdef\nok\n'], 4)).toEqual(['0123', 'ok']);
  });

  it('decodes UTF-8 split anywhere', () => {
    const bytes = Buffer.from('ü😀\n');
    const chunks = [...bytes].map((byte) => Buffer.from([byte]));
    expect(split(chunks)).toEqual(['ü😀']);
  });
});

describe('LineSplitter with a spill file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bearing-spill-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Lines as [kind, text]: 'short' from emit, 'long' from the spill's emit (pieces joined). */
  function spill(chunks: Array<string | Buffer>, maxLineBytes: number, memoryBytes: number) {
    const got: Array<['short' | 'long', string]> = [];
    const pieces: string[][] = [];
    const path = join(dir, 'out.log.stdout-line');
    const splitter = new LineSplitter(maxLineBytes, (line) => got.push(['short', line]), {
      path,
      memoryBytes,
      emit: (line: LongLine) => {
        const parts = [...line.pieces()];
        pieces.push(parts);
        expect(parts.join('')).toBe(line.text());
        got.push(['long', parts.join('')]);
      },
    });
    for (const chunk of chunks) {
      splitter.push(Buffer.from(chunk));
      // Removed as soon as it is made: nothing is left behind, even by a killed run.
      expect(existsSync(path)).toBe(false);
    }
    splitter.end();
    return { got, pieces };
  }

  it('hands lines over the memory budget over from the file, whole, and the rest as strings', () => {
    const long = 'L'.repeat(100);
    const { got } = spill(
      ['short\n', long.slice(0, 7), long.slice(7), '\nok\r\n', `${long}\r\n`],
      1000,
      10,
    );
    expect(got).toEqual([
      ['short', 'short'],
      ['long', long],
      ['short', 'ok'],
      ['long', long],
    ]);
  });

  it('reads a long line back in pieces that never split a character', () => {
    // Multi-byte characters across every possible boundary of 64 KiB pieces.
    const line = 'aé😀€'.repeat(50_000);
    const { got, pieces } = spill([Buffer.from(`${line}\n`)], 1 << 24, 1024);
    expect(got).toEqual([['long', line]]);
    expect(pieces[0]!.length).toBeGreaterThan(5);
    expect(pieces[0]!.every((p) => !/[\ud800-\udbff]$/.test(p))).toBe(true);
  });

  it('cuts a spilled line at the cap and ends a last line without a newline', () => {
    const { got } = spill(['0123456789'.repeat(10), 'more', '\n', 'x'.repeat(30)], 50, 10);
    expect(got).toEqual([
      ['long', '0123456789'.repeat(5)],
      ['long', 'x'.repeat(30)],
    ]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('throws when the spill file cannot be made (the caller fails the run)', () => {
    const splitter = new LineSplitter(1000, () => {}, {
      path: join(dir, 'missing', 'spill'),
      memoryBytes: 4,
      emit: () => {},
    });
    splitter.push(Buffer.from('abc'));
    expect(() => splitter.push(Buffer.from('defgh'))).toThrow(/ENOENT/);
  });
});

describe('TailBuffer', () => {
  it('keeps the last bytes across pushes', () => {
    const tail = new TailBuffer(5);
    tail.push(Buffer.from('abc'));
    tail.push(Buffer.from('defg'));
    expect(tail.toString()).toBe('cdefg');
    tail.push(Buffer.from('0123456789'));
    expect(tail.toString()).toBe('56789');
  });

  it('drops a character cut at the start of the window', () => {
    const tail = new TailBuffer(5);
    tail.push(Buffer.from('xé😀')); // é = 2 bytes, 😀 = 4 bytes: the window starts inside é
    expect(tail.toString()).toBe('😀');
  });
});

describe('TailBuffer: a large window fed in many chunks', () => {
  it('matches the tail of everything pushed, at every step', () => {
    const capacity = 1000;
    const tail = new TailBuffer(capacity);
    const pushed: Buffer[] = [];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 2000; i += 1) {
      // Mostly small chunks, now and then one larger than the window.
      const size = i % 97 === 0 ? 1500 : next() % 120;
      const chunk = Buffer.alloc(size, i % 251);
      tail.push(chunk);
      pushed.push(chunk);
      const all = Buffer.concat(pushed);
      const expected = all.subarray(Math.max(0, all.length - capacity));
      expect(tail.length).toBe(expected.length);
      if (i % 50 === 0 || i === 1999) expect(tail.bytes().equals(expected)).toBe(true);
    }
  });
});
