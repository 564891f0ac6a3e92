/**
 * The written form of task files and `config.yaml`: one zod definition that
 * validation, the shipped JSON Schema, the README reference and the planner
 * prompts are all derived from, so none of them can drift from the code.
 *
 * The written schema has no `.default()`s on purpose: precedence (task > file
 * defaults > config defaults > built-in) needs to know what the user actually
 * wrote. Built-in defaults live in BUILTIN_DEFAULTS and are attached to the
 * JSON Schema when it is generated.
 */
import { z } from 'zod';
import {
  CHECKPOINTS,
  EFFORTS,
  FAILURE_POLICIES,
  ISOLATION_MODES,
  OUTPUT_FORMATS,
  PERMISSION_MODES,
  PROMPT_FORMATS,
  PROMPT_INPUTS,
  RETRY_MODES,
  SANDBOX_MODES,
} from './values.js';

export {
  BUILTIN_CLIS,
  CHECKPOINTS,
  DURATION_PATTERN,
  EFFORTS,
  EFFORTS_BY_CLI,
  FAILURE_POLICIES,
  ISOLATION_MODES,
  OUTPUT_FORMATS,
  PERMISSION_MODES,
  PROMPT_FORMATS,
  PROMPT_INPUTS,
  RETRY_MODES,
  SANDBOX_MODES,
  SIZE_KEYS,
  SIZE_PATTERN,
  TASK_ID_MAX_LENGTH,
  TASK_ID_PATTERN,
} from './values.js';

const duration = z
  .union([z.string(), z.number()])
  .describe('A duration: `90s`, `30m`, `1h30m`, `500ms`, or a number of seconds.');

const size = z
  .union([z.string(), z.number()])
  .describe('A size: `500KB`, `64MB`, `1GB` (1 KB = 1024 bytes), or a number of bytes.');

const stringList = z.array(z.string());

/**
 * Keys that may be set on a task, in file `defaults:` or in `config.yaml`
 * `defaults:`. Order here is the order of the reference documentation.
 */
export const taskSettingsShape = {
  cli: z
    .string()
    .describe(
      'Which agent runs the task: `claude`, `codex`, `shell` (runs `run`, no agent), or the name of a custom agent from `config.yaml` `agents:`.',
    ),
  model: z
    .string()
    .describe(
      "Model passed to the agent (`--model`), e.g. `sonnet`, `opus` for claude or `gpt-5.2-codex` for codex. Unset: the CLI's own default.",
    ),
  effort: z
    .enum(EFFORTS)
    .describe(
      'Reasoning effort. claude (`--effort`): low, medium, high, xhigh, max. codex (`-c model_reasoning_effort`): minimal, low, medium, high, xhigh. Unset: the CLI default.',
    ),
  budget_usd: z
    .number()
    .describe(
      'Spending ceiling in US dollars for one attempt (claude `--max-budget-usd`). Claude checks it after spending, so cost can exceed it slightly.',
    ),
  max_turns: z
    .number()
    .int()
    .describe('Turn limit for one attempt (claude `--max-turns`; codex has no turn limit).'),
  timeout: duration.describe(
    'Wall-clock limit for one attempt; Bearing kills the agent and its children when it passes. Enforced for every CLI.',
  ),
  idle_timeout: duration.describe(
    'Kill the agent when it prints nothing for this long (hung network calls, stuck MCP servers).',
  ),
  permission_mode: z
    .enum(PERMISSION_MODES)
    .describe(
      'What claude may do unattended (`--permission-mode`). `auto`: Claude Code approves safe actions itself; `acceptEdits`: file edits only, shell commands are denied; `bypassPermissions`: everything (as root only with IS_SANDBOX=1); `manual`: the name Claude Code uses since 2.1.332 for what it called `default` (either name works here, and Bearing passes `default`, which every version accepts). A task whose agent was denied a permission is not completed.',
    ),
  sandbox: z
    .enum(SANDBOX_MODES)
    .describe(
      "What codex may do (`--sandbox`). codex's own default is read-only, where writes fail silently, so Bearing defaults to workspace-write.",
    ),
  focus: stringList.describe(
    'Files the agent should read first (`FOCUS:` in the prompt), relative to the project root; an absolute path must be inside the project.',
  ),
  skip: stringList.describe(
    'Paths or patterns the agent must not read or modify (`SKIP:`); `bearing/` is always added.',
  ),
  checkpoint: z
    .enum(CHECKPOINTS)
    .describe(
      '`auto`: go on. `notify`: go on and flag the task in status.md. `pause`: stop the run after the task until `bearing approve <id>`.',
    ),
  on_failure: z
    .enum(FAILURE_POLICIES)
    .describe(
      '`retry`: run again up to `retries` times with the error appended, then stop this branch. `skip`: mark skipped, dependents run with the failure as context. `pause`: stop the run for review. `stop`: end the run.',
    ),
  retries: z.number().int().describe('How many extra attempts `on_failure: retry` makes.'),
  retry_mode: z
    .enum(RETRY_MODES)
    .describe(
      "How a task's next attempt starts after one that did not complete. `auto`: after an interruption (timeout, kill, crash, usage limit, turn or budget limit) it resumes the agent's session, which holds the work in progress; after an attempt that finished wrong (failed `verify` gate, no changes, denied permissions) it starts fresh, with the error appended, as the old session holds the reasoning that led it astray. `resume`: always resume when the CLI can (claude, codex) and a session was recorded. `fresh`: never resume. A merge conflict always starts fresh. `bearing prompt <id>` says which the next attempt will be.",
    ),
  verify: z
    .string()
    .describe(
      'A gate command run (through `sh -c`, in the project) after the agent reports success; the task completes only if it exits 0. A passed gate is recorded as the evidence the task was checked against.',
    ),
  expect_changes: z
    .boolean()
    .describe(
      'Whether the task must change files. An agent that reports success but changed no file (in worktree mode: whose landed commit is empty) is not `completed` but `needs-review`: its dependents wait and the run goes on (it stops only with `checkpoint: pause`) until `bearing approve <id>` or `bearing retry <id>`. Set `false` on tasks that only analyse or report.',
    ),
} as const;

