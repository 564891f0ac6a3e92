import { describe, expect, it } from 'vitest';
import { CodexJsonParser, classifyCodexError } from '../../src/agents/codex.js';
import type { AgentRunResult } from '../../src/agents/types.js';
import { parseChunks, parseLines, reference } from './support.js';

const usage = (
  inputTokens: number,
  outputTokens: number,
  cacheReadTokens: number,
  cacheWriteTokens: number,
) => ({ inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens });
const ZERO = usage(0, 0, 0, 0);

const CASES: { file: string; exitCode: number; expected: AgentRunResult }[] = [
  {
    file: 'codex-success.stdout',
    exitCode: 0,
    expected: {
      status: 'completed',
      summary: 'Done: wrote hello.txt',
      usage: usage(3000, 84, 2048, 0),
      turns: 1,
      sessionId: '01a20d92-3de3-7720-9842-fa3cffacdeed',
      notes: [],
    },
  },
  {
    file: 'codex-patch.stdout',
    exitCode: 0,
    expected: {
      status: 'completed',
      summary: 'Done: wrote hello.txt',
      usage: usage(3000, 84, 2048, 0),
      turns: 1,
      sessionId: '01a20d92-3f8d-7a32-b35a-25e14e56ae50',
      notes: [],
    },
  },
  {
    // Default read-only sandbox: the write failed silently, codex still says done.
    file: 'codex-readonly.stdout',
    exitCode: 0,
    expected: {
      status: 'completed',
      summary: 'Done: wrote hello.txt',
      usage: usage(3000, 84, 2048, 0),
      turns: 1,
      sessionId: '01a20d92-40ec-7870-81ce-1ced52973100',
      notes: [],
    },
  },
  {
    file: 'codex-http401.stdout',
    exitCode: 1,
    expected: {
      status: 'failed',
      failure: {
        reason: 'auth-error',
        message:
          'unexpected status 401 Unauthorized: Incorrect API key provided: sk-test, url: http://127.0.0.1:8787/s/401/v1/responses, request id: req_8f46edd5893444e52791add2',
      },
      summary: '',
      usage: ZERO,
      turns: 0,
      sessionId: '01a20d92-4643-7b73-b5ce-2b2777f1349c',
      notes: [],
    },
  },
  {
    file: 'codex-http429.stdout',
    exitCode: 1,
    expected: {
      status: 'failed',
      failure: {
        reason: 'rate-limited',
        message:
          'exceeded retry limit, last status: 429 Too Many Requests, request id: req_aa6a7017d6540b0b0bff0594',
        apiStatus: 429,
      },
      summary: '',
      usage: ZERO,
      turns: 0,
      sessionId: '01a20d92-4507-7760-a1d9-7cc0aa0a8b2b',
      notes: [],
    },
  },
  {
    file: 'codex-http500.stdout',
    exitCode: 1,
    expected: {
      status: 'failed',
      failure: {
        reason: 'outage',
        cli: 'codex',
        message: 'We’re currently experiencing high demand, which may cause temporary errors.',
      },
      summary: '',
      usage: ZERO,
      turns: 0,
      sessionId: '01a20d92-5f77-7093-9bc9-92b6a316ea27',
      notes: [],
    },
  },
  {
    file: 'codex-resp-failed.stdout',
    exitCode: 1,
    expected: {
      status: 'failed',
      failure: {
        reason: 'outage',
        cli: 'codex',
        message: 'stream disconnected before completion: mock: the model failed to respond',
      },
      summary: '',
      usage: ZERO,
      turns: 0,
      sessionId: '01a20d92-c0fa-72a3-aac3-57c9c0377734',
      notes: [],
    },
  },
];

