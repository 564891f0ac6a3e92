/**
 * OpenAI Codex (`codex exec --json`). Invocation and JSONL reading, built
 * from the real CLI's `--help` and captured output (tests/fixtures/reference/).
 *
 * codex prints no cost and has no turn limit; Bearing enforces the timeout.
 * A top-level `error` event is not fatal (reconnect notices are errors);
 * `turn.failed` is.
 */

import { type CodexPrice, codexCost } from '../core/codex-prices.js';
import type { Failure } from '../core/failure.js';
import {
  clipTarget,
  type LiveProgress,
  NO_PROGRESS,
  relativeTo,
  type ToolCall,
} from '../core/progress.js';
import { type Usage, ZERO_USAGE } from '../core/state.js';
import {
  TRANSCRIPT_MESSAGE_CHARS,
  TRANSCRIPT_OUTPUT_CHARS,
  type TranscriptEntry,
  type TranscriptReader,
} from '../core/transcript.js';
import { EFFORTS_BY_CLI } from '../tasks/values.js';
import { clipTail, firstLine, SUMMARY_MAX_CHARS } from './bounded.js';
import { EventLines, TranscriptLines } from './event-lines.js';
import { arr, count, type JsonObject, num, obj, str } from './json-line.js';
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
 * An item as a tool call, named as the transcript names it (CodexTranscript):
 * a `command` with its command line, a patch by what it does to its first
 * file (`Add`, `Update`, `Delete`), an MCP tool as `server.tool`, a web
 * search with its query, any other item type by its name alone.
 */
