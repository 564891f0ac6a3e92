/**
 * Why an attempt did not complete, as a value. Rendered in exactly one place
 * (describeFailure) with an exhaustive switch, so a new reason cannot be added
 * without saying what it means to the user and what to do about it.
 */
import { unreachable } from './result.js';
import type { TaskStatus } from './state.js';

export type Failure =
  /** The agent exited non-zero without a structured error we recognise. */
  | { reason: 'agent-exit'; exitCode: number; message: string }
  /** The agent reported an error (claude `is_error`, codex `turn.failed`). */
  | { reason: 'agent-error'; message: string; apiStatus?: number }
  /** Usage limit or rate limit; `resetsAt` (ISO) when the CLI said when. */
  | { reason: 'rate-limited'; message: string; resetsAt?: string; apiStatus?: number }
  /** Authentication failed: retrying will not help. */
  | { reason: 'auth-error'; message: string }
  /**
   * The CLI's API is down or unreachable (connection refused, 5xx, 529
   * overloaded): not the task's fault, so it costs no retry; the run holds
   * that CLI's tasks and tries again later. `cli` is the output format's CLI.
   */
  | { reason: 'outage'; cli: string; message: string; apiStatus?: number }
  | { reason: 'max-turns'; message: string; turns?: number }
  | { reason: 'budget-exceeded'; message: string; costUsd?: number }
  /** The agent said it succeeded but was denied tools: the work was not done. */
  | { reason: 'permission-denied'; message: string; tools: string[] }
  | { reason: 'agent-timeout'; kind: 'wall' | 'idle'; afterMs: number }
  /** We ended it (Ctrl-C, SIGTERM to bearing). */
  | { reason: 'interrupted'; message: string }
  /**
   * Queue mode: the worker running the attempt stopped answering (killed,
   * its machine gone) and its job stalled. Not the task's fault: the attempt
   * is recorded interrupted and the task queued again, costing no retry.
   */
  | { reason: 'worker-lost'; worker?: string; message: string }
  /** Someone else killed it with a signal. */
  | { reason: 'signal'; signal: string }
  | { reason: 'spawn-error'; command: string; message: string }
  /** Output we could not make sense of (no result event, broken JSON). */
  | { reason: 'unparseable-output'; message: string }
  /** The `verify` gate (or a shell task's `run`) exited non-zero. */
  | { reason: 'verify-failed'; command: string; exitCode: number; output: string }
  | { reason: 'command-failed'; command: string; exitCode: number; output: string }
  /**
   * Worktree mode: the attempt's work does not merge onto what landed since
   * it started. `tasks`: the tasks whose landed work it conflicts with. The
   * work is kept on `branch`, in `worktree`, for the person to resolve.
   */
  | {
      reason: 'merge-conflict';
      files: string[];
      tasks: string[];
      branch: string;
      worktree: string;
      target: string;
    }
  /**
   * The agent said it was done but changed no file, although the task expects
   * changes (`expect_changes`): its claim does not hold, so a person decides.
   */
  | { reason: 'no-changes'; message: string }
  /** A dependency failed or was skipped, so this task cannot run. */
  | { reason: 'dependency-failed'; dependency: string }
  /** A bug in Bearing, caught at the task boundary. */
  | { reason: 'internal-error'; message: string; version: string };

export type FailureReason = Failure['reason'];

/** One line for status.md, the terminal and retry prompts. */
export function describeFailure(f: Failure): string {
  switch (f.reason) {
    case 'agent-exit':
      return `agent exited with code ${f.exitCode}${f.message ? `: ${f.message}` : ''}`;
    case 'agent-error':
      return `agent reported an error${f.apiStatus ? ` (API status ${f.apiStatus})` : ''}: ${f.message}`;
    case 'rate-limited':
      return `rate or usage limit reached${f.resetsAt ? ` (resets ${f.resetsAt})` : ''}: ${f.message}`;
    case 'auth-error':
      return `authentication failed: ${f.message}`;
    case 'outage':
      return `the ${f.cli} API is unavailable${f.apiStatus === undefined ? '' : ` (status ${f.apiStatus})`}: ${f.message}`;
    case 'max-turns':
      return `turn limit reached${f.turns === undefined ? '' : ` after ${f.turns} turns`}: ${f.message}`;
    case 'budget-exceeded':
      return `budget exceeded${f.costUsd === undefined ? '' : ` ($${f.costUsd.toFixed(4)} spent)`}: ${f.message}`;
    case 'permission-denied':
      return `agent was denied permission for ${f.tools.join(', ') || 'a tool'}: ${f.message}`;
    case 'agent-timeout':
      return f.kind === 'wall'
        ? `timed out after ${formatMs(f.afterMs)} (timeout)`
        : `no output for ${formatMs(f.afterMs)} (idle_timeout)`;
    case 'interrupted':
      return `interrupted: ${f.message}`;
    case 'worker-lost':
      return `the worker${f.worker ? ` ${f.worker}` : ''} running it was lost: ${f.message}`;
    case 'signal':
      return `agent was killed by ${f.signal}`;
    case 'spawn-error':
      return `could not start \`${f.command}\`: ${f.message}`;
    case 'unparseable-output':
      return `could not read the agent's output: ${f.message}`;
    case 'verify-failed':
      return `verify \`${f.command}\` exited with code ${f.exitCode}`;
    case 'command-failed':
      return `\`${f.command}\` exited with code ${f.exitCode}`;
    case 'merge-conflict':
      return `its work conflicts with ${f.tasks.length > 0 ? `the work of ${f.tasks.join(', ')}` : `what landed on ${f.target}`} in ${f.files.join(', ')}`;
    case 'no-changes':
      return `it reported done but changed no file (expect_changes): ${f.message}`;
    case 'dependency-failed':
      return `dependency "${f.dependency}" did not complete`;
    case 'internal-error':
      return `internal error in bearing ${f.version}: ${f.message} (please report this)`;
    default:
      return unreachable(f);
  }
}

