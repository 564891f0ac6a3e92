/**
 * Where an attempt runs, and how its work becomes the project's. The run
 * loop and the attempt see only this interface:
 *
 * - `in-place`: the agent works in the project folder itself; what it changed
 *   is measured by comparing snapshots of the tree before and after.
 * - `worktree`: each attempt gets its own git worktree and branch, started
 *   from everything landed so far; its work is committed there and landed on
 *   the project's branch, one landing at a time, in the order tasks finish
 *   (which is dependency order: a task starts only after its dependencies
 *   landed).
 *
 * - `queue` (src/queue/workspace.ts): a worktree workspace whose agents run
 *   on workers on other machines; their work comes back as pushed branches
 *   and lands the same way.
 */
import type { LiveProgress } from '../core/progress.js';
import type { AttemptWorktree } from '../core/state.js';
import type { Task } from '../core/task.js';
import type { AgentJob, AgentRun } from '../run/agent-run.js';
import {
  type PathChange,
  pathChanges,
  type Snapshot,
  snapshotWorkTree,
  WorkTreeWatch,
} from '../state/changes.js';

export interface Workspace {
  readonly kind: 'in-place' | 'worktree';
  /**
   * Whether an attempt may resume an earlier one's agent session. Not when
   * agents run on other machines: the session stays on the one that ran it.
   */
  readonly sessionsHere?: boolean;
  /** Where the next attempt of a task runs. */
  open(request: OpenRequest): Promise<Site>;
  /** What attempts left that is no longer wanted (their work landed, or was given up): kept for reuse or removed. */
  release(worktrees: readonly AttemptWorktree[]): Promise<void>;
  /**
   * How many more attempts the run may open (tasks ready or waiting for
   * their dependencies, and started ones not open yet; each `open` counts
   * one off): what is kept for reuse beyond that goes now,
   * beside the last agents, instead of at the end of the run. Settles when
   * it is gone; the run does not wait for that (`close` does).
   *
   * `next`: the first attempts the run will open as agents' places free,
   * in order (ready tasks' first attempts), so that their sites may be made
   * ready beforehand; it settles when they are. It never rejects.
   */
  expect(attempts: number, next?: readonly AttemptName[]): Promise<void>;
  /** The run is over: remove what was kept for reuse. */
  close(): Promise<void>;
}

/** One attempt of one task. */
export interface AttemptName {
  taskId: string;
  attempt: number;
}

export interface OpenRequest {
  task: Task;
  attempt: number;
  /** The attempt this one resumes: its agent session lives where it ran, so it runs there again. */
  resumes?: AttemptWorktree;
  /** Whether a task other than this one is running now. */
  othersRunning: () => boolean;
}

/** What the attempt wrote on its record to identify its worktree (for recovery). */
export interface Site {
  /** The directory the agent and its `verify` gate run in. */
  readonly cwd: string;
  /** In worktree mode: the worktree, to be saved on the attempt before the agent starts. */
  readonly worktree?: AttemptWorktree;
  /**
   * Queue mode: the agent runs on a worker, not here; this hands it the job
   * and waits for its run (src/queue/). Absent: it runs here, in `cwd`.
   */
  runAgent?(
    job: AgentJob,
    signal: AbortSignal,
    onProgress: (progress: LiveProgress) => void,
  ): Promise<AgentRun>;
  /**
   * The attempt ended without completing: keep its work where it is (a
   * commit on its branch in worktree mode) and say which files it changed.
   * The commit is returned, not put on the worktree record: on the record it
   * would mean "completed, waiting to land" to a run recovering from a crash.
   */
  keep(message: string): Promise<{ files: string[]; commit?: string; changes?: PathChange[] }>;
  /**
   * The attempt completed: make its work the project's. `onIntent` is called
   * (and must save) before the branch moves, so a run killed in the middle
   * can tell afterwards whether the work landed.
   */
  land(message: string, onIntent: (w: AttemptWorktree) => void): Promise<Landing>;
}

export type Landing =
  /**
   * `files`: exactly what the landed commit changed, relative to the project.
   * `changes`: in place, what happened to each (the commit holds it otherwise).
   */
  | { kind: 'landed'; files: string[]; commit?: string; changes?: PathChange[] }
  /**
   * The work does not merge onto what landed since it started. `files`: the
   * conflicting ones; `changed`: every file the work changed.
   */
  | {
      kind: 'conflict';
      files: string[];
      tasks: string[];
      changed: string[];
      worktree: AttemptWorktree;
    }
  /** The main checkout has local changes that landing would overwrite. */
  | { kind: 'blocked'; files: string[]; worktree: AttemptWorktree };

/**
 * The project folder itself. With nothing else running, the tree after one
 * task is the tree before the next: that snapshot is reused instead of
 * measured twice. A watch kept for the run tells each snapshot what was
 * written since the last.
 */
export class InPlaceWorkspace implements Workspace {
  readonly kind = 'in-place';
  readonly #watch: WorkTreeWatch;
  #latest: Snapshot | undefined;
  /** Bumped whenever a task starts; a snapshot is reusable only within one generation. */
  #generation = 0;

  constructor(readonly root: string) {
    this.#watch = new WorkTreeWatch(root);
  }

  async open(request: OpenRequest): Promise<Site> {
    // Invalidate first: a task started alongside this one must measure for itself.
    const cached = this.#latest;
    this.#latest = undefined;
    this.#generation++;
    const snapshot = (): Promise<Snapshot> => snapshotWorkTree(this.root, { watch: this.#watch });
    const before = !request.othersRunning() && cached ? cached : await snapshot();
    const generation = this.#generation;
    const measure = async (): Promise<{ files: string[]; changes: PathChange[] }> => {
      const after = await snapshot();
      // Reusable only if no task started since this one did and none ran while it was taken.
      if (this.#generation === generation && !request.othersRunning()) this.#latest = after;
      const changes = pathChanges(before, after);
      return { files: changes.map((c) => c.path), changes };
    };
    return {
      cwd: this.root,
      keep: measure,
      land: async () => ({ kind: 'landed', ...(await measure()) }),
    };
  }

  async release(): Promise<void> {
    // Nothing is made per attempt.
  }

  async expect(): Promise<void> {
    // Nothing is kept for reuse, or made beforehand.
  }

  async close(): Promise<void> {
    this.#watch.close();
  }
}
