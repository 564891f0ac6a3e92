/**
 * An attempt as a person reads it (`bearing log`): what the agent said, the
 * tools it called with their main argument, the tool calls that failed, and
 * how it ended. Each agent adapter maps its own CLI's events to these entries
 * beside the parser that reads the same events for the result
 * (agents/claude.ts, agents/codex.ts); the UI renders them without knowing
 * which CLI printed them.
 */
import type { Usage } from './state.js';

export type TranscriptEntry =
  /** Text the agent wrote to the person (claude `text` blocks, codex `agent_message`). */
  | { kind: 'message'; text: string }
  /** The agent's reasoning summary, when the CLI prints one (codex `reasoning`). */
  | { kind: 'reasoning'; text: string }
  /** A tool call: its name and its main argument (a path, a command, a pattern). */
  | { kind: 'tool'; name: string; target?: string }
  /** A tool call that failed, with what the tool said. */
  | { kind: 'tool-error'; name: string; target?: string; text: string }
  /** Something the CLI reported about itself: a retry, a model fallback, an error notice. */
  | { kind: 'notice'; text: string }
  /** The CLI's final word on the attempt. */
  | {
      kind: 'result';
      ok: boolean;
      /** The CLI's own name for how it ended (claude's `subtype`, codex's event type). */
      status: string;
      text?: string;
      costUsd?: number;
      turns?: number;
      usage?: Usage;
    }
  /** A line that is not one of the CLI's events (plain text output, noise): shown as it is. */
  | { kind: 'text'; text: string };

/** Reads one attempt's output, a line at a time, into entries. */
export interface TranscriptReader {
  /** One line of output, without its newline. */
  line(line: string): TranscriptEntry[];
  /** One line too long to hold as one string, as the pieces of its text. */
  pieces(pieces: Iterable<string>): TranscriptEntry[];
}

/**
 * Longest message (or result text) kept whole, as long as an adapter's
 * summary: what the agent wrote is what a person reads the transcript for.
 * Longer ones keep their end.
 */
export const TRANSCRIPT_MESSAGE_CHARS = 64 * 1024;

/** Longest tool output kept (a failed call's): its end says why it failed. */
export const TRANSCRIPT_OUTPUT_CHARS = 4000;
