/**
 * A `tick` every second from the run's start, so the terminal's live line
 * can count up. A tick is a clock, not a change: only the UI reads it, and
 * --json leaves it out (see ui/run-view.ts).
 */
import type { RunEvent } from './events.js';
import type { RunListener } from './listeners.js';

export type Tick = Extract<RunEvent, { type: 'tick' }>;

const TICK_MS = 1000;

export class Ticker implements RunListener {
  readonly #tick: () => Tick;
  readonly #emit: (event: RunEvent) => void;
  #timer: NodeJS.Timeout | undefined;

  /** `tick`: what runs, and the run's totals, as they are now. */
  constructor(tick: () => Tick, emit: (event: RunEvent) => void) {
    this.#tick = tick;
    this.#emit = emit;
  }

  onEvent(event: RunEvent): void {
    if (event.type !== 'run-start' || this.#timer) return;
    // The live line must not keep a finished run's process alive.
    this.#timer = setInterval(() => this.#emit(this.#tick()), TICK_MS).unref();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
