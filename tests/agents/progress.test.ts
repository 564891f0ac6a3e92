/**
 * Live progress from the reference outputs, event by event: what the
 * adapters' parsers say an attempt has done so far while it runs.
 */
import { describe, expect, it } from 'vitest';
import { ClaudeStreamParser, claudePrices } from '../../src/agents/claude.js';
import { CodexJsonParser, unwrapShell } from '../../src/agents/codex.js';
import type { OutputParser } from '../../src/agents/types.js';
import { codexPrice } from '../../src/core/codex-prices.js';
import { type LiveProgress, priced, runningSpend, toolText } from '../../src/core/progress.js';
import type { RunState } from '../../src/core/state.js';
import { reference } from './support.js';

/** The progress after each line that changed it (by identity), in order. */
function progressSteps(parser: OutputParser, text: string): LiveProgress[] {
  const steps: LiveProgress[] = [];
  let last = parser.progress;
  for (const line of text.split('\n')) {
    parser.push(line);
    if (parser.progress !== last) {
      last = parser.progress;
      if (last) steps.push(last);
    }
  }
  return steps;
}

const usage = (
  inputTokens: number,
  outputTokens: number,
  cacheReadTokens: number,
  cacheWriteTokens: number,
) => ({ inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens });

describe('claude live progress', () => {
  it('counts a message once however many blocks it comes in, shows the tool with its target relative to the cwd, and takes the result as final', () => {
    const steps = progressSteps(new ClaudeStreamParser(), reference('claude-success.stream.jsonl'));
    // First message, text block: one turn, its usage, an estimate.
    expect(steps[0]).toMatchObject({ turns: 1, usage: usage(120, 1, 10240, 2048) });
    expect(steps[0]!.cost?.estimated).toBe(true);
    expect(steps[0]!.tool).toBeUndefined();
    // Same message, tool_use block: still one turn, the same tokens, now a tool.
    const tool = steps.find((s) => s.tool);
    expect(tool).toMatchObject({
      turns: 1,
      usage: usage(120, 1, 10240, 2048),
      tool: { name: 'Write', target: 'hello.txt' },
    });
    // The second message adds a turn and its tokens; the tool stays the last one.
    const second = steps.find((s) => s.turns === 2 && s.cost?.estimated);
    expect(second).toMatchObject({
      usage: usage(240, 2, 20480, 4096),
      tool: { name: 'Write', target: 'hello.txt' },
    });
    // The result's totals and the CLI's own cost replace the estimate.
    expect(steps.at(-1)).toEqual({
      turns: 2,
      tool: { name: 'Write', target: 'hello.txt' },
      usage: usage(240, 80, 20480, 4096),
      cost: { usd: 0.023424, estimated: false },
    });
  });

  it('estimates cost at the prices Claude Code uses: the captures come out at its own figure', () => {
    // Sonnet (claude-success) and Haiku 4.5 (claude-fallback), with the result's tokens.
    expect(priced(usage(240, 80, 20480, 4096), claudePrices('claude-sonnet-5')!)).toBeCloseTo(
      0.023424,
      9,
    );
    expect(
      priced(usage(120, 35, 10240, 2048), claudePrices('claude-haiku-4-5-20251001')!),
    ).toBeCloseTo(0.003879, 9);
    expect(claudePrices('claude-opus-4-1-20250805')?.input).toBe(15);
    expect(claudePrices('claude-opus-4-8[1m]')?.input).toBe(5);
    expect(claudePrices('some-other-model')).toBeUndefined();
  });

  it("does not count claude's own synthetic error messages as turns", () => {
    const parser = new ClaudeStreamParser();
    const lines = reference('claude-conn-refused.stream.jsonl').trim().split('\n');
    for (const line of lines.slice(0, -1)) parser.push(line);
    expect(parser.progress.turns).toBe(0);
    // The result's count is the CLI's, and final.
    parser.push(lines.at(-1)!);
    expect(parser.progress).toMatchObject({ turns: 1, cost: { usd: 0, estimated: false } });
  });

  it('a tool outside the working folder keeps its absolute path; a Bash call shows the first line of its command', () => {
    const parser = new ClaudeStreamParser({ cwd: '/work/p' });
    const event = (id: string, block: object) =>
      JSON.stringify({
        type: 'assistant',
        message: {
          id,
          model: 'claude-sonnet-5',
          content: [block],
          usage: {
            input_tokens: 10,
            output_tokens: 1,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
          },
        },
      });
    parser.push(
      event('m1', { type: 'tool_use', id: 't1', name: 'Edit', input: { file_path: '/etc/hosts' } }),
    );
    expect(parser.progress.tool).toEqual({ name: 'Edit', target: '/etc/hosts' });
    parser.push(
      event('m2', {
        type: 'tool_use',
        id: 't2',
        name: 'Bash',
        input: { command: 'npm test\n  -- --run' },
      }),
    );
    expect(toolText(parser.progress.tool!)).toBe('Bash npm test …');
    expect(parser.progress.turns).toBe(2);
    expect(parser.progress.usage.inputTokens).toBe(20);
  });
});

