/**
 * Written form -> the normalised types the rest of Bearing uses: precedence
 * applied (task > file `defaults:` > config.yaml `defaults:` > built-in),
 * durations in milliseconds, sizes in bytes, camelCase. Only called on input that passed
 * validation, so a failure here is a bug and throws.
 */
import type { CustomAgent, RunSettings, SourceLocation, Task } from '../core/task.js';
import { parseDuration } from './duration.js';
import {
  BUILTIN_DEFAULTS,
  type TaskSettingKey,
  type WrittenConfig,
  type WrittenCustomAgent,
  type WrittenTask,
  type WrittenTaskDefaults,
} from './schema.js';

import { parseSize } from './size.js';

type Builtin = typeof BUILTIN_DEFAULTS.task;

function durationMs(value: string | number): number {
  const parsed = parseDuration(value);
  if (!parsed.ok)
    throw new Error(`bug: unvalidated duration reached normalisation: ${parsed.error}`);
  return parsed.value;
}

function sizeBytes(value: string | number): number {
  const parsed = parseSize(value);
  if (!parsed.ok) throw new Error(`bug: unvalidated size reached normalisation: ${parsed.error}`);
  return parsed.value;
}

/**
 * One task with precedence applied. `layers` are the defaults from the most
 * to the least specific: the file's `defaults:`, then config.yaml's.
 * Lists (focus, skip) are replaced by a more specific value, never merged.
 */
export function normalizeTask(
  task: WrittenTask,
  layers: readonly (WrittenTaskDefaults | undefined)[],
  source: SourceLocation,
): Task {
  function pick<K extends TaskSettingKey>(key: K): NonNullable<WrittenTask[K]> | Builtin[K] {
    const own = task[key];
    if (own !== undefined) return own as NonNullable<WrittenTask[K]>;
    for (const layer of layers) {
      const value = layer?.[key];
      if (value !== undefined) return value as NonNullable<WrittenTask[K]>;
    }
    return BUILTIN_DEFAULTS.task[key];
  }
  const id = task.id;
  if (id === undefined) throw new Error('bug: a task without an id reached normalisation');
  const out: Task = {
    id,
    name: task.name ?? id,
    cli: pick('cli'),
    timeoutMs: durationMs(pick('timeout')),
    idleTimeoutMs: durationMs(pick('idle_timeout')),
    permissionMode: pick('permission_mode'),
    sandbox: pick('sandbox'),
    focus: [...pick('focus')],
    skip: [...pick('skip')],
    dependsOn: [...(task.depends_on ?? [])],
    checkpoint: pick('checkpoint'),
    onFailure: pick('on_failure'),
    retries: pick('retries'),
    retryMode: pick('retry_mode'),
    expectChanges: false,
    source,
  };
  // A shell task has no model or effort, whatever the defaults say.
  const agentTask = out.cli !== 'shell';
  // A shell step is often a check that changes nothing; an agent task is asked for work.
  out.expectChanges = pick('expect_changes') ?? agentTask;
  const model = pick('model');
  if (model !== undefined && agentTask) out.model = model;
  const effort = pick('effort');
  if (effort !== undefined && agentTask) out.effort = effort;
  const budget = pick('budget_usd');
  if (budget !== undefined) out.budgetUsd = budget;
  const maxTurns = pick('max_turns');
  if (maxTurns !== undefined) out.maxTurns = maxTurns;
  const verify = pick('verify');
  if (verify !== undefined) out.verify = verify;
  if (task.prompt !== undefined) out.prompt = task.prompt;
  if (task.run !== undefined) out.run = task.run;
  return out;
}

/** Custom agents with `args`, `prompt_input` and `output` defaulted. */
export function normalizeAgents(
  agents: Iterable<readonly [string, WrittenCustomAgent]>,
): Record<string, CustomAgent> {
  return Object.fromEntries(
    [...agents].map(([name, agent]): [string, CustomAgent] => {
      if (agent.command === undefined) throw new Error(`bug: agent "${name}" has no command`);
      const promptInput = agent.prompt_input ?? BUILTIN_DEFAULTS.agent.prompt_input;
      // `{prompt}` is the default template only when the prompt is an argument.
      const defaultArgs = promptInput === 'stdin' ? [] : BUILTIN_DEFAULTS.agent.args;
      const out: CustomAgent = {
        name,
        command: agent.command,
        args: [...(agent.args ?? defaultArgs)],
        output: agent.output ?? BUILTIN_DEFAULTS.agent.output,
        promptInput,
      };
      if (agent.install_hint !== undefined) out.installHint = agent.install_hint;
      return [name, out];
    }),
  );
}

/** `run:` settings with built-in defaults. */
export function normalizeRun(run: WrittenConfig['run']): RunSettings {
  return {
    concurrency: run?.concurrency ?? BUILTIN_DEFAULTS.run.concurrency,
    promptFormat: run?.prompt_format ?? BUILTIN_DEFAULTS.run.prompt_format,
    contextLimit: run?.context_limit ?? BUILTIN_DEFAULTS.run.context_limit,
    waitForLimits: run?.wait_for_limits ?? BUILTIN_DEFAULTS.run.wait_for_limits,
    maxLogBytes: sizeBytes(run?.max_log_size ?? BUILTIN_DEFAULTS.run.max_log_size),
    minFreeBytes: sizeBytes(run?.min_free_space ?? BUILTIN_DEFAULTS.run.min_free_space),
    isolation: run?.isolation ?? BUILTIN_DEFAULTS.run.isolation,
    ...(run?.branch !== undefined ? { branch: run.branch } : {}),
    worktreeDir: run?.worktree_dir ?? BUILTIN_DEFAULTS.run.worktree_dir,
    conflictRetries: run?.conflict_retries ?? BUILTIN_DEFAULTS.run.conflict_retries,
    ...(run?.queue !== undefined ? { queue: run.queue } : {}),
    remote: run?.remote ?? BUILTIN_DEFAULTS.run.remote,
    ...(run?.max_cost_usd !== undefined ? { maxCostUsd: run.max_cost_usd } : {}),
    ...(run?.codex_prices !== undefined
      ? {
          codexPrices: Object.fromEntries(
            Object.entries(run.codex_prices).map(([model, p]) => [
              model,
              { input: p.input, cachedInput: p.cached_input, output: p.output },
            ]),
          ),
        }
      : {}),
    ...(run?.notify !== undefined ? { notify: [...run.notify] } : {}),
  };
}
