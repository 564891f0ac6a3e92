/**
 * Helpers for the adapter tests: the reference outputs (tests/fixtures/
 * reference/, copied from the real CLIs) and ways to feed them to parsers.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentRunResult, OutputParser, ProcessExit } from '../../src/agents/types.js';
import { MAX_AGENT_LINE_BYTES } from '../../src/agents/types.js';
import { LineSplitter } from '../../src/process/line-splitter.js';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = resolve(here, '../fixtures');
export const REFERENCE = join(FIXTURES, 'reference');
export const FAKE_BIN = join(FIXTURES, 'bin');

export function reference(name: string): string {
  return readFileSync(join(REFERENCE, name), 'utf8');
}

/** Whole lines, one push each: what a line-reading process layer does. */
export function parseLines(parser: OutputParser, text: string, exit: ProcessExit): AgentRunResult {
  for (const line of text.split('\n')) parser.push(line);
  return parser.finish(exit);
}

/** A small deterministic PRNG, so chunkings are random-looking but reproducible. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The text cut into chunks of 1..maxChunk characters at pseudo-random places. */
export function chunks(text: string, seed: number, maxChunk = 97): string[] {
  const rand = prng(seed);
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    const n = 1 + Math.floor(rand() * maxChunk);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

/** Feeds arbitrary chunks through the line splitter, as output arrives from a pipe. */
export function parseChunks(
  parser: OutputParser,
  text: string,
  exit: ProcessExit,
  seed: number,
  maxChunk = 97,
): AgentRunResult {
  const splitter = new LineSplitter(MAX_AGENT_LINE_BYTES, (line) => parser.push(line));
  for (const c of chunks(text, seed, maxChunk)) splitter.push(Buffer.from(c));
  splitter.end();
  return parser.finish(exit);
}