export type TaskSettingKey = keyof typeof taskSettingsShape;

/** Per-task keys that make no sense as defaults. */
export const taskOnlyShape = {
  id: z
    .string()
    .describe(
      'Unique id across all task files: lowercase letters, digits, `.`, `_`, `-`, starting with a letter or digit.',
    ),
  name: z.string().describe('Human-readable name; defaults to the id.'),
  depends_on: stringList.describe(
    'Ids of tasks that must complete first; their summaries and changed files are handed to this task.',
  ),
  prompt: z
    .string()
    .describe(
      'What the agent must do. Required for agent tasks. Write it for a fresh agent that knows nothing else: goal, constraints, definition of done.',
    ),
  run: z
    .string()
    .describe(
      'The command a `shell` task runs (through `sh -c`, in the project). Required for shell tasks.',
    ),
} as const;

export const taskSchema = z
  .strictObject({ ...taskOnlyShape, ...taskSettingsShape })
  .partial()
  .describe('One Bearing task.');

export const taskDefaultsSchema = z
  .strictObject(taskSettingsShape)
  .partial()
  .describe('Defaults for every task in this file (a task value wins).');

/** A task file: either one task (a mapping with `id`) or `tasks:` with optional `defaults:`. */
export const taskFileSchema = z
  .strictObject({
    $schema: z.string().describe('Editor hint: path or URL of the Bearing JSON Schema.'),
    defaults: taskDefaultsSchema,
    tasks: z.array(taskSchema).describe('The tasks in this file.'),
  })
  .partial()
  .describe('A Bearing task file holding several tasks.');

export const customAgentSchema = z
  .strictObject({
    command: z.string().describe('Executable to run (looked up on PATH); no shell is involved.'),
    args: z
      .array(z.string())
      .describe(
        "Argument template, one list item per argument (never split or shell-parsed); `{prompt}` and `{model}` are replaced inside each. With no model set, an argument holding `{model}` is dropped, and so is a bare `{model}`'s preceding flag (e.g. `--model`). With `prompt_input: stdin` the default is no arguments.",
      ),
    prompt_input: z
      .enum(PROMPT_INPUTS)
      .describe(
        'How the prompt reaches the command: `argument` (substituted for `{prompt}` in `args`; Linux caps one argument at 128 KiB, so `validate` rejects a task prompt over 100 KiB) or `stdin` (the whole prompt on stdin, any size; `args` must not contain `{prompt}`).',
      ),
    output: z
      .enum(OUTPUT_FORMATS)
      .describe(
        'What the command prints: `text` (the exit code decides; the last 64 KiB of stdout is the summary), `claude` (stream-json events), or `codex` (`exec --json` JSONL).',
      ),
    install_hint: z
      .string()
      .describe('Shown when the command is not installed, e.g. `pipx install aider-chat`.'),
  })
  .partial()
  .describe('A custom agent CLI.');

