/**
 * Claude Code (`claude -p`). Invocation and stream-json reading, built from
 * the real CLI's `--help` and captured output (tests/fixtures/reference/).
 *
 * The outcome is read from the final `result` event, never from the exit
 * code: claude exits 1 on success when an MCP server fails to connect, and
 * exits 0 when tools were denied.
 */

import type { Failure } from '../core/failure.js';
import {
  clipTarget,
  type LiveProgress,
  NO_PROGRESS,
  type Prices,
  priced,
  relativeTo,
  type ToolCall,
} from '../core/progress.js';
import { addUsage, type Usage, ZERO_USAGE } from '../core/state.js';
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
import { epochToIso, isConnectionText, isUsageLimitText, resetsAtFromText } from './usage-limit.js';

/** The status claude puts in its error text: `API Error: 503 Service Unavailable`. */
function statusFromClaudeText(text: string): number | undefined {
  const m = /\bAPI Error: (\d{3})\b/.exec(text);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/**
 * `claude -p <flags>`, the prompt on stdin. Verified against claude 2.1.197:
 * with no prompt argument, `-p` reads the prompt from stdin (a file or a
 * pipe), verbatim, also with `--resume`, and a 300 KiB prompt reaches the
 * API whole (as an argument it fails with E2BIG). A prompt starting with `-`
 * needs no `--` there. stream-json needs `--verbose` in print mode.
 * `--max-turns` is hidden from `--help` but works.
 */
export function claudeArgs(input: InvocationInput): string[] {
  const { task } = input;
  const args = ['-p', '--output-format', 'stream-json', '--verbose'];
  if (task.model !== undefined) args.push('--model', task.model);
  if (task.maxTurns !== undefined) args.push('--max-turns', String(task.maxTurns));
  if (task.budgetUsd !== undefined) args.push('--max-budget-usd', String(task.budgetUsd));
  // Validation rejects efforts claude lacks; an unknown one would only draw a warning.
  if (task.effort !== undefined && EFFORTS_BY_CLI.claude.includes(task.effort)) {
    args.push('--effort', task.effort);
  }
  // 2.1.332 renamed `default` to `manual` but still accepts `default`; older
  // versions reject `manual`. Passing `default` works on both without asking
  // the installed CLI for its version (a spawn).
  const mode = task.permissionMode === 'manual' ? 'default' : task.permissionMode;
  args.push('--permission-mode', mode);
  if (input.resumeSessionId !== undefined) args.push('--resume', input.resumeSessionId);
  return args;
}

/**
 * List prices per million tokens, by model family, as Claude Code prices
 * its own `total_cost_usd`: cache reads at a tenth of the input price, cache
 * writes at 1.25 times it (the 5-minute cache). The reference captures
 * (sonnet, haiku 4.5) come out to the cent of the CLI's figure. Only for the
 * estimate while an attempt runs: the CLI's own cost replaces it at the end.
 * Unknown families get no estimate rather than a guess.
 */
export function claudePrices(model: string): Prices | undefined {
  const at = (input: number, output: number): Prices => ({
    input,
    output,
    cacheRead: input / 10,
    cacheWrite: input * 1.25,
  });
  if (/claude-3-haiku/.test(model)) return at(0.25, 1.25);
  if (/claude-3-5-haiku/.test(model)) return at(0.8, 4);
  if (/haiku/.test(model)) return at(1, 5);
  if (/sonnet/.test(model)) return at(3, 15);
  // Opus 4 and 4.1 (and 3) kept the old price; 4.5 and later cost a third of it.
  if (/claude-3-opus|opus-4-(0|1)\b|opus-4-20\d{6}/.test(model)) return at(15, 75);
  if (/opus/.test(model)) return at(5, 25);
  return undefined;
}

/**
 * A `tool_use` block as `Edit src/db.js`: its name and main argument, read
 * as the transcript reads it (toolTarget), relative to the working folder
 * and bounded for a live line.
 */
function toolCallOf(block: JsonObject, cwd: string | undefined): ToolCall | undefined {
  const name = str(block.name);
  if (!name) return undefined;
  const value = toolTarget(obj(block.input));
  const target = value === undefined ? undefined : clipTarget(relativeTo(value, cwd));
  return target ? { name, target } : { name };
}

/** Tokens of one assistant message's `usage`. */
function messageUsage(usage: JsonObject): Usage {
  return {
    inputTokens: count(usage.input_tokens),
    outputTokens: count(usage.output_tokens),
    cacheReadTokens: count(usage.cache_read_input_tokens),
    cacheWriteTokens: count(usage.cache_creation_input_tokens),
  };
}

/** Tool names kept in a permission-denied failure; more are counted, not listed. */
const MAX_DENIED_TOOLS = 20;

interface ResultFields {
  subtype: string;
  isError: boolean;
  apiStatus?: number;
  turns?: number;
  text: string;
  costUsd?: number;
  usage: Usage;
  deniedTools: string[];
  deniedCount: number;
  errors: string[];
}

/** Tokens of a `result` event: `modelUsage` summed over models, else `usage` (which undercounts). */
function resultUsage(event: JsonObject): Usage {
  const models = obj(event.modelUsage);
  const perModel = models ? Object.values(models).map(obj) : [];
  if (perModel.length > 0) {
    return perModel.reduce<Usage>(
      (sum, m) => ({
        inputTokens: sum.inputTokens + count(m?.inputTokens),
        outputTokens: sum.outputTokens + count(m?.outputTokens),
        cacheReadTokens: sum.cacheReadTokens + count(m?.cacheReadInputTokens),
        cacheWriteTokens: sum.cacheWriteTokens + count(m?.cacheCreationInputTokens),
      }),
      ZERO_USAGE,
    );
  }
  const usage = obj(event.usage);
  return {
    inputTokens: count(usage?.input_tokens),
    outputTokens: count(usage?.output_tokens),
    cacheReadTokens: count(usage?.cache_read_input_tokens),
    cacheWriteTokens: count(usage?.cache_creation_input_tokens),
  };
}

function readResult(event: JsonObject): ResultFields {
  const denials = arr(event.permission_denials);
  const tools: string[] = [];
  for (const d of denials) {
    const name = str(obj(d)?.tool_name) ?? 'unknown tool';
    if (!tools.includes(name) && tools.length < MAX_DENIED_TOOLS) tools.push(name);
  }
  return {
    subtype: str(event.subtype) ?? 'unknown',
    isError: event.is_error === true,
    apiStatus: num(event.api_error_status),
    turns: num(event.num_turns),
    text: clipTail(str(event.result) ?? '', SUMMARY_MAX_CHARS),
    costUsd: num(event.total_cost_usd),
    usage: resultUsage(event),
    deniedTools: tools,
    deniedCount: denials.length,
    errors: arr(event.errors)
      .map(str)
      .filter((e): e is string => e !== undefined)
      .slice(0, 5)
      .map((e) => clipTail(e, 2000)),
  };
}

/** Reads `claude -p --output-format stream-json --verbose` (and `json`, which is the result line alone). */
export class ClaudeStreamParser implements OutputParser {
  readonly #events = new EventLines();
  #cwd?: string;
  #progress: LiveProgress = NO_PROGRESS;
  /**
   * Live usage. A message's content blocks come as separate `assistant`
   * events that repeat its usage, so a message counts once (the last usage
   * seen for it), and a new message id is a new turn.
   */
  #messageId?: string;
  #message: { usage: Usage; cost?: number } = { usage: ZERO_USAGE, cost: 0 };
  #before: { usage: Usage; cost?: number } = { usage: ZERO_USAGE, cost: 0 };
  #sessionId?: string;
  #model?: string;
  #lastText = '';
  #result?: ResultFields;
  #rateLimitStatus?: string;
  #rateLimitType?: string;
  #rateLimitResetsAt?: string;
  #apiRetries = 0;
  #lastRetry = '';
  #lastRetryStatus?: number;
  /** The `error` of claude's own (synthetic) message about a failed request. */
  #syntheticError?: string;
  /** Set when a line showed the attempt cannot succeed. */
  #fatal?: Failure;
  #fallbacks: string[] = [];

  constructor(options: ParserOptions = {}) {
    this.#cwd = options.cwd;
  }

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
    const sessionId = str(event.session_id);
    if (sessionId) this.#sessionId = sessionId;
    switch (event.type) {
      case 'system':
        return this.#system(event);
      case 'assistant':
        this.#assistant(event);
        return undefined;
      case 'rate_limit_event':
        this.#rateLimit(event);
        return undefined;
      case 'result': {
        const r = readResult(event);
        this.#result = r;
        // The CLI's own totals replace what the stream added up.
        this.#progress = {
          ...this.#progress,
          turns: r.turns ?? this.#progress.turns,
          usage: r.usage,
          ...(r.costUsd === undefined ? {} : { cost: { usd: r.costUsd, estimated: false } }),
        };
        return 'final';
      }
      default:
        return undefined;
    }
  }

  #system(event: JsonObject): OutputSignal | undefined {
    switch (event.subtype) {
      case 'init':
        this.#model = str(event.model) ?? this.#model;
        this.#cwd ??= str(event.cwd);
        break;
      case 'api_retry': {
        this.#apiRetries++;
        const status = num(event.error_status);
        const error = str(event.error) ?? '';
        this.#lastRetryStatus = status;
        this.#lastRetry = `${status ?? ''} ${error}`.trim() || 'unknown';
        // claude retries a 401 for minutes (403 it reports at once); neither
        // fixes itself, so the first one decides.
        if (status === 401 || status === 403) {
          this.#fatal = {
            reason: 'auth-error',
            message: `the API refused the credentials (status ${status}${error ? `, ${error}` : ''})`,
          };
          return 'fatal';
        }
        break;
      }
      case 'model_fallback': {
        const to = str(event.fallback_model);
        if (to) this.#model = to;
        if (this.#fallbacks.length < 5) {
          this.#fallbacks.push(
            `model fell back from ${str(event.original_model) ?? '?'} to ${to ?? '?'} (${str(event.trigger) ?? 'unknown trigger'})`,
          );
        }
        break;
      }
      default:
        break;
    }
    return undefined;
  }

  /** Each stream-json `assistant` event carries one content block; keep the last text. */
  #assistant(event: JsonObject): void {
    // claude's own message about a failed request: `model: "<synthetic>"`, `error: "server_error"`.
    const error = str(event.error);
    if (error) this.#syntheticError = error;
    const message = obj(event.message);
    let tool: ToolCall | undefined;
    for (const block of arr(message?.content)) {
      const b = obj(block);
      const text = b?.type === 'text' ? str(b.text) : undefined;
      if (text !== undefined && text.trim() !== '') {
        this.#lastText = clipTail(text, SUMMARY_MAX_CHARS);
      }
      if (b?.type === 'tool_use') tool = toolCallOf(b, this.#cwd) ?? tool;
    }
    // claude's own messages about a failed request are no model turn.
    const model = str(message?.model);
    const counts = !error && model !== '<synthetic>';
    const usage = obj(message?.usage);
    this.#progressFrom(
      counts ? str(message?.id) : undefined,
      counts ? usage : undefined,
      model,
      tool,
    );
  }

  #priced?: { model: string; prices: Prices | undefined };

  /** The model's prices, worked out once per model rather than per event. */
  #pricesOf(model: string): Prices | undefined {
    if (this.#priced?.model !== model) this.#priced = { model, prices: claudePrices(model) };
    return this.#priced.prices;
  }

  /** The live figures after one `assistant` event. */
  #progressFrom(
    id: string | undefined,
    usage: JsonObject | undefined,
    model: string | undefined,
    tool: ToolCall | undefined,
  ): void {
    let turns = this.#progress.turns;
    if (id !== undefined && id !== this.#messageId) {
      this.#before = sumCost(this.#before, this.#message);
      this.#message = { usage: ZERO_USAGE, cost: 0 };
      this.#messageId = id;
      turns++;
    }
    let changed = turns !== this.#progress.turns || tool !== undefined;
    if (id !== undefined && usage) {
      const tokens = messageUsage(usage);
      // A message's later blocks mostly repeat its usage: nothing to redo.
      if (!sameUsage(tokens, this.#message.usage)) {
        const prices = this.#pricesOf(model ?? this.#model ?? '');
        this.#message = { usage: tokens, ...(prices ? { cost: priced(tokens, prices) } : {}) };
        changed = true;
      }
    }
    if (!changed) return;
    const total = sumCost(this.#before, this.#message);
    this.#progress = {
      turns,
      ...(tool ? { tool } : this.#progress.tool ? { tool: this.#progress.tool } : {}),
      usage: total.usage,
      ...(total.cost === undefined ? {} : { cost: { usd: total.cost, estimated: true } }),
    };
  }

  #rateLimit(event: JsonObject): void {
    const info = obj(event.rate_limit_info);
    const status = str(info?.status);
    if (!status) return;
    this.#rateLimitStatus = status;
    this.#rateLimitType = str(info?.rateLimitType) ?? this.#rateLimitType;
    const resetsAt = num(info?.resetsAt);
    if (status !== 'allowed' && resetsAt !== undefined) {
      this.#rateLimitResetsAt = epochToIso(resetsAt) ?? this.#rateLimitResetsAt;
    }
  }

  finish(exit: ProcessExit): AgentRunResult {
    const r = this.#result;
    const notes = this.#notes();
    const base = { sessionId: this.#sessionId, model: this.#model };
    if (!r) {
      const failure = this.#noResultFailure(exit);
      return {
        ...base,
        status: 'failed',
        failure,
        summary: this.#lastText,
        usage: { ...ZERO_USAGE },
        notes,
      };
    }
    // A run can succeed with an empty `result` (cc#38769): fall back to the last message.
    const summary = r.text || this.#lastText;
    const failure = this.#classify(r);
    if (exit.endedByUs) {
      notes.push('claude printed its final result but did not exit; Bearing ended it');
    }
    if (!failure && r.text === '') {
      notes.push(
        this.#lastText
          ? 'claude returned an empty result; the summary is its last message'
          : 'claude returned an empty result and no message',
      );
    }
    return {
      ...base,
      status: failure ? 'failed' : 'completed',
      ...(failure ? { failure } : {}),
      summary,
      costUsd: r.costUsd,
      usage: r.usage,
      turns: r.turns,
      notes,
    };
  }

  #classify(r: ResultFields): Failure | undefined {
    const errors = r.errors.join('; ');
    if (r.subtype === 'error_max_turns') {
      return { reason: 'max-turns', message: errors || 'reached the turn limit', turns: r.turns };
    }
    if (r.subtype === 'error_max_budget_usd') {
      return {
        reason: 'budget-exceeded',
        message: errors || 'reached the budget',
        costUsd: r.costUsd,
      };
    }
    if (r.isError || r.subtype !== 'success') {
      const message = r.text || errors || `claude ended with ${r.subtype}`;
      if (this.#rateLimitStatus === 'rejected') {
        return this.#rateLimited(message, r.apiStatus);
      }
      if (r.apiStatus === 401 || r.apiStatus === 403) return { reason: 'auth-error', message };
      if (r.apiStatus === 429 || isUsageLimitText(message)) {
        return this.#rateLimited(message, r.apiStatus);
      }
      const outage = this.#outage(message, r.apiStatus);
      if (outage) return outage;
      if (
        r.apiStatus === undefined &&
        (this.#syntheticError === 'authentication_failed' || /^Invalid API key\b/i.test(message))
      ) {
        return { reason: 'auth-error', message };
      }
      return r.apiStatus === undefined
        ? { reason: 'agent-error', message }
        : { reason: 'agent-error', message, apiStatus: r.apiStatus };
    }
    if (r.deniedCount > 0) {
      const more = r.deniedCount > r.deniedTools.length ? ` (${r.deniedCount} denials)` : '';
      return {
        reason: 'permission-denied',
        message: `claude reported success but ${r.deniedCount} tool call(s) were denied${more}; its summary may claim work it did not do`,
        tools: r.deniedTools,
      };
    }
    return undefined;
  }

  /**
   * An API that is down or unreachable: a 5xx (529 is "overloaded"), or no
   * status at all with claude's synthetic `server_error` (connection refused).
   * The status in the text (`API Error: 503 ...`) is the fallback.
   */
  #outage(message: string, apiStatus?: number): Failure | undefined {
    const status = apiStatus ?? statusFromClaudeText(message);
    if (status !== undefined && status >= 500) {
      return { reason: 'outage', cli: 'claude', message, apiStatus: status };
    }
    if (
      status === undefined &&
      (this.#syntheticError === 'server_error' || isConnectionText(message))
    ) {
      return { reason: 'outage', cli: 'claude', message };
    }
    return undefined;
  }

  #rateLimited(message: string, apiStatus?: number): Failure {
    const resetsAt = this.#rateLimitResetsAt ?? resetsAtFromText(message);
    return {
      reason: 'rate-limited',
      message,
      ...(resetsAt === undefined ? {} : { resetsAt }),
      ...(apiStatus === undefined ? {} : { apiStatus }),
    };
  }

  /**
   * No `result` event: the run did not finish (a retry may succeed), unless
   * the output already decided it (a fatal line, which is why we ended it),
   * a limit explains it, or claude was still retrying an unavailable API.
   */
  #noResultFailure(exit: ProcessExit): Failure {
    if (this.#fatal) return this.#fatal;
    if (exit.signal) return { reason: 'signal', signal: exit.signal };
    const other = this.#events.otherText();
    if (this.#rateLimitStatus === 'rejected') {
      return this.#rateLimited(
        `usage limit reached${this.#rateLimitType ? ` (${this.#rateLimitType})` : ''}`,
      );
    }
    const limitText = [other, this.#lastText].find(isUsageLimitText);
    if (limitText !== undefined) return this.#rateLimited(limitText);
    const status = this.#lastRetryStatus;
    if (this.#apiRetries > 0 && (status === undefined || status >= 500)) {
      return {
        reason: 'outage',
        cli: 'claude',
        message: `claude was retrying API requests (${this.#apiRetries} so far, last: ${this.#lastRetry})`,
        ...(status === undefined ? {} : { apiStatus: status }),
      };
    }
    return this.#events.missingFinalEvent('claude', 'result', exit, other);
  }

  #notes(): string[] {
    const notes: string[] = [];
    if (this.#apiRetries > 0) {
      notes.push(`API request retried ${this.#apiRetries} time(s), last: ${this.#lastRetry}`);
    }
    notes.push(...this.#fallbacks);
    if (this.#rateLimitStatus === 'allowed_warning') {
      const type = this.#rateLimitType ? ` (${this.#rateLimitType})` : '';
      notes.push(`close to a usage limit${type}`);
    }
    notes.push(...this.#events.notes());
    return notes;
  }
}

function sameUsage(a: Usage, b: Usage): boolean {
  return (
    a.inputTokens === b.inputTokens &&
    a.outputTokens === b.outputTokens &&
    a.cacheReadTokens === b.cacheReadTokens &&
    a.cacheWriteTokens === b.cacheWriteTokens
  );
}

/** Usage and cost added up; the cost is unknown once any part of it is. */
function sumCost(
  a: { usage: Usage; cost?: number },
  b: { usage: Usage; cost?: number },
): { usage: Usage; cost?: number } {
  const usage = addUsage(a.usage, b.usage);
  return a.cost === undefined || b.cost === undefined
    ? { usage }
    : { usage, cost: a.cost + b.cost };
}

/**
 * The inputs that name what a tool works on, in the order they are looked
 * for: claude's tool schemas (the Agent SDK's sdk-tools.d.ts: `file_path`
 * for Read, Write and Edit, `notebook_path` for NotebookEdit, `command` for
 * Bash, `pattern` for Glob and Grep, `url` for WebFetch, `query` for
 * WebSearch, `description` for Agent). Keyed by input, not by tool name, so
 * a renamed or new tool with the same inputs reads the same.
 */
const TARGET_INPUTS = [
  'file_path',
  'notebook_path',
  'command',
  'pattern',
  'url',
  'query',
  'description',
] as const;

/** A tool call's main argument, on one line. */
function toolTarget(input: JsonObject | undefined): string | undefined {
  for (const key of TARGET_INPUTS) {
    const value = str(input?.[key]);
    if (value !== undefined && value.trim() !== '') return firstLine(value);
  }
  return undefined;
}

/** A tool_result's `content`: a string, or text blocks (the Messages API's ToolResultBlockParam). */
function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  return arr(content)
    .map((b) => (obj(b)?.type === 'text' ? (str(obj(b)?.text) ?? '') : ''))
    .filter((t) => t !== '')
    .join('\n');
}

/**
 * claude's stream-json as a transcript: the events ClaudeStreamParser reads
 * for the result, read for a person. Each `assistant` event is one content
 * block (text or tool_use); a failed tool call comes back in a `user` event
 * as a `tool_result` block with `is_error: true`, naming the call by its id.
 */
export class ClaudeTranscript implements TranscriptReader {
  readonly #lines: TranscriptLines;
  /** Tool calls not yet answered: id -> what the call showed, to name a failed one. */
  readonly #calls = new Map<string, { name: string; target?: string }>();

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
      case 'system':
        return this.#system(event);
      case 'assistant':
        return this.#assistant(event);
      case 'user':
        return this.#toolResults(event);
      case 'rate_limit_event': {
        const info = obj(event.rate_limit_info);
        const status = str(info?.status);
        if (status === undefined || status === 'allowed') return [];
        const type = str(info?.rateLimitType);
        return [{ kind: 'notice', text: `usage limit: ${status}${type ? ` (${type})` : ''}` }];
      }
      case 'result':
        return this.#result(event);
      default:
        return [];
    }
  }

  #system(event: JsonObject): TranscriptEntry[] {
    switch (event.subtype) {
      case 'init': {
        const model = str(event.model);
        return [{ kind: 'notice', text: `claude started${model ? ` (${model})` : ''}` }];
      }
      case 'api_retry': {
        const status = num(event.error_status);
        const error = str(event.error);
        const why = [status, error].filter((x) => x !== undefined).join(' ');
        return [{ kind: 'notice', text: `API request retried${why ? ` (${why})` : ''}` }];
      }
      case 'model_fallback':
        return [
          {
            kind: 'notice',
            text: `model fell back from ${str(event.original_model) ?? '?'} to ${str(event.fallback_model) ?? '?'}`,
          },
        ];
      default:
        return [];
    }
  }

  #assistant(event: JsonObject): TranscriptEntry[] {
    const out: TranscriptEntry[] = [];
    for (const block of arr(obj(event.message)?.content)) {
      const b = obj(block);
      if (b?.type === 'text') {
        const text = str(b.text);
        if (text !== undefined && text.trim() !== '') {
          out.push({ kind: 'message', text: clipTail(text.trim(), TRANSCRIPT_MESSAGE_CHARS) });
        }
      } else if (b?.type === 'tool_use') {
        const name = str(b.name) ?? 'tool';
        const named = toolTarget(obj(b.input));
        const target = named === undefined ? undefined : this.#lines.relative(named);
        const call = target === undefined ? { name } : { name, target };
        const id = str(b.id);
        if (id !== undefined) this.#calls.set(id, call);
        out.push({ kind: 'tool', ...call });
      }
    }
    return out;
  }

  #toolResults(event: JsonObject): TranscriptEntry[] {
    const out: TranscriptEntry[] = [];
    for (const block of arr(obj(event.message)?.content)) {
      const b = obj(block);
      if (b?.type !== 'tool_result') continue;
      const id = str(b.tool_use_id);
      const call = (id === undefined ? undefined : this.#calls.get(id)) ?? { name: 'tool' };
      if (id !== undefined) this.#calls.delete(id);
      if (b.is_error !== true) continue;
      const text = clipTail(toolResultText(b.content).trim(), TRANSCRIPT_OUTPUT_CHARS);
      out.push({ kind: 'tool-error', ...call, text });
    }
    return out;
  }

  #result(event: JsonObject): TranscriptEntry[] {
    const r = readResult(event);
    const out: TranscriptEntry[] = [];
    if (r.deniedCount > 0) {
      out.push({
        kind: 'notice',
        text: `${r.deniedCount} tool call(s) denied: ${r.deniedTools.join(', ')}`,
      });
    }
    const ok = !r.isError && r.subtype === 'success';
    const text = ok ? r.text : r.text || r.errors.join('; ');
    out.push({
      kind: 'result',
      ok,
      status: r.subtype,
      ...(text ? { text: clipTail(text, TRANSCRIPT_MESSAGE_CHARS) } : {}),
      ...(r.costUsd === undefined ? {} : { costUsd: r.costUsd }),
      ...(r.turns === undefined ? {} : { turns: r.turns }),
      usage: r.usage,
    });
    return out;
  }
}

/** The built-in `claude` adapter. */
export const claudeAdapter: AgentAdapter = {
  name: 'claude',
  output: 'claude',
  installHint: 'npm install -g @anthropic-ai/claude-code',
  resumable: true,
  buildInvocation(input: InvocationInput): AgentInvocation {
    return { file: 'claude', args: claudeArgs(input), env: {}, promptOnStdin: true };
  },
  createParser(options?: ParserOptions): OutputParser {
    return new ClaudeStreamParser(options);
  },
};
