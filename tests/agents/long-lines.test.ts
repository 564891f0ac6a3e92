/**
 * Lines too long to hold as one string reach the parsers in pieces
 * (pushPieces). Whatever the pieces, a parser must say and keep exactly what
 * it would have from the whole line: the real CLIs' outputs read both ways
 * give the same results, and a 20 MB final result still gives its summary.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clipTail, SUMMARY_MAX_CHARS, TextTail } from '../../src/agents/bounded.js';
import { ClaudeStreamParser } from '../../src/agents/claude.js';
import { CodexJsonParser } from '../../src/agents/codex.js';
import { JsonPieces, parseJsonObject } from '../../src/agents/json-line.js';
import { TextTailParser } from '../../src/agents/text-output.js';
import type { OutputParser } from '../../src/agents/types.js';
import { chunks, prng, REFERENCE, reference } from './support.js';

/** What a parser would keep of the value: every string over `max` characters as clipTail leaves it. */
function clipStrings(value: unknown, max: number): unknown {
  if (typeof value === 'string') return clipTail(value, max);
  if (Array.isArray(value)) return value.map((v) => clipStrings(v, max));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [clipTail(k, max), clipStrings(v, max)]),
    );
  }
  return value;
}

function readPieces(line: string, pieces: string[], maxStringChars = 16, maxStructure = 1 << 20) {
  const json = new JsonPieces(maxStringChars, maxStructure);
  for (const piece of pieces) json.push(piece);
  expect(pieces.join('')).toBe(line);
  return json.object();
}

/** Strings that exercise every escape, a surrogate pair (escaped and raw) and lengths around the cap. */
function randomText(rand: () => number): string {
  const alphabet = [
    'a',
    'b',
    ' ',
    '"',
    '\\',
    '/',
    '\n',
    '\t',
    '\r',
    '\b',
    '\f',
    '\u0001',
    'é',
    '😀',
    '…',
    '\u2028',
  ];
  const length = [0, 3, 15, 16, 17, 40, 300][Math.floor(rand() * 7)]!;
  let text = '';
  while (text.length < length) text += alphabet[Math.floor(rand() * alphabet.length)];
  return text;
}

function randomValue(rand: () => number, depth: number): unknown {
  const pick = Math.floor(rand() * (depth > 2 ? 5 : 7));
  switch (pick) {
    case 0:
      return randomText(rand);
    case 1:
      return Math.floor(rand() * 1e6) / 100 - 5000;
    case 2:
      return [true, false, null][Math.floor(rand() * 3)];
    case 3:
      return randomText(rand);
    case 4:
      return rand() < 0.5 ? '' : randomText(rand);
    case 5:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
    default:
      return randomObject(rand, depth + 1);
  }
}

function randomObject(rand: () => number, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const n = Math.floor(rand() * 5);
  for (let i = 0; i < n; i++)
    out[rand() < 0.9 ? `k${i}` : randomText(rand)] = randomValue(rand, depth);
  return out;
}