export const runSettingsSchema = z
  .strictObject({
    concurrency: z
      .number()
      .int()
      .describe(
        'How many agents run side by side (a task whose work is landing from its worktree takes no place).',
      ),
    prompt_format: z
      .enum(PROMPT_FORMATS)
      .describe(
        'How FOCUS/SKIP/PRIOR context is written: `structured` (compact JSON lines) or `prose`.',
      ),
    context_limit: z
      .number()
      .int()
      .describe(
        'Upper bound, in characters, of the PRIOR context handed to one task; the oldest, most distant entries are trimmed first.',
      ),
    wait_for_limits: z
      .boolean()
      .describe(
        "When an agent CLI hits a usage or rate limit, wait and go on instead of stopping the run: until the reset time the CLI reports (if within 6 hours), else after 5, 15 and 30 minutes. Other CLIs' tasks keep running meanwhile; Ctrl-C stops the wait.",
      ),
    max_log_size: size.describe(
      "Cap on each raw log file of one attempt (`bearing/.state/runs/<task>/<n>/`). Past it the log keeps the first part and the last part (at most 8MB) of the agent's output, with one line between them saying how much was dropped; Bearing still reads every line. `0`: no cap.",
    ),
    min_free_space: size.describe(
      'Bearing starts no task while the file system holding the project has less free space than this: a full disk would stop it from saving state. `0`: no check.',
    ),
    isolation: z
      .enum(ISOLATION_MODES)
      .describe(
        'Where attempts run. `worktree`: each attempt in its own git worktree and branch, its work committed and landed on the branch, in dependency order. `none`: every agent in the project folder itself. `auto`: `worktree` in a git repository when more than one task runs at a time, else `none`. `bearing run --isolation` overrides it.',
      ),
    branch: z
      .string()
      .min(1)
      .describe(
        'Worktree mode: the branch work lands on, created from the current commit if missing. Unset: the branch checked out when the run starts, whose checkout follows each landing.',
      ),
    worktree_dir: z
      .string()
      .min(1)
      .describe(
        "Worktree mode: the folder the attempts' worktrees are made in, relative to the project. Keep it out of your tree, or ignored by git.",
      ),
    conflict_retries: z
      .number()
      .int()
      .min(0)
      .describe(
        'Worktree mode: how many times a task whose work does not merge onto what landed meanwhile runs again from the new base, told about the conflict, before it fails with `merge-conflict`.',
      ),
    queue: z
      .string()
      .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
      .describe(
        'Queue mode: the Redis URL (`redis://[:password@]host:port`, `rediss://` for TLS) through which `bearing worker`s on other machines run the attempts; `bearing run` puts ready attempts on the queue and lands what the workers push. Implies worktree isolation. `bearing run --queue` overrides it. Keep Redis off untrusted networks.',
      ),
    remote: z
      .string()
      .min(1)
      .describe(
        "Queue mode: the git remote workers fetch the project from and push attempts' branches to. Its URL must be reachable from every worker.",
      ),
    max_cost_usd: z
      .number()
      .positive()
      .describe(
        "Spend cap for one `bearing run`, in US dollars: no task starts when what the run has spent plus that task's `budget_usd` (without one, the average cost of its CLI's recent attempts) would pass it, and once the running agents' spend, from their live events, passes it, they are stopped and the run ends with exit code 7. `bearing run --max-cost` overrides it. Unset: no cap.",
      ),
    codex_prices: z
      .record(
        z.string(),
        z.strictObject({
          input: z.number().min(0).describe('US dollars per million input tokens.'),
          cached_input: z
            .number()
            .min(0)
            .describe('US dollars per million input tokens read from the prompt cache.'),
          output: z.number().min(0).describe('US dollars per million output tokens.'),
        }),
      )
      .describe(
        "Prices of codex's models, by model name, for the cost Bearing estimates for codex attempts (codex reports tokens but no cost; the figure is shown as `~$`, an estimate). Entries are added to, or replace, the built-in list of OpenAI's prices; a model in neither, or a task without `model`, is priced as `gpt-5-codex`.",
      ),
    notify: z
      .array(z.string())
      .min(1)
      .describe(
        'A command run when the run needs you and when it ends, e.g. `[notify-send, "bearing {event}", "{message}"]`: one list item per argument, no shell; `{event}`, `{task}`, `{message}` and `{project}` are replaced inside each. Events: `task-paused`, `run-stopped` (a failure stopped the run), `limit-wait` (a usage-limit wait starts), `auth-error` (a CLI could not log in), and `run-end`. It runs beside the run for at most 10 seconds; its output is dropped, and its first failure is reported once.',
      ),
  })
  .partial()
  .describe('How `bearing run` behaves.');

