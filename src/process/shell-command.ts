/**
 * Runs a user-written shell command (a `verify` gate, a `cli: shell` task's
 * `run`) with the same guarantees as an agent: its own process group, a wall
 * clock limit, stdin from /dev/null, bounded memory. The combined output tail
 * is what a failed gate shows in status.md and in the retry prompt.
 */
import { type ProcessOutcome, runProcess } from './run-process.js';
import { TailBuffer } from './tail-buffer.js';

/** Keep this much of the combined output; gate failures quote it. */
export const SHELL_OUTPUT_TAIL_BYTES = 16 * 1024;

export interface ShellCommandOptions {
  cwd: string;
  /** The whole environment of the shell; nothing is merged in. */
  env: Record<string, string | undefined>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Full combined stdout+stderr, appended in arrival order. */
  outputFile?: string;
  /** Between SIGTERM and SIGKILL to the command's group. Default 5000. */
  killGraceMs?: number;
}

export interface ShellCommandResult {
  outcome: ProcessOutcome;
  /** The last ~16 KB of stdout and stderr, interleaved by line in arrival order. */
  output: string;
}

/**
 * `/bin/sh -c <command>`: the command is the user's own text, so it gets a
 * real shell (pipes, &&, globs), while agents never do.
 */
export async function runShellCommand(
  command: string,
  options: ShellCommandOptions,
): Promise<ShellCommandResult> {
  const tail = new TailBuffer(SHELL_OUTPUT_TAIL_BYTES);
  const outcome = await runProcess({
    file: '/bin/sh',
    args: ['-c', command],
    cwd: options.cwd,
    env: options.env,
    signal: options.signal,
    timeoutMs: options.timeoutMs,
    stdoutFile: options.outputFile,
    stderrFile: options.outputFile,
    killGraceMs: options.killGraceMs,
    // Longer lines are cut here: the tail could not show more of them anyway.
    maxLineBytes: SHELL_OUTPUT_TAIL_BYTES,
    onLine: (line) => tail.push(Buffer.from(`${line}\n`)),
  });
  return { outcome, output: tail.toString() };
}
