import type { Failure } from '../core/failure.js';
import { TailLines } from './bounded.js';
import { type JsonObject, parseJsonObject } from './json-line.js';
import type { ProcessExit } from './types.js';

/**
 * The line-level part both JSONL parsers share: which lines are events,
 * how many were not, the tail of that noise (often the CLI's own error
 * message), and what to report when the final event never came.
 */
export class EventLines {
  #lines = 0;
  #nonJson = 0;
  readonly #other = new TailLines(5, 2000);

  /** The line as an event; undefined for a blank line or noise (kept for messages). */
  read(line: string): JsonObject | undefined {
    if (line.trim() === '') return undefined;
    this.#lines++;
    const event = parseJsonObject(line);
    if (!event) {
      this.#nonJson++;
      this.#other.push(line.trim());
    }
    return event;
  }

  /** The last non-JSON lines, joined. */
  otherText(): string {
    return this.#other.text();
  }

  /** A note for the result when noise was skipped. */
  notes(): string[] {
    return this.#nonJson > 0 ? [`${this.#nonJson} non-JSON line(s) ignored`] : [];
  }

  /**
   * The failure when the agent ended without its final event (claude's
   * `result`, codex's `turn.completed`): a non-zero exit with its last words,
   * else output we could not make sense of. Both are worth a retry.
   */
  missingFinalEvent(cli: string, event: string, exit: ProcessExit, lastWords: string): Failure {
    if (exit.exitCode !== undefined && exit.exitCode !== 0) {
      return {
        reason: 'agent-exit',
        exitCode: exit.exitCode,
        message: lastWords || `${cli} printed no ${event} event`,
      };
    }
    return {
      reason: 'unparseable-output',
      message: `no ${event} event in ${this.#lines} line(s) of output${this.#nonJson ? ` (${this.#nonJson} not JSON)` : ''}`,
    };
  }
}
