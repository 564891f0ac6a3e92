/**
 * When status.md is written. The recorder (recorder.ts) writes it whenever
 * asked, if it is behind state.json, at most every STATUS_INTERVAL_MS; this
 * listener asks at the moments a reader should find it current, and so sets
 * how writes are batched:
 *
 * - once per step of the loop: whatever the step applied, reloaded or
 *   started is one write (a landing starts within the step, so it is in it);
 * - after an attempt is recorded as running: that happens after an await,
 *   outside any step, so it is written on its own, on the next turn of the
 *   event loop (after its save), where the starts of one moment fold into one
 *   write;
 * - before anything hears the run has started, and at once (not spaced out)
 *   after its last save, so no reader finds a run active that is over.
 */
import type { RunEvent } from './events.js';
import type { LoopEvent, RunListener } from './listeners.js';
import type { RunRecorder } from './recorder.js';

export class StatusWriter implements RunListener {
  readonly #recorder: RunRecorder;

  constructor(recorder: RunRecorder) {
    this.#recorder = recorder;
  }

  onEvent(event: RunEvent): void {
    if (event.type === 'run-start') this.#recorder.flushStatus();
    else if (event.type === 'task-start' && !event.landing) {
      setImmediate(() => this.#recorder.flushStatus());
    }
  }

  onLoop(event: LoopEvent): void {
    if (event.type === 'step-done') this.#recorder.flushStatus();
    else if (event.type === 'final-save') this.#recorder.flushStatus(true);
  }

  /** No status write is left pending to keep the process alive. */
  close(): void {
    this.#recorder.close();
  }
}
