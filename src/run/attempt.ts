/**
 * One attempt of one task, from prompt to recorded result: assemble the
 * prompt, record who is about to run it (before it can do any work), run the
 * agent, read its verdict from its own output, run the `verify` gate, measure
 * what changed, and record the outcome on the task. The run loop decides what
 * happens next; this module only says what happened.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AgentRunResult,
  MAX_AGENT_LINE_BYTES,
  type OutputParser,
  type OutputSignal,
} from '../agents/types.js';
import type { Clock } from '../core/clock.js';
import type { Failure } from '../core/failure.js';
import { fingerprintOf } from '../core/fingerprint.js';
import { unknownFiles } from '../core/hand-off.js';
import { type AttemptRecord, type RunState, ZERO_USAGE } from '../core/state.js';
import type { Plan, Task } from '../core/task.js';
import {
  beginAttempt,
  finishAttempt,
  landingBlocked,
  type TaskOutcome,
} from '../core/transitions.js';
import { formatBytes } from '../process/output-file.js';
import { processStartTime } from '../process/proc-stat.js';
import {
  DEFAULT_KILL_GRACE_MS,
  type OutputStream,
  type ProcessOutcome,
  runProcess,
} from '../process/run-process.js';
import { runShellCommand } from '../process/shell-command.js';
import { ATTEMPT_TOKEN_ENV, endStrayProcesses, newAttemptToken } from '../process/strays.js';
import type { PathChange } from '../state/changes.js';
import { digest } from '../state/digest.js';
import { attemptDir } from '../state/paths.js';
import type { Landing, Site, Workspace } from '../workspace/workspace.js';
import { landingMessage, WorktreeWorkspace } from '../workspace/worktrees.js';
import { prepareAttempt } from './prepare.js';
import type { RunRecorder } from './recorder.js';

/**
 * After an agent printed its final result, how long it may take to exit on
 * its own. Claude Code sometimes never does; its result is what counts.
 */
export const RESULT_GRACE_MS = 10_000;

export interface AttemptInput {
  task: Task;
  plan: Plan;
  state: RunState;
  root: string;
  env: NodeJS.ProcessEnv;
  /** Ctrl-C, SIGTERM, or the run stopping itself (a write failed). */
  signal: AbortSignal;
  gitRepo: boolean;
  /** Where the attempt runs and how its work becomes the project's. */
  workspace: Workspace;
  /** Whether a task other than this one is running now (a snapshot taken meanwhile is not reusable). */
  othersRunning: () => boolean;
  recorder: RunRecorder;
  killGraceMs: number | undefined;
  resultGraceMs: number;
  now: Clock;
  /** Why `signal` was aborted, for the attempt's record. */
  abortMessage: () => string;
  /**
   * The attempt moved on: `opened`, its site is open (in worktree mode, it
   * took its worktree); `landing`, the agent and its gate are done and its
   * work, in a worktree of its own, lands now, which needs no agent's place
   * (in the project folder it does, as another agent's edits would count as
   * this one's).
   */
  onPhase?: (phase: 'opened' | 'landing') => void;
  /** The attempt is recorded as running (saved before the agent is spawned). */
  onStarted: (attempt: number, resume: boolean) => void;
  /**
   * Save the state now: the agent's process exists (its group and start time
   * are on the attempt), or its work is about to land.
   */
  save: () => void;
}

