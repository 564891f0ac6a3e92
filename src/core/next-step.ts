/**
 * "What happens next", the line at the top of status.md that tells the person
 * and the planner whether to wait, approve, fix or add work. Pure.
 */
import { adviseFailure, describeFailure, type Failure, isExternal } from './failure.js';
import { schedule } from './graph.js';
import { unreachable } from './result.js';
import { dollars } from './spend-cap.js';
import { describeStale } from './stale.js';
import type { RunState, Wait } from './state.js';
import type { Plan } from './task.js';

/** Why a run stopped before running out of work; absent when it simply finished. */
export type StopReason =
  | { kind: 'interrupted' }
  | { kind: 'paused'; task: string }
  | { kind: 'stopped'; task: string }
  | { kind: 'rate-limited'; task: string; cli: string; message: string; resetsAt?: string }
  | { kind: 'auth-error'; task: string; cli: string; message: string }
  /** Tasks that were ready but whose CLI was not installed (or vanished) during the run. */
  | { kind: 'missing-cli'; tasks: { task: string; command: string; installHint: string }[] }
  /** A CLI's API stayed unavailable (5xx, 529, connection refused) through every backoff wait. */
  | { kind: 'outage'; task: string; cli: string; message: string }
  /**
   * Circuit breaker: several tasks in a row failed with the same error that is
   * not theirs (the CLI crashes at start, the network is down...), so the run
   * stopped starting agents instead of burning through the plan.
   */
  | { kind: 'circuit-open'; failure: string; tasks: string[] }
  /** Bearing could not write its own files (disk full, permissions, a directory in the way). */
  | { kind: 'state-write-failed'; file: string; message: string }
  /** The disk is nearly full: no task was started. */
  | { kind: 'disk-full'; path: string; freeBytes: number; minFreeBytes: number }
  /** Another process took this project's run lock from under the run. */
  | { kind: 'lock-lost'; message: string }
  /** A bug in Bearing stopped the run (reported with the version). */
  | { kind: 'internal-error'; message: string; version: string }
  /**
   * Worktree mode: a task's work could not land because the main checkout has
   * local changes to files it changes. The work is kept and lands next run.
   */
  | { kind: 'landing-blocked'; task: string; branch: string; files: string[] }
  /**
   * The run's spend cap (run.max_cost_usd, `--max-cost`). `passed`: the
   * running agents' spend passed it and they were stopped; otherwise starting
   * `held` would have, so they did not start.
   */
  | {
      kind: 'cost-cap';
      capUsd: number;
      spentUsd: number;
      estimated: boolean;
      passed: boolean;
      held: { task: string; estimate: string }[];
    };

export type { Wait };

/** Stale tasks named in "Next:" before "and N more". */
const MAX_STALE_LISTED = 5;

/**
 * Whether `bearing run` would start now, so that "what to do" names it only
 * when it works: while a run holds the lock it exits 4, while the task files
 * do not validate it exits 2.
 */
export type RunGate =
  | { kind: 'free' }
  /** A run holds the lock (pid unknown: the caller only knows tasks are running). */
  | { kind: 'active'; pid?: number; since?: string }
  | { kind: 'invalid-plan'; problems: number };

