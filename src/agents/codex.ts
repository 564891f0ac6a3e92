/**
 * OpenAI Codex (`codex exec --json`). Invocation and JSONL reading, built
 * from the real CLI's `--help` and captured output (tests/fixtures/reference/).
 *
 * codex prints no cost and has no turn limit; Bearing enforces the timeout.
 * A top-level `error` event is not fatal (reconnect notices are errors);
 * `turn.failed` is.
 */

import type { Failure } from '../core/failure.js';
import {
  type LiveProgress,
  NO_PROGRESS,
  relativeTo,
  type ToolCall,
  toolTarget,
} from '../core/progress.js';
import { type Usage, ZERO_USAGE } from '../core/state.js';
import { EFFORTS_BY_CLI } from '../tasks/values.js';
import { clipTail, SUMMARY_MAX_CHARS } from './bounded.js';
import { EventLines } from './event-lines.js';
import { arr, count, type JsonObject, obj, str } from './json-line.js';
import type {
  AgentAdapter,
  AgentInvocation,
  AgentRunResult,
  InvocationInput,
  OutputParser,
  OutputSignal,
  ParserOptions,
  ProcessExit,
} from './types.js';
import { isConnectionText, isUsageLimitText, statusFromText } from './usage-limit.js';

/**
 * `codex exec --json <flags> -- -`, or on resume
 * `codex exec resume --json <flags> -- <id> -`, the prompt on stdin: `-` is
 * the documented "read the prompt from stdin" (both `--help`s), verified
 * against codex 0.171.0 with a 300 KiB prompt, which reaches the API whole.
 * Verified against codex 0.169.0: `exec resume` accepts `--json`, `-m`, `-c`,
 * `--skip-git-repo-check` but not `-s`, so the sandbox is pinned with
 * `-c sandbox_mode="..."`, which the resumed turn honours.
 */
export function codexArgs(input: InvocationInput): string[] {
  const { task } = input;
  const resuming = input.resumeSessionId !== undefined;
  const args = resuming ? ['exec', 'resume', '--json'] : ['exec', '--json'];
  if (task.model !== undefined) args.push('-m', task.model);
  // Values are from fixed enums (schema), so TOML quoting needs no escaping.
  if (resuming) args.push('-c', `sandbox_mode="${task.sandbox}"`);
  else args.push('-s', task.sandbox);
  if (task.effort !== undefined && EFFORTS_BY_CLI.codex.includes(task.effort)) {
    args.push('-c', `model_reasoning_effort="${task.effort}"`);
  }
  if (!input.isGitRepo) args.push('--skip-git-repo-check');
  args.push('--');
  if (input.resumeSessionId !== undefined) args.push(input.resumeSessionId);
  args.push('-');
  return args;
}

function usageOf(u: JsonObject | undefined): Usage {
  return {
    inputTokens: count(u?.input_tokens),
    outputTokens: count(u?.output_tokens),
    cacheReadTokens: count(u?.cached_input_tokens),
    cacheWriteTokens: count(u?.cache_write_input_tokens),
  };
}

function minus(a: Usage, b: Usage): Usage {
  return {
    inputTokens: Math.max(0, a.inputTokens - b.inputTokens),
    outputTokens: Math.max(0, a.outputTokens - b.outputTokens),
    cacheReadTokens: Math.max(0, a.cacheReadTokens - b.cacheReadTokens),
    cacheWriteTokens: Math.max(0, a.cacheWriteTokens - b.cacheWriteTokens),
  };
}

/**
 * codex runs each command through a login shell (`/bin/bash -lc "npm test"`);
 * the command itself is what tells a person what it does.
 */
export function unwrapShell(command: string): string {
  const m = /^\S*\/(?:ba|z)?sh -l?c (.*)$/s.exec(command);
  if (!m?.[1]) return command;
  const inner = m[1];
  const quote = inner[0];
  return (quote === '"' || quote === "'") && inner.endsWith(quote) && inner.length >= 2
    ? inner.slice(1, -1)
    : inner;
}