function toolCallOf(item: JsonObject, cwd: string | undefined): ToolCall | undefined {
  const type = str(item.type);
  if (!type || type === 'agent_message' || type === 'reasoning' || type === 'error') {
    return undefined;
  }
  const call = (name: string, target: string | undefined): ToolCall => {
    const shown = target === undefined ? undefined : clipTarget(target);
    return shown ? { name, target: shown } : { name };
  };
  switch (type) {
    case 'command_execution':
      return call('command', firstLine(unwrapShell(str(item.command) ?? '')));
    case 'file_change': {
      const changes = arr(item.changes).map(obj);
      const first = changes[0];
      const path = str(first?.path);
      const more = changes.length > 1 ? ` (+${changes.length - 1} more)` : '';
      return call(
        CHANGE_KINDS[str(first?.kind) ?? ''] ?? 'Patch',
        path === undefined ? undefined : `${relativeTo(path, cwd)}${more}`,
      );
    }
    case 'mcp_tool_call':
      return call(`${str(item.server) ?? '?'}.${str(item.tool) ?? '?'}`, undefined);
    case 'web_search':
      return call('web_search', str(item.query));
    default:
      return { name: type };
  }
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
  readonly #price?: CodexPrice;
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
    this.#price = options.codexPrice;
  }

  #withUsage(usage: Usage): LiveProgress {
    return {
      ...this.#progress,
      turns: this.#turnsCompleted,
      usage,
      ...(this.#price ? { cost: { usd: codexCost(usage, this.#price), estimated: true } } : {}),
    };
  }

  /**
   * Tokens arrive only with `turn.completed`. codex prints no cost: with a
   * price, the cost is Bearing's estimate, marked as one.
   */
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
        this.#progress = this.#withUsage(minus(this.#usage, this.#previous));
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
    const usage = this.#usage ? minus(this.#usage, this.#previous) : { ...ZERO_USAGE };
    return {
      status: failure ? 'failed' : 'completed',
      ...(failure ? { failure } : {}),
      summary: this.#lastMessage,
      // codex prints tokens only: with a price, the attempt records Bearing's estimate, marked as one.
      ...(this.#price ? { costUsd: codexCost(usage, this.#price), costEstimated: true } : {}),
      usage,
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

/** What a `file_change` did to a path (codex's PatchChangeKind), as a tool name. */
const CHANGE_KINDS: Readonly<Record<string, string>> = {
  add: 'Add',
  update: 'Update',
  delete: 'Delete',
};

/**
 * `codex exec --json` as a transcript: the events CodexJsonParser reads for
 * the result, read for a person. An item is shown once, when it completes
 * (its `item.started` carries no outcome yet). The item shapes are codex's
 * ThreadItem (the `@openai/codex-sdk` types): a `command_execution` failed
 * when its status is `failed` or its exit code is not 0; a `file_change` or
 * `mcp_tool_call` when its status is `failed`.
 */
export class CodexTranscript implements TranscriptReader {
  readonly #lines: TranscriptLines;
  #turns = 0;

  /** `root`: where the agent ran; paths under it are shown relative to it. */
  constructor(root?: string) {
    this.#lines = new TranscriptLines((event) => this.#event(event), root);
  }

  line(line: string): TranscriptEntry[] {
    return this.#lines.line(line);
  }

  pieces(pieces: Iterable<string>): TranscriptEntry[] {
    return this.#lines.pieces(pieces);
  }

  #event(event: JsonObject): TranscriptEntry[] {
    switch (event.type) {
      case 'item.completed':
        return this.#item(obj(event.item));
      case 'turn.completed':
        this.#turns++;
        return [
          {
            kind: 'result',
            ok: true,
            status: 'turn.completed',
            turns: this.#turns,
            usage: usageOf(obj(event.usage)),
          },
        ];
      case 'turn.failed': {
        const message = str(obj(event.error)?.message);
        return [
          {
            kind: 'result',
            ok: false,
            status: 'turn.failed',
            ...(message ? { text: clipTail(message, TRANSCRIPT_MESSAGE_CHARS) } : {}),
          },
        ];
      }
      case 'error':
        return [{ kind: 'notice', text: clipTail(str(event.message) ?? 'error', 4000) }];
      default:
        return [];
    }
  }

  #item(item: JsonObject | undefined): TranscriptEntry[] {
    switch (item?.type) {
      case 'agent_message':
        return textEntry('message', str(item.text));
      case 'reasoning':
        return textEntry('reasoning', str(item.text));
      case 'command_execution': {
        const target = firstLine(unwrapShell(str(item.command) ?? ''));
        const exit = num(item.exit_code);
        if (item.status !== 'failed' && (exit === undefined || exit === 0)) {
          return [{ kind: 'tool', name: 'command', target }];
        }
        const output = clipTail(
          (str(item.aggregated_output) ?? '').trim(),
          TRANSCRIPT_OUTPUT_CHARS,
        );
        const text = exit === undefined ? output : `exit ${exit}${output ? `\n${output}` : ''}`;
        return [{ kind: 'tool-error', name: 'command', target, text }];
      }
      case 'file_change': {
        const failed = item.status === 'failed';
        return arr(item.changes).flatMap((c): TranscriptEntry[] => {
          const change = obj(c);
          const name = CHANGE_KINDS[str(change?.kind) ?? ''] ?? 'Patch';
          const target = this.#lines.relative(str(change?.path) ?? '?');
          return failed
            ? [{ kind: 'tool-error', name, target, text: 'the patch was not applied' }]
            : [{ kind: 'tool', name, target }];
        });
      }
      case 'mcp_tool_call': {
        const name = `${str(item.server) ?? '?'}.${str(item.tool) ?? '?'}`;
        if (item.status !== 'failed') return [{ kind: 'tool', name }];
        const message = str(obj(item.error)?.message) ?? 'failed';
        return [{ kind: 'tool-error', name, text: clipTail(message, TRANSCRIPT_OUTPUT_CHARS) }];
      }
      case 'web_search': {
        const query = str(item.query);
        return [
          { kind: 'tool', name: 'web_search', ...(query ? { target: firstLine(query) } : {}) },
        ];
      }
      case 'error':
        return [{ kind: 'notice', text: clipTail(str(item.message) ?? 'error', 4000) }];
      default:
        return [];
    }
  }
}

/**
 * codex runs each command through the user's shell and reports the whole
 * line (`/bin/bash -lc "npm test"`, `codex-success.stdout`). The command
 * alone is shown when its quoting is plain: single quotes, or double quotes
 * with nothing the shell would expand or unescape inside; otherwise the
 * line as codex printed it.
 */
const SHELL_WRAPPER = /^\S*\/(?:ba|z)?sh -lc (?:'([^']*)'|"([^"\\$`]*)")$/;

export function unwrapShell(command: string): string {
  const m = SHELL_WRAPPER.exec(command);
  return m ? (m[1] ?? m[2] ?? command) : command;
}

function textEntry(kind: 'message' | 'reasoning', text: string | undefined): TranscriptEntry[] {
  const trimmed = text?.trim();
  return trimmed ? [{ kind, text: clipTail(trimmed, TRANSCRIPT_MESSAGE_CHARS) }] : [];
}

/** The built-in `codex` adapter. */
export const codexAdapter: AgentAdapter = {
  name: 'codex',
  output: 'codex',
  installHint: 'npm install -g @openai/codex',
  resumable: true,
  buildInvocation(input: InvocationInput): AgentInvocation {
    return { file: 'codex', args: codexArgs(input), env: {}, promptOnStdin: true };
  },
  createParser(options?: ParserOptions): OutputParser {
    return new CodexJsonParser(options);
  },
};
