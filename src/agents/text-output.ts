/**
 * Plain-text output (shell tasks, custom agents with `output: text`): the
 * exit code decides, and the tail of the output is the summary. Only the
 * tail is kept, so a command printing gigabytes costs constant memory.
 */
import type { Failure } from '../core/failure.js';
import { ZERO_USAGE } from '../core/state.js';
import { TailLines, TextTail } from './bounded.js';
import type { AgentRunResult, OutputParser, ProcessExit } from './types.js';

export interface TextParserOptions {
  maxLines: number;
  maxChars: number;
  /** The failure for a non-zero exit, given the output's tail. */
  onExitFailure(exitCode: number, tail: string): Failure;
}

/** Collects the output's tail; `finish` turns the exit into the result. */
export class TextTailParser implements OutputParser {
  readonly #options: TextParserOptions;
  readonly #tail: TailLines;

  constructor(options: TextParserOptions) {
    this.#options = options;
    this.#tail = new TailLines(options.maxLines, options.maxChars);
  }

  /** Plain text has no final event: only the exit decides. */
  push(line: string): undefined {
    // Blank lines after the last output say nothing; inner ones keep their place.
    if (line.trim() === '' && this.#tail.length === 0) return;
    this.#tail.push(line.trimEnd());
  }

  pushPieces(pieces: Iterable<string>): undefined {
    const text = new TextTail(this.#options.maxChars);
    for (const piece of pieces) text.push(piece);
    if (text.blank && this.#tail.length === 0) return;
    const kept = text.trimmedEnd();
    this.#tail.push(kept.text, kept.cut);
  }

  finish(exit: ProcessExit): AgentRunResult {
    const tail = this.#tail.text().trimEnd();
    const failure = this.#failure(exit, tail);
    return {
      status: failure ? 'failed' : 'completed',
      ...(failure ? { failure } : {}),
      summary: tail,
      usage: { ...ZERO_USAGE },
    };
  }

  #failure(exit: ProcessExit, tail: string): Failure | undefined {
    if (exit.signal) return { reason: 'signal', signal: exit.signal };
    if (exit.exitCode === undefined) {
      return { reason: 'unparseable-output', message: 'the process ended without an exit code' };
    }
    if (exit.exitCode !== 0) return this.#options.onExitFailure(exit.exitCode, tail);
    return undefined;
  }
}
