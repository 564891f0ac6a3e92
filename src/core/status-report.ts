/**
 * What `bearing/status.md`, `bearing summary` and `bearing status --json` say.
 * One reading of plan + state feeds all three, so they never disagree. Written
 * for a person in an editor and for the planner, an AI that rereads the file
 * to decide what to do next: progress, cost and "Next:" first, then one
 * section per task in plan order (a plan of more than STATUS_INLINE_TASKS:
 * the tasks that need attention, each task in a file of its own). Pure and
 * deterministic: the time is passed in.
 */
import { addCost, type Cost, costText, NO_COST, roundUsd, taskCost } from './cost.js';
import {
  type AdviceContext,
  adviseFailure,
  describeFailure,
  type Failure,
  formatMs,
} from './failure.js';
import { schedule } from './graph.js';
import type { RunGate } from './next-step.js';
import { type LiveProgress, toolText, totalTokens } from './progress.js';
import { runTotals } from './run-totals.js';
import { describeStale } from './stale.js';
import {
  type AttemptRecord,
  addUsage,
  type HandOffChecks,
  type RunState,
  type TaskRecord,
  type TaskStatus,
  type Usage,
  ZERO_USAGE,
} from './state.js';
import type { Plan, Task } from './task.js';

export interface StatusInput {
  plan: Plan;
  state: RunState;
  /** "What happens next", computed by the caller (nextStep). */
  next: string;
  now: Date;
  /** Tasks running in this process right now, with when their attempt started. */
  running?: Record<string, { startedAt: string }>;
  /**
   * Whether `bearing run` would start now. Per-task advice names it only when
   * the caller says so (`free`); unknown, it says the task stays queued and
   * leaves `bearing run` to the "Next:" line.
   */
  gate?: RunGate;
}

/** Changed files listed per task in status.md before "... and N more". */
const MAX_FILES_LISTED = 30;
/** Gate output shown for a failed verify, from the end (where the error is). */
const MAX_OUTPUT_LINES = 20;
/** Attempts listed in the "Attempts:" line, newest kept. */
const MAX_ATTEMPTS_LISTED = 10;
/** Task names shown where a cost is unknown. */
const MAX_NAMES_LISTED = 5;
const MAX_ERROR_CHARS = 500;
/** renderSummary: one screen. */
const SUMMARY_MAX_TASK_LINES = 32;
const SUMMARY_LINE_WIDTH = 120;
const SUMMARY_MAX_NEXT_LINES = 6;

const STATUS_ORDER: readonly TaskStatus[] = [
  'failed',
  'running',
  'interrupted',
  'awaiting-review',
  'needs-review',
  'stale',
  'skipped',
  'queued',
];

// --- one reading of plan + state -------------------------------------------

interface TaskView {
  task: Task;
  record: TaskRecord | undefined;
  status: TaskStatus;
  /** Running: when the current attempt started. */
  startedAt?: string;
  /** Running in queue mode: the worker that took the attempt (`host:pid`). */
  worker?: string;
  /** Running: what its agent has done so far, as last saved. */
  progress?: LiveProgress;
  /** Queued: dependencies not yet done. */
  waitingFor: string[];
  /** Queued: held back by this failed or paused task. */
  blockedBy?: { id: string; status: TaskStatus };
  ready: boolean;
  /** What its ended attempts cost (a running one's is in `progress`). */
  cost: Cost;
}

interface Report {
  /** `bearing run` would start now: per-task advice may name it. */
  canRun: boolean;
  views: TaskView[];
  removed: TaskRecord[];
  counts: Record<TaskStatus, number>;
  total: number;
  cost: Cost;
  /** Tasks some of whose cost is unknown (their CLI reported tokens that nothing prices). */
  costUnknownFor: string[];
  usage: Usage;
}

