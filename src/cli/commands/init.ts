import type { Command } from 'commander';
import type { CommandContext } from '../context.js';

export function registerInit(program: Command, _ctx: CommandContext): void {
  program.command('init [dir]').description('Create bearing/ in a project');
}
