import type { Command } from 'commander';
import type { CommandContext } from '../context.js';

export function registerValidate(program: Command, _ctx: CommandContext): void {
  program.command('validate [dir]').description('Check task files');
}
