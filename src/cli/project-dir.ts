import { resolve } from 'node:path';
import { findProjectRoot, isDirectory } from '../state/project.js';
import { displayPath } from '../tasks/files.js';
import type { CommandContext } from './context.js';
import { EXIT } from './exit-codes.js';

/** The `[dir]` argument, resolved against the cwd: where init and start create a project. */
export function resolveProjectDir(ctx: CommandContext, dir: string | undefined): string {
  return resolve(ctx.cwd, dir ?? '.');
}

export type ProjectDir = { ok: true; root: string } | { ok: false; message: string };

/**
 * The project a command works on: the nearest folder holding bearing/, from
 * `[dir]` (default: the cwd) up to the root of its git repository, as git
 * finds its own. Paths in the message are shown from where the user is.
 */
export function locateProject(ctx: CommandContext, dir: string | undefined): ProjectDir {
  const start = resolveProjectDir(ctx, dir);
  const shown = (path: string): string => displayPath(path, ctx.cwd);
  // A mistyped folder must not fall through to the project around it.
  if (!isDirectory(start)) return { ok: false, message: `${shown(start)} is not a folder` };
  const found = findProjectRoot(start);
  if (found.kind === 'found') return { ok: true, root: found.root };
  const where =
    found.top === start
      ? shown(start)
      : `${shown(start)} or any folder above it up to ${shown(found.top)}`;
  const limit = found.gitRoot ? ' (the root of its git repository)' : '';
  return {
    ok: false,
    message: `no Bearing project: no bearing/ in ${where}${limit}. Run \`bearing init\` in the project's root folder to create one.`,
  };
}

/**
 * locateProject for a command that can do nothing without a project: the
 * root, or `undefined` after printing why and setting exit code 2.
 */
export function projectRootOrReport(
  ctx: CommandContext,
  command: string,
  dir: string | undefined,
): string | undefined {
  const located = locateProject(ctx, dir);
  if (located.ok) return located.root;
  ctx.output.err(`bearing ${command}: ${located.message}`);
  ctx.setExitCode(EXIT.invalid);
  return undefined;
}