function read(input: StatusInput): Report {
  const { plan, state } = input;
  const running = input.running ?? {};
  const runningIds = new Set(Object.keys(running));
  const sched = schedule(plan, state, runningIds);
  const ready = new Set(sched.ready.map((t) => t.id));
  const blocked = new Map(sched.blocked.map((b) => [b.task.id, b]));
  const counts: Record<TaskStatus, number> = {
    queued: 0,
    running: 0,
    completed: 0,
    failed: 0,
    skipped: 0,
    'awaiting-review': 0,
    interrupted: 0,
    'needs-review': 0,
    stale: 0,
  };

  const views: TaskView[] = plan.tasks.map((task) => {
    const record = state.tasks[task.id];
    const status: TaskStatus = runningIds.has(task.id) ? 'running' : (record?.status ?? 'queued');
    counts[status]++;
    const view: TaskView = {
      task,
      record,
      status,
      waitingFor: [],
      ready: ready.has(task.id),
      cost: taskCost(record),
    };
    if (status === 'running') {
      const last = record?.attempts.at(-1);
      const startedAt = running[task.id]?.startedAt ?? last?.startedAt;
      if (startedAt) view.startedAt = startedAt;
      const worker = record?.attempts.at(-1)?.worktree?.queued?.worker;
      if (worker) view.worker = worker;
      if (last?.outcome === 'running' && last.progress) view.progress = last.progress;
    }
    const held = blocked.get(task.id);
    if (held) view.blockedBy = { id: held.dependency, status: held.dependencyStatus };
    if (status === 'queued' || status === 'interrupted' || status === 'stale') {
      view.waitingFor = task.dependsOn.filter((d) => {
        const s = runningIds.has(d) ? 'running' : (state.tasks[d]?.status ?? 'queued');
        return s !== 'completed' && s !== 'skipped';
      });
    }
    return view;
  });

  const inPlan = new Set(plan.tasks.map((t) => t.id));
  const removed = Object.values(state.tasks)
    .filter((r) => !inPlan.has(r.id))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  // Money and tokens spent count whether or not the task is still planned.
  let cost = NO_COST;
  let usage: Usage = ZERO_USAGE;
  for (const r of [...views.flatMap((v) => (v.record ? [v.record] : [])), ...removed]) {
    cost = addCost(cost, taskCost(r));
    usage = addUsage(usage, r.usage);
  }
  return {
    canRun: input.gate?.kind === 'free',
    views,
    removed,
    counts,
    total: plan.tasks.length,
    cost,
    costUnknownFor: views.filter((v) => v.cost.unknown).map((v) => v.task.id),
    usage,
  };
}

function progressLine(r: Report): string {
  const parts = [`${r.counts.completed}/${r.total} completed`];
  for (const s of STATUS_ORDER) {
    if (r.counts[s] > 0) parts.push(`${r.counts[s]} ${s.replace('-', ' ')}`);
  }
  return parts.join(', ');
}

function totalCostText(r: Report): string {
  const base = costText({ ...r.cost, unknown: false });
  if (r.costUnknownFor.length === 0)
    return r.cost.estimated ? `${base} (~: estimated from tokens)` : base;
  const n = r.costUnknownFor.length;
  return `${base}, plus unknown for ${nameList(r.costUnknownFor, (id) => `\`${id}\``)} (${n === 1 ? 'its CLI reports' : 'their CLIs report'} no cost)`;
}

/** Tokens as every report shows them: input, output, cache read, cache write. */
export function tokensText(u: Usage): string {
  return `${thousands(u.inputTokens)} input, ${thousands(u.outputTokens)} output, ${thousands(u.cacheReadTokens)} cache read, ${thousands(u.cacheWriteTokens)} cache write`;
}

function configText(task: Task): string {
  const parts = [`cli ${task.cli}`];
  if (task.cli === 'shell') {
    parts.push(`run ${code(oneLine(task.run ?? ''))}`);
  } else {
    parts.push(
      `model ${task.model ?? '(CLI default)'}`,
      `effort ${task.effort ?? '(CLI default)'}`,
    );
  }
  parts.push(`checkpoint ${task.checkpoint}`);
  parts.push(
    task.onFailure === 'retry'
      ? `on_failure retry (retries ${task.retries})`
      : `on_failure ${task.onFailure}`,
  );
  return parts.join(', ');
}

function stateText(v: TaskView, now: Date, canRun: boolean): string {
  const marker = `[${v.status}]`;
  if (v.status === 'running') {
    const on = v.worker ? ` on ${v.worker}` : '';
    if (!v.startedAt) return `${marker}${on}`;
    const elapsed = now.getTime() - Date.parse(v.startedAt);
    return `${marker}${on} since ${v.startedAt}${Number.isFinite(elapsed) && elapsed >= 0 ? ` (${formatMs(elapsed)})` : ''}`;
  }
  if (v.status !== 'queued' && v.status !== 'interrupted' && v.status !== 'stale') return marker;
  const again =
    v.status === 'interrupted' || v.status === 'stale'
      ? `, runs again on the next ${canRun ? '`bearing run`' : 'run'}`
      : '';
  if (v.blockedBy) {
    return `${marker}${again}; blocked: ${code(v.blockedBy.id)} ${holdText(v.blockedBy.status)}`;
  }
  if (v.waitingFor.length > 0) {
    return `${marker}${again}; waiting for ${v.waitingFor.map((d) => code(d)).join(', ')}`;
  }
  return v.ready && !again ? `${marker}; ready to run` : `${marker}${again}`;
}

/** Why a dependency holds its dependents back, as a verb phrase. */
function holdText(status: TaskStatus): string {
  if (status === 'awaiting-review') return 'awaits review';
  return status === 'needs-review' ? 'needs review' : status;
}

/**
 * What a completed task's hand-off was checked against, beside the agent's
 * own word: the gate it passed, the files it was expected to change, a shell
 * command's exit code, or the person who approved it.
 */
function checkedText(task: Task, checks: HandOffChecks | undefined): string {
  const parts: string[] = [];
  if (checks?.approved) parts.push('approved by a person (`bearing approve`)');
  if (task.cli === 'shell') parts.push(`${code(oneLine(task.run ?? ''))} exited 0`);
  if (checks?.verify !== undefined) parts.push(`verify ${code(oneLine(checks.verify))} passed`);
  if (checks?.changes) parts.push('it changed files, as expected (expect_changes)');
  return parts.length > 0 ? parts.join('; ') : "only the agent's own report";
}

function unknownFilesText(files: readonly string[]): string {
  return `its summary names ${files.length === 1 ? 'a file' : 'files'} it did not change and that ${files.length === 1 ? 'does' : 'do'} not exist: ${files
    .slice(0, MAX_FILES_LISTED)
    .map((f) => code(f))
    .join(
      ', ',
    )}${files.length > MAX_FILES_LISTED ? ` and ${files.length - MAX_FILES_LISTED} more` : ''}`;
}

function attemptsText(attempts: AttemptRecord[]): string {
  const shown = attempts.slice(-MAX_ATTEMPTS_LISTED).map((a) => `#${a.attempt} ${a.outcome}`);
  const hidden = attempts.length - shown.length;
  return `${attempts.length} (${hidden > 0 ? '... ' : ''}${shown.join(', ')})`;
}