export async function executeAttempt(input: AttemptInput): Promise<TaskOutcome> {
  const { task, plan, state, root, env, signal, now, recorder } = input;
  const next = prepareAttempt(plan, state, task, { isGitRepo: input.gitRepo });
  const { adapter, prompt, invocation } = next;
  const resume = next.resumeSessionId !== undefined;

  const dir = attemptDir(root, task.id, next.attempt);
  const promptFile = join(dir, 'prompt.txt');
  recorder.writeAttemptFile(promptFile, prompt);
  recorder.writeAttemptFile(
    join(dir, 'meta.json'),
    `${JSON.stringify(
      {
        task: task.id,
        attempt: next.attempt,
        cli: task.cli,
        // How `bearing log` reads stdout.log, without the task files.
        output: adapter.output,
        file: invocation.file,
        args: invocation.args.map((a) => (a === prompt && prompt ? '<prompt.txt>' : a)),
        promptOnStdin: invocation.promptOnStdin ?? false,
        resume: resume ? next.resumeSessionId : null,
        startedAt: now().toISOString(),
      },
      null,
      2,
    )}\n`,
  );

  const site = await openSite(input, next.attempt, next.resumeSessionId);
  input.onPhase?.('opened');
  // Saved before the spawn: whatever this attempt starts carries the token.
  // Its fingerprint is what it was given now: an edit made while it runs makes
  // its result stale as soon as it ends.
  const begun = beginAttempt(
    state.tasks[task.id],
    task.id,
    {
      attempt: next.attempt,
      token: newAttemptToken(),
      fingerprint: fingerprintOf(task, state, digest),
    },
    now(),
  );
  state.tasks[task.id] = begun.record;
  const { attempt } = begun;
  // The same object as the site's: a landing in progress is saved with the attempt.
  if (site.worktree) attempt.worktree = site.worktree;
  input.onStarted(next.attempt, resume);

  const parser = adapter.createParser(next.parserOptions);
  // The agent said its last word (or something no waiting can mend): end it
  // if it does not exit by itself.
  const finished = new AbortController();
  let lingerTimer: NodeJS.Timeout | undefined;
  /** Hands a line to the parser; what it says may end the agent early. */
  const heard = (stream: OutputStream, read: () => OutputSignal | undefined): void => {
    // A shell step's errors are on stderr: its output is both streams, as in a terminal.
    if (stream !== 'stdout' && task.cli !== 'shell') return;
    const said = read();
    if (said === 'fatal') finished.abort();
    else if (said === 'final' && lingerTimer === undefined) {
      lingerTimer = setTimeout(() => finished.abort(), input.resultGraceMs);
    }
  };
  const outcome = await runProcess({
    file: invocation.file,
    args: invocation.args,
    cwd: site.cwd,
    env: {
      ...env,
      ...invocation.env,
      BEARING_TASK_ID: task.id,
      BEARING_ATTEMPT: String(next.attempt),
      [ATTEMPT_TOKEN_ENV]: attempt.process!.token,
    },
    ...(invocation.promptOnStdin ? { stdinFile: promptFile } : {}),
    signal,
    finishedSignal: finished.signal,
    timeoutMs: task.timeoutMs,
    idleTimeoutMs: task.idleTimeoutMs,
    stdoutFile: join(dir, 'stdout.log'),
    stderrFile: join(dir, 'stderr.log'),
    maxLogBytes: plan.run.maxLogBytes,
    maxLineBytes: MAX_AGENT_LINE_BYTES,
    onSpawn: (pid) => {
      const startTime = processStartTime(pid);
      attempt.process = {
        ...attempt.process!,
        pgid: pid,
        ...(startTime !== undefined ? { startTime } : {}),
      };
      input.save();
    },
    onLine: (line, stream) => heard(stream, () => parser.push(line)),
    onLongLine: (line, stream) => heard(stream, () => parser.pushPieces(line.pieces())),
    ...(input.killGraceMs !== undefined ? { killGraceMs: input.killGraceMs } : {}),
  });
  clearTimeout(lingerTimer);

  const notes: string[] = [];
  // The group is gone; what left it (setsid) still carries the token. Ending it
  // costs one look through /proc (about a millisecond), and an agent's daemon
  // left behind would otherwise run, and write, for as long as it likes.
  const escaped = await endStrayProcesses(
    [{ token: attempt.process!.token }],
    input.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
  );
  if (escaped.escaped.length > 0) {
    notes.push(
      `ended ${escaped.escaped.length} process${escaped.escaped.length === 1 ? '' : 'es'} the agent had left running outside its process group`,
    );
  }
  let result = resultFromOutcome(outcome, input.abortMessage(), parser, invocation.file);
  if (outcome.logDroppedBytes) {
    notes.push(
      `the raw log was capped at run.max_log_size: ${formatBytes(outcome.logDroppedBytes)} of output in the middle were dropped`,
    );
  }
  if (result.status === 'completed' && task.verify && !signal.aborted) {
    result = await runGate(task, task.verify, input, site.cwd, dir, result);
  }
  const verified = result.status === 'completed' ? task.verify : undefined;

  const message = landingMessage(task.id, next.attempt, result.summary);
  const allNotes = [...(result.notes ?? []), ...notes];
  let files: string[];
  /** In place: what happened to each file, for `bearing diff` (result.json only). */
  let changes: PathChange[] | undefined;
  if (result.status === 'completed') {
    // On record before the work lands: a run recovering from a crash in the
    // middle of the landing still has the agent's report.
    Object.assign(attempt, reportFields(result), {
      durationMs: outcome.durationMs,
      ...(allNotes.length > 0 ? { notes: allNotes } : {}),
    });
    if (site.worktree) input.onPhase?.('landing');
    const landing = await site.land(message, () => input.save());
    if (landing.kind === 'blocked') {
      const blocked = landingBlocked(state.tasks[task.id]!, attempt, landing.files, now());
      state.tasks[task.id] = blocked.record;
      return blocked.outcome;
    }
    if (landing.kind === 'conflict') {
      files = landing.changed;
      result = { ...result, status: 'failed', failure: conflictFailure(landing, input.workspace) };
    } else {
      files = landing.files;
      changes = landing.changes;
    }
  } else {
    const kept = await site.keep(message);
    files = kept.files;
    changes = kept.changes;
    if (kept.commit && attempt.worktree) attempt.worktree.commit = kept.commit;
  }
  const ended = finishAttempt(
    task,
    // The record as it is now: its running attempt may have been updated since it began.
    state.tasks[task.id]!,
    attempt,
    {
      ...result,
      durationMs: outcome.durationMs,
      ...(outcome.kind === 'exited' ? { exitCode: outcome.exitCode } : {}),
      notes: allNotes,
      filesChanged: files,
      ...(verified !== undefined ? { verified } : {}),
      ...(result.status === 'completed'
        ? { unknownFiles: namedButNowhere(result.summary, files, site.cwd) }
        : {}),
    },
    now(),
    { conflictRetries: plan.run.conflictRetries },
  );
  recorder.writeAttemptFile(
    join(dir, 'result.json'),
    `${JSON.stringify({ ...ended.outcome.attempt, filesChanged: files, ...(changes ? { fileChanges: changes } : {}) }, null, 2)}\n`,
  );
  state.tasks[task.id] = ended.record;
  return ended.outcome;
}

