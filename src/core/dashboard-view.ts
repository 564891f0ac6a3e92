/**
 * What `bearing ui` shows, as one plain object the page renders: built from
 * `bearing status --json` (the stable contract for scripts, so the dashboard
 * and `status` never disagree) plus the state, by this one function. Fields
 * the status JSON gains later (live progress per running task, say) reach
 * the page without a change here: whatever this function does not know is
 * passed on in `more`, and the page shows it when it is there.
 */
import { roundUsd } from './cost.js';
import { reviewRefusal } from './review-action.js';
import type { RunState, TaskStatus } from './state.js';
import type { StatusJson, StatusJsonTask, StatusJsonTokens } from './status-report.js';

export interface DashboardInput {
  status: StatusJson;
  /** The state the status was made from (its records decide which buttons work). */
  state: RunState;
  /** The project's folder, shown as the page's title. */
  project: string;
  run: { active: boolean; pid?: number; since?: string };
  /** Problems in the task files, formatted one per line. */
  diagnostics: string[];
}

export interface DashboardView {
  project: string;
  generatedAt: string;
  run: { active: boolean; pid: number | null; since: string | null };
  next: string;
  progress: StatusJson['progress'];
  cost: { usd: number; estimated: boolean; unknownFor: string[] };
  tokens: StatusJsonTokens;
  tasks: DashboardTask[];
  /** Dependency edges between tasks in the plan, from -> to (dependency first). */
  edges: { from: string; to: string }[];
  /** Cost per task for the chart: tasks that have run, in plan order. */
  costs: { id: string; usd: number; estimated: boolean; unknown: boolean; status: TaskStatus }[];
  removed: { id: string; status: TaskStatus; costUsd: number }[];
  diagnostics: string[];
}

export interface DashboardTask {
  id: string;
  name: string;
  status: TaskStatus;
  cli: string;
  model: string | null;
  dependsOn: string[];
  blockedBy: string | null;
  waitingFor: string[];
  ready: boolean;
  startedAt: string | null;
  attempts: number;
  costUsd: number;
  /** Whether part of costUsd is an estimate (codex), or a lower bound (a CLI that reported no cost). */
  cost: { estimated: boolean; unknown: boolean };
  tokens: StatusJsonTokens;
  turns: number;
  durationMs: number;
  flagged: boolean;
  summary: string | null;
  filesChanged: string[];
  worktree: string | null;
  landedCommit: string | null;
  error: StatusJsonTask['error'];
  /** Per action, why the command would refuse it now (null: it would apply). */
  actions: { approve: string | null; retry: string | null };
  /** Fields of the status JSON this view does not map, shown as they are. */
  more: Record<string, unknown>;
}

/** The status JSON task fields mapped above; anything else goes to `more`. */
const MAPPED = new Set<string>([
  'id',
  'name',
  'status',
  'cli',
  'model',
  'effort',
  'checkpoint',
  'on_failure',
  'retries',
  'depends_on',
  'waiting_for',
  'blocked_by',
  'ready',
  'started_at',
  'attempts',
  'cost_usd',
  'cost_estimated',
  'cost_unknown',
  'tokens',
  'turns',
  'duration_ms',
  'flagged',
  'awaiting_review',
  'summary',
  'files_changed',
  'landed_commit',
  'worktree',
  'session_id',
  'error',
]);

export function dashboardView(input: DashboardInput): DashboardView {
  const { status, state } = input;
  const ids = new Set(status.tasks.map((t) => t.id));
  const tasks = status.tasks.map((t) => dashboardTask(t, state));
  return {
    project: input.project,
    generatedAt: status.generated_at,
    run: { active: input.run.active, pid: input.run.pid ?? null, since: input.run.since ?? null },
    next: status.next,
    progress: status.progress,
    cost: {
      usd: status.cost.usd,
      estimated: status.cost.estimated,
      unknownFor: status.cost.unknown_for,
    },
    tokens: status.tokens,
    tasks,
    edges: status.tasks.flatMap((t) =>
      t.depends_on.filter((d) => ids.has(d)).map((d) => ({ from: d, to: t.id })),
    ),
    costs: tasks
      .filter((t) => t.attempts > 0)
      .map((t) => {
        const live = liveCost(t.more);
        return {
          id: t.id,
          usd: roundUsd(t.costUsd + (live?.usd ?? 0)),
          estimated: t.cost.estimated || live?.estimated === true,
          unknown: t.cost.unknown,
          status: t.status,
        };
      }),
    removed: status.removed.map((r) => ({ id: r.id, status: r.status, costUsd: r.cost_usd })),
    diagnostics: input.diagnostics,
  };
}

function dashboardTask(t: StatusJsonTask, state: RunState): DashboardTask {
  const record = state.tasks[t.id];
  const refusal = (action: 'approve' | 'retry'): string | null =>
    reviewRefusal(record, action, t.id, t.status === 'running') ?? null;
  const more: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(t)) {
    if (!MAPPED.has(key) && value !== null && value !== undefined) more[key] = value;
  }
  return {
    id: t.id,
    name: t.name,
    status: t.status,
    cli: t.cli,
    model: t.model,
    dependsOn: t.depends_on,
    blockedBy: t.blocked_by,
    waitingFor: t.waiting_for,
    ready: t.ready,
    startedAt: t.started_at,
    attempts: t.attempts,
    costUsd: t.cost_usd,
    cost: { estimated: t.cost_estimated, unknown: t.cost_unknown },
    tokens: t.tokens,
    turns: t.turns,
    durationMs: t.duration_ms,
    flagged: t.flagged,
    summary: t.summary,
    filesChanged: t.files_changed,
    worktree: t.worktree,
    landedCommit: t.landed_commit,
    error: t.error,
    actions: { approve: refusal('approve'), retry: refusal('retry') },
    more,
  };
}

/**
 * What the running attempt has cost so far, when the status carries live
 * progress (`progress.cost_usd`): the task's own total counts ended attempts
 * only, and a chart of a run in progress should not show its biggest spender
 * at zero.
 */
function liveCost(more: Record<string, unknown>): { usd: number; estimated: boolean } | undefined {
  const progress = more.progress;
  if (typeof progress !== 'object' || progress === null) return undefined;
  const { cost_usd: usd, cost_estimated: estimated } = progress as {
    cost_usd?: unknown;
    cost_estimated?: unknown;
  };
  return typeof usd === 'number' ? { usd, estimated: estimated === true } : undefined;
}
