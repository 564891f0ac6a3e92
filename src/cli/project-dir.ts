import { resolve } from 'node:path';
import type { CommandContext } from './context.js';

/** The project root a command works on: the `[dir]` argument, resolved against the cwd. */
export function resolveProjectDir(ctx: CommandContext, dir: string | undefined): string {
  return resolve(ctx.cwd, dir ?? '.');
}
