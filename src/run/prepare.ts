/**
 * What the next attempt of a task will be, before anything runs: its number,
 * whether it resumes the agent's session or starts from a newly assembled
 * prompt, the argv, and what its output parser must know. `bearing run` and
 * `bearing prompt` both ask here, so the preview is the prompt the agent gets.
 * Pure, like the adapters it calls.
 */
import { adapterFor } from '../agents/registry.js';
import type { AgentAdapter, AgentInvocation, ParserOptions } from '../agents/types.js';
import { nextAttempt } from '../core/attempt.js';
import { codexPrice } from '../core/codex-prices.js';
import { assemblePrompt, resumePrompt } from '../core/prompt.js';
import { addUsage, type RunState, ZERO_USAGE } from '../core/state.js';
import type { OutputFormat, Plan, PromptFormat, Task } from '../core/task.js';

export interface PreparedPrompt {
  /** 1-based attempt number (also the run directory name). */
  attempt: number;
  /** The agent session this attempt resumes; absent when it starts fresh. */
  resumeSessionId?: string;
  /** After an attempt that did not complete: whether this one resumes or starts fresh, and why. */
  retryWhy?: string;
  /** Empty for shell tasks, which run `task.run` and receive no prompt. */
  prompt: string;
  adapter: AgentAdapter;
}

export interface PreparedAttempt extends PreparedPrompt {
  invocation: AgentInvocation;
  parserOptions: ParserOptions | undefined;
}

/** The next attempt's number and prompt: the resume note, or the whole assembled prompt. */
export function preparePrompt(
  plan: Plan,
  state: RunState,
  task: Task,
  format: PromptFormat = plan.run.promptFormat,
  resume = true,
): PreparedPrompt {
  const adapter = adapterFor(task, plan.agents);
  const next = nextAttempt(state.tasks[task.id], adapter.resumable && resume, task.retryMode);
  const resumeSessionId = next.retry ? next.resumeSessionId : undefined;
  // A resumed session holds the task and its context: it is told only what went wrong.
  const prompt =
    task.cli === 'shell'
      ? ''
      : next.retry && resumeSessionId !== undefined
        ? resumePrompt(next.retry, format)
        : assemblePrompt(plan, state, task, {
            format,
            contextLimit: plan.run.contextLimit,
            ...(next.retry ? { retry: next.retry } : {}),
          });
  return {
    attempt: next.attempt,
    ...(resumeSessionId !== undefined ? { resumeSessionId } : {}),
    ...(next.why !== undefined ? { retryWhy: next.why } : {}),
    prompt,
    adapter,
  };
}

/** Everything the attempt needs to be spawned and read. */
export function prepareAttempt(
  plan: Plan,
  state: RunState,
  task: Task,
  /** `resume: false`: never resume a session (it lives on another machine). */
  options: { isGitRepo: boolean; resume?: boolean },
): PreparedAttempt {
  const prepared = preparePrompt(plan, state, task, undefined, options.resume ?? true);
  const { adapter, prompt, resumeSessionId } = prepared;
  const invocation = adapter.buildInvocation({
    task,
    prompt,
    isGitRepo: options.isGitRepo,
    ...(resumeSessionId !== undefined ? { resumeSessionId } : {}),
    ...(plan.agents[task.cli] ? { agent: plan.agents[task.cli]! } : {}),
  });
  return {
    ...prepared,
    invocation,
    parserOptions: parserOptions(plan, state, task, adapter.output, resumeSessionId),
  };
}

/**
 * codex reports usage cumulatively per session: on resume, the parser
 * subtracts what the earlier attempts of that session already reported.
 */
function parserOptions(
  plan: Plan,
  state: RunState,
  task: Task,
  output: OutputFormat,
  resumeSessionId: string | undefined,
): ParserOptions | undefined {
  // codex prints no cost: the parser estimates it at the model's price.
  const price = output === 'codex' ? codexPrice(task.model, plan.run.codexPrices) : undefined;
  if (resumeSessionId === undefined) return price ? { codexPrice: price } : undefined;
  const previousUsage = (state.tasks[task.id]?.attempts ?? [])
    .filter((a) => a.sessionId === resumeSessionId && a.usage)
    .reduce((sum, a) => addUsage(sum, a.usage!), ZERO_USAGE);
  return { previousUsage, ...(price ? { codexPrice: price } : {}) };
}
