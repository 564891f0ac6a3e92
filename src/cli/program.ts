/**
 * The commander program: global options and one registration per command.
 */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerInit } from './commands/init.js';
import { registerPrompt } from './commands/prompt.js';
import { registerLog } from './commands/log.js';
import { registerReview } from './commands/review.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerWatch } from './commands/watch.js';
import { registerValidate } from './commands/validate.js';
import type { CommandContext } from './context.js';
import { EXIT_DESCRIPTIONS } from './exit-codes.js';

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
  registerInit(program, ctx);
  registerValidate(program, ctx);
  registerRun(program, ctx);
  registerStatus(program, ctx);
  registerWatch(program, ctx);
  registerPrompt(program, ctx);
  registerReview(program, ctx);
  registerLog(program, ctx);
  return program;
}