/**
 * Where the task stands when the advice is read. Advice names only commands
 * that work then: `bearing retry` answers "already queued" (exit 1) for a
 * queued task, and `bearing run` exits 4 while a run holds the lock (or 2
 * while the task files do not validate).
 */
export interface AdviceContext {
  status: TaskStatus;
  /** `bearing run` would start now: no run is active and the task files load. */
  canRun: boolean;
}

/**
 * What the user can do about it, ending with the command that applies the fix
 * (`<id>` stands for the task's id); empty while the task runs or has completed.
 * Without a context: a failed task, with no run active.
 */
export function adviseFailure(
  f: Failure,
  at: AdviceContext = { status: 'failed', canRun: true },
): string {
  if (at.status === 'running' || at.status === 'completed') return '';
  // A queued (or interrupted) task runs again by itself: only `bearing run`
  // is missing, and only when no run is there to pick it up.
  const queued = at.status === 'queued' || at.status === 'interrupted';
  const then = queued
    ? at.canRun
      ? ', then `bearing run`'
      : '; the task stays queued'
    : ', then `bearing retry <id>`';
  switch (f.reason) {
    case 'rate-limited':
      return `wait for the limit to reset${f.resetsAt ? ` (${f.resetsAt})` : ''}${then}`;
    case 'auth-error':
      return `log the CLI in (run \`claude\` and /login, or \`codex login\`)${then}`;
    case 'max-turns':
      return `raise max_turns or split the task${then}`;
    case 'budget-exceeded':
      return `raise budget_usd or split the task${then}`;
    case 'permission-denied':
      return `widen permission_mode (bypassPermissions only in a sandbox) or narrow the task${then}`;
    case 'agent-timeout':
      return `raise ${f.kind === 'wall' ? 'timeout' : 'idle_timeout'} or split the task${then}`;
    case 'spawn-error':
      return `check that \`${f.command}\` is installed and can run${then}`;
    case 'verify-failed':
      return `read the gate's output (\`bearing log <id> --verify\`), fix the work or the gate${then}`;
    case 'command-failed':
      return `read its output (\`bearing log <id>\`) and fix the cause${then}`;
    case 'outage':
      return `wait for the service to come back${then}`;
    case 'agent-exit':
    case 'agent-error':
    case 'unparseable-output':
    case 'signal':
      return `read what the agent printed (\`bearing log <id>\`), fix the task or its prompt${then}`;
    case 'internal-error':
      return `a bug in Bearing (please report it)${then}`;
    case 'dependency-failed':
      return `make \`${f.dependency}\` complete first${then}`;
    case 'no-changes':
      return queued
        ? ''
        : 'read what it did (`bearing log <id>`): `bearing approve <id>` if no change was needed (and set `expect_changes: false` on a task that only analyses), or fix its prompt, then `bearing retry <id>`';
    case 'merge-conflict':
      return queued
        ? ''
        : `resolve it by hand: \`cd ${f.worktree}\`, \`git merge ${f.target}\`, fix the conflicts and commit, then \`bearing approve <id>\` to land it; or \`bearing retry <id>\` to run it again from what has landed`;
    case 'interrupted':
    case 'worker-lost':
      // The state line already says it runs again.
      return queued ? '' : then.replace(/^, then /, '');
    default:
      return unreachable(f);
  }
}

/**
 * Not the task's fault: a usage limit, a log-in problem or an outage says
 * nothing about the work. Such an attempt costs no retry, the task stays
 * queued, and its next attempt starts clean.
 */
export function isExternal(f: Failure): boolean {
  return f.reason === 'rate-limited' || f.reason === 'auth-error' || f.reason === 'outage';
}

/** Failures a retry can plausibly fix; others need the person. */
export function isRetryable(f: Failure): boolean {
  switch (f.reason) {
    case 'outage':
    case 'auth-error':
    case 'rate-limited':
    case 'spawn-error':
    case 'dependency-failed':
    case 'interrupted':
    case 'worker-lost':
      return false;
    default:
      return true;
  }
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  const rest = s % 60;
  if (m < 60) return rest ? `${m}m${rest}s` : `${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
}