export function nextStep(
  plan: Plan,
  state: RunState,
  running: ReadonlySet<string>,
  stop: StopReason | undefined,
  waits: readonly Wait[] = [],
  gate?: RunGate,
): string {
  // Tasks running here or a wait in progress mean a run is active even when
  // the caller (the run itself) does not say so.
  const run: RunGate =
    gate ?? (running.size > 0 || waits.length > 0 ? { kind: 'active' } : { kind: 'free' });
  const canRun = run.kind === 'free';
  const s = schedule(plan, state, running);
  const parts: string[] = [];

  if (run.kind === 'active') {
    parts.push(
      `A run is active${run.pid === undefined ? '' : ` (pid ${run.pid}${run.since ? `, since ${run.since}` : ''})`}: follow it with \`bearing watch\`.`,
    );
    if (running.size > 0) {
      const queued = s.ready.length + s.waiting;
      parts.push(
        `Running ${[...running].map((id) => `\`${id}\``).join(', ')}${queued ? `; ${queued} more queued` : ''}.`,
      );
    }
    for (const w of waits) parts.push(waitText(w));
    if (stop) {
      const why = stopWhy(stop, false);
      parts.push(`Stopping once the running tasks end: ${why[0]!.toLowerCase()}${why.slice(1)}`);
    }
  } else if (run.kind === 'invalid-plan') {
    parts.push(
      `The task files have ${run.problems} problem${run.problems === 1 ? '' : 's'}: \`bearing validate\` lists them. Nothing runs until they are fixed.`,
    );
  } else if (stop) {
    parts.push(stopText(stop, true));
  }

  // Said by the stop already: the task that met it.
  const told = stop && 'task' in stop ? stop.task : undefined;
  const heldBack = new Set<string>();
  for (const t of plan.tasks) {
    const r = state.tasks[t.id];
    // Not the task's fault (isExternal): it stays queued and runs once the cause is
    // gone; named even when the run that met it is over.
    if (!r?.failure || r.status !== 'queued' || !isExternal(r.failure)) continue;
    heldBack.add(t.id);
    if (t.id === told || waits.some((w) => w.cli === t.cli)) continue;
    parts.push(
      `Held back: \`${t.id}\` (${describeExternal(r.failure, t.cli)}). To go on: ${adviseFailure(r.failure, { status: r.status, canRun }).replaceAll('<id>', t.id)}.`,
    );
  }

  for (const t of plan.tasks) {
    if (state.tasks[t.id]?.status !== 'awaiting-review') continue;
    if (stop?.kind === 'paused' && stop.task === t.id) continue;
    parts.push(
      `Awaiting review: \`${t.id}\`. Accept it with \`bearing approve ${t.id}\`, or run it again with \`bearing retry ${t.id}\`.`,
    );
  }
  for (const t of plan.tasks) {
    const r = state.tasks[t.id];
    if (r?.status !== 'needs-review') continue;
    if (stop?.kind === 'paused' && stop.task === t.id) continue;
    parts.push(
      `Needs review: \`${t.id}\`${r.failure ? ` (${describeFailure(r.failure)})` : ''}; its dependents wait. Read what it did (\`bearing log ${t.id}\`), then accept it with \`bearing approve ${t.id}\`, or run it again with \`bearing retry ${t.id}\`.`,
    );
  }
  const stale = plan.tasks.filter((t) => state.tasks[t.id]?.status === 'stale');
  if (stale.length > 0) {
    const shown = stale.slice(0, MAX_STALE_LISTED).map((t) => {
      const why = state.tasks[t.id]?.stale;
      return `\`${t.id}\`${why ? ` (${describeStale(why)})` : ''}`;
    });
    const more = stale.length - shown.length;
    parts.push(
      `Stale: ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}. ${canRun ? '`bearing run` runs them again' : 'They run again'}, in dependency order; \`bearing approve <id>\` accepts a result as current instead.`,
    );
  }
  for (const t of plan.tasks) {
    const r = state.tasks[t.id];
    if (r?.status !== 'failed') continue;
    const f = r.failure;
    const advice = f
      ? adviseFailure(f, { status: 'failed', canRun }).replaceAll('<id>', t.id)
      : `\`bearing retry ${t.id}\``;
    const blocked = s.blocked.filter((b) => b.dependency === t.id).map((b) => b.task.id);
    if (stop?.kind === 'stopped' && stop.task === t.id) continue;
    parts.push(
      `Failed: \`${t.id}\`${f ? ` (${describeFailure(f)})` : ''}. To go on: ${advice}.${blocked.length ? ` Blocked by it: ${blocked.join(', ')}.` : ''}`,
    );
  }

  const ready = s.ready.filter((t) => !heldBack.has(t.id));
  if (ready.length > 0 && !stop) {
    const first = ready[0]!;
    const which = `\`${first.id}\`${first.name !== first.id ? ` (${first.name})` : ''}${ready.length > 1 ? ` and ${ready.length - 1} more` : ''}`;
    if (canRun) parts.push(`Ready to run: ${which}. Run \`bearing run\`.`);
    else if (run.kind === 'active' && running.size === 0 && waits.length === 0)
      parts.push(`Ready to run: ${which}; the active run starts it.`);
  }
  if (parts.length > 0) return parts.join('\n');
  const done = plan.tasks.length;
  return done === 0
    ? 'No tasks yet. Write task files in bearing/tasks/ (or run `bearing start`), then `bearing run`.'
    : `All ${done} task${done === 1 ? '' : 's'} done. Add tasks to bearing/tasks/ and run \`bearing run\` to continue.`;
}

function waitText(w: Wait): string {
  const what =
    w.kind === 'outage'
      ? `the ${w.cli} API is unavailable (${w.message})`
      : `${w.cli} hit a usage or rate limit (${w.message})`;
  return `Waiting: ${what}; its tasks go on at ${w.until}. Nothing to do: the run goes on by itself (Ctrl-C stops it).`;
}

function describeExternal(f: Failure, cli: string): string {
  if (f.reason === 'outage') return describeFailure(f);
  return f.reason === 'auth-error'
    ? `${cli} could not log in: ${f.message}`
    : describeFailure(f).replace(
        /^rate or usage limit reached/,
        `${cli} hit a usage or rate limit`,
      );
}

