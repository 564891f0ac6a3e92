/**
 * Hands the terminal to an interactive program (the planner CLI of `bearing
 * start`) and reports how it ended. Unlike run-process.ts, which runs headless
 * agents in their own process group with stdin closed, this child inherits
 * stdin, stdout and stderr and stays in our process group, so it is the
 * terminal's foreground job: it reads keys, draws its screen and receives
 * Ctrl-C itself. No shell is involved: `args` go to the program as they are.
 */
import { execa } from 'execa';

export interface InteractiveCommand {
  file: string;
  args: readonly string[];
  cwd: string;
  /** The child's whole environment: process.env is not merged in. */
  env: Record<string, string | undefined>;
}

/** How the interactive program ended. */
export type InteractiveEnd =
  | { kind: 'exited'; exitCode: number }
  | { kind: 'signaled'; signal: string }
  | { kind: 'spawn-error'; code?: string; message: string };

export interface InteractiveSession {
  /** Undefined when the program could not be started. */
  pid: number | undefined;
  /** Passes a signal on (SIGTERM or SIGHUP sent to Bearing, say); a no-op once it has ended. */
  kill(signal: NodeJS.Signals): void;
  done: Promise<InteractiveEnd>;
}

/** The function `bearing start` runs the planner with; tests may pass their own. */
export type StartInteractive = (command: InteractiveCommand) => InteractiveSession;

export const startInteractive: StartInteractive = (command) => {
  const child = execa(command.file, [...command.args], {
    cwd: command.cwd,
    env: command.env,
    extendEnv: false,
    shell: false,
    stdio: 'inherit',
    // Not detached: the child must stay in the terminal's foreground process group.
    detached: false,
    // If Bearing itself dies, the planner goes with it instead of fighting a shell for the terminal.
    cleanup: true,
    forceKillAfterDelay: false,
    reject: false,
    verbose: 'none',
  });
  let ended = false;
  const done = child.then(
    (result): InteractiveEnd => {
      ended = true;
      if (typeof result.exitCode === 'number') return { kind: 'exited', exitCode: result.exitCode };
      if (result.signal) return { kind: 'signaled', signal: result.signal };
      const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
      return {
        kind: 'spawn-error',
        ...(code !== undefined ? { code } : {}),
        message: result.shortMessage ?? result.message ?? 'could not start',
      };
    },
    (error: unknown): InteractiveEnd => {
      ended = true;
      return { kind: 'spawn-error', message: String(error) };
    },
  );
  return {
    pid: child.pid,
    kill: (signal) => {
      if (!ended) child.kill(signal);
    },
    done,
  };
};