function spendText(v: TaskView): string {
  const r = v.record!;
  const cost = costText(v.cost);
  // codex reports no turns: say nothing rather than "0 turns".
  const turns = r.turns > 0 ? `, ${plural(r.turns, 'turn')}` : '';
  return `${cost}${turns}, ${formatMs(r.durationMs)}`;
}

function errorText(f: Failure): string {
  return truncate(oneLine(describeFailure(f)), MAX_ERROR_CHARS);
}

function adviceText(f: Failure, v: TaskView, canRun: boolean): string {
  const at: AdviceContext = { status: v.status, canRun };
  return adviseFailure(f, at).replaceAll('<id>', v.task.id);
}

/** The end of a failed gate's or shell task's output: where the error usually is. */
function failureOutput(
  f: Failure,
): { label: string; text: string; truncated: boolean } | undefined {
  if (f.reason !== 'verify-failed' && f.reason !== 'command-failed') return undefined;
  const text = f.output.replace(/\r\n?/g, '\n').replace(/\s+$/, '');
  if (!text) return undefined;
  const lines = text.split('\n');
  return {
    label: f.reason === 'verify-failed' ? 'Verify output' : 'Command output',
    text: lines.slice(-MAX_OUTPUT_LINES).join('\n'),
    truncated: lines.length > MAX_OUTPUT_LINES,
  };
}

// --- status.md --------------------------------------------------------------

export interface RenderOptions {
  /**
   * Keep each task's section for the next call, and reuse it while the task,
   * its record and its place in the schedule are unchanged (default). For a
   * caller that renders again after every change, as the run does; a
   * one-shot reader (`bearing status`) turns it off, since the bookkeeping
   * costs it more than rendering each section once.
   */
  memo?: boolean;
}

/**
 * A plan of up to this many tasks has every task's section in status.md,
 * one file to read. A larger one has each in a file of its own
 * (bearing/status/<id>.md), and status.md shows those worth reading now: a
 * planner cannot read 10,000 sections, and a run should not rewrite them all
 * at every change.
 */
export const STATUS_INLINE_TASKS = 100;
/** A larger plan's status.md: at most this many sections of tasks that need attention... */
const SHOWN_ATTENTION = 40;
/** ...and of the tasks completed last, whose hand-offs a planner reads next. */
const SHOWN_RECENT = 10;
/** Removed tasks listed by name in status.md; `status --json` has them all. */
const SHOWN_REMOVED = 50;
/** Statuses a person or the planner may have to act on, or that are going on. */
const ATTENTION: ReadonlySet<TaskStatus> = new Set([
  'running',
  'failed',
  'awaiting-review',
  'needs-review',
  'interrupted',
  'stale',
]);

export interface StatusFiles {
  /** bearing/status.md. */
  main: string;
  /**
   * A plan of more than STATUS_INLINE_TASKS: every task's section by id, for
   * bearing/status/<id>.md. Undefined when status.md holds them all.
   */
  tasks?: Map<string, string>;
}

/** The full bearing/status.md. */
export function renderStatusMarkdown(input: StatusInput, options: RenderOptions = {}): string {
  return renderStatusFiles(input, { ...options, tasks: false }).main;
}

/**
 * status.md and, for a plan of more than STATUS_INLINE_TASKS, each task's
 * own file. `tasks: false`: status.md only (a reader that prints it).
 */
