/**
 * prepareAttempt / preparePrompt: the next attempt's number, whether it
 * resumes, its prompt, argv and parser options, as both `bearing run` and
 * `bearing prompt` see them.
 */
import { describe, expect, it } from 'vitest';
import { codexPrice } from '../../src/core/codex-prices.js';
import { describeFailure, type Failure } from '../../src/core/failure.js';
import { assemblePrompt, resumePrompt } from '../../src/core/prompt.js';
import { type AttemptRecord, emptyState, type RunState, ZERO_USAGE } from '../../src/core/state.js';
import { makePlan, makeTask } from '../../src/core/test-support.js';
import { prepareAttempt, preparePrompt } from '../../src/run/prepare.js';

const USAGE = { inputTokens: 100, outputTokens: 10, cacheReadTokens: 5, cacheWriteTokens: 1 };
const verifyFailed: Failure = {
  reason: 'verify-failed',
  command: 'npm test',
  exitCode: 1,
  output: 'FAIL x',
};

function stateWith(id: string, attempts: AttemptRecord[]): RunState {
  const state = emptyState();
  state.tasks[id] = {
    id,
    status: 'queued',
    attempts,
    costUsd: 0,
    usage: ZERO_USAGE,
    turns: 0,
    durationMs: 0,
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
  return state;
}

const failed = (n: number, sessionId: string, failure: Failure = verifyFailed): AttemptRecord => ({
  attempt: n,
  startedAt: '2026-01-01T00:00:00.000Z',
  outcome: 'failed',
  failure,
  sessionId,
  usage: USAGE,
});

describe('prepareAttempt', () => {
  it("a first attempt: the assembled prompt, no resume; codex parses with its model's price", () => {
    const task = makeTask({ id: 't', cli: 'codex' });
    const plan = makePlan([task]);
    const prepared = prepareAttempt(plan, emptyState(), task, { isGitRepo: true });
    expect(prepared.attempt).toBe(1);
    expect(prepared.resumeSessionId).toBeUndefined();
    expect(prepared.prompt).toBe(
      assemblePrompt(plan, emptyState(), task, { format: 'structured', contextLimit: 8000 }),
    );
    // codex's default model is priced as gpt-5-codex (it reports no cost; Bearing estimates it).
    expect(prepared.parserOptions).toEqual({ codexPrice: codexPrice('gpt-5-codex') });
    expect(prepared.invocation.file).toBe('codex');
    expect(prepared.invocation.args).not.toContain('resume');
  });

  it('with retry_mode: resume, after a failed gate: resumes the session with only the retry note', () => {
    const task = makeTask({ id: 't', cli: 'codex', retryMode: 'resume' });
    const plan = makePlan([task]);
    // Two attempts of session s2, one of s1: only s2's usage was already reported.
    const state = stateWith('t', [
      failed(1, 's1'),
      failed(2, 's2'),
      { ...failed(3, 's2'), usage: { ...USAGE, inputTokens: 50 } },
    ]);
    const prepared = prepareAttempt(plan, state, task, { isGitRepo: true });
    expect(prepared.attempt).toBe(4);
    expect(prepared.resumeSessionId).toBe('s2');
    expect(prepared.prompt).toBe(
      resumePrompt(
        { attempt: 4, error: describeFailure(verifyFailed), gateOutput: 'FAIL x' },
        'structured',
      ),
    );
    expect(prepared.invocation.args).toContain('resume');
    expect(prepared.invocation.args).toContain('s2');
    expect(prepared.parserOptions).toEqual({
      previousUsage: {
        inputTokens: 150,
        outputTokens: 20,
        cacheReadTokens: 10,
        cacheWriteTokens: 2,
      },
      codexPrice: codexPrice(undefined),
    });
  });

  it('a claude attempt has no parser options before any resume: claude reports its own cost', () => {
    const task = makeTask({ id: 't', cli: 'claude' });
    const prepared = prepareAttempt(makePlan([task]), emptyState(), task, { isGitRepo: true });
    expect(prepared.parserOptions).toBeUndefined();
  });

  it('after a failed gate, retry_mode: auto starts fresh with the error appended', () => {
    const task = makeTask({ id: 't', cli: 'codex' });
    const plan = makePlan([task]);
    const prepared = prepareAttempt(plan, stateWith('t', [failed(1, 's1')]), task, {
      isGitRepo: true,
    });
    expect(prepared.resumeSessionId).toBeUndefined();
    expect(prepared.prompt).toContain('PREVIOUS ATTEMPT FAILED');
    expect(prepared.prompt).toContain('Do t.');
    expect(prepared.retryWhy).toMatch(/^starts fresh with the error appended/);
  });

  it('with retry_mode: fresh, after a usage limit, starts fresh', () => {
    const task = makeTask({ id: 't', cli: 'claude', retryMode: 'fresh' });
    const plan = makePlan([task]);
    const state = stateWith('t', [
      failed(1, 's1', { reason: 'signal', signal: 'SIGKILL' }),
      failed(2, 's1', { reason: 'rate-limited', message: 'limit' }),
    ]);
    const prepared = prepareAttempt(plan, state, task, { isGitRepo: true });
    expect(prepared.attempt).toBe(3);
    expect(prepared.resumeSessionId).toBeUndefined();
    expect(prepared.parserOptions).toBeUndefined();
    expect(prepared.invocation.args).not.toContain('--resume');
  });

  it('a shell task has no prompt', () => {
    const task = makeTask({ id: 't', cli: 'shell', run: 'true' });
    const prepared = prepareAttempt(makePlan([task]), emptyState(), task, { isGitRepo: false });
    expect(prepared.prompt).toBe('');
  });
});

describe('preparePrompt', () => {
  it('is the prompt prepareAttempt sends, in the format asked for', () => {
    const task = makeTask({ id: 't', cli: 'claude', retryMode: 'fresh' });
    const plan = makePlan([task]);
    const state = stateWith('t', [
      failed(1, 's1', { reason: 'agent-exit', exitCode: 1, message: 'x' }),
    ]);
    const sent = prepareAttempt(plan, state, task, { isGitRepo: true });
    const shown = preparePrompt(plan, state, task);
    expect(shown.prompt).toBe(sent.prompt);
    expect(shown.attempt).toBe(sent.attempt);
    const prose = preparePrompt(plan, state, task, 'prose');
    expect(prose.prompt).not.toBe(sent.prompt);
    expect(prose.prompt).toContain('Do t.');
  });
});
