/**
 * Everything the reading commands (status, summary, watch) show, read once:
 * the plan, the recorded state, whether a run is active and what comes next.
 * Invalid task files do not hide the recorded results: the last plan the
 * state knows of is approximated from the state itself.
 */
import type { Diagnostic } from '../core/diagnostic.js';
import { nextStep } from '../core/next-step.js';
import { recoverInterrupted } from '../core/recovery.js';
import type { RunState } from '../core/state.js';
import type { Plan } from '../core/task.js';
import { type LockStatus, readLock } from '../state/lock.js';
import { loadState } from '../state/store.js';
import { loadProject } from '../tasks/load.js';
import { normalizeRun } from '../tasks/normalize.js';

export interface ProjectSnapshot {
  plan: Plan;
  state: RunState;
  lock: LockStatus;
  next: string;
  running: Record<string, { startedAt: string }>;
  /** Problems in the task files; the plan is then built from the recorded state. */
  diagnostics: Diagnostic[];
}

export async function readSnapshot(
  root: string,
  displayBase: string,
): Promise<{ ok: true; value: ProjectSnapshot } | { ok: false; message: string }> {
  const state = loadState(root);
  if (!state.ok) return { ok: false, message: state.error.message };
  const loaded = await loadProject(root, { displayBase });
  const lock = readLock(root);
  const running: Record<string, { startedAt: string }> = {};
  const active = lock.state === 'held';
  for (const r of Object.values(state.value.tasks)) {
    const last = r.attempts.at(-1);
    if (active && r.status === 'running' && last) running[r.id] = { startedAt: last.startedAt };
  }
  const plan: Plan = loaded.plan ?? planFromState(state.value);
  // Without a live run, a task recorded as running was cut short by a crash or
  // kill -9: show it as the next run will see it (interrupted, to run again).
  const gone = lock.state === 'free' || lock.state === 'stale';
  const shown = gone ? recoverInterrupted(state.value, new Date()).state : state.value;
  let next = nextStep(plan, shown, new Set(Object.keys(running)), undefined);
  if (!active && state.value.lastRun?.stopReason && !loaded.plan)
    next = state.value.lastRun.stopReason;
  if (loaded.diagnostics.length > 0) {
    next = `The task files have ${loaded.diagnostics.length} problem(s); run \`bearing validate\` and fix them.\n${next}`;
  }
  return {
    ok: true,
    value: { plan, state: shown, lock, next, running, diagnostics: loaded.diagnostics },
  };
}

/** A stand-in plan of the recorded tasks, used while the task files do not load. */
function planFromState(state: RunState): Plan {
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
      source: { file: '', line: 0, col: 0 },
    })),
    agents: {},
    run: normalizeRun(undefined),
  };
}