/**
 * An item as a tool call: a command (`command_execution`), the files of a
 * patch (`file_change`), or any other item type by its name alone.
 */
function toolCallOf(item: JsonObject, cwd: string | undefined): ToolCall | undefined {
  const type = str(item.type);
  if (!type || type === 'agent_message' || type === 'reasoning') return undefined;
  if (type === 'command_execution') {
    const command = str(item.command);
    const target = command === undefined ? undefined : toolTarget(unwrapShell(command));
    return target ? { name: 'Shell', target } : { name: 'Shell' };
  }
  if (type === 'file_change') {
    const paths = arr(item.changes)
      .map((c) => str(obj(c)?.path))
      .filter((p): p is string => p !== undefined);
    const first = paths[0] === undefined ? undefined : relativeTo(paths[0], cwd);
    const more = paths.length > 1 ? ` (+${paths.length - 1} more)` : '';
    const target = first === undefined ? undefined : toolTarget(`${first}${more}`);
    return target ? { name: 'Patch', target } : { name: 'Patch' };
  }
  return { name: type };
}

/**
 * codex's wording for an overloaded API: it reports a 5xx (and OpenAI's
 * `server_is_overloaded`) as this sentence, without the status
 * (`codex-http500.stdout`, from a stand-in answering 500).
 */
const HIGH_DEMAND = /\bexperiencing high demand\b/i;

/**
 * What a codex error message means: limits, auth and outages are not worth
 * an immediate retry. codex prints no structured status, so this reads the
 * text: the status first (`unexpected status 401 ...`), then known wordings.
 */
export function classifyCodexError(message: string): Failure {
  const apiStatus = statusFromText(message);
  if (isUsageLimitText(message) || apiStatus === 429) {
    return apiStatus === undefined
      ? { reason: 'rate-limited', message }
      : { reason: 'rate-limited', message, apiStatus };
  }
  if (apiStatus === 401 || apiStatus === 403) return { reason: 'auth-error', message };
  if (apiStatus !== undefined && apiStatus >= 500) {
    return { reason: 'outage', cli: 'codex', message, apiStatus };
  }
  if (apiStatus === undefined && (HIGH_DEMAND.test(message) || isConnectionText(message))) {
    return { reason: 'outage', cli: 'codex', message };
  }
  return apiStatus === undefined
    ? { reason: 'agent-error', message }
    : { reason: 'agent-error', message, apiStatus };
}

/**
 * Reads `codex exec --json`. Token usage: `turn.completed.usage` is
 * cumulative for the session, so the last one counts (not the sum), minus
 * `previousUsage` when the session was resumed. `inputTokens` is codex's
 * `input_tokens`, which (OpenAI's convention) includes the cached tokens
 * also reported as `cacheReadTokens`.
 */
export class CodexJsonParser implements OutputParser {
  readonly #previous: Usage;
  readonly #cwd?: string;
  readonly #events = new EventLines();
  #progress: LiveProgress = NO_PROGRESS;
  #sessionId?: string;
  #lastMessage = '';
  #usage?: Usage;
  #turnsCompleted = 0;
  #lastTurn?: { ok: true } | { ok: false; message: string };
  #lastError?: string;
  #errorEvents = 0;
  /** Set when a line showed the attempt cannot succeed. */
  #fatal?: Failure;

  constructor(options: ParserOptions = {}) {
    this.#previous = options.previousUsage ?? ZERO_USAGE;
    this.#cwd = options.cwd;
  }

  /** Tokens arrive only with `turn.completed`; codex prints no cost. */
  get progress(): LiveProgress {
    return this.#progress;
  }

  push(line: string): OutputSignal | undefined {
    return this.#event(this.#events.read(line));
  }

  pushPieces(pieces: Iterable<string>): OutputSignal | undefined {
    return this.#event(this.#events.readPieces(pieces));
  }

