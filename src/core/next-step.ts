/**
 * "What happens next", the line at the top of status.md that tells the person
 * and the planner whether to wait, approve, fix or add work. Pure.
 */
import { adviseFailure, describeFailure } from './failure.js';
import { schedule } from './graph.js';
import { unreachable } from './result.js';
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
  | { kind: 'internal-error'; message: string; version: string };

export type { Wait };

export function nextStep(
  plan: Plan,
  state: RunState,
  running: ReadonlySet<string>,
  stop: StopReason | undefined,
  waits: readonly Wait[] = [],
): string {
  const s = schedule(plan, state, running);
  const waiting = waits.map(
    (w) =>
      `Waiting: ${w.cli} hit a usage or rate limit (${w.message}); its tasks go on at ${w.until}. Ctrl-C stops the run; \`bearing run\` later picks up where it left off.`,
  );
  if (waiting.length > 0 && running.size === 0) return waiting.join('\n');
  if (running.size > 0) {
    const queued = s.ready.length + s.waiting.length;
    return [
      `Running ${[...running].map((id) => `\`${id}\``).join(', ')}${queued ? `; ${queued} more queued` : ''}.`,
      ...waiting,
    ].join('\n');
  }
  if (stop) {
    switch (stop.kind) {
      case 'interrupted':
        return 'Interrupted. Tasks that were running are marked interrupted and run again on the next `bearing run`.';
      case 'paused':
        return `Paused after \`${stop.task}\`, which awaits review. Read its section below, then \`bearing approve ${stop.task}\` (or \`bearing retry ${stop.task}\`) and \`bearing run\`.`;
      case 'stopped':
        return `Stopped: \`${stop.task}\` failed and its on_failure is stop. Fix the task or its prompt, then \`bearing retry ${stop.task}\` and \`bearing run\`.`;
      case 'rate-limited':
        return `Stopped: ${stop.cli} hit a usage or rate limit${stop.resetsAt ? ` (resets ${stop.resetsAt})` : ''} while running \`${stop.task}\`. \`${stop.task}\` stays queued: run \`bearing run\` again once the limit resets.`;
      case 'auth-error':
        return `Stopped: ${stop.cli} could not authenticate while running \`${stop.task}\` (${stop.message}). Log the CLI in, then \`bearing run\`; \`${stop.task}\` stays queued.`;
      case 'missing-cli':
        return `${stop.tasks
          .map(
            (m) =>
              `\`${m.task}\` could not start: \`${m.command}\` is not installed or not on PATH (${m.installHint}).`,
          )
          .join(' ')} Install it, then \`bearing run\`.`;
      case 'outage':
        return `Stopped: the ${stop.cli} API stayed unavailable (${stop.message}) while running \`${stop.task}\`. \`${stop.task}\` stays queued: run \`bearing run\` again when the service is back.`;
      case 'circuit-open':
        return `Stopped starting agents: ${stop.tasks.map((t) => `\`${t}\``).join(', ')} failed in a row with the same error (${stop.failure}). Fix the cause, then \`bearing run\`.`;
      case 'state-write-failed':
        return `Stopped: Bearing could not write ${stop.file} (${stop.message}). The last saved state is kept. Free disk space or fix the permissions, then \`bearing run\`.`;
      case 'disk-full':
        return `Stopped: only ${Math.floor(stop.freeBytes / 1048576)} MB free on the disk holding ${stop.path} (run.min_free_space is ${Math.floor(stop.minFreeBytes / 1048576)} MB); no task was started. Free some space, then \`bearing run\`.`;
      case 'lock-lost':
        return `Stopped: ${stop.message}`;
      case 'internal-error':
        return `Stopped by an internal error in bearing ${stop.version}: ${stop.message} (please report it). \`bearing run\` continues from the saved state.`;
      default:
        return unreachable(stop);
    }
  }
  const failed = plan.tasks.filter((t) => state.tasks[t.id]?.status === 'failed');
  const review = plan.tasks.filter((t) => state.tasks[t.id]?.status === 'awaiting-review');
  const parts: string[] = [];
  if (review.length > 0) {
    parts.push(
      `Awaiting review: ${review.map((t) => `\`${t.id}\``).join(', ')}. Approve with \`bearing approve <id>\`, or re-run with \`bearing retry <id>\`.`,
    );
  }
  for (const t of failed) {
    const f = state.tasks[t.id]?.failure;
    const advice = f ? adviseFailure(f).replaceAll('<id>', t.id) : `bearing retry ${t.id}`;
    const blocked = s.blocked.filter((b) => b.dependency === t.id).map((b) => b.task.id);
    parts.push(
      `Failed: \`${t.id}\`${f ? ` (${describeFailure(f)})` : ''}.${advice ? ` To go on: ${advice}.` : ` To go on: fix it, then \`bearing retry ${t.id}\`.`}${blocked.length ? ` Blocked by it: ${blocked.join(', ')}.` : ''}`,
    );
  }
  if (s.ready.length > 0) {
    const first = s.ready[0]!;
    parts.push(
      `Ready to run: \`${first.id}\`${first.name !== first.id ? ` (${first.name})` : ''}${s.ready.length > 1 ? ` and ${s.ready.length - 1} more` : ''}. Run \`bearing run\`.`,
    );
  }
  if (parts.length > 0) return parts.join('\n');
  const done = plan.tasks.length;
  return done === 0
    ? 'No tasks yet. Write task files in bearing/tasks/ (or run `bearing start`), then `bearing run`.'
    : `All ${done} task${done === 1 ? '' : 's'} done. Add tasks to bearing/tasks/ and run \`bearing run\` to continue.`;
}