/**
 * Where the attempt runs. A resumed session continues where it ran before
 * (its agent keeps sessions per directory, and its work is there); a fresh
 * attempt starts from what has landed, and what earlier attempts left goes.
 */
async function openSite(
  input: AttemptInput,
  attempt: number,
  resumeSessionId: string | undefined,
): Promise<Site> {
  const { task, state, workspace } = input;
  const earlier = state.tasks[task.id]?.attempts ?? [];
  const resumes =
    resumeSessionId === undefined
      ? undefined
      : earlier.findLast((a) => a.sessionId === resumeSessionId && a.worktree)?.worktree;
  const stale = earlier.flatMap((a) =>
    a.worktree && a.worktree.path !== resumes?.path ? [a.worktree] : [],
  );
  if (stale.length > 0) await workspace.release(stale);
  return workspace.open({
    task,
    attempt,
    ...(resumes ? { resumes } : {}),
    othersRunning: input.othersRunning,
  });
}

/**
 * Paths the summary names that the attempt did not change and that are not
 * in the folder it worked in (its worktree, in worktree mode, which holds
 * what landed). core/hand-off.ts says what counts as a path.
 */
function namedButNowhere(summary: string, changed: string[], cwd: string): string[] {
  return unknownFiles(
    summary,
    changed,
    (path) => existsSync(join(cwd, path)),
    (name) => {
      try {
        return statSync(join(cwd, name)).isDirectory();
      } catch {
        return false;
      }
    },
  );
}

