/**
 * The values task files and config.yaml may take (id, duration and size
 * patterns, the choices of each enum), apart from the zod schema that
 * validates them: the CLI's option choices, the state layer's path checks
 * and the agent adapters need these lists, and importing zod costs more
 * than the whole of `bearing --help`. schema.ts builds on them and
 * re-exports them.
 */

/** Task ids become file and directory names under `.state/runs/`: keep them path-safe. */
export const TASK_ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
export const TASK_ID_MAX_LENGTH = 100;

/** `90s`, `30m`, `1h30m`, `500ms`, or a bare number of seconds. */
export const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;

/** `64MB`, `500KB`, `1.5GB`, `512B`, `8MiB` (1 KB = 1024 bytes), or a bare number of bytes. */
export const SIZE_PATTERN = /^\d+(?:\.\d+)? ?(?:B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/;

/** Keys whose value is a size (SIZE_PATTERN or a number of bytes). */
export const SIZE_KEYS: ReadonlySet<string> = new Set(['max_log_size', 'min_free_space']);

export const BUILTIN_CLIS = ['claude', 'codex', 'shell'] as const;

export const EFFORTS = ['minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;
/** What each built-in CLI accepts (claude `--effort`, codex `model_reasoning_effort`). */
export const EFFORTS_BY_CLI: Record<'claude' | 'codex', readonly (typeof EFFORTS)[number][]> = {
  claude: ['low', 'medium', 'high', 'xhigh', 'max'],
  codex: ['minimal', 'low', 'medium', 'high', 'xhigh'],
};

/**
 * Claude Code's `--permission-mode` choices, as its `--help` lists them: 2.1.332
 * renamed `default` to `manual` and still accepts `default`; 2.1.197 rejects
 * `manual`. Task files may use either name (see `claudeArgs`).
 */
export const PERMISSION_MODES = [
  'acceptEdits',
  'auto',
  'bypassPermissions',
  'manual',
  'default',
  'dontAsk',
  'plan',
] as const;

/** Codex's `--sandbox` choices, as `codex exec --help` lists them. */
export const SANDBOX_MODES = ['read-only', 'workspace-write', 'danger-full-access'] as const;

export const CHECKPOINTS = ['auto', 'notify', 'pause'] as const;
export const FAILURE_POLICIES = ['retry', 'skip', 'pause', 'stop'] as const;
export const RETRY_MODES = ['auto', 'resume', 'fresh'] as const;
export const OUTPUT_FORMATS = ['text', 'claude', 'codex'] as const;
export const PROMPT_INPUTS = ['argument', 'stdin'] as const;
export const PROMPT_FORMATS = ['structured', 'prose'] as const;
export const ISOLATION_MODES = ['auto', 'worktree', 'none'] as const;

/** What `run.notify` replaces inside each of its arguments (run/notifier.ts). */
export const NOTIFY_PLACEHOLDERS = ['event', 'task', 'message', 'project'] as const;
