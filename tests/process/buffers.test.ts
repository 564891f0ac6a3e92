import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/process/line-splitter.js';
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
