/** The shared fixture helper (tests/helpers/fixtures.ts) that other suites reuse. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createFixture } from '../helpers/fixtures.js';

describe('createFixture', () => {
  it('writes text, bytes, symlinks and empty folders under a fresh temp dir, and removes them', async () => {
    const fx = await createFixture({
      'a/b.txt': 'hello',
      'bin.dat': new Uint8Array([0, 1, 2]),
      link: { symlink: 'a/b.txt' },
      empty: { dir: true },
    });
    expect(fx.dir.startsWith(tmpdir())).toBe(true);
    expect(readFileSync(fx.path('a/b.txt'), 'utf8')).toBe('hello');
    expect([...readFileSync(fx.path('bin.dat'))]).toEqual([0, 1, 2]);
    expect(readlinkSync(fx.path('link'))).toBe('a/b.txt');
    expect(statSync(fx.path('empty')).isDirectory()).toBe(true);
    await fx.write({ 'a/c.txt': 'more' });
    expect(readFileSync(fx.path('a', 'c.txt'), 'utf8')).toBe('more');
    await fx.cleanup();
    expect(existsSync(fx.dir)).toBe(false);
    await fx.cleanup();
  });

  it('can make the fixture a git repository with one commit', async () => {
    const fx = await createFixture({ 'src/x.js': 'x' }, { git: true });
    try {
      const files = execFileSync('git', ['ls-files'], { cwd: fx.dir, encoding: 'utf8' });
      expect(files.trim()).toBe('src/x.js');
    } finally {
      await fx.cleanup();
    }
  });
});
