/**
 * Saves the running attempts' live progress (set on them by the attempt as
 * its agent's events arrive) so that other processes see it: `bearing
 * status --json`, `bearing watch`, the dashboard, spend caps.
 *
 * At most one save per PROGRESS_SAVE_MS for the whole run, whatever the
 * number of agents: claude prints several events a second, and every save
 * rewrites state.json whole with an fsync. Readers look at human speed, so a
 * second's delay costs them nothing; a save for each event would multiply
 * the run's writes by the agents' chattiness. One save covers every running
 * attempt, as all of them live in the one state. A transition's own save
 * (an attempt ending) is never delayed by this.
 */
import type { RunEvent } from './events.js';
import type { RunListener } from './listeners.js';

export const PROGRESS_SAVE_MS = 1000;

export class ProgressSaver implements RunListener {
  readonly #save: () => void;
  readonly #intervalMs: number;
  #lastSave = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(save: () => void, intervalMs = PROGRESS_SAVE_MS) {
    this.#save = save;
    this.#intervalMs = intervalMs;
  }

  onEvent(event: RunEvent): void {
    if (event.type !== 'progress' || this.#timer || this.#closed) return;
    // Timers, not the run's clock: this spaces writes, it decides nothing.
    const wait = Math.max(0, this.#lastSave + this.#intervalMs - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#lastSave = performance.now();
      this.#save();
    }, wait);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
