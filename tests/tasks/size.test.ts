import { describe, expect, it } from 'vitest';
import { parseSize } from '../../src/tasks/size.js';

describe('parseSize', () => {
  it.each([
    ['64MB', 64 * 1024 * 1024],
    ['500KB', 500 * 1024],
    ['1GB', 1024 ** 3],
    ['2TB', 2 * 1024 ** 4],
    ['512B', 512],
    ['1.5MB', 1.5 * 1024 * 1024],
    ['64 MB', 64 * 1024 * 1024],
    ['8MiB', 8 * 1024 * 1024],
    ['0MB', 0],
    [1000, 1000],
    [0, 0],
  ] as const)('reads %j as %i bytes', (input, bytes) => {
    expect(parseSize(input)).toEqual({ ok: true, value: bytes });
  });

  const shape = 'expected a size such as 500KB, 64MB or 1GB (or a number of bytes)';
  it.each([
    ['64', `${shape}, got "64"`],
    ['64mb', `${shape}, got "64mb"`],
    ['64 megabytes', `${shape}, got "64 megabytes"`],
    ['-1MB', `${shape}, got "-1MB"`],
    ['', `${shape}, got ""`],
    [-1, 'expected a size of 0 or more, got -1'],
    [1.5, 'expected a whole number of bytes, got 1.5'],
    [Number.POSITIVE_INFINITY, `${shape}, got Infinity`],
    ['9000000TB', 'expected at most 8192TB, got "9000000TB"'],
  ] as const)('refuses %j', (input, message) => {
    expect(parseSize(input)).toEqual({ ok: false, error: message });
  });
});
