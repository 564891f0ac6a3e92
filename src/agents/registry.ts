/**
 * Which adapter runs a task, and which commands a plan needs installed, so
 * `bearing run` can say what is missing before starting anything.
 */
import type { CustomAgent, Task } from '../core/task.js';
import { claudeAdapter } from './claude.js';
import { codexAdapter } from './codex.js';
import { customAdapter } from './custom.js';
import { shellAdapter } from './shell.js';
import type { AgentAdapter } from './types.js';

/**
 * The adapter for `task.cli`. Validation has already rejected unknown CLIs,
 * so one reaching here is a bug and throws.
 */
export function adapterFor(task: Task, agents: Record<string, CustomAgent>): AgentAdapter {
  switch (task.cli) {
    case 'claude':
      return claudeAdapter;
    case 'codex':
      return codexAdapter;
    case 'shell':
      return shellAdapter(task.run ?? '');
    default: {
      const agent = Object.hasOwn(agents, task.cli) ? agents[task.cli] : undefined;
      if (!agent) throw new Error(`task "${task.id}": unknown cli "${task.cli}"`);
      return customAdapter(agent);
    }
  }
}

export interface RequiredCommand {
  /** The `cli` value that needs it (`shell` also stands for `verify` gates). */
  cli: string;
  /** The executable looked up on PATH. */
  command: string;
  installHint: string;
}

/**
 * Every executable the tasks need, once each, in task order. `verify` gates
 * run through `sh -c`, so any task with one needs `sh` too.
 */
export function requiredCommands(
  tasks: readonly Task[],
  agents: Record<string, CustomAgent>,
): RequiredCommand[] {
  const seen = new Map<string, RequiredCommand>();
  const add = (cli: string, command: string, installHint: string): void => {
    if (!seen.has(command)) seen.set(command, { cli, command, installHint });
  };
  for (const task of tasks) {
    const adapter = adapterFor(task, agents);
    // The file the adapter would spawn: the one source of truth for the command.
    const { file } = adapter.buildInvocation({ task, prompt: '', isGitRepo: true });
    add(task.cli, file, adapter.installHint);
    if (task.verify !== undefined) add('shell', 'sh', SHELL_INSTALL_HINT);
  }
  return [...seen.values()];
}

const SHELL_INSTALL_HINT = shellAdapter('').installHint;
