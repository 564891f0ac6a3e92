/**
 * Which agent CLIs the given tasks need that are not installed, checked the
 * way the agent will be spawned: on the PATH the agent gets, and a command
 * with a slash (`./agent.sh`) relative to the project, where the agent runs.
 * `bearing run` refuses to start over it (exit 5) and the reading commands
 * say the same, so they share this one check.
 */
import { requiredCommands } from '../agents/registry.js';
import { statusOf } from '../core/graph.js';
import type { RunState } from '../core/state.js';
import type { Plan, Task } from '../core/task.js';
import { which } from '../process/which.js';

export interface MissingCommand {
  cli: string;
  command: string;
  installHint: string;
  /** The tasks that need it, in the order given. */
  tasks: string[];
}

export function missingCommands(
  tasks: readonly Task[],
  plan: Plan,
  env: NodeJS.ProcessEnv,
  root: string,
): MissingCommand[] {
  const out = new Map<string, MissingCommand>();
  // One PATH search per command, not per task: a plan of thousands of tasks
  // names a handful of CLIs.
  const found = new Map<string, boolean>();
  const installed = (command: string): boolean => {
    let known = found.get(command);
    if (known === undefined) {
      known = Boolean(which(command, env, root));
      found.set(command, known);
    }
    return known;
  };
  for (const task of tasks) {
    for (const req of requiredCommands([task], plan.agents)) {
      if (installed(req.command)) continue;
      const entry = out.get(req.command) ?? { ...req, tasks: [] };
      entry.tasks.push(task.id);
      out.set(req.command, entry);
    }
  }
  return [...out.values()];
}

/** The same, for every task that has yet to complete (neither completed nor skipped). */
export function missingForPending(
  plan: Plan,
  state: RunState,
  env: NodeJS.ProcessEnv,
  root: string,
): MissingCommand[] {
  const pending = plan.tasks.filter((t) => {
    const status = statusOf(state, t.id);
    return status !== 'completed' && status !== 'skipped';
  });
  return missingCommands(pending, plan, env, root);
}
