/**
 * The checker state.json is read with: each problem by path, as "expected
 * ..., got ...", and keys it does not name left alone.
 */
import { describe, expect, it } from 'vitest';
import {
  array,
  issuesOf,
  number,
  object,
  oneOf,
  optional,
  record,
  refine,
  string,
  union,
} from '../../src/state/shape.js';

const shape = object({
  name: string({ nonEmpty: true }),
  count: number({ whole: true, min: 0 }),
  tags: optional(array(oneOf(['a', 'b']))),
  items: record(
    union('kind', {
      file: { path: string() },
      link: { to: string(), depth: optional(number()) },
    }),
  ),
});

const messages = (value: unknown) =>
  issuesOf(shape, value).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('issuesOf', () => {
  it('passes a value of the shape, whatever other keys it has', () => {
    expect(
      messages({
        name: 'x',
        count: 0,
        items: { one: { kind: 'file', path: 'a', extra: true } },
        newer: { field: 1 },
      }),
    ).toEqual([]);
  });

  it('names every problem by path, with what was expected and what was found', () => {
    expect(
      messages({
        name: '',
        count: 1.5,
        tags: ['a', 'c'],
        items: { one: { kind: 'link', to: 3 }, two: { kind: 'pipe' }, three: [] },
      }),
    ).toEqual([
      'name: expected a non-empty string, got ""',
      'count: expected a whole number of 0 or more, got 1.5',
      'tags.1: expected one of a, b, got "c"',
      'items.one.to: expected a string, got 3',
      'items.two.kind: expected one of file, link, got "pipe"',
      'items.three: expected an object, got a list',
    ]);
  });

  it('says what a missing key should have been, and takes an absent optional one', () => {
    expect(messages({ items: {} })).toEqual([
      'name: missing: expected a non-empty string',
      'count: missing: expected a whole number of 0 or more',
    ]);
  });

  it('names null, lists and objects for what they are', () => {
    expect(messages(null)).toEqual([': expected an object, got null']);
    expect(messages({ name: 'x', count: -1, items: null })).toEqual([
      'count: expected a whole number of 0 or more, got -1',
      'items: expected an object, got null',
    ]);
  });

  it('applies a refinement only to a value that has the shape', () => {
    const even = refine(number(), (n, path) =>
      n % 2 === 0 ? [] : [{ path, message: `expected an even number, got ${n}` }],
    );
    expect(issuesOf(even, 3).map((i) => i.message)).toEqual(['expected an even number, got 3']);
    expect(issuesOf(even, 'x').map((i) => i.message)).toEqual(['expected a number, got "x"']);
  });
});
