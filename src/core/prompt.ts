/**
 * What an agent receives. One function builds it for `bearing run` and for
 * `bearing prompt <id>`, so what the person inspects is exactly what is sent.
 *
 * Order (docs/architecture.md): FOCUS/SKIP directives, PRIOR context from
 * completed (or skipped) dependencies, the task's own prompt, a retry note
 * when the last attempt failed, and a closing line asking for the hand-off
 * summary.
 */
import { describeFailure } from './failure.js';
import { forEachAncestor } from './graph.js';
import type { RunState, TaskRecord } from './state.js';
import type { Plan, PromptFormat, Task } from './task.js';

/** Never sent to an agent: Bearing's own files. */
export const ALWAYS_SKIPPED = 'bearing/';

export const CLOSING_LINE =
  'When you are done, end your reply with a short summary: what you changed (files and behaviour), how you checked it, and what is left undone. It is handed to the tasks that build on yours.';

/** Said of a dependency whose summary names files that are nowhere; do not take its word for them. */
const UNKNOWN_FILES_WARNING =
  'its summary names files it did not change and that do not exist; check before relying on them';

/** How many changed files one PRIOR entry lists before "... and N more". */
const MAX_FILES_PER_ENTRY = 40;
/** Ancestors beyond direct dependencies get one line of summary, at most this long. */
const ANCESTOR_SUMMARY_CHARS = 160;
/** The end of a failed gate's output is what explains it; keep that much in a retry note. */
const MAX_GATE_OUTPUT_CHARS = 4000;
/** A direct dependency's summary is never trimmed below this before the entry is dropped. */
const MIN_SUMMARY_CHARS = 200;
/**
 * Every PRIOR entry takes more characters than this ("- Earlier, ", the id
 * and the brackets round the name alone do), so no more than
 * context_limit / MIN_ENTRY_CHARS + 1 of them can fit: the rest are counted
 * as omitted, never rendered, and a task at the end of a 10,000-task chain
 * costs what one at its 500th does.
 */
const MIN_ENTRY_CHARS = 16;

export interface RetryNote {
  /** The attempt about to run (2 for the first retry). */
  attempt: number;
  /** describeFailure of the previous attempt. */
  error: string;
  /** Output of the failed verify gate, if that is why. */
  gateOutput?: string;
  /** What to do about it, when it is not "fix the cause" (a merge conflict). */
  instruction?: string;
}

export interface PromptOptions {
  format: PromptFormat;
  /** Upper bound for the PRIOR section, in characters. */
  contextLimit: number;
  retry?: RetryNote;
}

interface PriorEntry {
  id: string;
  name: string;
  distance: number;
  status: string;
  summary: string;
  files: string[];
  error?: string;
  /** Paths its summary names that it did not change and that do not exist (core/hand-off.ts). */
  unknownFiles: string[];
  /** For trimming: older completions go first. */
  updatedAt: string;
}

/** The prompt text for a task's next attempt. */
export function assemblePrompt(
  plan: Plan,
  state: RunState,
  task: Task,
  options: PromptOptions,
): string {
  const parts: string[] = [];
  const directives = renderDirectives(task, options.format);
  if (directives) parts.push(directives);
  const prior = renderPrior(
    priorEntries(plan, state, task, Math.floor(options.contextLimit / MIN_ENTRY_CHARS) + 1),
    options,
  );
  if (prior) parts.push(prior);
  parts.push(task.prompt?.trim() ?? '');
  if (options.retry) parts.push(renderRetry(options.retry, options.format));
  parts.push(CLOSING_LINE);
  return `${parts.join('\n\n')}\n`;
}

/** The note sent on its own when a retry resumes the agent's previous session. */
export function resumePrompt(retry: RetryNote, format: PromptFormat): string {
  return `${renderRetry(retry, format)}\n\n${CLOSING_LINE}\n`;
}

function skipList(task: Task): string[] {
  return task.skip.includes(ALWAYS_SKIPPED) ? task.skip : [...task.skip, ALWAYS_SKIPPED];
}

function renderDirectives(task: Task, format: PromptFormat): string {
  const skip = skipList(task);
  if (format === 'structured') {
    const lines: string[] = [];
    if (task.focus.length > 0) lines.push(`FOCUS: ${JSON.stringify(task.focus)}`);
    lines.push(`SKIP: ${JSON.stringify(skip)}`);
    return lines.join('\n');
  }
  const lines: string[] = [];
  if (task.focus.length > 0) lines.push(`Read these files first: ${task.focus.join(', ')}.`);
  lines.push(`Do not read or modify: ${skip.join(', ')}.`);
  return lines.join('\n');
}

/** The completed and skipped ancestors, nearest first. */
interface Handed {
  dep: Task;
  distance: number;
  record: TaskRecord;
}