/** JSON.stringify escapes only what it must: also write `\uXXXX` escapes, as other encoders do. */
function escapeMore(json: string, rand: () => number): string {
  return json.replace(/[é😀…\u2028]/gu, (c) =>
    rand() < 0.5
      ? c
          .split('')
          .map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`)
          .join('')
      : c,
  );
}

describe('JsonPieces', () => {
  it('reads the object of a line cut anywhere, long strings clipped as clipTail would', () => {
    const rand = prng(7);
    for (let i = 0; i < 400; i++) {
      const object = randomObject(rand);
      const compact = JSON.stringify(object);
      const line =
        i % 3 === 0 ? ` ${JSON.stringify(object, null, 1).replaceAll('\n', ' ')} ` : compact;
      const text = i % 2 === 0 ? escapeMore(line, rand) : line;
      expect(JSON.parse(text)).toEqual(object);
      const got = readPieces(text, chunks(text, i, 1 + (i % 9)));
      expect(got).toEqual(clipStrings(object, 16));
    }
  });

  it('a string of exactly the cap is kept whole; one character more is clipped', () => {
    const at = `{"a":"${'x'.repeat(16)}"}`;
    expect(readPieces(at, chunks(at, 1, 4))).toEqual({ a: 'x'.repeat(16) });
    const over = `{"a":"y${'x'.repeat(16)}"}`;
    expect(readPieces(over, chunks(over, 1, 4))).toEqual({ a: `…${'x'.repeat(15)}` });
    // A long string that arrives in one piece, and one built from short pieces and escapes.
    const long = `{"a":"${'z'.repeat(100)}\\n${'w'.repeat(20)}"}`;
    expect(readPieces(long, [long])).toEqual({
      a: clipTail(`${'z'.repeat(100)}\n${'w'.repeat(20)}`, 16),
    });
    expect(readPieces(long, chunks(long, 3, 2))).toEqual(readPieces(long, [long]));
  });

  it('is undefined for whatever parseJsonObject refuses', () => {
    const lines = [
      '',
      '   ',
      'not json',
      '[1,2]',
      '"a string"',
      '42',
      '{"a":1} trailing',
      '{"a":1',
      '{"a":"unterminated',
      '{"a":"bad escape \\x"}',
      '{"a":"bad unicode \\u12G4"}',
      '{"a":"cut escape \\u12',
      '{"a":"raw\u0001control"}',
      `{"a":"raw newline ${'x'.repeat(40)}\n"}`,
      '{"a":tru}',
      '{a:1}',
    ];
    for (const line of lines) {
      expect(parseJsonObject(line), line).toBeUndefined();
      for (let seed = 0; seed < 5; seed++) {
        expect(readPieces(line, line === '' ? [] : chunks(line, seed, 3)), line).toBeUndefined();
      }
    }
  });

  it('counts a line whose structure alone is over its bound as not JSON', () => {
    const line = JSON.stringify({ numbers: Array.from({ length: 100 }, (_, i) => i) });
    expect(readPieces(line, [line], 16, line.length)).toEqual(JSON.parse(line));
    expect(readPieces(line, [line], 16, 50)).toBeUndefined();
  });
});

describe('TextTail', () => {
  it('keeps the end of a text fed in pieces as clipTail keeps it of the text trimmed', () => {
    const rand = prng(11);
    const parts = ['a', 'bc', ' ', '   ', '\n', '\t', '\u00a0', 'x y', '😀'];
    for (let i = 0; i < 500; i++) {
      let text = '';
      const length = Math.floor(rand() * 60);
      while (text.length < length) text += parts[Math.floor(rand() * parts.length)];
      const max = 1 + Math.floor(rand() * 12);
      const tail = new TextTail(max);
      for (const piece of chunks(text, i, 1 + (i % 7))) tail.push(piece);
      const trimmed = clipTail(text.trim(), max);
      const trimmedEnd = clipTail(text.trimEnd(), max);
      expect(tail.blank).toBe(text.trim() === '');
      expect(tail.trimmed()).toEqual({ text: trimmed, cut: trimmed !== text.trim() });
      expect(tail.trimmedEnd()).toEqual({ text: trimmedEnd, cut: trimmedEnd !== text.trimEnd() });
    }
  });
});

/** The same lines, whole to one parser and in pieces to another: the results must be equal. */
function bothWays(make: () => OutputParser, lines: string[], seed: number) {
  const whole = make();
  const pieces = make();
  const said = lines.map((line, i) => [
    whole.push(line),
    pieces.pushPieces(chunks(line, seed + i, 1 + ((seed + i) % 200))),
  ]);
  for (const [a, b] of said) expect(b).toBe(a);
  for (const exit of [
    { exitCode: 0 },
    { exitCode: 1 },
    { signal: 'SIGTERM' },
    { endedByUs: true },
  ]) {
    expect(pieces.finish(exit)).toEqual(whole.finish(exit));
  }
}

describe('parsers read a long line in pieces as they read it whole', () => {
  const files = readdirSync(REFERENCE).filter(
    (f) => f.startsWith('claude-') || f.startsWith('codex-'),
  );

  it.each(files)('%s', (file) => {
    const lines = reference(file).split('\n');
    const make = file.startsWith('claude-')
      ? () => new ClaudeStreamParser()
      : () =>
          new CodexJsonParser({
            previousUsage: {
              inputTokens: 1,
              outputTokens: 1,
              cacheReadTokens: 0,
              cacheWriteTokens: 0,
            },
          });
    bothWays(make, lines, file.length);
  });

  it('claude: a 20 MB final result gives its summary, cost and usage', () => {
    const text = `${'The whole story, with "quotes", \\ and é.\n'.repeat(500_000)}The end.`;
    const line = JSON.stringify({
      type: 'result',
      subtype: 'success',
      is_error: false,
      num_turns: 3,
      result: text,
      session_id: 'session-1',
      total_cost_usd: 0.25,
      usage: { input_tokens: 10, output_tokens: 20 },
    });
    expect(line.length).toBeGreaterThan(20_000_000);
    const parser = new ClaudeStreamParser();
    expect(parser.pushPieces(chunks(line, 5, 65_536))).toBe('final');
    const result = parser.finish({ exitCode: 0 });
    expect(result).toMatchObject({
      status: 'completed',
      costUsd: 0.25,
      turns: 3,
      sessionId: 'session-1',
    });
    expect(result.summary).toBe(clipTail(text, SUMMARY_MAX_CHARS));
    expect(result.summary.endsWith('é.\nThe end.')).toBe(true);
    const whole = new ClaudeStreamParser();
    whole.push(line);
    expect(result).toEqual(whole.finish({ exitCode: 0 }));
  });

  it('codex: a long agent message and long noise', () => {
    const lines = reference('codex-success.stdout').split('\n');
    const message = JSON.stringify({
      type: 'item.completed',
      item: { id: 'item_9', type: 'agent_message', text: `${'é'.repeat(200_000)} done` },
    });
    const noise = `${'x'.repeat(100_000)}   `;
    const ended = lines.findIndex((l) => l.includes('turn.completed'));
    const withLong = [...lines.slice(0, ended), message, noise, ...lines.slice(ended)];
    bothWays(() => new CodexJsonParser(), withLong, 3);
  });

  it('text output: the tail of long lines, blank ones skipped at the start', () => {
    const make = () =>
      new TextTailParser({
        maxLines: 3,
        maxChars: 50,
        onExitFailure: (exitCode, tail) => ({ reason: 'agent-exit', exitCode, message: tail }),
      });
    bothWays(make, ['   ', '', `${'a'.repeat(80)}   `, '  short  ', `\t${'b'.repeat(30)}\t`], 1);
    bothWays(make, [`${' '.repeat(100)}`, `${'c'.repeat(100)}${' '.repeat(100)}`], 2);
  });
});
