import { describe, expect, it } from 'vitest';
import { ClaudeStreamParser } from '../../src/agents/claude.js';
import type { AgentRunResult } from '../../src/agents/types.js';
import { parseChunks, parseLines, reference } from './support.js';

const usage = (
  inputTokens: number,
  outputTokens: number,
  cacheReadTokens: number,
  cacheWriteTokens: number,
) => ({ inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens });
const ZERO = usage(0, 0, 0, 0);

/** Every reference output, the exit code the real CLI gave, and exactly what we must make of it. */
const CASES: { file: string; exitCode: number; expected: AgentRunResult }[] = [
  {
    file: 'claude-success.json',
    exitCode: 0,
    expected: {
      status: 'completed',
      summary: 'Done: wrote hello.txt',
      costUsd: 0.023424,
      usage: usage(240, 80, 20480, 4096),
      turns: 2,
      sessionId: 'ddb1b3cf-8f6b-4daa-a505-99cc795e53ab',
      notes: [],
    },
  },
  {
    file: 'claude-success.stream.jsonl',
    exitCode: 0,
    expected: {
      status: 'completed',
      summary: 'Done: wrote hello.txt',
      costUsd: 0.023424,
      usage: usage(240, 80, 20480, 4096),
      turns: 2,
      sessionId: 'a5d5484e-63e0-412d-b13e-10f34f90bcc4',
      model: 'claude-sonnet-5',
      notes: [],
    },
  },
  {
    file: 'claude-max-turns.json',
    exitCode: 1,
    expected: {
      status: 'failed',
      failure: { reason: 'max-turns', message: 'Reached maximum number of turns (3)', turns: 4 },
      summary: '',
      costUsd: 0.035361,
      usage: usage(360, 135, 30720, 6144),
      turns: 4,
      sessionId: 'b14f4114-4f10-4968-8afa-cd13ce58fcb1',
      notes: [],
    },
  },
  {
    // `usage` covers only the last call (120/45/10240/2048); modelUsage has the totals.
    file: 'claude-max-budget.json',
    exitCode: 1,
    expected: {
      status: 'failed',
      failure: {
        reason: 'budget-exceeded',
        message: 'Reached maximum budget ($0.02)',
        costUsd: 0.023573999999999998,
      },
      summary: '',
      costUsd: 0.023573999999999998,
      usage: usage(240, 90, 20480, 4096),
      turns: 2,
      sessionId: '29406749-6561-4e0c-bb23-5243530e7b96',
      notes: [],
    },
  },
  {
    file: 'claude-permission-denied.json',
    exitCode: 0,
    expected: {
      status: 'failed',
      failure: {
        reason: 'permission-denied',
        message:
          'claude reported success but 1 tool call(s) were denied; its summary may claim work it did not do',
        tools: ['Write'],
      },
      summary: 'Done: wrote hello.txt',
      costUsd: 0.023424,
      usage: usage(240, 80, 20480, 4096),
      turns: 2,
      sessionId: '62146aa5-373d-4a90-84d3-5dbdc1cb1ad4',
      notes: [],
    },
  },
  {
    file: 'claude-429-default-retries.json',
    exitCode: 1,
    expected: {
      status: 'failed',
      failure: {
        reason: 'rate-limited',
        message:
          'API Error: Request rejected (429) · Number of request tokens has exceeded your per-minute rate limit',
        apiStatus: 429,
      },
      summary:
        'API Error: Request rejected (429) · Number of request tokens has exceeded your per-minute rate limit',
      costUsd: 0,
      usage: ZERO,
      turns: 1,
      sessionId: '0fb9fb29-cf5e-4063-b401-cd474acf0c15',
      notes: [],
    },
  },
  {
    file: 'claude-529-default-retries.json',
    exitCode: 1,
    expected: {
      status: 'failed',
      failure: {
        reason: 'outage',
        cli: 'claude',
        message:
          'API Error: 529 Overloaded. This is a server-side issue, usually temporary — try again in a moment. If it persists, check your inference gateway (127.0.0.1:8787).',
        apiStatus: 529,
      },
      summary:
        'API Error: 529 Overloaded. This is a server-side issue, usually temporary — try again in a moment. If it persists, check your inference gateway (127.0.0.1:8787).',
      costUsd: 0,
      usage: ZERO,
      turns: 1,
      sessionId: '2a8d7c96-fc8f-474e-968d-0eda8d6cded6',
      notes: [],
    },
  },
  {
    file: 'claude-401-default-retries.json',
    exitCode: 1,
    expected: {
      status: 'failed',
      failure: { reason: 'auth-error', message: 'Invalid API key · Fix external API key' },
      summary: 'Invalid API key · Fix external API key',
      costUsd: 0,
      usage: ZERO,
      turns: 1,
      sessionId: '8f267d9c-7dd6-4bbf-bc47-7bc8a37e003c',
      notes: [],
    },
  },
  {
    file: 'claude-fallback.stream.jsonl',
    exitCode: 0,
    expected: {
      status: 'completed',
      summary: 'Hello! This is a plain text answer.',
      costUsd: 0.0038789999999999996,
      usage: usage(120, 35, 10240, 2048),
      turns: 1,
      sessionId: 'c790c627-4ffc-48b1-8b72-5c6464eeca93',
      model: 'claude-haiku-4-5-20251001',
      notes: [
        'API request retried 2 time(s), last: 529 overloaded',
        'model fell back from claude-sonnet-5 to claude-haiku-4-5-20251001 (overloaded)',
      ],
    },
  },
  {
    // Captured for Bearing: API unreachable; `is_error` with a null status.
    file: 'claude-conn-refused.stream.jsonl',
    exitCode: 1,
    expected: {
      status: 'failed',
      failure: {
        reason: 'outage',
        cli: 'claude',
        message: 'API Error: Unable to connect to API (ConnectionRefused)',
      },
      summary: 'API Error: Unable to connect to API (ConnectionRefused)',
      costUsd: 0,
      usage: ZERO,
      turns: 1,
      sessionId: '08b7e226-6b3c-4835-9c78-408e6438567f',
      model: 'claude-opus-4-8[1m]',
      notes: [],
    },
  },
  {
    // Captured for Bearing: `--resume` with an unknown id; no `result` field, only `errors`.
    file: 'claude-resume-missing.stream.jsonl',
    exitCode: 1,
    expected: {
      status: 'failed',
      failure: {
        reason: 'agent-error',
        message: 'No conversation found with session ID: 11111111-1111-1111-1111-111111111111',
      },
      summary: '',
      costUsd: 0,
      usage: ZERO,
      turns: 0,
      sessionId: '11111111-1111-1111-1111-111111111111',
      notes: [],
    },
  },
];

