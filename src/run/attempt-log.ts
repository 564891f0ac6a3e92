/**
 * Reading one attempt's record for `bearing log`: its output as a transcript
 * (through the adapter's own reader of its format) or as the bytes the agent
 * printed, now or as it grows while the attempt runs.
 *
 * The log is read the way the run reads the agent's output: split into lines
 * by the same LineSplitter, a line over 1 MiB going to a spill file and
 * reaching the reader in pieces. claude's final `result` line can be tens of
 * MB; reading it costs a piece of memory, not its length.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { transcriptReader } from '../agents/transcript.js';
import { MAX_AGENT_LINE_BYTES } from '../agents/types.js';
import type { AttemptRecord, RunState } from '../core/state.js';
import type { OutputFormat } from '../core/task.js';
import type { TranscriptEntry } from '../core/transcript.js';
import { LineSplitter } from '../process/line-splitter.js';
import { readLock } from '../state/lock.js';
import { journalFile, stateFile } from '../state/paths.js';
import { loadState } from '../state/store.js';
import { OUTPUT_FORMATS } from '../tasks/values.js';

/** How often a followed log is read again for what was added. */
const FOLLOW_INTERVAL_MS = 200;

/** What meta.json says of the attempt; undefined fields when it cannot be read. */
export interface AttemptMeta {
  cli?: string;
  output?: OutputFormat;
}

export function readAttemptMeta(attemptDir: string): AttemptMeta {
  let meta: unknown;
  try {
    meta = JSON.parse(readFileSync(join(attemptDir, 'meta.json'), 'utf8'));
  } catch {
    return {};
  }
  if (typeof meta !== 'object' || meta === null) return {};
  const { cli, output } = meta as Record<string, unknown>;
  const recorded = OUTPUT_FORMATS.find((f) => f === output);
  return {
    ...(typeof cli === 'string' ? { cli } : {}),
    // Attempts recorded before meta.json named the format: the built-in CLIs' own.
    ...(recorded
      ? { output: recorded }
      : cli === 'claude' || cli === 'codex'
        ? { output: cli }
        : cli === 'shell'
          ? { output: 'text' as const }
          : {}),
  };
}

/** The attempt as the state records it, or undefined (not recorded yet, or no state). */
export function recordedAttempt(
  state: RunState | undefined,
  taskId: string,
  attempt: number,
): AttemptRecord | undefined {
  return state?.tasks[taskId]?.attempts.find((a) => a.attempt === attempt);
}

/**
 * Whether a followed attempt is over: the state records it with an outcome
 * other than `running` (the run saves that once its output is closed and its
 * gate has run), or no run holds the lock any more (it ended, or died and
 * left the attempt recorded as running). The state is read again only when
 * it was saved since: a large project's state is megabytes, and a follower
 * asks five times a second.
 */
export function attemptEnds(root: string, taskId: string, attempt: number): () => boolean {
  let seen = '';
  let over = false;
  return () => {
    const lock = readLock(root);
    if (lock.state === 'free' || lock.state === 'stale') return true;
    const version = stateVersion(root);
    if (version !== seen) {
      seen = version;
      const state = loadState(root);
      const record = state.ok ? recordedAttempt(state.value, taskId, attempt) : undefined;
      over = record !== undefined && record.outcome !== 'running';
    }
    return over;
  };
}

/**
 * What changes whenever the state is saved: a snapshot is a new file put in
 * place (its inode), a journal line makes the journal longer.
 */
function stateVersion(root: string): string {
  return `${fileVersion(stateFile(root))}/${fileVersion(journalFile(root))}`;
}

function fileVersion(file: string): string {
  try {
    const s = statSync(file, { bigint: true });
    return `${s.ino}:${s.mtimeNs}:${s.size}`;
  } catch {
    return 'none';
  }
}

export interface ReadOptions {
  /** Keep reading what is added until this says the attempt is over. */
  until?: () => boolean;
}

/**
 * Hands the file's bytes to `onChunk` in order, each chunk its own buffer.
 * Following, a file not there yet is waited for, and after the attempt is
 * over the file is read once more to its end.
 */
async function readChunks(
  path: string,
  onChunk: (chunk: Buffer) => void,
  options: ReadOptions,
): Promise<void> {
  let fd: number | undefined;
  let position = 0;
  try {
    for (;;) {
      // Asked before reading: what the attempt wrote before it was over is read below.
      const over = options.until === undefined || options.until();
      if (fd === undefined && existsSync(path)) fd = openSync(path, 'r');
      if (fd !== undefined) {
        for (;;) {
          const chunk = Buffer.allocUnsafe(1 << 16);
          const n = readSync(fd, chunk, 0, chunk.length, position);
          if (n === 0) break;
          position += n;
          onChunk(chunk.subarray(0, n));
        }
      }
      if (over) return;
      await sleep(FOLLOW_INTERVAL_MS);
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The file as text, in chunks, never held whole. */
export async function readText(
  path: string,
  write: (text: string) => void,
  options: ReadOptions = {},
): Promise<void> {
  const decoder = new TextDecoder();
  await readChunks(path, (chunk) => write(decoder.decode(chunk, { stream: true })), options);
  const rest = decoder.decode();
  if (rest) write(rest);
}

/**
 * The agent's stdout as transcript entries, read with its adapter's reader.
 * `root`: where the agent ran, so the paths it names under it are shown
 * relative. Returns false when the format has no transcript (text).
 */
export async function readTranscript(
  path: string,
  output: OutputFormat,
  root: string,
  onEntry: (entry: TranscriptEntry) => void,
  options: ReadOptions = {},
): Promise<boolean> {
  const feed = transcriptFeed(output, root, onEntry);
  if (feed === undefined) return false;
  try {
    await readChunks(path, (chunk) => feed.push(chunk), options);
  } finally {
    feed.end();
  }
  return true;
}

/** Bytes of an agent's output in, transcript entries out; `end` in every case. */
export interface TranscriptFeed {
  push(chunk: Buffer): void;
  end(): void;
}

/**
 * A reader of the agent's output as the run reads it: split into lines by
 * the same LineSplitter, a line over 1 MiB going to a spill file and reaching
 * the reader in pieces. Undefined for text, which is its own transcript.
 */
export function transcriptFeed(
  output: OutputFormat,
  root: string,
  onEntry: (entry: TranscriptEntry) => void,
): TranscriptFeed | undefined {
  const reader = transcriptReader(output, root);
  if (reader === undefined) return undefined;
  const emit = (entries: TranscriptEntry[]): void => {
    for (const entry of entries) onEntry(entry);
  };
  return new LineSplitter(MAX_AGENT_LINE_BYTES, (line) => emit(reader.line(line)), {
    path: join(tmpdir(), `bearing-log-${randomBytes(8).toString('hex')}.line`),
    emit: (line) => emit(reader.pieces(line.pieces())),
  });
}
