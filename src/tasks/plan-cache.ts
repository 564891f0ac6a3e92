/**
 * The last valid plan, kept in a file under a digest of everything it was
 * built from. `bearing status` and `summary` run far more often than the task
 * files change, and at a thousand tasks parsing and checking them was most of
 * what a status cost; with a matching digest the plan is read back instead,
 * and the YAML parser and the schema are not even imported. The run writes
 * it (the one writer of `.state/`); the reading commands only read it.
 *
 * The digest covers the bytes and paths of config.yaml and every task file,
 * the project's folder (focus paths are judged against it) and the build of
 * Bearing that checked them, so a changed byte, a moved project or another
 * Bearing is a full load. The file is Bearing's own, written whole and
 * renamed into place; anything unexpected in it is a miss, never an error.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Plan } from '../core/task.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { VERSION } from '../version.js';
import { displayPath, type ReadFiles } from './files.js';

/** Bumped when what is stored changes shape. */
const FORMAT = 1;

/**
 * tsc's output of this module: a build rewrites every module, so a rebuilt
 * checkout with other rules does not reuse plans the previous build checked.
 * The same file whether this code runs from it or from the bundle made of it.
 */
const BUILT_MODULE = new URL('dist/tasks/plan-cache.js', PACKAGE_ROOT);

/** This build of Bearing: the version, and when it was built. */
function buildStamp(): string {
  try {
    return `${VERSION}@${statSync(BUILT_MODULE).mtimeMs}`;
  } catch {
    return VERSION;
  }
}

/** The digest of what a plan is built from; undefined when a file could not be read. */
export function planDigest(root: string, read: ReadFiles): string | undefined {
  const hash = createHash('sha256');
  hash.update(`bearing plan cache ${FORMAT}\0${buildStamp()}\0${root}\0`);
  const add = (path: string, content: ReadFiles['taskFiles'][number]['content']): boolean => {
    if (!content.ok) return false;
    hash.update(`${relative(root, path)}\0${content.value.length}\0`);
    hash.update(content.value);
    return true;
  };
  if (read.config && !add(read.configPath, read.config.content)) return undefined;
  for (const [i, file] of read.taskFiles.entries()) {
    if (!add(read.paths[i]!, file.content)) return undefined;
  }
  return hash.digest('hex');
}

interface Stored {
  key: string;
  /** The plan, each task's `source.file` relative to the project's folder. */
  plan: Plan;
}

/** The plan stored under `key`, with source paths shown from `base`; undefined on any mismatch. */
export function readCachedPlan(
  file: string,
  key: string,
  root: string,
  base: string,
): Plan | undefined {
  let stored: Stored;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as Stored;
  } catch {
    return undefined;
  }
  if (stored?.key !== key || !Array.isArray(stored.plan?.tasks)) return undefined;
  const shown = new Map<string, string>();
  const show = (rel: string): string => {
    let display = shown.get(rel);
    if (display === undefined) {
      display = displayPath(join(root, rel), base);
      shown.set(rel, display);
    }
    return display;
  };
  for (const task of stored.plan.tasks) task.source.file = show(task.source.file);
  return stored.plan;
}

/**
 * Keep `plan`, checked from `read`, under `key`: written whole and renamed
 * into place, only into a folder that exists, and best effort (a failed
 * write costs the reading commands a full load, nothing else).
 */
export function writeCachedPlan(
  file: string,
  key: string,
  root: string,
  read: ReadFiles,
  plan: Plan,
): void {
  if (!existsSync(dirname(file))) return;
  const fromDisplay = new Map(read.taskFiles.map((f, i) => [f.display, read.paths[i]!]));
  const tasks: Plan['tasks'] = [];
  for (const task of plan.tasks) {
    const path = fromDisplay.get(task.source.file);
    if (path === undefined) return;
    tasks.push({ ...task, source: { ...task.source, file: relative(root, path) } });
  }
  const stored: Stored = { key, plan: { ...plan, tasks } };
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, JSON.stringify(stored));
    renameSync(temporary, file);
  } catch {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // Nothing more to do: the next load is a full one.
    }
  }
}
