/**
 * PATH lookup, so a missing or non-executable CLI is reported before any task
 * starts rather than as a spawn error halfway through a run. Resolves the way
 * execvp does on POSIX, against the environment the child will get.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The absolute path `command` would run as, or undefined. A command with a
 * slash is a path (relative to `cwd`) and is not searched; otherwise each PATH
 * entry is tried in order, an empty entry meaning `cwd` (as execvp does), and
 * no PATH at all meaning /usr/bin:/bin (as libuv does).
 * Only regular files with an execute bit for us count.
 */
export function which(
  command: string,
  env: Record<string, string | undefined>,
  cwd: string = process.cwd(),
): string | undefined {
  if (command === '') return undefined;
  if (command.includes('/')) {
    const candidate = path.resolve(cwd, command);
    return isExecutableFile(candidate) ? candidate : undefined;
  }
  for (const dir of (env.PATH ?? DEFAULT_PATH).split(path.delimiter)) {
    const candidate = path.resolve(cwd, dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** What libuv (and so Node's spawn) searches when the environment has no PATH. */
const DEFAULT_PATH = '/usr/bin:/bin';

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
