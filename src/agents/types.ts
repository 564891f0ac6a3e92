/**
 * The contract between Bearing and an agent CLI, kept pure: an adapter turns
 * a task into an argv (no shell, no IO) and reads the CLI's output back into
 * a result. The process layer owns spawning; it feeds output lines in and
 * decides nothing about what they mean.
 */
import type { CodexPrice } from '../core/codex-prices.js';
import type { LiveProgress } from '../core/progress.js';
import type { Usage } from '../core/state.js';
import type { CustomAgent, OutputFormat, Task } from '../core/task.js';
import type { AgentReport } from '../core/transitions.js';

/**
 * What to spawn. `env` holds only the variables to add to the environment the
 * process layer already chose.
 */
export interface AgentInvocation {
  file: string;
  args: string[];
  env: Record<string, string>;
  /**
   * The prompt goes on the child's stdin (the attempt's prompt file), not in
   * `args`. Linux refuses a single argument over 128 KiB (E2BIG), and a
   * prompt holds the PRIOR context of every dependency, so claude and codex
   * always read it from stdin: one path whatever the size, and the prompt
   * stays out of `ps`. When false, stdin must be /dev/null: claude waits 3 s
   * and warns, and codex hangs, while stdin is an open pipe that never ends.
   */
  promptOnStdin: boolean;
}

/** What one attempt produced, as far as the agent's own output tells. */
/**
 * Longest output line handed to a parser; longer lines are cut (no longer
 * valid JSON, so parsers count them as noise). A claude `result` event
 * carries the agent's whole final message on one line, so this is generous:
 * lines over 1 MiB wait on disk and reach the parser in pieces (pushPieces),
 * so it bounds the disk a line takes, not memory.
 */
export const MAX_AGENT_LINE_BYTES = 64 * 1024 * 1024;

export interface AgentRunResult extends AgentReport {
  /** Things worth a line in the attempt log: retries, fallbacks, ignored lines. */
  notes?: string[];
}

/** How the process ended, as the process layer saw it. */
export interface ProcessExit {
  exitCode?: number;
  signal?: string;
  /**
   * Bearing ended the process because `push` signalled `final` or `fatal`:
   * the result comes from what was already printed, and the exit says nothing.
   */
  endedByUs?: boolean;
}

/**
 * What a line told about the attempt as a whole, so the runner need not wait
 * for the process to exit:
 * - `final`: the CLI printed its final event (claude `result`, codex
 *   `turn.completed`/`turn.failed`). Claude Code sometimes does not exit
 *   after it; end it after a grace period and keep the reported result.
 * - `fatal`: the output already shows the attempt cannot succeed (a 401/403
 *   the CLI would go on retrying for minutes); end it now.
 * `finish` then classifies from what was printed, whatever the exit.
 */
export type OutputSignal = 'final' | 'fatal';

/**
 * Incremental reader of one attempt's output. Memory stays bounded however
 * long the agent runs: parsers keep only what the result needs.
 */
export interface OutputParser {
  /** One line of output, without its newline. */
  push(line: string): OutputSignal | undefined;
  /**
   * One line too long to hold as one string, as the pieces of its text in
   * order: what push(all pieces joined) would say, in the memory of what the
   * parser keeps (a text's tail, the fields it reads).
   */
  pushPieces(pieces: Iterable<string>): OutputSignal | undefined;
  finish(exit: ProcessExit): AgentRunResult;
  /**
   * What the attempt has done so far, from the events read until now; a new
   * object whenever a line changed it (the caller compares by identity), and
   * undefined for output that tells nothing as it goes (text).
   */
  readonly progress?: LiveProgress;
}

export interface InvocationInput {
  task: Task;
  /** The assembled prompt (ignored by shell tasks, which run `task.run`). */
  prompt: string;
  /** Continue this agent session instead of starting a new one (resumable adapters only). */
  resumeSessionId?: string;
  /** codex refuses to run outside a git repo unless told to. */
  isGitRepo: boolean;
  /** The custom agent definition when `task.cli` names one; overrides the registry's copy. */
  agent?: CustomAgent;
}

/** Extra knowledge a parser may need that is not in the output itself. */
export interface ParserOptions {
  /**
   * Usage the resumed session had already reported. codex's `turn.completed`
   * usage is cumulative for the session, so after a resume this is subtracted
   * to get what this attempt used.
   */
  previousUsage?: Usage;
  /** The folder the agent runs in: tool targets inside it are shown relative to it. */
  cwd?: string;
  /** codex: the price of the task's model, for the estimate of its cost (it reports none). */
  codexPrice?: CodexPrice;
}

/** One agent CLI: how to run it and how to read it. */
export interface AgentAdapter {
  /** `claude`, `codex`, `shell`, or the custom agent's name. */
  name: string;
  /**
   * What its stdout is: claude's stream-json, codex's JSONL, or text.
   * Recorded in the attempt's meta.json, so `bearing log` reads it with the
   * same adapter's transcript without loading the task files.
   */
  output: OutputFormat;
  buildInvocation(input: InvocationInput): AgentInvocation;
  createParser(options?: ParserOptions): OutputParser;
  /** Shown when the command is not on PATH. */
  installHint: string;
  /** Whether `resumeSessionId` is honoured. */
  resumable: boolean;
}
