/**
 * The commander program: global options and one registration per command.
 * Every command is declared, so `bearing --help` and a mistyped command can
 * list them all; a command's module declares it with light imports only and
 * imports the use case it runs (and with it execa, chokidar, zod or yaml)
 * when its action starts, so startup pays for none of them.
 */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerInit } from './commands/init.js';
import { registerLog } from './commands/log.js';
import { registerPrompt } from './commands/prompt.js';
import { registerReview } from './commands/review.js';
import { registerRun } from './commands/run.js';
import { registerStart } from './commands/start.js';
import { registerStatus } from './commands/status.js';
import { registerValidate } from './commands/validate.js';
import { registerWatch } from './commands/watch.js';
import type { CommandContext } from './context.js';
import { EXIT_DESCRIPTIONS } from './exit-codes.js';

/** In the order `bearing --help` lists them (status adds summary, review adds approve and retry). */
const COMMANDS = [
  registerInit,
  registerStart,
  registerValidate,
  registerRun,
  registerStatus,
  registerWatch,
  registerPrompt,
  registerReview,
  registerLog,
];

export function buildProgram(ctx: CommandContext): Command {
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
  for (const register of COMMANDS) register(program, ctx);
  return program;
}