export function renderStatusFiles(
  input: StatusInput,
  options: RenderOptions & { tasks?: boolean } = {},
): StatusFiles {
  const memo = options.memo ?? true;
  const r = read(input);
  const section = (v: TaskView): string =>
    memo ? cachedSection(v, input.now, r.canRun) : sectionText(v, input.now, r.canRun);
  const inline = r.views.length <= STATUS_INLINE_TASKS;
  const out: string[] = [
    '# Bearing status',
    '',
    `- Progress: ${progressLine(r)}`,
    `- Cost: ${totalCostText(r)}`,
    `- Tokens: ${tokensText(r.usage)}`,
    `- Next: ${oneLine(input.next)}`,
    `- Updated: ${input.now.toISOString()}`,
    '',
    'Bearing rewrites this file after every change. To change the plan, edit the files in bearing/tasks/.',
  ];
  if (inline) {
    for (const v of r.views) out.push('', section(v));
  } else {
    out.push('', ...shownTasks(r, section));
  }
  if (r.removed.length > 0) {
    out.push(
      '',
      '## Removed tasks',
      '',
      'Recorded in bearing/.state/state.json but no longer in any task file:',
      '',
    );
    for (const rec of r.removed.slice(0, SHOWN_REMOVED)) {
      const files = rec.filesChanged?.length ?? 0;
      out.push(
        `- ${code(rec.id)} [${rec.status}], ${plural(rec.attempts.length, 'attempt')}, ${costText(taskCost(rec))}, ${plural(files, 'file')} changed`,
      );
    }
    if (r.removed.length > SHOWN_REMOVED) {
      out.push(
        `- ... and ${thousands(r.removed.length - SHOWN_REMOVED)} more (\`bearing status --json\` lists them under \`removed\`)`,
      );
    }
  }
  const main = `${out.join('\n')}\n`;
  if (inline || options.tasks === false) return { main };
  return { main, tasks: new Map(r.views.map((v) => [v.task.id, `${section(v)}\n`])) };
}

/** A large plan's status.md: the sections worth reading now, and where the rest are. */
function shownTasks(r: Report, section: (v: TaskView) => string): string[] {
  const attention = r.views.filter((v) => ATTENTION.has(v.status));
  const recent = r.views
    .filter((v) => v.status === 'completed' && v.record)
    .sort((a, b) => (a.record!.updatedAt < b.record!.updatedAt ? 1 : -1))
    .slice(0, SHOWN_RECENT);
  const shown = attention.slice(0, SHOWN_ATTENTION);
  const parts = [
    ...(shown.length > 0
      ? [
          `${plural(shown.length, 'task')} that ${shown.length === 1 ? 'needs' : 'need'} attention (running, failed, awaiting or needing review, interrupted, stale)`,
        ]
      : []),
    ...(recent.length > 0 ? [`the ${plural(recent.length, 'task')} completed last`] : []),
  ];
  const below =
    parts.length > 0
      ? `below are ${parts.join(' and ')}`
      : 'no task needs attention or has completed yet';
  const out = [
    '## Tasks',
    '',
    `This plan has ${thousands(r.total)} tasks, too many for one file: ${below}. Every task's section is in \`bearing/status/<id>.md\`, and \`bearing status --json\` has them all.`,
  ];
  for (const v of shown) out.push('', section(v));
  const more = attention.length - shown.length;
  if (more > 0) {
    out.push(
      '',
      `... and ${thousands(more)} more that need attention: ${nameList(
        attention.slice(shown.length).map((v) => v.task.id),
        code,
      )} (each in \`bearing/status/<id>.md\`).`,
    );
  }
  for (const v of recent) out.push('', section(v));
  return out;
}

/**
 * status.md is rewritten after every transition of a run; at thousands of
 * tasks re-rendering every section each time dominated the run's overhead.
 * A section depends only on its task, its record and its place in the
 * schedule, so it is kept until one of those changes (running sections show
 * elapsed time and are always rendered).
 */
const sections = new WeakMap<Task, { key: string; text: string }>();

function cachedSection(v: TaskView, now: Date, canRun: boolean): string {
  if (v.status === 'running') return sectionText(v, now, canRun);
  const r = v.record;
  const key = [
    r?.updatedAt,
    r?.status,
    r?.attempts.length,
    r?.costUsd,
    r?.flagged,
    r?.summary?.length,
    r?.filesChanged?.length,
    r?.failure?.reason,
    v.status,
    v.ready,
    v.waitingFor.join(','),
    v.blockedBy ? `${v.blockedBy.id}:${v.blockedBy.status}` : '',
    canRun,
  ].join('|');
  const hit = sections.get(v.task);
  if (hit && hit.key === key) return hit.text;
  const text = sectionText(v, now, canRun);
  sections.set(v.task, { key, text });
  return text;
}

/** One task's section, its lines joined. */
function sectionText(v: TaskView, now: Date, canRun: boolean): string {
  return taskSection(v, now, canRun).join('\n');
}

