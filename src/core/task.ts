/**
 * The normalised task used everywhere inside Bearing: precedence applied,
 * durations in milliseconds, camelCase. Built from the written form by
 * src/tasks/normalize.ts; nothing else constructs one from user input.
 */

import type {
  CHECKPOINTS,
  EFFORTS,
  FAILURE_POLICIES,
  OUTPUT_FORMATS,
  PERMISSION_MODES,
  PROMPT_FORMATS,
  PROMPT_INPUTS,
  RETRY_MODES,
  SANDBOX_MODES,
} from '../tasks/schema.js';
import type { CodexPrice } from './codex-prices.js';

export type Effort = (typeof EFFORTS)[number];
export type PermissionMode = (typeof PERMISSION_MODES)[number];
export type SandboxMode = (typeof SANDBOX_MODES)[number];
export type Checkpoint = (typeof CHECKPOINTS)[number];
export type FailurePolicy = (typeof FAILURE_POLICIES)[number];
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export type PromptFormat = (typeof PROMPT_FORMATS)[number];
export type PromptInput = (typeof PROMPT_INPUTS)[number];
export type RetryMode = (typeof RETRY_MODES)[number];

/** Where a task was written, for messages and `bearing validate`. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export interface Task {
  id: string;
  name: string;
  /** `claude`, `codex`, `shell`, or a custom agent name from config.yaml. */
  cli: string;
  model?: string;
  effort?: Effort;
  budgetUsd?: number;
  maxTurns?: number;
  timeoutMs: number;
  idleTimeoutMs: number;
  permissionMode: PermissionMode;
  sandbox: SandboxMode;
  focus: string[];
  skip: string[];
  dependsOn: string[];
  checkpoint: Checkpoint;
  onFailure: FailurePolicy;
  retries: number;
  /** Whether a retry resumes the agent's session or starts fresh (core/attempt.ts). */
  retryMode: RetryMode;
  verify?: string;
  /** An agent that reports success without changing a file needs review (expect_changes). */
  expectChanges: boolean;
  /** Agent tasks. */
  prompt?: string;
  /** Shell tasks. */
  run?: string;
  source: SourceLocation;
}

export interface CustomAgent {
  name: string;
  command: string;
  args: string[];
  output: OutputFormat;
  /** How the prompt reaches the CLI: the `{prompt}` argument, or stdin. */
  promptInput: PromptInput;
  installHint?: string;
}

export interface RunSettings {
  concurrency: number;
  promptFormat: PromptFormat;
  contextLimit: number;
  /** Wait for a usage limit to reset rather than stop the run. */
  waitForLimits: boolean;
  /** Cap on each raw log file of one attempt, in bytes (run.max_log_size); 0: none. */
  maxLogBytes: number;
  /** Start no task while the project's file system has less free space, in bytes; 0: no check. */
  minFreeBytes: number;
  isolation: IsolationMode;
  /** Worktree mode: the branch work lands on; unset: the branch checked out at the start. */
  branch?: string;
  /** Worktree mode: where worktrees are made, relative to the project. */
  worktreeDir: string;
  /** Worktree mode: runs from a new base after a merge conflict, before `merge-conflict`. */
  conflictRetries: number;
  /** Queue mode: the Redis URL through which workers run the attempts. */
  queue?: string;
  /** Queue mode: the git remote workers fetch from and push to. */
  remote: string;
  /** run.max_cost_usd: the spend cap of one run, in US dollars; unset: none. */
  maxCostUsd?: number;
  /** run.codex_prices: prices added to, or replacing, the built-in ones; unset: none. */
  codexPrices?: Record<string, CodexPrice>;
  /** run.notify: the command (argv template) run when the run needs a person or ends; unset: none. */
  notify?: string[];
}

export type IsolationMode = 'auto' | 'worktree' | 'none';

/** Everything loaded from `bearing/`: the validated plan. */
export interface Plan {
  /** In deterministic dependency order (topological, ties broken by id). */
  tasks: Task[];
  agents: Record<string, CustomAgent>;
  run: RunSettings;
}