describe('codex live progress', () => {
  it('shows the running command as codex printed it (its quoting is not plain), then the tokens at turn.completed, and no cost', () => {
    const steps = progressSteps(new CodexJsonParser(), reference('codex-success.stdout'));
    expect(steps[0]).toEqual({
      turns: 0,
      tool: {
        name: 'command',
        target: `/bin/bash -lc "printf 'Hello from the mock model"'!'"\\\\n' > hello.txt"`,
      },
      usage: usage(0, 0, 0, 0),
    });
    expect(steps.at(-1)).toEqual({
      turns: 1,
      tool: steps[0]!.tool,
      usage: usage(3000, 84, 2048, 0),
    });
    expect(steps.at(-1)!.cost).toBeUndefined();
  });

  it('a patch shows its file relative to the working folder; a resumed session counts only its own tokens', () => {
    const parser = new CodexJsonParser({
      cwd: '/home/user/cproj-3nXn',
      previousUsage: usage(1000, 4, 48, 0),
    });
    const steps = progressSteps(parser, reference('codex-patch.stdout'));
    expect(steps[0]!.tool).toEqual({ name: 'Add', target: 'hello.txt' });
    expect(steps.at(-1)!.usage).toEqual(usage(2000, 80, 2000, 0));
  });

  it("with its model's price, the cost is Bearing's estimate from the tokens, cached input priced apart, and marked as one", () => {
    const parser = new CodexJsonParser({ codexPrice: codexPrice('gpt-5.1-codex-mini') });
    const steps = progressSteps(parser, reference('codex-success.stdout'));
    // 3,000 input of which 2,048 cached, 84 output: 952 x $0.25 + 2,048 x $0.025 + 84 x $2 per million.
    const usd = (952 * 0.25 + 2048 * 0.025 + 84 * 2) / 1e6;
    expect(steps.at(-1)!.cost).toEqual({ usd, estimated: true });
    // The attempt records the same estimate, marked as one.
    expect(parser.finish({ exitCode: 0 })).toMatchObject({ costUsd: usd, costEstimated: true });
  });

  it('a resumed session is priced on its own tokens only; without a price, no cost is recorded', () => {
    const resumed = new CodexJsonParser({
      codexPrice: codexPrice('gpt-5-codex'),
      previousUsage: usage(1000, 4, 48, 0),
    });
    progressSteps(resumed, reference('codex-success.stdout'));
    // 2,000 input of which 2,000 cached, 80 output.
    expect(resumed.finish({ exitCode: 0 }).costUsd).toBeCloseTo((2000 * 0.125 + 80 * 10) / 1e6, 12);
    const unpriced = new CodexJsonParser();
    progressSteps(unpriced, reference('codex-success.stdout'));
    const result = unpriced.finish({ exitCode: 0 });
    expect(result.costUsd).toBeUndefined();
    expect(result.costEstimated).toBeUndefined();
  });

  it('prices a model by run.codex_prices first, then the built-in list, and an unknown or unset one as gpt-5-codex', () => {
    const mine = { input: 9, cachedInput: 1, output: 90 };
    expect(codexPrice('my-model', { 'my-model': mine })).toBe(mine);
    expect(codexPrice('gpt-5-mini')).toEqual({ input: 0.25, cachedInput: 0.025, output: 2 });
    expect(codexPrice(undefined)).toEqual(codexPrice('gpt-5-codex'));
    expect(codexPrice('o-something-new')).toEqual({ input: 1.25, cachedInput: 0.125, output: 10 });
    expect(codexPrice(undefined, { 'gpt-5-codex': mine })).toBe(mine);
  });

  it('a command in plain quoting shows without its shell', () => {
    const parser = new CodexJsonParser();
    parser.push(
      JSON.stringify({
        type: 'item.started',
        item: { id: 'item_0', type: 'command_execution', command: '/bin/bash -lc "npm test"' },
      }),
    );
    expect(parser.progress.tool).toEqual({ name: 'command', target: 'npm test' });
    expect(unwrapShell("/bin/bash -lc 'ls -la'")).toBe('ls -la');
  });
});

describe('runningSpend', () => {
  it("adds up the running attempts' live cost and tokens, names those without a cost, and ignores ended attempts", () => {
    const u = usage(100, 10, 0, 0);
    const base = { costUsd: 0, usage: u, turns: 0, durationMs: 0, updatedAt: 'x' };
    const state: RunState = {
      version: 1,
      tasks: {
        a: {
          ...base,
          id: 'a',
          status: 'running',
          attempts: [
            {
              attempt: 1,
              startedAt: 'x',
              outcome: 'running',
              progress: { turns: 1, usage: u, cost: { usd: 0.5, estimated: true } },
            },
          ],
        },
        b: {
          ...base,
          id: 'b',
          status: 'running',
          attempts: [
            { attempt: 1, startedAt: 'x', outcome: 'running', progress: { turns: 0, usage: u } },
          ],
        },
        c: {
          ...base,
          id: 'c',
          status: 'failed',
          attempts: [
            {
              attempt: 1,
              startedAt: 'x',
              outcome: 'interrupted',
              progress: { turns: 1, usage: u, cost: { usd: 9, estimated: false } },
            },
          ],
        },
      },
    };
    expect(runningSpend(state)).toEqual({
      usd: 0.5,
      estimated: true,
      usage: usage(200, 20, 0, 0),
      costUnknownFor: ['b'],
    });
  });
});
