import type { Command } from 'commander';
import type { CommandContext } from '../context.js';

export function registerPrompt(program: Command, _ctx: CommandContext): void {
  program.command('prompt <id> [dir]').description('Print what an agent receives');
}