/**
 * The PRIOR entries that may fit, at most `mayFit`, and how many others
 * there are: the nearest and then the newest, the reverse of the order
 * renderPrior drops them in.
 */
function priorEntries(
  plan: Plan,
  state: RunState,
  task: Task,
  mayFit: number,
): { entries: PriorEntry[]; beyond: number } {
  // Listed: the first `mayFit` and the rest of the last one's distance, all
  // nearestNewest looks at. Counted: every one.
  const handed: Handed[] = [];
  let count = 0;
  forEachAncestor(plan, task, (dep, distance) => {
    const record: TaskRecord | undefined = state.tasks[dep.id];
    if (!record || (record.status !== 'completed' && record.status !== 'skipped')) return;
    count++;
    if (handed.length < mayFit || handed[mayFit - 1]!.distance === distance) {
      handed.push({ dep, distance, record });
    }
  });
  const kept = nearestNewest(handed, mayFit);
  return { entries: kept.map(priorEntry), beyond: count - kept.length };
}

/**
 * The first `n` of `handed` (nearest first) when the farthest of them are
 * ranked newest first; ties as renderPrior's stable sort leaves them (of
 * equals, the later in `handed` is dropped last). In `handed`'s order.
 */
function nearestNewest(handed: Handed[], n: number): Handed[] {
  if (handed.length <= n) return handed;
  const edge = handed[n - 1]!.distance;
  const nearer = handed.filter((h) => h.distance < edge);
  const level = handed.filter((h) => h.distance === edge);
  const newest = new Set(
    [...level]
      .sort((a, b) => compareText(a.record.updatedAt, b.record.updatedAt))
      .slice(level.length - (n - nearer.length)),
  );
  return [...nearer, ...level.filter((h) => newest.has(h))];
}

function priorEntry({ dep, distance, record }: Handed): PriorEntry {
  const entry: PriorEntry = {
    id: dep.id,
    name: dep.name,
    distance,
    status: record.status,
    summary: (record.summary ?? '').trim(),
    files: record.filesChanged ?? [],
    unknownFiles: record.checks?.unknownFiles ?? [],
    updatedAt: record.updatedAt,
  };
  if (record.status === 'skipped' && record.failure) entry.error = describeFailure(record.failure);
  return entry;
}

function renderEntry(e: PriorEntry, format: PromptFormat): string {
  const files =
    e.files.length > MAX_FILES_PER_ENTRY
      ? [
          ...e.files.slice(0, MAX_FILES_PER_ENTRY),
          `... and ${e.files.length - MAX_FILES_PER_ENTRY} more`,
        ]
      : e.files;
  if (e.distance > 1) {
    const line = oneLine(e.summary, ANCESTOR_SUMMARY_CHARS);
    if (format === 'structured') {
      return `PRIOR: ${JSON.stringify({ id: e.id, name: e.name, status: e.status, earlier: true, summary: line, ...(e.error ? { error: e.error } : {}) })}`;
    }
    return `- Earlier, ${e.id} (${e.name})${e.status === 'skipped' ? ' was skipped' : ''}: ${line || 'no summary'}`;
  }
  if (format === 'structured') {
    return `PRIOR: ${JSON.stringify({
      id: e.id,
      name: e.name,
      status: e.status,
      summary: e.summary,
      files_changed: files,
      ...(e.unknownFiles.length > 0
        ? { warning: UNKNOWN_FILES_WARNING, files_not_found: e.unknownFiles }
        : {}),
      ...(e.error ? { error: e.error } : {}),
    })}`;
  }
  const head =
    e.status === 'skipped'
      ? `- ${e.id} (${e.name}) did not complete and was skipped${e.error ? `: ${e.error}` : ''}.`
      : `- ${e.id} (${e.name}) is done.`;
  const filesLine =
    files.length > 0 ? `\n  Files it changed: ${files.join(', ')}` : '\n  It changed no files.';
  const summary = e.summary ? `\n  Its summary:\n${indent(e.summary, '    ')}` : '';
  const warning =
    e.unknownFiles.length > 0
      ? `\n  Warning: ${UNKNOWN_FILES_WARNING}: ${e.unknownFiles.join(', ')}`
      : '';
  return `${head}${filesLine}${summary}${warning}`;
}

/**
 * Render PRIOR entries within the context limit: the most distant, then the
 * oldest, are shortened and then dropped first; direct dependencies keep at
 * least their id, name and files as long as anything fits.
 */
