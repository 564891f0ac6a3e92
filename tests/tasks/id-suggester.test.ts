import { describe, expect, it } from 'vitest';
import { editDistance, suggest } from '../../src/core/suggest.js';
import { IdSuggester } from '../../src/tasks/id-suggester.js';

describe('IdSuggester', () => {
  const ids = [
    'db-schema',
    'db-seed',
    'api-routes',
    'api-tests',
    'frontend',
    'a',
    'ab',
    'setup.v2',
  ];
  const suggester = new IdSuggester(ids);

  it.each([
    'db-shema',
    'db-sed',
    'api-route',
    'api-test',
    'frontnd',
    'b',
    'abc',
    'setup.v3',
    'DB-SCHEMA',
    'nothing-like-it',
    '',
    'x',
  ])('agrees with the core suggest for %j', (input) => {
    expect(suggester.suggest(input)).toBe(suggest(input, ids));
  });

  it('agrees with the core suggest on random near-misses', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = 'abcde-.';
    const word = (len: number) =>
      Array.from({ length: len }, () => alphabet[random(alphabet.length)]).join('');
    const pool = Array.from({ length: 200 }, () => word(1 + random(14)));
    const s = new IdSuggester(pool);
    for (let i = 0; i < 500; i++) {
      const input = word(1 + random(14));
      const mine = s.suggest(input);
      const core = suggest(input, pool);
      // Whatever core suggests, this finds one as close (on a tie across lengths either will do).
      if (core !== undefined) expect(editDistance(input, mine!)).toBe(editDistance(input, core));
      // It may also accept a longer candidate that core passes over after finding a closer,
      // shorter one it must reject; any suggestion is within the same typo threshold.
      if (mine !== undefined) {
        const limit = Math.max(1, Math.floor(Math.max(input.length, mine.length) / 3));
        expect(editDistance(input, mine)).toBeLessThanOrEqual(limit);
      }
    }
  });

  it('prefers the earlier candidate on a tie', () => {
    expect(new IdSuggester(['ab', 'ac']).suggest('aa')).toBe('ab');
    expect(new IdSuggester(['ac', 'ab']).suggest('aa')).toBe('ac');
    expect(new IdSuggester(['abcd', 'abc']).suggest('abcx')).toBe('abcd');
  });

  it('stops suggesting once its comparison budget is spent', () => {
    const s = new IdSuggester(['alpha', 'bravo'], 4);
    expect(s.suggest('alpga')).toBe('alpha');
    expect(s.suggest('bravp')).toBe('bravo');
    expect(s.suggest('alphx')).toBeUndefined();
    expect(s.suggest('alpga')).toBe('alpha'); // cached answers stay
  });

  it('stays fast with thousands of ids and thousands of unknown references', () => {
    const many = Array.from({ length: 5000 }, (_, i) => `task-${i.toString().padStart(4, '0')}`);
    const big = new IdSuggester(many);
    expect(big.suggest('task-00x1')).toBe('task-0001');
    for (let i = 0; i < 5000; i++) big.suggest(`tsak-${i}`);
  });
});
