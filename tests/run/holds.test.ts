/**
 * The holds as the run's listener: an outcome's limit or outage holds the
 * CLI, its clock says when the hold ends, and what cannot be waited out
 * stops the run.
 */
import { describe, expect, it } from 'vitest';
import type { Failure } from '../../src/core/failure.js';
import type { StopReason } from '../../src/core/next-step.js';
import { makeTask } from '../../src/core/test-support.js';
import type { RunEvent } from '../../src/run/events.js';
import { Holds } from '../../src/run/holds.js';

const MIN = 60_000;
const task = makeTask({ id: 'build', cli: 'claude' });
const outage: Failure = { reason: 'outage', cli: 'claude', message: '529 Overloaded' };

function holdsAt(start: number, waitForLimits = true) {
  const clock = { t: start };
  const events: RunEvent[] = [];
  const stops: StopReason[] = [];
  const holds = new Holds({
    now: () => new Date(clock.t),
    waitForLimits: () => waitForLimits,
    outageBackoffMs: [MIN],
    emit: (e) => events.push(e),
    requestStop: (r) => stops.push(r),
  });
  const end = (failure?: Failure) =>
    holds.onLoop({
      type: 'outcome',
      task,
      outcome: {
        outcome: failure ? 'requeued' : 'completed',
        attempt: { attempt: 1, startedAt: new Date(clock.t).toISOString(), outcome: 'failed' },
        ...(failure ? { failure } : {}),
      },
    });
  return { clock, events, stops, holds, end };
}

describe('Holds', () => {
  it('holds the CLI after an outage until its clock passes the wait', () => {
    const start = Date.parse('2026-05-01T10:00:00Z');
    const { clock, events, stops, holds, end } = holdsAt(start);
    end(outage);
    expect(events).toEqual([
      {
        type: 'waiting',
        cli: 'claude',
        kind: 'outage',
        until: start + MIN,
        message: '529 Overloaded',
      },
    ]);
    expect(holds.heldUntil('claude')).toBe(start + MIN);
    expect(holds.waits()).toEqual([
      {
        cli: 'claude',
        kind: 'outage',
        until: '2026-05-01T10:01:00.000Z',
        message: '529 Overloaded',
      },
    ]);
    clock.t = start + MIN - 1;
    expect(holds.heldUntil('claude')).toBe(start + MIN);
    clock.t = start + MIN;
    expect(holds.heldUntil('claude')).toBeUndefined();
    expect(holds.waits()).toEqual([]);
    expect(stops).toEqual([]);
  });

  it('stops the run once the waits are used up, and starts afresh after a completion', () => {
    const start = Date.parse('2026-05-01T10:00:00Z');
    const { clock, stops, holds, end } = holdsAt(start);
    end(outage);
    clock.t += MIN;
    end(outage);
    expect(stops).toEqual([
      { kind: 'outage', task: 'build', cli: 'claude', message: '529 Overloaded' },
    ]);
    end();
    end(outage);
    expect(holds.heldUntil('claude')).toBe(clock.t + MIN);
  });

  it('stops the run at once when it does not wait for limits', () => {
    const { events, stops, holds, end } = holdsAt(0, false);
    end({ reason: 'rate-limited', message: 'limit' });
    expect(events).toEqual([]);
    expect(holds.heldUntil('claude')).toBeUndefined();
    expect(stops).toEqual([
      { kind: 'rate-limited', task: 'build', cli: 'claude', message: 'limit' },
    ]);
  });
});