/** Why the run stops, in a sentence, for a message sent while it still runs (a notification). */
export function describeStopReason(stop: StopReason): string {
  return stopWhy(stop, false);
}

/**
 * Why the run stopped and, when `bearing run` can start now (`canRun`), the
 * command that goes on; while the stopping run still holds the lock, only why.
 */
function stopText(stop: StopReason, canRun: boolean): string {
  const why = stopWhy(stop, canRun);
  return stop.kind === 'interrupted' || stop.kind === 'paused' ? why : `Stopped: ${why}`;
}

function stopWhy(stop: StopReason, canRun: boolean): string {
  const run = (text: string): string => (canRun ? text : '');
  switch (stop.kind) {
    case 'interrupted':
      return `Interrupted. Tasks that were running are marked interrupted${run(' and run again on the next `bearing run`')}.`;
    case 'paused':
      // The same words end the run's terminal output, which has no sections: name the place.
      return `Paused after \`${stop.task}\`, which awaits review. Read its section in bearing/status.md (or \`bearing status\`), then \`bearing approve ${stop.task}\` (or \`bearing retry ${stop.task}\`)${run(' and `bearing run`')}.`;
    case 'stopped':
      return `\`${stop.task}\` failed and its on_failure is stop. Fix the task or its prompt, then \`bearing retry ${stop.task}\`${run(' and `bearing run`')}.`;
    case 'rate-limited':
      return `${stop.cli} hit a usage or rate limit${stop.resetsAt ? ` (resets ${stop.resetsAt})` : ''} while running \`${stop.task}\`. \`${stop.task}\` stays queued${run(': run `bearing run` again once the limit resets')}.`;
    case 'auth-error':
      return `${stop.cli} could not authenticate while running \`${stop.task}\` (${stop.message}). Log the CLI in${run(', then `bearing run`')}; \`${stop.task}\` stays queued.`;
    case 'missing-cli':
      return `${stop.tasks
        .map(
          (m) =>
            `\`${m.task}\` could not start: \`${m.command}\` is not installed or not on PATH (${m.installHint}).`,
        )
        .join(' ')} Install it${run(', then `bearing run`')}.`;
    case 'outage':
      return `the ${stop.cli} API stayed unavailable (${stop.message}) while running \`${stop.task}\`. \`${stop.task}\` stays queued${run(': run `bearing run` again when the service is back')}.`;
    case 'circuit-open':
      return `${stop.tasks.map((t) => `\`${t}\``).join(', ')} failed in a row with the same error (${stop.failure}), so no more agents were started. Fix the cause${run(', then `bearing run`')}.`;
    case 'state-write-failed':
      return `Bearing could not write ${stop.file} (${stop.message}); the last saved state is kept. Fix that (free disk space, fix the permissions, or move what is in the way)${run(', then `bearing run`')}.`;
    case 'disk-full':
      return `only ${Math.floor(stop.freeBytes / 1048576)} MB free on the disk holding ${stop.path} (run.min_free_space is ${Math.floor(stop.minFreeBytes / 1048576)} MB), so no task was started. Free some space${run(', then `bearing run`')}.`;
    case 'lock-lost':
      return `${stop.message.replace(/\.$/, '')}. \`bearing status\` says whether another run is active${run('; if none is, `bearing run` goes on')}.`;
    case 'internal-error':
      return `an internal error in bearing ${stop.version}: ${stop.message} (please report it)${run('. `bearing run` goes on from the saved state')}.`;
    case 'landing-blocked':
      return `\`${stop.task}\` completed, but landing its work on ${stop.branch} would overwrite local changes in the checkout (${stop.files.join(', ')}). Commit or stash them${run(', then `bearing run`')}; its work is kept and lands then, without running it again.`;
    case 'cost-cap': {
      const spent = `${stop.estimated ? '~' : ''}${dollars(stop.spentUsd)}`;
      const cap = dollars(stop.capUsd);
      const what = stop.passed
        ? `the run spent ${spent}, past its spend cap of ${cap} (run.max_cost_usd or --max-cost), so its running agents were stopped; their attempts are resumed next run.`
        : `the run spent ${spent} of its spend cap of ${cap} (run.max_cost_usd or --max-cost), and starting ${stop.held
            .map((h) => `\`${h.task}\` (counted as ${h.estimate})`)
            .join(
              ', ',
            )} could pass it, so ${stop.held.length === 1 ? 'it was' : 'they were'} not started.`;
      return `${what} Raise the cap${run(', or start `bearing run` again to spend up to the cap once more')}.`;
    }
    default:
      return unreachable(stop);
  }
}