function taskSection(v: TaskView, now: Date, canRun: boolean): string[] {
  const { task, record } = v;
  const name = oneLine(task.name);
  const out = [`## ${task.id}${name && name !== task.id ? ` — ${name}` : ''}`, ''];
  out.push(`- State: ${stateText(v, now, canRun)}`);
  if (v.progress) out.push(`- Progress: ${progressText(v.progress)}`);
  out.push(`- Config: ${configText(task)}`);
  if (task.dependsOn.length > 0) {
    out.push(`- Depends on: ${task.dependsOn.map((d) => code(d)).join(', ')}`);
  }
  if (record && record.attempts.length > 0) {
    out.push(`- Attempts: ${attemptsText(record.attempts)}`);
    if (record.attempts.some((a) => a.outcome !== 'running')) out.push(`- Spent: ${spendText(v)}`);
  }
  if (record?.sessionId) out.push(`- Session: ${code(record.sessionId)}`);
  // How the last attempt went, beyond its outcome: retries, a fallback model,
  // an agent Bearing had to end, a capped log.
  const notes = record?.attempts.at(-1)?.notes;
  if (notes && notes.length > 0) out.push(`- Notes: ${notes.join('; ')}`);
  out.push(...worktreeLines(v));
  if (record?.flagged) out.push('- Flagged for review (checkpoint: notify); the run went on');
  if (v.status === 'stale' && record?.stale) {
    out.push(
      `- Stale: ${describeStale(record.stale)}; the result below is from its last run and stays until a new one replaces it (\`bearing approve ${task.id}\` accepts it as current)`,
    );
  }
  // Results recorded before Bearing kept its checks say nothing rather than "nothing".
  if (
    (v.status === 'completed' || v.status === 'stale') &&
    (record?.checks || task.cli === 'shell')
  ) {
    out.push(`- Checked against: ${checkedText(task, record?.checks)}`);
  }
  const unknown = record?.checks?.unknownFiles;
  if (unknown && unknown.length > 0) out.push(`- Warning: ${unknownFilesText(unknown)}`);
  if (v.status === 'awaiting-review' || v.status === 'needs-review') {
    out.push(
      `- ${v.status === 'awaiting-review' ? 'Awaiting review' : 'Needs review'}: \`bearing approve ${task.id}\` to accept it, or \`bearing retry ${task.id}\` to run it again`,
    );
  }
  const failure = v.status !== 'completed' ? record?.failure : undefined;
  if (failure) {
    out.push(`- Error: ${errorText(failure)}`);
    const advice = adviceText(failure, v, canRun);
    if (advice) out.push(`- What to do: ${advice}`);
  }
  const output = failure ? failureOutput(failure) : undefined;
  if (output) {
    const label = output.truncated
      ? `${output.label} (last ${MAX_OUTPUT_LINES} lines)`
      : output.label;
    out.push('', `${label}:`, '', ...fenced(output.text));
  }
  const summary = record?.summary?.replace(/\r\n?/g, '\n').replace(/\s+$/, '');
  if (summary) out.push('', 'Summary:', '', ...fenced(summary));
  const files = record?.filesChanged;
  if (files && files.length === 0) out.push('', 'Files changed: none');
  if (files && files.length > 0) {
    out.push('', `Files changed (${files.length}):`, '');
    for (const f of files.slice(0, MAX_FILES_LISTED)) out.push(`- ${code(f)}`);
    if (files.length > MAX_FILES_LISTED) {
      out.push(`- ... and ${files.length - MAX_FILES_LISTED} more`);
    }
  }
  return out;
}

// --- bearing summary ----------------------------------------------------------

