/**
 * The commander program: global options and one registration per command.
 * Only the invoked command's module is imported, so `bearing validate` does
 * not pay for loading execa, chokidar and the run loop; top-level help and
 * unknown commands load them all.
 */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import type { CommandContext } from './context.js';
import { EXIT_DESCRIPTIONS } from './exit-codes.js';

type Register = (program: Command, ctx: CommandContext) => void;

/** In the order `bearing --help` lists them. */
const COMMANDS: Record<string, () => Promise<Register[]>> = {
  init: async () => [(await import('./commands/init.js')).registerInit],
  start: async () => [(await import('./commands/start.js')).registerStart],
  validate: async () => [(await import('./commands/validate.js')).registerValidate],
  run: async () => [(await import('./commands/run.js')).registerRun],
  status: async () => [(await import('./commands/status.js')).registerStatus],
  watch: async () => [(await import('./commands/watch.js')).registerWatch],
  prompt: async () => [(await import('./commands/prompt.js')).registerPrompt],
  approve: async () => [(await import('./commands/review.js')).registerReview],
  log: async () => [(await import('./commands/log.js')).registerLog],
};
/** Commands registered by another command's module. */
const ALIASES: Record<string, string> = { summary: 'status', retry: 'approve' };

export async function buildProgram(ctx: CommandContext, argv: readonly string[]): Promise<Command> {
  const program = new Command('bearing')
    .description(
      'Plan with an AI, then have headless AI coding agents build it: task files in bearing/tasks/, run in dependency order, results in bearing/status.md.',
    )
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.output.out(s.replace(/\n$/, '')),
      writeErr: (s) => ctx.output.err(s.replace(/\n$/, '')),
    })
    .addHelpText(
      'after',
      `\nExit codes:\n${Object.entries(EXIT_DESCRIPTIONS)
        .map(([code, text]) => `  ${code.padStart(3)}  ${text}`)
        .join('\n')}`,
    );
  const invoked = argv.slice(2).find((a) => !a.startsWith('-'));
  const name = invoked === undefined ? undefined : (ALIASES[invoked] ?? invoked);
  const loaders =
    name !== undefined && name in COMMANDS && invoked !== 'help'
      ? [COMMANDS[name]!]
      : Object.values(COMMANDS);
  for (const load of loaders) for (const register of await load()) register(program, ctx);
  return program;
}
