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
  readonly #now: () => number;
  #lastSave = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /**
   * `now`: a monotonic clock in ms, not the run's Clock: this spaces writes,
   * it decides nothing a fake clock should step.
   */
  constructor(save: () => void, intervalMs = PROGRESS_SAVE_MS, now = () => performance.now()) {
    this.#save = save;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  onEvent(event: RunEvent): void {
    if (event.type !== 'progress' || this.#timer || this.#closed) return;
    const wait = Math.max(0, this.#lastSave + this.#intervalMs - this.#now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#lastSave = this.#now();
      this.#save();
    }, wait);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