describe('ClaudeStreamParser on the real CLI outputs', () => {
  it.each(CASES)('$file', ({ file, exitCode, expected }) => {
    const result = parseLines(new ClaudeStreamParser(), reference(file), { exitCode });
    expect(result).toEqual(expected);
    expect(result.status).toBe(expected.failure ? 'failed' : 'completed');
  });

  it.each(CASES)(
    '$file gives the same result however the output is chunked',
    ({ file, exitCode, expected }) => {
      const text = reference(file);
      for (const seed of [1, 2, 3, 42, 1234]) {
        expect(parseChunks(new ClaudeStreamParser(), text, { exitCode }, seed)).toEqual(expected);
      }
      // One character at a time, and the whole text in one chunk without a final newline.
      expect(parseChunks(new ClaudeStreamParser(), text, { exitCode }, 7, 1)).toEqual(expected);
      expect(parseChunks(new ClaudeStreamParser(), text.trimEnd(), { exitCode }, 9, 1e9)).toEqual(
        expected,
      );
    },
  );

  it('classifies from the result event, not the exit code', () => {
    // Exit 1 with a successful result happens when an MCP server fails to connect.
    const result = parseLines(new ClaudeStreamParser(), reference('claude-success.json'), {
      exitCode: 1,
    });
    expect(result.status).toBe('completed');
    expect(result.failure).toBeUndefined();
  });
});

/** A result event built from a reference, with fields replaced. */
function resultLine(patch: Record<string, unknown>, file = 'claude-success.json'): string {
  return JSON.stringify({ ...JSON.parse(reference(file)), ...patch });
}

function parse(lines: string[], exitCode = 0): AgentRunResult {
  const parser = new ClaudeStreamParser();
  for (const line of lines) parser.push(line);
  return parser.finish({ exitCode });
}

