/**
 * The circuit breaker. When the infrastructure under the agents breaks (the
 * CLI crashes at start, its config is broken, the network is down in a way
 * no CLI reports as an outage), every task fails the same way, fast, and a
 * run left alone would start one agent after another until the plan is
 * used up. After a few tasks in a row fail with the same error that is not
 * about their work, the run stops starting agents and says why.
 *
 * Usage limits and outages are not counted: the run already holds that CLI's
 * tasks and waits for them (see holds.ts). Failures about the task's own work
 * (a failed gate, the turn limit) are not counted either: they differ per task.
 */
import { describeFailure, type Failure, type FailureReason } from '../core/failure.js';
import { holdsDealWith } from './holds.js';

/** Distinct tasks in a row that must fail the same way before the breaker trips. */
export const BREAKER_THRESHOLD = 3;

const INFRASTRUCTURE: ReadonlySet<FailureReason> = new Set([
  'spawn-error',
  'agent-exit',
  'agent-error',
  'unparseable-output',
  'signal',
  'internal-error',
]);

export class CircuitBreaker {
  #signature: string | undefined;
  #tasks: string[] = [];
  readonly #threshold: number;

  constructor(threshold = BREAKER_THRESHOLD) {
    this.#threshold = threshold;
  }

  /**
   * One attempt ended. Returns the tasks and the error when the breaker
   * trips; a completed attempt (or any other kind of failure) resets it.
   */
  record(
    task: string,
    failure: Failure | undefined,
  ): { tasks: string[]; failure: string } | undefined {
    if (failure === undefined || !INFRASTRUCTURE.has(failure.reason)) {
      // Limits and outages are neither a sign of health nor of breakage: leave the count alone.
      if (!holdsDealWith(failure)) this.#reset();
      return undefined;
    }
    const signature = signatureOf(failure);
    if (signature !== this.#signature) {
      this.#signature = signature;
      this.#tasks = [];
    }
    // A task's own retries failing the same way is that task's problem, not the run's.
    if (!this.#tasks.includes(task)) this.#tasks.push(task);
    if (this.#tasks.length < this.#threshold) return undefined;
    return { tasks: [...this.#tasks], failure: describeFailure(failure) };
  }

  #reset(): void {
    this.#signature = undefined;
    this.#tasks = [];
  }
}

/**
 * The same error, whatever the task: the reason and its message with what
 * varies between occurrences (numbers, ids, paths inside the project) blurred.
 */
function signatureOf(failure: Failure): string {
  return `${failure.reason}:${describeFailure(failure)
    .replace(/[0-9a-f]{8,}/gi, '#')
    .replace(/\d+/g, '#')
    .slice(0, 300)}`;
}