describe('CodexJsonParser on the real CLI outputs', () => {
  it.each(CASES)('$file', ({ file, exitCode, expected }) => {
    const result = parseLines(new CodexJsonParser(), reference(file), { exitCode });
    expect(result).toEqual(expected);
    expect(result.costUsd).toBeUndefined();
  });

  it.each(CASES)(
    '$file gives the same result however the output is chunked',
    ({ file, exitCode, expected }) => {
      const text = reference(file);
      for (const seed of [1, 2, 3, 42]) {
        expect(parseChunks(new CodexJsonParser(), text, { exitCode }, seed)).toEqual(expected);
      }
      expect(parseChunks(new CodexJsonParser(), text, { exitCode }, 5, 1)).toEqual(expected);
    },
  );

  it('a hung run (captured: API unreachable, retrying forever) killed by us is a signal', () => {
    const r = parseLines(new CodexJsonParser(), reference('codex-unreachable.partial.stdout'), {
      signal: 'SIGTERM',
    });
    expect(r).toEqual({
      status: 'failed',
      failure: { reason: 'signal', signal: 'SIGTERM' },
      summary: '',
      usage: ZERO,
      turns: 0,
      sessionId: '01a20dd4-d82f-7e13-9f48-55688ac737ef',
      notes: [],
    });
  });
});

function parse(lines: string[], exitCode = 0, previousUsage?: AgentRunResult['usage']) {
  const parser = new CodexJsonParser(previousUsage ? { previousUsage } : {});
  for (const line of lines) parser.push(line);
  return parser.finish({ exitCode });
}

const lines = (file: string) => reference(file).trimEnd().split('\n');

describe('CodexJsonParser details', () => {
  it('error events alone are not fatal: reconnects then a completed turn', () => {
    const [started, turn, ...rest] = lines('codex-success.stdout');
    const reconnect = lines('codex-http500.stdout')[2] ?? '';
    const r = parse([started ?? '', turn ?? '', reconnect, reconnect, ...rest]);
    expect(r.status).toBe('completed');
    expect(r.notes).toEqual(['2 error event(s) before the turn completed']);
  });

  it('turn.failed is fatal even with exit 0', () => {
    expect(parse(lines('codex-resp-failed.stdout'), 0).status).toBe('failed');
  });

  it('turn.completed usage is cumulative: the last one counts, not the sum', () => {
    const done = lines('codex-success.stdout');
    const second = JSON.stringify({
      type: 'turn.completed',
      usage: {
        input_tokens: 5000,
        cached_input_tokens: 4000,
        cache_write_input_tokens: 10,
        output_tokens: 200,
        reasoning_output_tokens: 20,
      },
    });
    const r = parse([...done, second]);
    expect(r.usage).toEqual(usage(5000, 200, 4000, 10));
    expect(r.turns).toBe(2);
  });

  it('after a resume, subtracts what the session had already reported', () => {
    const r = parse(lines('codex-success.stdout'), 0, usage(1000, 80, 2000, 0));
    expect(r.usage).toEqual(usage(2000, 4, 48, 0));
    // Never negative, e.g. if the previous figure was from another session.
    expect(parse(lines('codex-success.stdout'), 0, usage(9999, 9999, 9999, 9999)).usage).toEqual(
      ZERO,
    );
  });

  it('only error events then exit 1: agent-exit with the last error', () => {
    const [started, turn] = lines('codex-resp-failed.stdout');
    const last = JSON.stringify({ type: 'error', message: 'something odd' });
    expect(parse([started ?? '', turn ?? '', last], 1).failure).toEqual({
      reason: 'agent-exit',
      exitCode: 1,
      message: 'something odd',
    });
  });

  it('only a 401 error event then exit 1: auth error, without waiting for turn.failed', () => {
    const ls = lines('codex-http401.stdout').slice(0, 4);
    expect(parse(ls, 1).failure?.reason).toBe('auth-error');
  });

  it('no events and exit 0: unparseable output', () => {
    expect(parse(['Reading additional input from stdin...'], 0).failure).toEqual({
      reason: 'unparseable-output',
      message: 'no turn.completed event in 1 line(s) of output (1 not JSON)',
    });
  });

  it('keeps the last agent message as the summary', () => {
    const ls = lines('codex-success.stdout');
    const early = JSON.stringify({
      type: 'item.completed',
      item: { id: 'item_9', type: 'agent_message', text: 'first' },
    });
    expect(parse([early, ...ls]).summary).toBe('Done: wrote hello.txt');
  });
});

