/**
 * CLIs whose tasks the run holds back: after a usage limit (until the reset
 * time the CLI reported, or a bounded backoff) or an outage of the CLI's API
 * (5xx, 529, connection refused; a shorter backoff that grows). Neither is the
 * task's fault, so holding costs no retry; other CLIs' tasks go on meanwhile.
 * When the waits run out, the run stops and says why instead of hammering a
 * service that is not there.
 */
import type { Clock } from '../core/clock.js';
import type { Failure } from '../core/failure.js';
import type { StopReason } from '../core/next-step.js';
import type { Wait } from '../core/state.js';
import type { Task } from '../core/task.js';
import { stopReasonFor, type TaskOutcome } from '../core/transitions.js';
import type { RunEvent } from './events.js';
import type { LoopEvent, RunListener } from './listeners.js';

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

/** A usage limit or an outage: not the task's fault. */
type HeldFailure = Extract<Failure, { reason: 'rate-limited' | 'outage' }>;

/** The failures the holds deal with: they wait them out, or stop the run. */
export function holdsDealWith(failure: Failure | undefined): failure is HeldFailure {
  return failure?.reason === 'rate-limited' || failure?.reason === 'outage';
}

export interface HoldsOptions {
  now: Clock;
  /** Whether the run waits for limits and outages (`run.wait_for_limits`; the plan may change). */
  waitForLimits: () => boolean;
  /** How long after a reported limit reset to go on; tests shorten it. */
  limitMarginMs?: number | undefined;
  /** The waits after an outage; tests shorten them. */
  outageBackoffMs?: readonly number[] | undefined;
  /** Tells the UI the run waits (`waiting`). */
  emit: (event: RunEvent) => void;
  /** A limit or outage the run does not wait out, or no longer. */
  requestStop: (reason: StopReason) => void;
}

/**
 * The holds of one run, by CLI name: set from the outcomes of tasks' ends,
 * before they are saved, so the save records the waits in force.
 */
export class Holds implements RunListener {
  readonly #byCli = new Map<string, Hold>();
  readonly #options: HoldsOptions;

  constructor(options: HoldsOptions) {
    this.#options = options;
  }

  onLoop(event: LoopEvent): void {
    if (event.type !== 'outcome') return;
    const { task, outcome } = event;
    if (holdsDealWith(outcome.failure)) this.#holdOrStop(task, outcome, outcome.failure);
    // A task of the CLI completed: the service is back, so the next problem starts a fresh schedule.
    if (outcome.outcome === 'completed') this.#byCli.delete(task.cli);
  }

  /** When `cli`'s tasks may start again (epoch ms), or undefined when they may start now. */
  heldUntil(cli: string): number | undefined {
    const hold = this.#byCli.get(cli);
    return hold && hold.until > this.#ms() ? hold.until : undefined;
  }

  /** The holds still in force, as the state records them for readers. */
  waits(): Wait[] {
    const now = this.#ms();
    return [...this.#byCli]
      .filter(([, h]) => h.until > now)
      .map(([cli, h]) => ({
        cli,
        kind: h.kind,
        until: new Date(h.until).toISOString(),
        message: h.message,
      }));
  }

  #holdOrStop(task: Task, outcome: TaskOutcome, failure: HeldFailure): void {
    const hold = this.#options.waitForLimits() ? this.#next(task.cli, failure) : undefined;
    if (!hold) {
      const reason = stopReasonFor(outcome, task);
      if (reason) this.#options.requestStop(reason);
      return;
    }
    this.#byCli.set(task.cli, hold);
    this.#options.emit({
      type: 'waiting',
      cli: task.cli,
      kind: hold.kind,
      until: hold.until,
      message: hold.message,
    });
  }

  /** The hold after `f`, or undefined when the waits are used up. */
  #next(cli: string, f: HeldFailure): Hold | undefined {
    const previous = this.#byCli.get(cli);
    const { limitMarginMs, outageBackoffMs } = this.#options;
    return f.reason === 'rate-limited'
      ? limitHold(previous, f, this.#ms(), limitMarginMs)
      : outageHold(previous, f, this.#ms(), outageBackoffMs);
  }

  #ms(): number {
    return this.#options.now().getTime();
  }
}
