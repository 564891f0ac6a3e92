import type { Failure } from '../core/failure.js';
import type { ProcessExit } from './types.js';

/**
 * The failure when an agent ended without its final event (claude's `result`,
 * codex's `turn.completed`): a non-zero exit with its last words, else output
 * we could not make sense of. Both are worth a retry.
 */
export function missingFinalEvent(
  cli: string,
  event: string,
  exit: ProcessExit,
  lastWords: string,
  lines: number,
  nonJson: number,
): Failure {
  if (exit.exitCode !== undefined && exit.exitCode !== 0) {
    return {
      reason: 'agent-exit',
      exitCode: exit.exitCode,
      message: lastWords || `${cli} printed no ${event} event`,
    };
  }
  return {
    reason: 'unparseable-output',
    message: `no ${event} event in ${lines} line(s) of output${nonJson ? ` (${nonJson} not JSON)` : ''}`,
  };
}