/** One screen (about 40 lines at most) for `bearing summary`: what the planner needs at a glance. */
export function renderSummary(input: StatusInput): string {
  const r = read(input);
  const out = [
    `Bearing: ${progressLine(r)}`,
    `Cost: ${totalCostText(r)}`,
    `Tokens: ${tokensText(r.usage)}`,
    ...lastRunLines(input),
    ...nextLines(input.next),
    '',
  ];
  const width = Math.max(0, ...r.views.map((v) => v.status.length + 2));
  const line = (v: TaskView): string =>
    truncate(`${`[${v.status}]`.padEnd(width)} ${summaryDetail(v, input.now)}`, SUMMARY_LINE_WIDTH);

  if (r.views.length <= SUMMARY_MAX_TASK_LINES) {
    out.push(...r.views.map(line));
  } else {
    // Too many to list: completed tasks on one line, the ones that need attention listed.
    const done = r.views.filter((v) => v.status === 'completed');
    const rest = r.views.filter((v) => v.status !== 'completed');
    if (done.length > 0) {
      out.push(
        truncate(
          `${'[completed]'.padEnd(width)} ${done.length} tasks: ${done.map((v) => v.task.id).join(', ')}`,
          SUMMARY_LINE_WIDTH,
        ),
      );
    }
    const room = SUMMARY_MAX_TASK_LINES - 2;
    out.push(...rest.slice(0, room).map(line));
    if (rest.length > room) {
      out.push(`... and ${rest.length - room} more (bearing status lists every task)`);
    }
  }
  if (r.removed.length > 0) {
    out.push(
      truncate(
        `Removed from the task files: ${r.removed.map((rec) => `${rec.id} (${rec.status})`).join(', ')}`,
        SUMMARY_LINE_WIDTH,
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

/** Tasks named on the summary's "by task" line before the rest are counted. */
const SUMMARY_MAX_SPEND_NAMES = 8;

/**
 * What the last run (or the one going on) spent: its time, cost and tokens,
 * and its costliest tasks; the project's totals are on the lines above.
 */
function lastRunLines(input: StatusInput): string[] {
  const run = input.state.lastRun;
  if (!run) return [];
  const until = run.endedAt ? new Date(run.endedAt) : input.now;
  const t = runTotals(input.state, run.startedAt, until);
  if (t.attempts === 0) return [];
  const head = `Last run: ${run.endedAt ? 'took' : 'running for'} ${formatMs(t.wallMs)}, ${costText(t.cost)}, ${plural(t.attempts, 'attempt')}; tokens ${tokensText(t.usage)}`;
  const shown = t.tasks
    .slice(0, SUMMARY_MAX_SPEND_NAMES)
    .map((s) => `${s.id} ${costText(s.cost, 'short')}`);
  const more = t.tasks.length - shown.length;
  const byTask = `${shown.join(', ')}${more > 0 ? `, and ${more} more` : ''}`;
  return [head, truncate(`  by task: ${byTask}`, SUMMARY_LINE_WIDTH)];
}

/**
 * "Next:" one line per step. Steps are not cut short: a cut could end inside a
 * command, and the planner runs what it reads there. Past the cap, status has them all.
 */
function nextLines(next: string): string[] {
  const steps = next
    .split('\n')
    .map(oneLine)
    .filter((l) => l !== '');
  const shown = steps.slice(0, SUMMARY_MAX_NEXT_LINES);
  const out = shown.map((l, i) => (i === 0 ? `Next: ${l}` : `      ${l}`));
  if (steps.length > shown.length) {
    out.push(`      ... and ${steps.length - shown.length} more (bearing status shows them)`);
  }
  return out;
}

function summaryDetail(v: TaskView, now: Date): string {
  const { task, record } = v;
  const name = oneLine(task.name);
  const head = name && name !== task.id ? `${task.id} — ${name}` : task.id;
  const bits: string[] = [];
  switch (v.status) {
    case 'completed': {
      if (record) {
        bits.push(costText(v.cost), formatMs(record.durationMs));
        bits.push(plural(record.filesChanged?.length ?? 0, 'file'));
      }
      if (record?.flagged) bits.push('flagged');
      break;
    }
    case 'running': {
      const elapsed = v.startedAt ? now.getTime() - Date.parse(v.startedAt) : Number.NaN;
      bits.push(
        Number.isFinite(elapsed) && elapsed >= 0 ? `running ${formatMs(elapsed)}` : 'running',
      );
      if (v.worker) bits.push(`on ${v.worker}`);
      if (v.progress) bits.push(progressText(v.progress));
      break;
    }
    case 'awaiting-review':
      bits.push(`bearing approve ${task.id}`);
      break;
    case 'needs-review':
      if (record?.failure) bits.push(oneLine(describeFailure(record.failure)));
      bits.push(`bearing approve ${task.id} or bearing retry ${task.id}`);
      break;
    case 'stale':
      if (record?.stale) bits.push(oneLine(describeStale(record.stale)).replaceAll('`', ''));
      if (v.blockedBy) bits.push(`blocked: ${v.blockedBy.id} ${holdText(v.blockedBy.status)}`);
      else if (v.waitingFor.length > 0) bits.push(`waiting for ${v.waitingFor.join(', ')}`);
      break;
    default: {
      const f = record?.failure;
      if (f && v.status !== 'queued') bits.push(oneLine(describeFailure(f)));
      if (v.blockedBy) bits.push(`blocked: ${v.blockedBy.id} ${holdText(v.blockedBy.status)}`);
      else if (v.waitingFor.length > 0) bits.push(`waiting for ${v.waitingFor.join(', ')}`);
      else if (v.ready) bits.push('ready');
    }
  }
  return bits.length > 0 ? `${head} · ${bits.join(' · ')}` : head;
}

// --- bearing status --json -------------------------------------------------------

/**
 * `bearing status --json`. A stable contract for scripts and the planner:
 * fields are only ever added; a breaking change bumps `version`. Keys are
 * snake_case like the task files. Costs are US dollars.
 */
export interface StatusJson {
  /** Version of this JSON shape. */
  version: 1;
  /** ISO time the report was made. */
  generated_at: string;
  /** Counts over the tasks in the task files (removed tasks are not counted). */
  progress: {
    total: number;
    completed: number;
    failed: number;
    running: number;
    interrupted: number;
    awaiting_review: number;
    skipped: number;
    queued: number;
    /** Said done but changed no file although expected to (expect_changes). */
    needs_review: number;
    /** Completed, but edited or built on work that changed since: runs again. */
    stale: number;
  };
  /**
   * Total spend, removed tasks included. `estimated`: part of `usd` is
   * Bearing's estimate from tokens (codex); `unknown_for` lists tasks whose
   * CLI reported tokens that nothing priced, so `usd` is a lower bound.
   */
  cost: { usd: number; estimated: boolean; unknown_for: string[] };
  tokens: StatusJsonTokens;
  /** What happens next: the next task, or why the run stopped and what to do. */
  next: string;
  /** Every task in the task files, in plan (dependency) order. */
  tasks: StatusJsonTask[];
  /** Tasks recorded in state but no longer in any task file, by id. */
  removed: StatusJsonRemoved[];
}

export interface StatusJsonTokens {
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
}

export interface StatusJsonTask {
  id: string;
  name: string;
  status: TaskStatus;
  cli: string;
  /** null: the CLI's default. */
  model: string | null;
  effort: string | null;
  checkpoint: string;
  on_failure: string;
  retries: number;
  depends_on: string[];
  /** Queued tasks: dependencies not completed (or skipped) yet. */
  waiting_for: string[];
  /** Queued tasks held back by a failed or paused task: which one. */
  blocked_by: string | null;
  /** Queued with every dependency done. */
  ready: boolean;
  /** Running tasks: when the current attempt started (ISO); otherwise null. */
  started_at: string | null;
  /** Running tasks: what the agent's events say it has done so far (saved at most once a second); otherwise null. */
  progress: StatusJsonProgress | null;
  /** Running in queue mode: the worker that took the attempt (`host:pid`); otherwise null. */
  worker: string | null;
  attempts: number;
  /** Sum over ended attempts of the cost the CLI reported, or Bearing estimated (codex). */
  cost_usd: number;
  /** True when part of cost_usd is Bearing's estimate from the tokens (codex, run.codex_prices). */
  cost_estimated: boolean;
  /** True when some attempt reported tokens but no cost and none was estimated, so cost_usd is a lower bound. */
  cost_unknown: boolean;
  tokens: StatusJsonTokens;
  turns: number;
  duration_ms: number;
  /** checkpoint: notify flagged it. */
  flagged: boolean;
  awaiting_review: boolean;
  /** The hand-off: the completing attempt's final message. */
  summary: string | null;
  files_changed: string[];
  /** Worktree mode: the commit the work landed as. */
  landed_commit: string | null;
  /** Worktree mode: the last attempt's worktree (kept while the task is not done). */
  worktree: string | null;
  session_id: string | null;
  /** Set while the task is not completed and its last attempt failed. */
  error: { reason: string; message: string; advice: string } | null;
  /**
   * Status `stale`: why. `fields`: the task-file keys an edit changed;
   * `upstream`: the task it builds on that is stale, is to run again
   * (`rerun`) or ran again since (`new-result`).
   */
  stale: {
    message: string;
    fields: string[];
    upstream: string | null;
    change: 'edited' | 'stale' | 'rerun' | 'new-result';
  } | null;
  /**
   * What the current hand-off was checked against: the verify gate it passed,
   * whether it changed files as expected, a person's approval, and the files
   * its summary names that it did not change and that do not exist.
   */
  checks: {
    verify: string | null;
    changed_files: boolean;
    approved: boolean;
    unknown_files: string[];
  } | null;
}

export interface StatusJsonProgress {
  turns: number;
  /** The current or last tool call: `{name: "Edit", target: "src/db.js"}`. */
  tool: { name: string; target: string | null } | null;
  tokens: StatusJsonTokens;
  /** Cost so far; null when the CLI reports none (codex). */
  cost_usd: number | null;
  /** True while cost_usd is Bearing's estimate from the tokens, before the CLI reports its own. */
  cost_estimated: boolean;
}

export interface StatusJsonRemoved {
  id: string;
  status: TaskStatus;
  attempts: number;
  cost_usd: number;
  cost_estimated: boolean;
  summary: string | null;
  files_changed: string[];
}

export function statusJson(input: StatusInput): StatusJson {
  const r = read(input);
  return {
    version: 1,
    generated_at: input.now.toISOString(),
    progress: {
      total: r.total,
      completed: r.counts.completed,
      failed: r.counts.failed,
      running: r.counts.running,
      interrupted: r.counts.interrupted,
      awaiting_review: r.counts['awaiting-review'],
      skipped: r.counts.skipped,
      queued: r.counts.queued,
      needs_review: r.counts['needs-review'],
      stale: r.counts.stale,
    },
    cost: { usd: roundUsd(r.cost.usd), estimated: r.cost.estimated, unknown_for: r.costUnknownFor },
    tokens: tokensJson(r.usage),
    next: input.next,
    tasks: r.views.map((v) => taskJson(v, r.canRun)),
    removed: r.removed.map((rec) => ({
      id: rec.id,
      status: rec.status,
      attempts: rec.attempts.length,
      cost_usd: roundUsd(rec.costUsd),
      cost_estimated: taskCost(rec).estimated,
      summary: rec.summary ?? null,
      files_changed: rec.filesChanged ?? [],
    })),
  };
}

/** Worktree mode: where the task's work landed, or where it waits. */
function worktreeLines(v: TaskView): string[] {
  const { record } = v;
  const last = record?.attempts.at(-1);
  const wt = last?.worktree;
  if (!record || !wt) return [];
  if (record.land) {
    return [
      `- Waiting to land: the work of attempt ${record.land.attempt} (branch ${code(wt.branch)}) lands when the run goes on, without running the agent again`,
    ];
  }
  const landed = landedCommit(v);
  if (landed) return [`- Landed: commit ${code(landed.slice(0, 12))}`];
  if (v.status === 'completed' || v.status === 'skipped' || last?.outcome === 'interrupted')
    return [];
  return [`- Worktree: ${code(wt.path)} (branch ${code(wt.branch)})`];
}

/** The commit the task's work landed as, when it landed in worktree mode. */
function landedCommit(v: TaskView): string | undefined {
  const last = v.record?.attempts.at(-1);
  return last?.outcome === 'completed' ? last.worktree?.landing?.commit : undefined;
}

function taskJson(v: TaskView, canRun: boolean): StatusJsonTask {
  const { task, record } = v;
  const failure = v.status !== 'completed' ? record?.failure : undefined;
  return {
    id: task.id,
    name: task.name,
    status: v.status,
    cli: task.cli,
    model: task.model ?? null,
    effort: task.effort ?? null,
    checkpoint: task.checkpoint,
    on_failure: task.onFailure,
    retries: task.retries,
    depends_on: task.dependsOn,
    waiting_for: v.waitingFor,
    blocked_by: v.blockedBy?.id ?? null,
    ready: v.ready,
    started_at: v.startedAt ?? null,
    progress: v.progress ? progressJson(v.progress) : null,
    worker: v.worker ?? null,
    attempts: record?.attempts.length ?? 0,
    cost_usd: roundUsd(v.cost.usd),
    cost_estimated: v.cost.estimated,
    cost_unknown: v.cost.unknown,
    tokens: tokensJson(record?.usage ?? ZERO_USAGE),
    turns: record?.turns ?? 0,
    duration_ms: record?.durationMs ?? 0,
    flagged: record?.flagged ?? false,
    awaiting_review: v.status === 'awaiting-review',
    summary: record?.summary ?? null,
    files_changed: record?.filesChanged ?? [],
    landed_commit: landedCommit(v) ?? null,
    worktree: record?.attempts.at(-1)?.worktree?.path ?? null,
    session_id: record?.sessionId ?? null,
    error: failure
      ? {
          reason: failure.reason,
          message: describeFailure(failure),
          advice: adviceText(failure, v, canRun),
        }
      : null,
    stale:
      v.status === 'stale' && record?.stale
        ? {
            message: describeStale(record.stale),
            fields: record.stale.kind === 'edited' ? record.stale.fields : [],
            upstream: record.stale.kind === 'upstream' ? record.stale.task : null,
            change: record.stale.kind === 'edited' ? 'edited' : record.stale.change,
          }
        : null,
    checks: record?.checks
      ? {
          verify: record.checks.verify ?? null,
          changed_files: record.checks.changes ?? false,
          approved: record.checks.approved ?? false,
          unknown_files: record.checks.unknownFiles ?? [],
        }
      : null,
  };
}

export function progressJson(p: LiveProgress): StatusJsonProgress {
  return {
    turns: p.turns,
    tool: p.tool ? { name: p.tool.name, target: p.tool.target ?? null } : null,
    tokens: tokensJson(p.usage),
    cost_usd: p.cost ? roundUsd(p.cost.usd) : null,
    cost_estimated: p.cost?.estimated ?? false,
  };
}

/**
 * A running attempt on one line: `3 turns · Edit src/db.js · 24,896 tokens ·
 * ~$0.0234`. `~` marks an estimate; a CLI that reports no cost says so.
 */
export function progressText(p: LiveProgress): string {
  const parts = [plural(p.turns, 'turn')];
  if (p.tool) parts.push(toolText(p.tool));
  parts.push(`${thousands(totalTokens(p.usage))} tokens`);
  parts.push(p.cost ? costText({ ...p.cost, unknown: false }) : 'no cost reported');
  return parts.join(' · ');
}

export function tokensJson(u: Usage): StatusJsonTokens {
  return {
    input: u.inputTokens,
    output: u.outputTokens,
    cache_read: u.cacheReadTokens,
    cache_write: u.cacheWriteTokens,
  };
}

// --- text helpers ------------------------------------------------------------------

/** 1234567 -> "1,234,567", independent of the machine's locale. */
export function thousands(n: number): string {
  const s = String(Math.trunc(Math.abs(n)));
  const grouped = s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${grouped}` : grouped;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function nameList(ids: string[], fmt: (id: string) => string): string {
  const shown = ids.slice(0, MAX_NAMES_LISTED).map(fmt);
  const more = ids.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 3)}...`;
}

/** The longest run of backticks in `text` (0 for none); a status has thousands of spans to fence. */
function longestBacktickRun(text: string): number {
  let longest = 0;
  for (let at = text.indexOf('`'); at !== -1; ) {
    let end = at + 1;
    while (text.charCodeAt(end) === 96) end++;
    longest = Math.max(longest, end - at);
    at = text.indexOf('`', end);
  }
  return longest;
}

/** An inline code span that stays one span whatever backticks the text holds. */
export function code(text: string): string {
  const fence = '`'.repeat(longestBacktickRun(text) + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/**
 * A fenced block that the text cannot close early: the fence is longer than
 * any backtick run inside, so agent summaries full of markdown stay verbatim
 * and cannot inject headings that look like task sections.
 */
export function fenced(text: string): string[] {
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(text) + 1));
  return [`${fence}text`, ...text.split('\n'), fence];
}
