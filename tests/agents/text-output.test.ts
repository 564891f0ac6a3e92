import { describe, expect, it } from 'vitest';
import { clipTail, TailLines } from '../../src/agents/bounded.js';
import { customAdapter } from '../../src/agents/custom.js';
import { shellAdapter } from '../../src/agents/shell.js';
import { MAX_AGENT_LINE_BYTES } from '../../src/agents/types.js';
import type { CustomAgent } from '../../src/core/task.js';
import { LineSplitter } from '../../src/process/line-splitter.js';
import { parseLines, reference } from './support.js';

const textAgent: CustomAgent = {
  name: 'echoer',
  command: 'echoer',
  args: ['{prompt}'],
  output: 'text',
  promptInput: 'argument',
};

describe('shell task output', () => {
  it('exit 0 completes with the output tail as summary', () => {
    const r = parseLines(shellAdapter('make').createParser(), 'building\ndone\n', { exitCode: 0 });
    expect(r).toEqual({
      status: 'completed',
      summary: 'building\ndone',
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    });
  });

  it('non-zero exit is command-failed with the command and the output tail', () => {
    const r = parseLines(shellAdapter('npm run lint').createParser(), 'src/a.ts:1 error\n', {
      exitCode: 2,
    });
    expect(r.status).toBe('failed');
    expect(r.failure).toEqual({
      reason: 'command-failed',
      command: 'npm run lint',
      exitCode: 2,
      output: 'src/a.ts:1 error',
    });
  });

  it('keeps only the last 40 lines', () => {
    const p = shellAdapter('seq').createParser();
    for (let i = 1; i <= 10_000; i++) p.push(`line ${i}`);
    const { summary } = p.finish({ exitCode: 0 });
    const lines = summary.split('\n');
    expect(lines[0]).toBe('…');
    expect(lines.slice(1)).toHaveLength(40);
    expect(lines[1]).toBe('line 9961');
    expect(lines.at(-1)).toBe('line 10000');
  });

  it('a signal is reported as such', () => {
    const p = shellAdapter('sleep 9').createParser();
    expect(p.finish({ signal: 'SIGKILL' }).failure).toEqual({
      reason: 'signal',
      signal: 'SIGKILL',
    });
  });
});

describe('custom agents', () => {
  it('text: the last 64 KB of stdout is the summary and the exit code decides', () => {
    const p = customAdapter(textAgent).createParser();
    const line = 'y'.repeat(1000);
    for (let i = 0; i < 1000; i++) p.push(line);
    p.push('the end');
    const ok = p.finish({ exitCode: 0 });
    expect(ok.status).toBe('completed');
    expect(ok.summary.length).toBeLessThanOrEqual(64 * 1024 + 2);
    expect(ok.summary.length).toBeGreaterThan(60 * 1024);
    expect(ok.summary.endsWith('\nthe end')).toBe(true);
    const failed = parseLines(customAdapter(textAgent).createParser(), 'trying\nboom\n\n', {
      exitCode: 3,
    });
    expect(failed.failure).toEqual({ reason: 'agent-exit', exitCode: 3, message: 'boom' });
  });

  it('claude and codex output formats reuse those parsers', () => {
    const asClaude = customAdapter({ ...textAgent, output: 'claude' }).createParser();
    expect(
      parseLines(asClaude, reference('claude-success.stream.jsonl'), { exitCode: 0 }).costUsd,
    ).toBe(0.023424);
    const asCodex = customAdapter({ ...textAgent, output: 'codex' }).createParser();
    expect(parseLines(asCodex, reference('codex-patch.stdout'), { exitCode: 0 }).summary).toBe(
      'Done: wrote hello.txt',
    );
  });
});

describe('bounded helpers', () => {
  it('clipTail keeps the end within the limit', () => {
    expect(clipTail('abcdef', 10)).toBe('abcdef');
    expect(clipTail('abcdef', 4)).toBe('…def');
  });

  it('TailLines bounds lines and characters, keeping the end of an oversized line', () => {
    const t = new TailLines(3, 10);
    for (const l of ['a', 'b', 'c', 'd']) t.push(l);
    expect(t.text()).toBe('…\nb\nc\nd');
    const u = new TailLines(3, 10);
    u.push('0123456789ABCDEF');
    expect(u.text()).toBe('…\n…789ABCDEF');
    u.push('xy');
    expect(u.text()).toBe('…\nxy');
  });
});

describe('splitting agent output into lines (the splitter the run uses)', () => {
  it('joins chunks into lines, handles CRLF and a last line without newline', () => {
    const got: string[] = [];
    const s = new LineSplitter(MAX_AGENT_LINE_BYTES, (l) => got.push(l));
    for (const c of ['ab', 'c\r', '\nde', 'f\n\ng', 'h']) s.push(Buffer.from(c));
    s.end();
    expect(got).toEqual(['abc', 'def', '', 'gh']);
  });

  it('caps a line that never ends', () => {
    const got: string[] = [];
    const s = new LineSplitter(8, (l) => got.push(l));
    for (let i = 0; i < 1000; i++) s.push(Buffer.from('0123456789'));
    s.push(Buffer.from('\nok\n'));
    expect(got).toEqual(['01234567', 'ok']);
  });
});
