/**
 * What the run loop tells the terminal. The loop emits these; src/ui renders
 * them (live lines on a TTY, one line per event otherwise, JSON lines with
 * --json). Nothing here writes to a stream.
 */
import type { Cost } from '../core/cost.js';
import type { Diagnostic } from '../core/diagnostic.js';
import type { Failure } from '../core/failure.js';
import type { LiveProgress } from '../core/progress.js';
import type { RunTotals } from '../core/run-totals.js';
import type { AttemptRecord, StaleReason, TaskRecord } from '../core/state.js';
import type { Task } from '../core/task.js';
import type { TaskEndOutcome } from '../core/transitions.js';

export type RunEvent =
  | {
      type: 'run-start';
      tasks: number;
      pending: number;
      concurrency: number;
      /** Worktree mode: the branch work lands on; absent when agents work in the project folder. */
      landsOn?: string;
    }
  /** Something worth telling once (why `auto` isolation shares the folder, a worktree cleaned up...). */
  | { type: 'note'; message: string }
  /**
   * Tasks a crashed or killed run left running. `ended`: its agents' process
   * groups that were still alive, and processes that had left them (setsid),
   * all ended before anything ran again.
   */
  | { type: 'recovered'; ids: string[]; ended: { groups: number; escaped: number } }
  | { type: 'plan-changed'; added: string[]; removed: string[] }
  /**
   * Completed tasks whose result no longer follows from what produces it
   * (core/stale.ts), which the run will run again, in dependency order:
   * said at the start, and when an edit or a re-run makes more stale.
   */
  | { type: 'stale'; tasks: { id: string; reason: StaleReason; message: string }[] }
  | { type: 'plan-invalid'; diagnostics: Diagnostic[] }
  /** Tasks vanished from the files; they count as removed only if still gone at `until` (epoch ms). */
  | { type: 'plan-unsure'; missing: string[]; until: number }
  | { type: 'missing-cli'; task: string; cli: string; command: string; installHint: string }
  | { type: 'request'; action: 'approve' | 'retry'; id: string; applied: boolean; message: string }
  | {
      type: 'task-start';
      task: Task;
      attempt: number;
      resume: boolean;
      /** Worktree mode: no agent runs; the attempt's finished work lands (see land.ts). */
      landing?: boolean;
      startedAt: number;
    }
  /**
   * A running attempt's agent reported something: what it has done so far.
   * As often as its events come; readers that show it redraw on `tick`.
   */
  | { type: 'progress'; id: string; attempt: number; progress: LiveProgress }
  | {
      type: 'task-end';
      task: Task;
      attempt: AttemptRecord;
      record: TaskRecord;
      outcome: TaskEndOutcome;
      failure?: Failure;
    }
  | {
      type: 'tick';
      running: { id: string; startedAt: number }[];
      /**
       * Recorded costs plus what running attempts have cost so far; estimated
       * in part while a claude attempt has no result yet, or codex ran.
       */
      cost: Cost;
      done: number;
      total: number;
    }
  | { type: 'waiting'; cli: string; kind: 'limit' | 'outage'; until: number; message: string }
  | { type: 'stopping'; reason: string }
  /** `totals`: what this run's own attempts cost and used, and how long it took. */
  | { type: 'run-end'; next: string; totals: RunTotals };

export type EventSink = (event: RunEvent) => void;
