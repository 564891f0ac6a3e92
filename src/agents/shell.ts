/**
 * `cli: shell`: a deterministic step (lint, build, migrations), not an agent.
 * The task's `run` goes to `sh -c` as one argv element: the user wrote a
 * shell command, so a shell is what they asked for; no prompt is involved.
 */
import { TextTailParser } from './text-output.js';
import type { AgentAdapter, AgentInvocation, InvocationInput, OutputParser } from './types.js';

/** How much of a shell task's output becomes its summary (and failure output). */
export const SHELL_TAIL_LINES = 40;
export const SHELL_TAIL_CHARS = 8 * 1024;

/** The adapter for one shell command; `command` is the task's `run`. */
export function shellAdapter(command: string): AgentAdapter {
  return {
    name: 'shell',
    output: 'text',
    installHint: 'a POSIX shell (`sh`) on PATH',
    resumable: false,
    buildInvocation(_input: InvocationInput): AgentInvocation {
      return { file: 'sh', args: ['-c', command], env: {}, promptOnStdin: false };
    },
    createParser(): OutputParser {
      return new TextTailParser({
        maxLines: SHELL_TAIL_LINES,
        maxChars: SHELL_TAIL_CHARS,
        onExitFailure: (exitCode, output) => ({
          reason: 'command-failed',
          command,
          exitCode,
          output,
        }),
      });
    },
  };
}
