/**
 * Everything the reading commands (status, summary, watch) show, read once:
 * the plan, the recorded state, whether a run is active and what comes next.
 * Invalid task files do not hide the recorded results: the last plan the
 * state knows of is approximated from the state itself.
 */
import type { Diagnostic } from '../core/diagnostic.js';
import { satisfies, statusOf } from '../core/graph.js';
import { nextStep, type RunGate, type StopReason } from '../core/next-step.js';
import { recoverInterrupted } from '../core/recovery.js';
import { refreshStale } from '../core/stale.js';
import type { RunState, Wait } from '../core/state.js';
import type { StatusInput } from '../core/status-report.js';
import type { Plan } from '../core/task.js';
import { digest } from '../state/digest.js';
import { type LockStatus, readLock } from '../state/lock.js';
import { planCacheFile } from '../state/paths.js';
import { loadState } from '../state/store.js';
import { loadProjectCached } from '../tasks/load.js';

export interface ProjectSnapshot {
  plan: Plan;
  state: RunState;
  lock: LockStatus;
  /** Whether `bearing run` would start now; what the advice in `next` was written for. */
  gate: RunGate;
  next: string;
  running: Record<string, { startedAt: string }>;
  /** Problems in the task files; the plan is then built from the recorded state. */
  diagnostics: Diagnostic[];
}

/** What the status renderers (text, JSON, the dashboard's view) take from a snapshot. */
export function statusInput(s: ProjectSnapshot, now: Date): StatusInput {
  return { plan: s.plan, state: s.state, next: s.next, now, running: s.running, gate: s.gate };
}

export async function readSnapshot(
  root: string,
  displayBase: string,
  /** The environment `bearing run` would get, to tell whether the tasks' CLIs are installed. */
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ ok: true; value: ProjectSnapshot } | { ok: false; message: string }> {
  const state = loadState(root);
  if (!state.ok) return { ok: false, message: state.error.message };
  const loaded = await loadProjectCached(root, { displayBase, cacheFile: planCacheFile(root) });
  const lock = readLock(root);
  const running: Record<string, { startedAt: string }> = {};
  // A lock we cannot judge may be a live run's: advise nothing that needs it free.
  const active = lock.state === 'held' || lock.state === 'unknown';
  for (const r of Object.values(state.value.tasks)) {
    const last = r.attempts.at(-1);
    if (active && r.status === 'running' && last) running[r.id] = { startedAt: last.startedAt };
  }
  const plan: Plan = loaded.plan ?? (await planFromState(state.value));
  // Without a live run, a task recorded as running was cut short by a crash or
  // kill -9: show it as the next run will see it (interrupted, to run again).
  const gone = lock.state === 'free' || lock.state === 'stale';
  const shown = gone ? recoverInterrupted(state.value, new Date()).state : state.value;
  // Edits since the run last looked may have made finished tasks stale: show
  // what the next run will do. Only this copy changes; the run records it.
  if (loaded.plan) refreshStale(loaded.plan, shown, digest, new Date(), { adopt: false });
  const problems = loaded.diagnostics.length;
  const gate: RunGate = active
    ? {
        kind: 'active',
        ...(lock.state === 'held' ? { pid: lock.holder.pid, since: lock.holder.startedAt } : {}),
      }
    : problems > 0
      ? { kind: 'invalid-plan', problems }
      : { kind: 'free' };
  // `bearing run` refuses to start while a CLI is missing (exit 5): say so, as it would.
  // Else why the last run stopped, when the records alone cannot tell (the breaker, a full disk...).
  const stop =
    gate.kind !== 'free'
      ? undefined
      : ((loaded.plan ? await missingCli(loaded.plan, shown, root, env) : undefined) ??
        state.value.lastRun?.stop);
  let next = nextStep(
    plan,
    shown,
    new Set(Object.keys(running)),
    stop,
    activeWaits(state.value, lock),
    gate,
  );
  if (active && problems > 0) {
    next = `The task files have ${problems} problem${problems === 1 ? '' : 's'}: \`bearing validate\` lists them; the run goes on with their last valid version.\n${next}`;
  }
  return {
    ok: true,
    value: { plan, state: shown, lock, gate, next, running, diagnostics: loaded.diagnostics },
  };
}

/**
 * The waits the run holding the lock recorded, still ahead. Waits left by an
 * earlier run (another pid) are over.
 */
function activeWaits(state: RunState, lock: LockStatus): Wait[] {
  const run = state.lastRun;
  if (lock.state !== 'held' || !run?.waits || run.pid !== lock.holder.pid) return [];
  const now = Date.now();
  return run.waits.filter((w) => Date.parse(w.until) > now);
}

/** The same check `bearing run` makes before it starts: every pending task's command on PATH. */
async function missingCli(
  plan: Plan,
  state: RunState,
  root: string,
  env: NodeJS.ProcessEnv,
): Promise<StopReason | undefined> {
  // With every task done there is nothing to check, and no agent adapter to load.
  if (plan.tasks.every((t) => satisfies(statusOf(state, t.id)))) return undefined;
  const { missingForPending } = await import('./missing-commands.js');
  const order = new Map(plan.tasks.map((t, i) => [t.id, i]));
  const tasks = missingForPending(plan, state, env, root)
    .flatMap((m) =>
      m.tasks.map((task) => ({ task, command: m.command, installHint: m.installHint })),
    )
    // In plan order, as the tasks are listed everywhere else.
    .sort((a, b) => (order.get(a.task) ?? 0) - (order.get(b.task) ?? 0));
  return tasks.length > 0 ? { kind: 'missing-cli', tasks } : undefined;
}

/** A stand-in plan of the recorded tasks, used while the task files do not load. */
async function planFromState(state: RunState): Promise<Plan> {
  // Loaded here only: it imports the schema, which a valid cached plan spares.
  const { normalizeRun } = await import('../tasks/normalize.js');
  return {
    tasks: Object.values(state.tasks).map((r) => ({
      id: r.id,
      name: r.id,
      cli: '?',
      timeoutMs: 0,
      idleTimeoutMs: 0,
      permissionMode: 'default',
      sandbox: 'workspace-write',
      focus: [],
      skip: [],
      dependsOn: [],
      checkpoint: 'auto',
      onFailure: 'retry',
      retries: 0,
      retryMode: 'auto',
      expectChanges: false,
      source: { file: '', line: 0, col: 0 },
    })),
    agents: {},
    run: normalizeRun(undefined),
  };
}
