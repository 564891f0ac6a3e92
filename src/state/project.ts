/**
 * Which folder is a Bearing project, and finding the one a folder is in, the
 * way git finds its repository: from the folder up through its parents.
 * Only reads; nothing here creates a file.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { configFile, tasksDir } from './paths.js';

/**
 * A project is a folder whose bearing/ holds config.yaml or tasks/: the files
 * that matter. A bearing/ holding only .state/ (left by an older `bearing
 * watch`) or a source folder that happens to be called bearing/ is not one.
 */
export function isProjectRoot(dir: string): boolean {
  return isFile(configFile(dir)) || isDirectory(tasksDir(dir));
}

export type ProjectLookup =
  | { kind: 'found'; root: string }
  /** `top` is the last folder looked in: the repository's root, or the file system's. */
  | { kind: 'none'; top: string; gitRoot: boolean };

/**
 * The nearest project at `start` or above it. The search stops at the root of
 * the git repository `start` is in (the folder holding `.git`, a folder or a
 * worktree's file), so a project never reaches into an enclosing repository,
 * and otherwise at the file system's root.
 */
export function findProjectRoot(start: string): ProjectLookup {
  let dir = start;
  for (;;) {
    if (isProjectRoot(dir)) return { kind: 'found', root: dir };
    if (existsSync(join(dir, '.git'))) return { kind: 'none', top: dir, gitRoot: true };
    const parent = dirname(dir);
    if (parent === dir) return { kind: 'none', top: dir, gitRoot: false };
    dir = parent;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A folder that exists (a missing path, a file or an unreadable one is not). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