/** What the agent reported, as the attempt records it. */
function reportFields(result: AgentRunResult): Partial<AttemptRecord> {
  return {
    summary: result.summary,
    usage: result.usage,
    ...(result.costUsd !== undefined ? { costUsd: result.costUsd } : {}),
    ...(result.turns !== undefined ? { turns: result.turns } : {}),
    ...(result.sessionId ? { sessionId: result.sessionId } : {}),
  };
}

function conflictFailure(
  landing: Extract<Landing, { kind: 'conflict' }>,
  workspace: Workspace,
): Failure {
  return {
    reason: 'merge-conflict',
    files: landing.files,
    tasks: landing.tasks,
    branch: landing.worktree.branch,
    worktree: landing.worktree.path,
    target: workspace instanceof WorktreeWorkspace ? workspace.target.branch : '',
  };
}

/** The `verify` gate, where the agent worked, after the agent reported success. */
async function runGate(
  task: Task,
  command: string,
  input: AttemptInput,
  cwd: string,
  dir: string,
  result: AgentRunResult,
): Promise<AgentRunResult> {
  const gate = await runShellCommand(command, {
    cwd,
    env: { ...input.env, BEARING_TASK_ID: task.id },
    signal: input.signal,
    timeoutMs: task.timeoutMs,
    outputFile: join(dir, 'verify.log'),
  });
  if (gate.outcome.kind === 'aborted') {
    return {
      ...result,
      status: 'failed',
      failure: { reason: 'interrupted', message: 'verify was interrupted' },
    };
  }
  if (gate.outcome.kind === 'exited' && gate.outcome.exitCode === 0) return result;
  return {
    ...result,
    status: 'failed',
    failure: {
      reason: 'verify-failed',
      command,
      exitCode: gate.outcome.kind === 'exited' ? gate.outcome.exitCode : -1,
      output: gate.output,
    },
  };
}

function resultFromOutcome(
  outcome: ProcessOutcome,
  abortMessage: string,
  parser: OutputParser,
  file: string,
): AgentRunResult {
  switch (outcome.kind) {
    case 'exited':
      return withStderr(parser.finish({ exitCode: outcome.exitCode }), outcome.stderrTail);
    case 'finished':
      // We ended it after its final word: that word is the result.
      return parser.finish({ endedByUs: true });
    case 'signaled': {
      const parsed = parser.finish({ signal: outcome.signal });
      return { ...parsed, status: 'failed', failure: { reason: 'signal', signal: outcome.signal } };
    }
    case 'timeout': {
      const parsed = parser.finish({});
      return {
        ...parsed,
        status: 'failed',
        failure: { reason: 'agent-timeout', kind: outcome.which, afterMs: outcome.afterMs },
      };
    }
    case 'aborted': {
      const parsed = parser.finish({});
      return {
        ...parsed,
        status: 'failed',
        failure: { reason: 'interrupted', message: abortMessage },
      };
    }
    case 'spawn-error':
      return {
        summary: '',
        usage: ZERO_USAGE,
        status: 'failed',
        failure: { reason: 'spawn-error', command: file, message: outcome.message },
      };
  }
}

/**
 * An agent that exits non-zero without a structured error (a crash, a bad
 * flag) says why on stderr, which the parser never sees: quote its end.
 */
function withStderr(result: AgentRunResult, stderrTail: string): AgentRunResult {
  const f = result.failure;
  if (f?.reason !== 'agent-exit' && f?.reason !== 'unparseable-output') return result;
  const lines = stderrTail
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const tail = lines.slice(-5).join(' | ').slice(-1000);
  if (!tail) return result;
  return { ...result, failure: { ...f, message: `${f.message}; stderr: ${tail}` } };
}
