/**
 * The parts of a run that react to what it does: status.md (status-writer.ts),
 * the holds (holds.ts), the ticker (ticker.ts), and the UI's sink. The run
 * hands each event to its listeners in order, and that is all: no
 * registration, no priorities, no bubbling.
 *
 * Two kinds of event reach them. `RunEvent` (events.ts) is what the UI
 * renders and `--json` prints: a contract with people and scripts, changed
 * only when they need to see something new. `LoopEvent` below is what only
 * the run's own parts need to hear (the end of a step, an outcome before it is
 * saved); keeping those apart means adding one changes no output.
 */
import type { StopReason } from '../core/next-step.js';
import type { Task } from '../core/task.js';
import type { TaskOutcome } from '../core/transitions.js';
import type { RunEvent } from './events.js';

export type LoopEvent =
  /** A task's job ended with this outcome; nothing of it is saved or shown yet. */
  | { type: 'outcome'; task: Task; outcome: TaskOutcome }
  /** Something asked the run to stop (it may have stopped for an earlier reason already). */
  | { type: 'stop'; reason: StopReason }
  /** The loop's step is over (requests applied, plan reloaded, ready tasks started); it sleeps next. */
  | { type: 'step-done' }
  /** The run's last save is made: no run is active any more. */
  | { type: 'final-save' };

export interface RunListener {
  /** What the run reports, in the order the UI gets it. */
  onEvent?(event: RunEvent): void;
  onLoop?(event: LoopEvent): void;
  /** The run is over: timers stop. */
  close?(): void;
}
