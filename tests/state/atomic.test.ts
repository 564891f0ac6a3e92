import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicAsync } from '../../src/state/atomic.js';
import { bundle, nodeChild, useTempDirs, waitFor } from './support.js';

const tempDir = useTempDirs();
let atomicModule = '';
let bundleDir = '';

beforeAll(async () => {
  bundleDir = mkdtempSync(join(tmpdir(), 'bearing-bundle-'));
  atomicModule = (await bundle(bundleDir, { atomic: 'src/state/atomic.ts' })).atomic!;
  return () => rmSync(bundleDir, { recursive: true, force: true });
});

/** A document that proves itself whole: its length and a checksum are inside it. */
const WRITER = (mode: 'sync' | 'async') => `
import { writeFileAtomic, writeFileAtomicAsync } from ${JSON.stringify('MODULE')};
const target = process.argv[1];
for (let seq = 0; ; seq++) {
  const pad = String(seq % 10).repeat(100_000 + (seq % 7) * 50_000);
  const doc = JSON.stringify({ seq, length: pad.length, pad });
  ${mode === 'sync' ? 'writeFileAtomic(target, doc);' : 'await writeFileAtomicAsync(target, doc);'}
  if (seq === 3) process.stdout.write('writing\\n');
}
`;

function assertWhole(text: string): number {
  const doc = JSON.parse(text) as { seq: number; length: number; pad: string };
  expect(doc.pad.length).toBe(doc.length);
  expect(doc.pad).toBe(String(doc.seq % 10).repeat(doc.length));
  return doc.seq;
}

describe('writeFileAtomic', () => {
  it('replaces the content and leaves no temp file behind', async () => {
    const dir = tempDir();
    const target = join(dir, 'state.json');
    writeFileSync(target, 'old');
    writeFileAtomic(target, 'new');
    expect(readFileSync(target, 'utf8')).toBe('new');
    await writeFileAtomicAsync(target, 'newer', { fsync: false });
    expect(readFileSync(target, 'utf8')).toBe('newer');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('leaves the old file in place and cleans up when the write fails', () => {
    const dir = tempDir();
    const target = join(dir, 'missing-dir', 'state.json');
    expect(() => writeFileAtomic(target, 'x')).toThrow(/ENOENT/);
    const existing = join(dir, 'a');
    writeFileSync(existing, 'keep');
    // Renaming a file over a directory fails: the temp file must not be left behind.
    mkdirSync(join(dir, 'a-dir'));
    expect(() => writeFileAtomic(join(dir, 'a-dir'), 'x')).toThrow();
    expect(readdirSync(dir).sort()).toEqual(['a', 'a-dir']);
    expect(readFileSync(existing, 'utf8')).toBe('keep');
  });

  for (const mode of ['sync', 'async'] as const) {
    it(`never exposes a partial file, even to a writer killed with SIGKILL (${mode})`, async () => {
      const dir = tempDir();
      const target = join(dir, 'state.json');
      const seen: number[] = [];
      for (let round = 0; round < 6; round++) {
        const { child, lines, exited } = nodeChild(WRITER(mode).replace('MODULE', atomicModule), [
          target,
        ]);
        await waitFor(() => lines.includes('writing'));
        // Readers during the writes only ever see whole documents.
        const until = Date.now() + 40 + round * 25;
        while (Date.now() < until) {
          seen.push(assertWhole(readFileSync(target, 'utf8')));
          await new Promise((r) => setImmediate(r));
        }
        child.kill('SIGKILL');
        await exited;
        // After the kill, whatever instant it landed on, the file is whole.
        seen.push(assertWhole(readFileSync(target, 'utf8')));
      }
      expect(seen.length).toBeGreaterThan(12);
      expect(existsSync(target)).toBe(true);
    });
  }
});
