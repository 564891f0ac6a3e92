import { describe, expect, it } from 'vitest';
import type { Failure } from '../../src/core/failure.js';
import { CircuitBreaker } from '../../src/run/breaker.js';
import { outageHold } from '../../src/run/holds.js';

const crash = (n: number): Failure => ({
  reason: 'agent-exit',
  exitCode: 1,
  message: `connect ECONNREFUSED 127.0.0.1:${8000 + n}`,
});

describe('CircuitBreaker', () => {
  it('trips on the third distinct task in a row failing the same way, numbers aside', () => {
    const b = new CircuitBreaker();
    expect(b.record('a', crash(1))).toBeUndefined();
    expect(b.record('b', crash(2))).toBeUndefined();
    expect(b.record('c', crash(3))).toEqual({
      tasks: ['a', 'b', 'c'],
      failure: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it("does not count one task's own retries twice", () => {
    const b = new CircuitBreaker();
    b.record('a', crash(1));
    b.record('a', crash(1));
    expect(b.record('b', crash(1))).toBeUndefined();
  });

  it('resets on a completion and on a different error', () => {
    const b = new CircuitBreaker();
    b.record('a', crash(1));
    b.record('b', crash(1));
    b.record('x', undefined);
    expect(b.record('c', crash(1))).toBeUndefined();
    b.record('d', { reason: 'agent-exit', exitCode: 2, message: 'segfault' });
    expect(b.record('e', crash(1))).toBeUndefined();
  });

  it("ignores failures about the task's own work, and limits and outages the holds deal with", () => {
    const b = new CircuitBreaker();
    const gate: Failure = { reason: 'verify-failed', command: 'npm test', exitCode: 1, output: '' };
    for (const id of ['a', 'b', 'c', 'd']) expect(b.record(id, gate)).toBeUndefined();
    b.record('e', crash(1));
    b.record('f', crash(1));
    b.record('g', { reason: 'outage', cli: 'claude', message: '529 Overloaded', apiStatus: 529 });
    expect(b.record('h', crash(1))).toBeDefined();
  });
});

describe('outageHold', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  it('backs off 1, 2, 5, 10, 20 and 30 minutes (about two hours in all), then gives up', () => {
    const waits: number[] = [];
    let hold = outageHold(undefined, { message: '529' }, now);
    let t = now;
    while (hold) {
      waits.push((hold.until - t) / 60_000);
      t = hold.until + 1;
      hold = outageHold(hold, { message: '529' }, t);
    }
    expect(waits).toEqual([1, 2, 5, 10, 20, 30, 30, 30]);
  });
  it('keeps one wait when several tasks of a CLI hit the same outage', () => {
    const first = outageHold(undefined, { message: '503' }, now)!;
    expect(outageHold(first, { message: '503' }, now + 1000)).toBe(first);
  });
});
