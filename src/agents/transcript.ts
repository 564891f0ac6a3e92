/**
 * The transcript reader for an agent's output format (`bearing log`): each
 * one lives beside the parser of the same format, so a CLI's events are
 * known in one place.
 */
import type { OutputFormat } from '../core/task.js';
import type { TranscriptReader } from '../core/transcript.js';
import { ClaudeTranscript } from './claude.js';
import { CodexTranscript } from './codex.js';

/** The reader for `output`; undefined for text, which is shown as it was printed. */
export function transcriptReader(
  output: OutputFormat,
  root?: string,
): TranscriptReader | undefined {
  switch (output) {
    case 'claude':
      return new ClaudeTranscript(root);
    case 'codex':
      return new CodexTranscript(root);
    case 'text':
      return undefined;
  }
}