export const configFileSchema = z
  .strictObject({
    $schema: z.string().describe('Editor hint: path or URL of the Bearing JSON Schema.'),
    defaults: taskDefaultsSchema.describe('Defaults for every task in the project.'),
    agents: z
      .record(z.string(), customAgentSchema)
      .describe('Custom agents by name; a task selects one with `cli: <name>`.'),
    run: runSettingsSchema,
  })
  .partial()
  .describe('Bearing project configuration (`bearing/config.yaml`).');

export type WrittenTask = z.infer<typeof taskSchema>;
export type WrittenTaskDefaults = z.infer<typeof taskDefaultsSchema>;
export type WrittenTaskFile = z.infer<typeof taskFileSchema>;
export type WrittenConfig = z.infer<typeof configFileSchema>;
export type WrittenCustomAgent = z.infer<typeof customAgentSchema>;

/**
 * Built-in values for every key that has one. `undefined` means "not passed:
 * the agent CLI's own default applies" and is documented as such.
 */
export const BUILTIN_DEFAULTS = {
  task: {
    cli: 'claude',
    model: undefined,
    effort: undefined,
    budget_usd: undefined,
    max_turns: undefined,
    timeout: '30m',
    idle_timeout: '10m',
    permission_mode: 'auto',
    sandbox: 'workspace-write',
    focus: [] as string[],
    skip: [] as string[],
    checkpoint: 'auto',
    on_failure: 'retry',
    retries: 1,
    retry_mode: 'auto',
    verify: undefined,
    expect_changes: undefined,
    name: undefined,
    depends_on: [] as string[],
    prompt: undefined,
    run: undefined,
    id: undefined,
  },
  agent: {
    args: ['{prompt}'],
    prompt_input: 'argument',
    output: 'text',
    install_hint: undefined,
    command: undefined,
  },
  run: {
    concurrency: 1,
    prompt_format: 'structured',
    context_limit: 8000,
    wait_for_limits: true,
    max_log_size: '64MB',
    min_free_space: '512MB',
    isolation: 'auto',
    branch: undefined,
    worktree_dir: 'bearing/.state/worktrees',
    conflict_retries: 1,
    queue: undefined,
    remote: 'origin',
    max_cost_usd: undefined,
    codex_prices: undefined,
    notify: undefined,
  },
} as const satisfies {
  task: Record<keyof typeof taskOnlyShape | TaskSettingKey, unknown>;
  agent: Record<keyof z.infer<typeof customAgentSchema>, unknown>;
  run: Record<keyof z.infer<typeof runSettingsSchema>, unknown>;
};

/** What "no built-in default" means for each key without one, for documentation. */
export const UNSET_MEANING: Partial<
  Record<
    | keyof typeof BUILTIN_DEFAULTS.task
    | keyof typeof BUILTIN_DEFAULTS.agent
    | keyof typeof BUILTIN_DEFAULTS.run,
    string
  >
> = {
  branch: 'the branch checked out when the run starts',
  queue: 'attempts run on this machine',
  model: "the CLI's default model",
  effort: "the CLI's default effort",
  budget_usd: 'no ceiling',
  max_turns: 'no limit',
  verify: 'no gate',
  expect_changes: '`true` for agent tasks, `false` for shell tasks',
  name: 'the id',
  prompt: 'required for agent tasks',
  run: 'required for shell tasks',
  id: 'required',
  command: 'required',
  install_hint: 'a generic hint naming the command',
  max_cost_usd: 'no spend cap',
  codex_prices: "OpenAI's list prices, built in",
  notify: 'no notifications',
};
