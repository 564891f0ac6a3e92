/**
 * Every exit code Bearing uses; the README's table is checked against this
 * list by a test, so the documentation cannot drift.
 */
export const EXIT = {
  /** Everything asked for was done. */
  ok: 0,
  /** The run ended with failed tasks, or the command could not do its job. */
  failed: 1,
  /** Invalid input: task files, config.yaml, or command-line usage. */
  invalid: 2,
  /** The run stopped at a checkpoint or failure policy and waits for `bearing approve`/`retry`. */
  paused: 3,
  /** Another `bearing run` holds this project's lock. */
  locked: 4,
  /** An agent CLI a task needs is not installed. */
  missingCli: 5,
  /**
   * Bearing cannot read or write its own files in bearing/ (disk full, a
   * permission error, a directory where state.json should be), or the disk
   * is too full to start tasks. What was saved before is kept.
   */
  io: 6,
  /** The run's spend cap (run.max_cost_usd, --max-cost) stopped its agents, or kept tasks from starting. */
  costCap: 7,
  /** A bug in Bearing (reported with the version, never as a bare stack trace). */
  internal: 70,
  /** Interrupted by Ctrl-C or SIGTERM. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_DESCRIPTIONS: Record<ExitCode, string> = {
  0: 'success',
  1: 'the run ended with failed tasks, or the command failed',
  2: 'invalid input: task files, config.yaml or command-line usage',
  3: 'the run is paused: a task awaits `bearing approve` or review',
  4: 'another `bearing run` is working on this project',
  5: 'an agent CLI that a task needs is not installed',
  6: 'Bearing cannot read or write its files in bearing/ (disk full, permissions)',
  7: "the run's spend cap stopped its agents, or kept tasks from starting",
  70: 'internal error in Bearing (please report it)',
  130: 'interrupted (Ctrl-C, SIGTERM or SIGHUP)',
};