describe('ClaudeStreamParser classification', () => {
  it.each([
    ['Claude AI usage limit reached|1750000000', '2025-06-15T15:06:40.000Z'],
    ['5-hour limit reached ∙ resets 2am', undefined],
    ["You've hit your limit · resets 1pm (Europe/Lisbon)", undefined],
    ["You've hit your session limit · resets 3:50pm (Asia/Tokyo)", undefined],
    ["You're out of extra usage · resets 4pm (America/Chicago)", undefined],
  ])('usage-limit text %j is rate-limited', (text, resetsAt) => {
    const r = parse([resultLine({ is_error: true, result: text })], 1);
    expect(r.status).toBe('failed');
    expect(r.failure).toEqual({
      reason: 'rate-limited',
      message: text,
      ...(resetsAt ? { resetsAt } : {}),
    });
  });

  it('does not treat the same words in a successful result as a limit', () => {
    const r = parse([resultLine({ result: 'Added a banner: "You\'ve hit your limit"' })]);
    expect(r.status).toBe('completed');
  });

  it('takes the reset time from a rejected rate_limit_event (epoch seconds)', () => {
    const event = JSON.stringify({
      type: 'rate_limit_event',
      rate_limit_info: {
        status: 'rejected',
        resetsAt: 1778565600,
        rateLimitType: 'five_hour',
        overageStatus: 'rejected',
        overageDisabledReason: 'org_level_disabled',
        isUsingOverage: false,
      },
    });
    const r = parse(
      [event, resultLine({ is_error: true, result: 'new wording nobody matches' })],
      1,
    );
    expect(r.failure).toEqual({
      reason: 'rate-limited',
      message: 'new wording nobody matches',
      resetsAt: '2026-05-12T06:00:00.000Z',
    });
  });

  it('a rejected rate_limit_event without any result is still rate-limited', () => {
    const event = JSON.stringify({
      type: 'rate_limit_event',
      rate_limit_info: { status: 'rejected', resetsAt: 1778565600, rateLimitType: 'five_hour' },
    });
    expect(parse([event], 1).failure).toEqual({
      reason: 'rate-limited',
      message: 'usage limit reached (five_hour)',
      resetsAt: '2026-05-12T06:00:00.000Z',
    });
  });

  it('an allowed rate_limit_event changes nothing; a warning is noted', () => {
    const allowed = JSON.stringify({
      type: 'rate_limit_event',
      rate_limit_info: { status: 'allowed', resetsAt: 1774447200, rateLimitType: 'five_hour' },
    });
    const ok = parse([allowed, resultLine({})]);
    expect(ok.status).toBe('completed');
    const warning = allowed.replace('"allowed"', '"allowed_warning"');
    const warned = parse([warning, resultLine({})]);
    expect(warned.status).toBe('completed');
    expect(warned.notes).toContain('close to a usage limit (five_hour)');
  });

  it('403 is an auth error', () => {
    const r = parse([resultLine({ is_error: true, api_error_status: 403, result: 'Forbidden' })]);
    expect(r.failure).toEqual({ reason: 'auth-error', message: 'Forbidden' });
  });

  it('success with an empty result completes, takes the last message, and says so', () => {
    const stream = reference('claude-success.stream.jsonl').trimEnd().split('\n');
    const last = JSON.parse(stream.at(-1) ?? '{}');
    stream[stream.length - 1] = JSON.stringify({ ...last, result: '' });
    const r = parse(stream);
    expect(r.status).toBe('completed');
    expect(r.summary).toBe('Done: wrote hello.txt');
    expect(r.notes).toEqual(['claude returned an empty result; the summary is its last message']);
    const bare = parse([resultLine({ result: '' })]);
    expect(bare.status).toBe('completed');
    expect(bare.summary).toBe('');
    expect(bare.notes).toEqual(['claude returned an empty result and no message']);
  });

  it('keeps the newest session id (resume may fork a new one)', () => {
    const stream = reference('claude-success.stream.jsonl').trimEnd().split('\n');
    const last = JSON.parse(stream.at(-1) ?? '{}');
    stream[stream.length - 1] = JSON.stringify({ ...last, session_id: 'forked-id' });
    expect(parse(stream).sessionId).toBe('forked-id');
  });

  it('sums modelUsage over models', () => {
    const base = JSON.parse(
      reference('claude-fallback.stream.jsonl').trimEnd().split('\n').at(-1) ?? '{}',
    );
    const haiku = base.modelUsage['claude-haiku-4-5-20251001'];
    const line = JSON.stringify({
      ...base,
      modelUsage: {
        'claude-haiku-4-5-20251001': haiku,
        'claude-sonnet-5': {
          ...haiku,
          inputTokens: 1,
          outputTokens: 2,
          cacheReadInputTokens: 3,
          cacheCreationInputTokens: 4,
        },
      },
    });
    expect(parse([line]).usage).toEqual(usage(121, 37, 10243, 2052));
  });

  it('no result event: agent-exit on a non-zero exit, with the last non-JSON line', () => {
    const stream = reference('claude-success.stream.jsonl').trimEnd().split('\n').slice(0, 2);
    const r = parse([...stream, 'Error: something broke'], 1);
    expect(r.status).toBe('failed');
    expect(r.failure).toEqual({
      reason: 'agent-exit',
      exitCode: 1,
      message: 'Error: something broke',
    });
    expect(r.summary).toBe("I'll create hello.txt.");
    expect(r.sessionId).toBe('a5d5484e-63e0-412d-b13e-10f34f90bcc4');
    expect(r.notes).toEqual(['1 non-JSON line(s) ignored']);
  });

  it('no result event and exit 0: unparseable output', () => {
    const r = parse(['not json', '{"type":"system","subtype":"init","session_id":"s"}'], 0);
    expect(r.failure).toEqual({
      reason: 'unparseable-output',
      message: 'no result event in 2 line(s) of output (1 not JSON)',
    });
    expect(r.usage).toEqual(ZERO);
  });

  it('no result event, killed by a signal', () => {
    const p = new ClaudeStreamParser();
    p.push(reference('claude-success.stream.jsonl').split('\n')[0] ?? '');
    expect(p.finish({ signal: 'SIGTERM' }).failure).toEqual({
      reason: 'signal',
      signal: 'SIGTERM',
    });
  });

  it('no result event but a usage-limit line (old CLI versions): rate-limited', () => {
    const r = parse(['Claude AI usage limit reached|1750000000'], 1);
    expect(r.failure).toEqual({
      reason: 'rate-limited',
      message: 'Claude AI usage limit reached|1750000000',
      resetsAt: '2025-06-15T15:06:40.000Z',
    });
  });

  it('ignores non-JSON lines around a result but counts them', () => {
    const r = parse(['Warning: no stdin data received in 3s', resultLine({}), '']);
    expect(r.status).toBe('completed');
    expect(r.notes).toEqual(['1 non-JSON line(s) ignored']);
  });

  it('caps the summary size', () => {
    const huge = 'a'.repeat(200_000);
    const r = parse([resultLine({ result: huge })]);
    expect(r.summary.length).toBe(64 * 1024);
    expect(r.summary.startsWith('…')).toBe(true);
    expect(r.summary.endsWith('aaa')).toBe(true);
  });
});

