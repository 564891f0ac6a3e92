import type { Failure } from '../core/failure.js';
import {
  TRANSCRIPT_MESSAGE_CHARS,
  type TranscriptEntry,
  type TranscriptReader,
} from '../core/transcript.js';
import { clipTail, SUMMARY_MAX_CHARS, TailLines, TextTail } from './bounded.js';
import { type JsonObject, JsonPieces, parseJsonObject } from './json-line.js';
import type { ProcessExit } from './types.js';

/** Noise kept for messages: the last lines, and the last characters of them. */
const OTHER_LINES = 5;
const OTHER_CHARS = 2000;
/** A long line whose JSON, without its long strings, is still over this is not read as an event. */
const MAX_STRUCTURE_CHARS = 4 * 1024 * 1024;

/**
 * The line-level part both JSONL parsers share: which lines are events,
 * how many were not, the tail of that noise (often the CLI's own error
 * message), and what to report when the final event never came.
 */
export class EventLines {
  #lines = 0;
  #nonJson = 0;
  readonly #other = new TailLines(OTHER_LINES, OTHER_CHARS);

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

  /**
   * read() of a line too long to hold as one string, given as pieces of its
   * text. The event's strings are cut to SUMMARY_MAX_CHARS, as clipTail
   * would: no parser keeps more of any text.
   */
  readPieces(pieces: Iterable<string>): JsonObject | undefined {
    const json = new JsonPieces(SUMMARY_MAX_CHARS, MAX_STRUCTURE_CHARS);
    const text = new TextTail(OTHER_CHARS);
    for (const piece of pieces) {
      json.push(piece);
      text.push(piece);
    }
    if (text.blank) return undefined;
    this.#lines++;
    const event = json.object();
    if (!event) {
      this.#nonJson++;
      const other = text.trimmed();
      this.#other.push(other.text, other.cut);
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

/**
 * The line-level part of a transcript (`bearing log`): events go to the
 * CLI's own mapping, and what is not an event is shown as it is, as noise is
 * often the CLI's own error message. A long line's strings are cut as
 * readPieces cuts them, to what a transcript shows of a text.
 */
export class TranscriptLines implements TranscriptReader {
  readonly #map: (event: JsonObject) => TranscriptEntry[];
  readonly #root: string | undefined;

  /** `root`: where the agent ran; paths under it are shown relative to it. */
  constructor(map: (event: JsonObject) => TranscriptEntry[], root?: string) {
    this.#map = map;
    this.#root = root?.replace(/\/+$/, '');
  }

  /** A path the agent named, relative to where it ran when it is under it. */
  relative(path: string): string {
    const root = this.#root;
    return root && path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
  }

  line(line: string): TranscriptEntry[] {
    if (line.trim() === '') return [];
    const event = parseJsonObject(line);
    return event ? this.#map(event) : [{ kind: 'text', text: clipTail(line, OTHER_CHARS) }];
  }

  pieces(pieces: Iterable<string>): TranscriptEntry[] {
    const json = new JsonPieces(TRANSCRIPT_MESSAGE_CHARS, MAX_STRUCTURE_CHARS);
    const text = new TextTail(OTHER_CHARS);
    for (const piece of pieces) {
      json.push(piece);
      text.push(piece);
    }
    if (text.blank) return [];
    const event = json.object();
    return event ? this.#map(event) : [{ kind: 'text', text: text.trimmed().text }];
  }
}
