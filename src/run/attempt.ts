/**
 * One attempt of one task, from prompt to recorded result: assemble the
 * prompt, record who is about to run it (before it can do any work), run the
 * agent, read its verdict from its own output, run the `verify` gate, measure
 * what changed, and record the outcome on the task. The run loop decides what
 * happens next; this module only says what happened.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentRunResult } from '../agents/types.js';
import type { Clock } from '../core/clock.js';
import type { Failure } from '../core/failure.js';
import { fingerprintOf } from '../core/fingerprint.js';
import { notChanged, unknownFiles } from '../core/hand-off.js';
import type { LiveProgress } from '../core/progress.js';
import { type AttemptRecord, putRecord, type RunState } from '../core/state.js';
import type { Plan, Task } from '../core/task.js';
import {
  beginAttempt,
  finishAttempt,
  landingBlocked,
  type TaskOutcome,
} from '../core/transitions.js';
import { processStartTime } from '../process/proc-stat.js';
import { newAttemptToken } from '../process/strays.js';
import type { PathChange } from '../state/changes.js';
import { digest } from '../state/digest.js';
import { attemptDir } from '../state/paths.js';
import type { Landing, Site, Workspace } from '../workspace/workspace.js';
import { landingMessage, WorktreeWorkspace } from '../workspace/worktrees.js';
import { type AgentJob, type AgentRun, runAgent } from './agent-run.js';
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
  /** Its agent's events changed what it has done so far (already set on the running attempt). */
  onProgress?: (attempt: number, progress: LiveProgress) => void;
  /**
   * Save the state now: the agent's process exists (its group and start time
   * are on the attempt), or its work is about to land.
   */
  save: () => void;
}

/** What ending an attempt needs of its input. */
export type ConcludeInput = Pick<
  AttemptInput,
  'task' | 'plan' | 'state' | 'root' | 'now' | 'recorder' | 'workspace' | 'onPhase' | 'save'
>;

export async function executeAttempt(input: AttemptInput): Promise<TaskOutcome> {
  const { task, plan, state, root, env, signal, now, recorder } = input;
  const next = prepareAttempt(plan, state, task, {
    isGitRepo: input.gitRepo,
    resume: input.workspace.sessionsHere !== false,
  });
  const { prompt, invocation } = next;
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
        output: next.adapter.output,
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
  putRecord(state, task.id, begun.record);
  const { attempt } = begun;
  // The same object as the site's: a landing in progress is saved with the attempt.
  if (site.worktree) attempt.worktree = site.worktree;
  input.onStarted(next.attempt, resume);

  const job: AgentJob = {
    task,
    ...(plan.agents[task.cli] ? { agent: plan.agents[task.cli]! } : {}),
    attempt: next.attempt,
    token: attempt.process!.token,
    prompt,
    invocation,
    ...(next.parserOptions ? { parserOptions: next.parserOptions } : {}),
    maxLogBytes: plan.run.maxLogBytes,
    resultGraceMs: input.resultGraceMs,
    ...(input.killGraceMs !== undefined ? { killGraceMs: input.killGraceMs } : {}),
  };
  // Here, in the site's folder, or on a worker (queue mode): the same run either way.
  const onProgress = (progress: LiveProgress): void => {
    attempt.progress = progress;
    input.onProgress?.(next.attempt, progress);
  };
  const ran = site.runAgent
    ? await site.runAgent(job, signal, onProgress)
    : await runAgent(job, {
        cwd: site.cwd,
        dir,
        env,
        signal,
        abortMessage: input.abortMessage,
        onProgress,
        onSpawn: (pid) => {
          const startTime = processStartTime(pid);
          attempt.process = {
            ...attempt.process!,
            pgid: pid,
            ...(startTime !== undefined ? { startTime } : {}),
          };
          input.save();
        },
      });
  return concludeAttempt(input, site, attempt, ran);
}

/**
 * The agent's run is over (here or on a worker): land its work or keep it,
 * and record the outcome on the task. A coordinator that rejoins an attempt
 * a worker ran while it was down ends it here too.
 */
export async function concludeAttempt(
  input: ConcludeInput,
  site: Site,
  attempt: AttemptRecord,
  ran: AgentRun,
): Promise<TaskOutcome> {
  const { task, plan, state, now, recorder } = input;
  const dir = attemptDir(input.root, task.id, attempt.attempt);
  let result = ran.result;
  const message = landingMessage(task.id, attempt.attempt, result.summary);
  const allNotes = [...(result.notes ?? []), ...ran.notes];
  let files: string[];
  /** In place: what happened to each file, for `bearing diff` (result.json only). */
  let changes: PathChange[] | undefined;
  // Passed only if it ended completed: the gate (run with the agent) said yes.
  const verified = result.status === 'completed' ? task.verify : undefined;
  // Looked for before the landing, where the agent worked: once its work has
  // landed, its worktree may already be another attempt's.
  const missing = result.status === 'completed' ? namedButNowhere(result.summary, site.cwd) : [];
  if (result.status === 'completed') {
    // On record before the work lands: a run recovering from a crash in the
    // middle of the landing still has the agent's report.
    Object.assign(attempt, reportFields(result), {
      durationMs: ran.durationMs,
      ...(allNotes.length > 0 ? { notes: allNotes } : {}),
    });
    if (site.worktree) input.onPhase?.('landing');
    const landing = await site.land(message, () => input.save());
    if (landing.kind === 'blocked') {
      const blocked = landingBlocked(state.tasks[task.id]!, attempt, landing.files, now());
      putRecord(state, task.id, blocked.record);
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
      durationMs: ran.durationMs,
      ...(ran.exitCode !== undefined ? { exitCode: ran.exitCode } : {}),
      notes: allNotes,
      filesChanged: files,
      ...(verified !== undefined ? { verified } : {}),
      ...(result.status === 'completed' ? { unknownFiles: notChanged(missing, files) } : {}),
    },
    now(),
    { conflictRetries: plan.run.conflictRetries },
  );
  recorder.writeAttemptFile(
    join(dir, 'result.json'),
    `${JSON.stringify({ ...ended.outcome.attempt, filesChanged: files, ...(changes ? { fileChanges: changes } : {}) }, null, 2)}\n`,
  );
  putRecord(state, task.id, ended.record);
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
 * Paths the summary names that are not in the folder the agent worked in
 * (the ones it changed, e.g. deleted, are taken out once they are known).
 * core/hand-off.ts says what counts as a path.
 */
function namedButNowhere(summary: string, cwd: string): string[] {
  return unknownFiles(
    summary,
    [],
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
    ...(result.costEstimated ? { costEstimated: true } : {}),
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