  #event(event: JsonObject | undefined): OutputSignal | undefined {
    if (!event) return undefined;
    switch (event.type) {
      case 'thread.started':
        this.#sessionId = str(event.thread_id) ?? this.#sessionId;
        return undefined;
      case 'item.started':
        this.#tool(obj(event.item));
        return undefined;
      case 'item.completed':
        this.#tool(obj(event.item));
        this.#item(obj(event.item));
        return undefined;
      case 'turn.completed':
        this.#turnsCompleted++;
        this.#usage = usageOf(obj(event.usage));
        this.#lastTurn = { ok: true };
        this.#progress = {
          ...this.#progress,
          turns: this.#turnsCompleted,
          usage: minus(this.#usage, this.#previous),
        };
        return 'final';
      case 'turn.failed':
        this.#lastTurn = {
          ok: false,
          message: clipTail(str(obj(event.error)?.message) ?? 'turn failed', 4000),
        };
        return 'final';
      case 'error':
        return this.#error(clipTail(str(event.message) ?? 'error', 4000));
      default:
        return undefined;
    }
  }

  /**
   * A top-level `error` is mostly a reconnect notice (`Reconnecting... 1/5
   * (...)`), not fatal in itself; but codex retries a 401/403 five times
   * before failing the turn, and it will not fix itself.
   */
  #error(message: string): OutputSignal | undefined {
    this.#errorEvents++;
    this.#lastError = message;
    const failure = classifyCodexError(message);
    if (failure.reason !== 'auth-error' || this.#fatal) return undefined;
    this.#fatal = failure;
    return 'fatal';
  }

  #tool(item: JsonObject | undefined): void {
    const tool = item ? toolCallOf(item, this.#cwd) : undefined;
    if (!tool) return;
    const last = this.#progress.tool;
    if (last?.name === tool.name && last.target === tool.target) return;
    this.#progress = { ...this.#progress, tool };
  }

  #item(item: JsonObject | undefined): void {
    if (!item) return;
    if (item.type === 'agent_message') {
      const text = str(item.text);
      if (text !== undefined) this.#lastMessage = clipTail(text, SUMMARY_MAX_CHARS);
    }
  }

  finish(exit: ProcessExit): AgentRunResult {
    const failure = this.#failure(exit);
    const notes: string[] = [];
    if (this.#errorEvents > 0 && this.#lastTurn?.ok) {
      notes.push(`${this.#errorEvents} error event(s) before the turn completed`);
    }
    if (exit.endedByUs && this.#lastTurn) {
      notes.push('codex printed its final event but did not exit; Bearing ended it');
    }
    notes.push(...this.#events.notes());
    return {
      status: failure ? 'failed' : 'completed',
      ...(failure ? { failure } : {}),
      summary: this.#lastMessage,
      costUsd: undefined,
      usage: this.#usage ? minus(this.#usage, this.#previous) : { ...ZERO_USAGE },
      turns: this.#turnsCompleted,
      sessionId: this.#sessionId,
      notes,
    };
  }

  #failure(exit: ProcessExit): Failure | undefined {
    if (this.#lastTurn?.ok === false) return classifyCodexError(this.#lastTurn.message);
    if (this.#lastTurn?.ok) return undefined;
    if (this.#fatal) return this.#fatal;
    if (exit.signal) return { reason: 'signal', signal: exit.signal };
    const lastWords = this.#lastError ?? this.#events.otherText();
    if (lastWords) {
      const f = classifyCodexError(lastWords);
      if (f.reason !== 'agent-error') return f;
    }
    return this.#events.missingFinalEvent('codex', 'turn.completed', exit, lastWords);
  }
}

/** The built-in `codex` adapter. */
export const codexAdapter: AgentAdapter = {
  name: 'codex',
  installHint: 'npm install -g @openai/codex',
  resumable: true,
  buildInvocation(input: InvocationInput): AgentInvocation {
    return { file: 'codex', args: codexArgs(input), env: {}, promptOnStdin: true };
  },
  createParser(options?: ParserOptions): OutputParser {
    return new CodexJsonParser(options);
  },
};