/** Each line of a reference file pushed, with the signal push returned for it. */
function signals(file: string): { parser: ClaudeStreamParser; seen: (string | undefined)[] } {
  const parser = new ClaudeStreamParser();
  const seen = reference(file)
    .trimEnd()
    .split('\n')
    .map((line) => parser.push(line));
  return { parser, seen };
}

describe('ClaudeStreamParser signals: stop early when the output already decides', () => {
  it('a 401 api_retry is fatal at once: ended there, it is an auth error', () => {
    const lines = reference('claude-401-retries.stream.jsonl').trimEnd().split('\n');
    const parser = new ClaudeStreamParser();
    expect(parser.push(lines[0] ?? '')).toBeUndefined();
    // The first retry event (error_status 401): claude would retry for ~3 minutes.
    expect(parser.push(lines[1] ?? '')).toBe('fatal');
    expect(parser.finish({ signal: 'SIGTERM', endedByUs: true })).toMatchObject({
      status: 'failed',
      failure: {
        reason: 'auth-error',
        message: 'the API refused the credentials (status 401, authentication_failed)',
      },
      sessionId: JSON.parse(lines[0] ?? '{}').session_id,
    });
  });

  it('a 403 api_retry is fatal too', () => {
    const line = JSON.stringify({
      ...JSON.parse(reference('claude-401-retries.stream.jsonl').split('\n')[1] ?? '{}'),
      error_status: 403,
    });
    const parser = new ClaudeStreamParser();
    expect(parser.push(line)).toBe('fatal');
    expect(parser.finish({}).failure).toMatchObject({ reason: 'auth-error' });
  });

  it("run to the end, the 401 result is an auth error with the CLI's own words", () => {
    const { parser, seen } = signals('claude-401-retries.stream.jsonl');
    expect(seen).toEqual([undefined, 'fatal', 'fatal', undefined, 'final']);
    expect(parser.finish({ exitCode: 1 }).failure).toEqual({
      reason: 'auth-error',
      message: 'Failed to authenticate. API Error: 401 stand-in status 401',
    });
  });

  it('403 (claude does not retry it): the result is final and an auth error', () => {
    const { parser, seen } = signals('claude-403.stream.jsonl');
    expect(seen).toEqual([undefined, undefined, 'final']);
    expect(parser.finish({ exitCode: 1 }).failure).toEqual({
      reason: 'auth-error',
      message: 'Failed to authenticate. API Error: 403 stand-in status 403',
    });
  });

  it('5xx and 529 retries are not fatal (claude waits them out); the result is an outage', () => {
    const five = signals('claude-500-retries.stream.jsonl');
    expect(five.seen).toEqual([undefined, undefined, undefined, undefined, 'final']);
    expect(five.parser.finish({ exitCode: 1 }).failure).toEqual({
      reason: 'outage',
      cli: 'claude',
      apiStatus: 500,
      message:
        'API Error: 500 stand-in status 500. This is a server-side issue, usually temporary — try again in a moment. If it persists, check your inference gateway (127.0.0.1:18410).',
    });
    const fallback = signals('claude-fallback.stream.jsonl');
    expect(fallback.seen.slice(0, -1).every((s) => s === undefined)).toBe(true);
    expect(fallback.seen.at(-1)).toBe('final');
  });

  it('connection refused after retries (null status, synthetic server_error) is an outage', () => {
    const { parser, seen } = signals('claude-conn-refused-retries.stream.jsonl');
    expect(seen).toEqual([undefined, undefined, undefined, undefined, 'final']);
    expect(parser.finish({ exitCode: 1 }).failure).toEqual({
      reason: 'outage',
      cli: 'claude',
      message: 'API Error: Unable to connect to API (ConnectionRefused)',
    });
  });

  it('an outage without a result (claude still retrying when ended) is an outage', () => {
    const lines = reference('claude-conn-refused-retries.stream.jsonl').trimEnd().split('\n');
    const parser = new ClaudeStreamParser();
    for (const line of lines.slice(0, 3)) parser.push(line);
    expect(parser.finish({ exitCode: 1 }).failure).toEqual({
      reason: 'outage',
      cli: 'claude',
      message: 'claude was retrying API requests (2 so far, last: unknown)',
    });
  });

  it('the result is final: ended by us after it, the reported result stands, with a note', () => {
    const { parser, seen } = signals('claude-success.stream.jsonl');
    expect(seen.at(-1)).toBe('final');
    expect(seen.slice(0, -1).every((s) => s === undefined)).toBe(true);
    const result = parser.finish({ signal: 'SIGTERM', endedByUs: true });
    expect(result).toMatchObject({ status: 'completed', summary: 'Done: wrote hello.txt' });
    expect(result.notes).toEqual([
      'claude printed its final result but did not exit; Bearing ended it',
    ]);
  });

  it('a status in the text is the fallback when the result has none', () => {
    const result = JSON.stringify({
      type: 'result',
      subtype: 'success',
      is_error: true,
      api_error_status: null,
      result: 'API Error: 503 Service Unavailable',
      num_turns: 1,
    });
    const parser = new ClaudeStreamParser();
    parser.push(result);
    expect(parser.finish({ exitCode: 1 }).failure).toEqual({
      reason: 'outage',
      cli: 'claude',
      apiStatus: 503,
      message: 'API Error: 503 Service Unavailable',
    });
  });

  it('a 4xx other than 401/403/429 stays an agent error', () => {
    const parser = new ClaudeStreamParser();
    parser.push(
      JSON.stringify({
        type: 'result',
        subtype: 'success',
        is_error: true,
        api_error_status: 400,
        result: 'API Error: 400 prompt is too long',
      }),
    );
    expect(parser.finish({ exitCode: 1 }).failure).toEqual({
      reason: 'agent-error',
      apiStatus: 400,
      message: 'API Error: 400 prompt is too long',
    });
  });
});
