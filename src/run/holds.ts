/**
 * CLIs whose tasks the run holds back: after a usage limit (until the reset
 * time the CLI reported, or a bounded backoff) or an outage of the CLI's API
 * (5xx, 529, connection refused; a shorter backoff that grows). Neither is the
 * task's fault, so holding costs no retry; other CLIs' tasks go on meanwhile.
 * When the waits run out, the run stops and says why instead of hammering a
 * service that is not there.
 */
import type { Wait } from '../core/state.js';

/** The longest wait for a usage limit whose reset time the CLI reported. */
const MAX_LIMIT_WAIT_MS = 6 * 60 * 60 * 1000;
/** Waits when the CLI gave no reset time; after the last, the run stops. */
const LIMIT_BACKOFF_MS = [5, 15, 30].map((m) => m * 60 * 1000);
/**
 * Waits after an outage. Short at first (most are blips), then long enough to
 * outlast a real incident: about two hours in all, then the run stops.
 */
const OUTAGE_BACKOFF_MS = [1, 2, 5, 10, 20, 30, 30, 30].map((m) => m * 60 * 1000);
/** Resets are not exact to the second: start a little after. */
const RESET_MARGIN_MS = 30 * 1000;

/** A CLI whose tasks are held back until `until` (epoch ms). */
export interface Hold {
  kind: Wait['kind'];
  until: number;
  /** Waits made from the backoff schedule (bounded by its length). */
  backoffs: number;
  message: string;
}

/** How long to hold a CLI after a usage limit, or undefined to stop the run instead. */
export function limitHold(
  previous: Hold | undefined,
  failure: { message: string; resetsAt?: string },
  now: number,
  marginMs = RESET_MARGIN_MS,
): Hold | undefined {
  // Several tasks of one CLI hit the same limit: one wait, not one each.
  if (previous && previous.until > now) return previous;
  const backoffs = previous?.kind === 'limit' ? previous.backoffs : 0;
  const resetsAt = failure.resetsAt ? Date.parse(failure.resetsAt) : Number.NaN;
  if (Number.isFinite(resetsAt) && resetsAt - now <= MAX_LIMIT_WAIT_MS) {
    return {
      kind: 'limit',
      until: Math.max(now, resetsAt) + marginMs,
      backoffs,
      message: failure.message,
    };
  }
  return backoff('limit', LIMIT_BACKOFF_MS, backoffs, failure.message, now);
}

/** How long to hold a CLI after an outage, or undefined once the schedule is used up. */
export function outageHold(
  previous: Hold | undefined,
  failure: { message: string },
  now: number,
  schedule: readonly number[] = OUTAGE_BACKOFF_MS,
): Hold | undefined {
  if (previous && previous.until > now) return previous;
  const backoffs = previous?.kind === 'outage' ? previous.backoffs : 0;
  return backoff('outage', schedule, backoffs, failure.message, now);
}

function backoff(
  kind: Hold['kind'],
  schedule: readonly number[],
  done: number,
  message: string,
  now: number,
): Hold | undefined {
  const wait = schedule[done];
  if (wait === undefined) return undefined;
  return { kind, until: now + wait, backoffs: done + 1, message };
}

/** The holds of one run, by CLI name. */
export class Holds {
  readonly #byCli = new Map<string, Hold>();

  /** When `cli`'s tasks may start again, or undefined when they may start now. */
  heldUntil(cli: string, now: number): number | undefined {
    const hold = this.#byCli.get(cli);
    return hold && hold.until > now ? hold.until : undefined;
  }

  get(cli: string): Hold | undefined {
    return this.#byCli.get(cli);
  }

  set(cli: string, hold: Hold): void {
    this.#byCli.set(cli, hold);
  }

  /** A task of `cli` completed: the service is back, so the next problem starts a fresh schedule. */
  clear(cli: string): void {
    this.#byCli.delete(cli);
  }

  /** The holds still in force, as the state records them for readers. */
  waits(now: number): Wait[] {
    return [...this.#byCli]
      .filter(([, h]) => h.until > now)
      .map(([cli, h]) => ({
        cli,
        kind: h.kind,
        until: new Date(h.until).toISOString(),
        message: h.message,
      }));
  }
}