describe('classifyCodexError', () => {
  it.each([
    ["You've hit your usage limit… Try again at 3:28 PM", 'rate-limited'],
    ['You’ve hit your usage limit. Upgrade to Pro or try again at 3:28 PM.', 'rate-limited'],
    ['Quota exceeded. Check your plan and billing details.', 'rate-limited'],
    ['exceeded retry limit, last status: 429 Too Many Requests', 'rate-limited'],
    ['unexpected status 401 Unauthorized: Incorrect API key provided', 'auth-error'],
    ['unexpected status 403 Forbidden', 'auth-error'],
    ['unexpected status 500 Internal Server Error', 'outage'],
    ['unexpected status 502 Bad Gateway: upstream', 'outage'],
    ['unexpected status 529 Overloaded', 'outage'],
    ['stream disconnected before completion', 'outage'],
    ['We’re currently experiencing high demand, which may cause temporary errors.', 'outage'],
    ['Connection failed: error sending request', 'outage'],
    ['Reconnecting... waiting for network (Connection failed: error sending request)', 'outage'],
    [
      'error sending request for url (http://127.0.0.1:9/v1/responses): connection refused',
      'outage',
    ],
    ['unexpected status 400 Bad Request: invalid model', 'agent-error'],
    ['the model produced invalid JSON', 'agent-error'],
  ])('%j -> %s', (message, reason) => {
    expect(classifyCodexError(message).reason).toBe(reason);
  });

  it('keeps the API status it found', () => {
    expect(classifyCodexError('unexpected status 500 Internal Server Error')).toEqual({
      reason: 'outage',
      cli: 'codex',
      message: 'unexpected status 500 Internal Server Error',
      apiStatus: 500,
    });
    expect(classifyCodexError('unexpected status 400 Bad Request')).toEqual({
      reason: 'agent-error',
      message: 'unexpected status 400 Bad Request',
      apiStatus: 400,
    });
  });
});

describe('CodexJsonParser signals: stop early when the output already decides', () => {
  const pushAll = (file: string) => {
    const parser = new CodexJsonParser();
    const seen = lines(file).map((l) => parser.push(l));
    return { parser, seen };
  };

  it('a 401 reconnect notice is fatal at once: ended there, it is an auth error', () => {
    const ls = lines('codex-http401.stdout');
    const parser = new CodexJsonParser();
    expect(parser.push(ls[0] ?? '')).toBeUndefined();
    expect(parser.push(ls[1] ?? '')).toBeUndefined();
    // `Reconnecting... 1/5 (unexpected status 401 Unauthorized: ...)`
    expect(parser.push(ls[2] ?? '')).toBe('fatal');
    const result = parser.finish({ signal: 'SIGTERM', endedByUs: true });
    expect(result.failure).toMatchObject({ reason: 'auth-error' });
    expect(result.failure?.reason === 'auth-error' && result.failure.message).toMatch(
      /^Reconnecting\.\.\. 1\/5 \(unexpected status 401 Unauthorized: Incorrect API key provided/,
    );
  });

  it('a 403 reconnect notice is fatal too; 5xx and network notices are not', () => {
    const parser = new CodexJsonParser();
    expect(
      parser.push(
        '{"type":"error","message":"Reconnecting... 1/5 (unexpected status 403 Forbidden)"}',
      ),
    ).toBe('fatal');
    const five = pushAll('codex-http500.stdout');
    expect(five.seen.slice(0, -1).every((s) => s === undefined)).toBe(true);
    const net = pushAll('codex-unreachable.partial.stdout');
    expect(net.seen.every((s) => s === undefined)).toBe(true);
  });

  it('turn.completed and turn.failed are final', () => {
    expect(pushAll('codex-success.stdout').seen.at(-1)).toBe('final');
    const failed = pushAll('codex-http500.stdout');
    expect(failed.seen.at(-1)).toBe('final');
    expect(failed.parser.finish({ exitCode: 1 }).failure?.reason).toBe('outage');
  });

  it('ended by us after turn.completed: the reported result stands, with a note', () => {
    const { parser } = pushAll('codex-success.stdout');
    const result = parser.finish({ signal: 'SIGTERM', endedByUs: true });
    expect(result.status).toBe('completed');
    expect(result.notes).toEqual([
      'codex printed its final event but did not exit; Bearing ended it',
    ]);
  });
});
