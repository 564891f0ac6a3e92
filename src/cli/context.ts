/**
 * What every command receives: the terminal and a way to set the exit code.
 * Commands never touch process.* directly except through this.
 */
import type { Output } from '../ui/output.js';
import type { ExitCode } from './exit-codes.js';

export interface CommandContext {
  output: Output;
  setExitCode(code: ExitCode): void;
  /** Environment for child processes and PATH lookups. */
  env: NodeJS.ProcessEnv;
  /** Where relative paths are resolved. */
  cwd: string;
}
