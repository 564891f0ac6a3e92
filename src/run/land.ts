/**
 * Worktree mode, outside an attempt: landing work that is already done, and
 * what a killed run left in git. Work waits to land when the main checkout
 * had local changes in the way, when a run was killed between the commit and
 * the landing, or when the person resolved a conflict by hand and approved
 * it; the agent does not run again for any of these.
 */
import type { Clock } from '../core/clock.js';
import type { Failure } from '../core/failure.js';
import { putRecord, type RunState } from '../core/state.js';
import type { Plan, Task } from '../core/task.js';
import { finishLanding, recoverCompleted, type TaskOutcome } from '../core/transitions.js';
import { landingMessage, type WorktreeWorkspace } from '../workspace/worktrees.js';

/** Land the work a task's record says is waiting (`record.land`). */
export async function landWaiting(input: {
  task: Task;
  plan: Plan;
  state: RunState;
  workspace: WorktreeWorkspace;
  now: Clock;
  save: () => void;
}): Promise<TaskOutcome> {
  const { task, state, workspace } = input;
  const record = state.tasks[task.id]!;
  const pending = record.land!;
  const attempt = record.attempts.find((a) => a.attempt === pending.attempt);
  const wt = attempt?.worktree;
  if (!attempt || !wt)
    throw new Error(`${task.id}: attempt ${pending.attempt} has no worktree to land`);
  const message = landingMessage(task.id, attempt.attempt, attempt.summary ?? '');
  const landing = await workspace.landKept(wt, message, () => input.save());
  const result: { files: string[]; failure?: Failure; blockedBy?: string[] } =
    landing.kind === 'landed'
      ? { files: landing.files }
      : landing.kind === 'blocked'
        ? { files: [], blockedBy: landing.files }
        : {
            files: landing.changed,
            failure: {
              reason: 'merge-conflict',
              files: landing.files,
              tasks: landing.tasks,
              branch: wt.branch,
              worktree: wt.path,
              target: workspace.target.branch,
            },
          };
  const ended = finishLanding(
    task,
    state.tasks[task.id]!,
    attempt.attempt,
    result,
    pending.reviewed,
    input.now(),
    { conflictRetries: input.plan.run.conflictRetries },
  );
  putRecord(state, task.id, ended.record);
  return ended.outcome;
}

/**
 * After a crash: attempts that were landing their work when the run died.
 * An attempt that had committed its work either landed (git says so: its
 * landing commit is on the target), and is done, or waits to land. Attempts
 * that had not committed are left to the usual recovery (run again).
 * Returns the tasks recovered this way.
 */
export async function recoverLandings(
  state: RunState,
  plan: Plan,
  workspace: WorktreeWorkspace,
  now: Date,
): Promise<string[]> {
  const recovered: string[] = [];
  for (const [id, record] of Object.entries(state.tasks)) {
    const attempt = record.attempts.at(-1);
    const wt = attempt?.worktree;
    if (attempt?.outcome !== 'running' || !wt?.commit) continue;
    const task = plan.tasks.find((t) => t.id === id);
    if (!task) continue;
    const files = (await workspace.landed(wt)) ? await workspace.landedFiles(wt) : undefined;
    putRecord(state, id, recoverCompleted(task, record, attempt, files, now));
    recovered.push(id);
  }
  return recovered;
}

/**
 * Before anything else, under the lock: landings a killed run had begun and
 * that did not happen may have left some of the checkout's files updated by
 * git; they go back, so the checkout is as clean as the run left it.
 */
export async function undoCutLandings(
  state: RunState,
  workspace: WorktreeWorkspace,
): Promise<void> {
  for (const record of Object.values(state.tasks)) {
    const wt = record.attempts.at(-1)?.worktree;
    if (record.attempts.at(-1)?.outcome !== 'running' || !wt?.landing) continue;
    if (!(await workspace.landed(wt))) await workspace.restoreCheckout(wt);
  }
}

/**
 * Worktrees and attempt branches nothing needs any more: what a killed run
 * left, and attempts whose task has since completed. The worktrees become
 * spares for this run's attempts (or are removed). Kept: the last
 * attempt's worktree of a task not yet done (to resume in, to resolve a
 * conflict in, or waiting to land).
 */
export async function clearLeftovers(
  state: RunState,
  workspace: WorktreeWorkspace,
): Promise<number> {
  const keep = new Set<string>();
  const keepBranches = new Set<string>();
  for (const record of Object.values(state.tasks)) {
    if (record.status === 'completed' || record.status === 'skipped') continue;
    const wanted = record.land
      ? record.attempts.find((a) => a.attempt === record.land!.attempt)
      : record.attempts.at(-1);
    if (!wanted?.worktree || wanted.outcome === 'interrupted') continue;
    keep.add(wanted.worktree.path);
    keepBranches.add(wanted.worktree.branch);
  }
  let cleared = 0;
  for (const wt of await workspace.list()) {
    if (keep.has(wt.path)) continue;
    await workspace.release([wt]);
    cleared++;
  }
  for (const branch of await workspace.attemptBranches()) {
    if (!keepBranches.has(branch)) await workspace.removeBranch(branch);
  }
  return cleared;
}