function renderPrior(
  { entries, beyond }: { entries: PriorEntry[]; beyond: number },
  options: PromptOptions,
): string {
  if (entries.length === 0) return '';
  const { format, contextLimit } = options;
  const header =
    format === 'structured' ? '' : 'Work already done by the tasks this one builds on:';
  const omittedLine = (n: number): string =>
    n === 0
      ? ''
      : format === 'structured'
        ? `PRIOR: ${JSON.stringify({ omitted: n, note: 'older context trimmed to fit context_limit' })}`
        : `- (${n} earlier task${n === 1 ? '' : 's'} omitted to fit the context limit)`;
  const lineCost = (text: string): number => (text ? text.length + 1 : 0);
  // Each entry is rendered once and re-rendered only when its own summary is shortened,
  // so trimming a long chain of ancestors stays linear.
  const texts = new Map<PriorEntry, string>();
  const render = (e: PriorEntry): string => {
    let text = texts.get(e);
    if (text === undefined) {
      text = renderEntry(e, format);
      texts.set(e, text);
    }
    return text;
  };
  // Lowest priority first: farthest, then oldest.
  const trimOrder = [...entries].sort(
    (a, b) => b.distance - a.distance || compareText(a.updatedAt, b.updatedAt),
  );
  const candidates = fittingPart(
    trimOrder,
    beyond,
    lineCost(header) - 1,
    contextLimit,
    (e) => lineCost(render(e)),
    (n) => lineCost(omittedLine(n)),
  );
  const rendered = new Map(candidates.map((e) => [e, render(e)]));
  let omitted = beyond + trimOrder.length - candidates.length;
  let total = lineCost(header);
  for (const text of rendered.values()) total += lineCost(text);
  const size = (): number => total + lineCost(omittedLine(omitted)) - 1;
  for (const e of candidates) {
    if (size() <= contextLimit) break;
    if (e.distance === 1 && e.summary.length > MIN_SUMMARY_CHARS) {
      const target = Math.max(MIN_SUMMARY_CHARS, e.summary.length - (size() - contextLimit) - 40);
      e.summary = `${e.summary.slice(0, target).trimEnd()} [... trimmed]`;
      const text = renderEntry(e, format);
      total += lineCost(text) - lineCost(rendered.get(e)!);
      rendered.set(e, text);
      if (size() <= contextLimit) break;
    }
    total -= lineCost(rendered.get(e)!);
    rendered.delete(e);
    omitted++;
  }
  const lines = entries.filter((e) => rendered.has(e)).map((e) => rendered.get(e)!);
  if (omitted > 0) lines.push(omittedLine(omitted));
  return [header, ...lines].filter(Boolean).join('\n');
}

/**
 * The part of `trimOrder` worth rendering and trimming: its end, the entries
 * of highest priority. All of it, unless ancestors beyond it are omitted
 * anyway: the omitted line is then always there, each entry kept makes PRIOR
 * longer, and the entries that fit are those before the first that does not
 * (at the end of a 10,000-task chain, about 90 of the 501 that may). Still
 * all of it when that first one is a direct dependency: renderPrior then
 * shortens summaries. `size`: what the header takes before the entries.
 */
function fittingPart(
  trimOrder: PriorEntry[],
  beyond: number,
  size: number,
  contextLimit: number,
  entryCost: (e: PriorEntry) => number,
  omittedCost: (omitted: number) => number,
): PriorEntry[] {
  if (beyond === 0) return trimOrder;
  for (let i = trimOrder.length - 1; i >= 0; i--) {
    const e = trimOrder[i]!;
    // With e kept: the entries after it in trimOrder are kept, those before omitted.
    if (size + entryCost(e) + omittedCost(beyond + i) > contextLimit) {
      return e.distance === 1 ? trimOrder : trimOrder.slice(i + 1);
    }
    size += entryCost(e);
  }
  return trimOrder;
}

const FIX_THE_CAUSE = 'Fix the cause and finish the task.';

function renderRetry(retry: RetryNote, format: PromptFormat): string {
  const gate = tail(retry.gateOutput?.trim() ?? '', MAX_GATE_OUTPUT_CHARS);
  if (format === 'structured') {
    const payload: Record<string, unknown> = { attempt: retry.attempt, error: retry.error };
    if (gate) payload.gate_output = gate;
    return `PREVIOUS ATTEMPT FAILED: ${JSON.stringify(payload)}\n${retry.instruction ?? FIX_THE_CAUSE}`;
  }
  const gateText = gate ? `\nOutput of the check:\n${indent(gate, '    ')}` : '';
  return `This is attempt ${retry.attempt}. The previous attempt failed: ${retry.error}${gateText}\n${retry.instruction ?? FIX_THE_CAUSE}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function tail(text: string, max: number): string {
  return text.length > max
    ? `[... ${text.length - max} characters cut]\n${text.slice(-max)}`
    : text;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat;
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((l) => (l ? prefix + l : l))
    .join('\n');
}
