import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freeDiskBytes } from '../../src/state/disk-space.js';

describe('freeDiskBytes', () => {
  it.runIf(process.platform === 'linux')('agrees with df on what is available', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bearing-disk-'));
    try {
      const free = freeDiskBytes(dir);
      const df = Number(
        execFileSync('df', ['-B1', '--output=avail', dir], { encoding: 'utf8' }).split('\n')[1],
      );
      expect(free).toBeGreaterThan(0);
      // Other processes write meanwhile: generous, but far tighter than "any number".
      expect(Math.abs(free! - df)).toBeLessThan(Math.max(df * 0.05, 256 * 1024 * 1024));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is undefined for a path that does not exist', () => {
    expect(freeDiskBytes(join(tmpdir(), 'bearing-no-such-dir', 'x'))).toBeUndefined();
  });
});
