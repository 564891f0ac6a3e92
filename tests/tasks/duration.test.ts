import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/tasks/duration.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1h1m1s1ms', 3_661_001],
    ['1.5s', 1500],
    ['0.5h', 1_800_000],
    [90, 90_000],
    [0.25, 250],
  ] as const)('reads %j as %i ms', (input, ms) => {
    expect(parseDuration(input)).toEqual({ ok: true, value: ms });
  });

  const shape = 'expected a duration such as 90s, 30m or 1h30m (or a number of seconds)';
  it.each([
    ['30 minutes', `${shape}, got "30 minutes"`],
    ['90', `${shape}, got "90"`],
    ['1d', `${shape}, got "1d"`],
    ['-5s', `${shape}, got "-5s"`],
    ['', `${shape}, got ""`],
    [' 2m', `${shape}, got " 2m"`],
    ['0s', 'expected a duration greater than zero, got "0s"'],
    [0, 'expected a duration greater than zero, got 0'],
    [-1, 'expected a duration greater than zero, got -1'],
    [0.0001, 'expected a duration greater than zero, got 0.0001'],
    ['597h', 'expected at most 596h (about 24 days), got "597h"'],
    [Number.POSITIVE_INFINITY, `${shape}, got Infinity`],
  ] as const)('refuses %j', (input, message) => {
    expect(parseDuration(input)).toEqual({ ok: false, error: message });
  });

  it('accepts the longest duration a timer can hold', () => {
    expect(parseDuration('596h')).toEqual({ ok: true, value: 596 * 3_600_000 });
  });
});
