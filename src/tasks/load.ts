/**
 * The one entry point for reading and checking a project's `bearing/`
 * folder: files.ts reads the bytes (with a size limit), project.ts checks
 * them. Every problem, including ones reading the disk, comes back as a
 * diagnostic; nothing a user can cause throws.
 *
 * project.ts (and with it the YAML parser and zod) is imported only when
 * files are checked, so a load that reuses a cached plan never loads them.
 */
import { join, resolve } from 'node:path';
import type { Diagnostic } from '../core/diagnostic.js';
import type { Plan } from '../core/task.js';
import { VERSION } from '../version.js';
import {
  currentDir,
  displayPath,
  type LoadOptions,
  type ProjectFiles,
  type ReadFiles,
  readProjectFiles,
  readProjectFilesSync,
} from './files.js';
import { planDigest, readCachedPlan, writeCachedPlan } from './plan-cache.js';
import type { analyseProject } from './project.js';

export { displayPath, type LoadOptions, listTaskFiles, listTaskFilesSync } from './files.js';

/** Everything `bearing validate` and the run loop need from one load. */
export interface LoadResult {
  /** The validated plan; only when there are no diagnostics. */
  plan: Plan | undefined;
  /** Every problem found, sorted by file and position. */
  diagnostics: Diagnostic[];
  /** The task files read, as displayed, in declaration order. */
  files: string[];
}

export interface CachedLoadOptions extends LoadOptions {
  /** Where the run keeps its valid plan (`planCacheFile` in state/paths.ts). */
  cacheFile: string;
}

/** What the checks make of what was read; `analyse` is project.ts's. */
export function checkProjectFiles(
  projectDir: string,
  read: ProjectFiles,
  analyse: typeof analyseProject,
): LoadResult {
  if (!read.ok) return { plan: undefined, diagnostics: [read.diagnostic], files: [] };
  const analysis = analyse({
    config: read.config,
    taskFiles: read.taskFiles,
    projectDir: resolve(projectDir),
  });
  return { plan: analysis.plan, diagnostics: analysis.diagnostics, files: displayed(read) };
}

function displayed(read: ReadFiles): string[] {
  return read.taskFiles.map((f) => f.display);
}

/** A bug while loading, as a diagnostic: the caller reports it like any other problem. */
export function internalError(projectDir: string, base: string, e: unknown): LoadResult {
  const detail = e instanceof Error ? e.message : String(e);
  const diagnostic: Diagnostic = {
    file: displayPath(join(projectDir, 'bearing'), base),
    line: 0,
    col: 0,
    field: '',
    message: `internal error while loading (bearing ${VERSION}): ${detail}; please report it`,
  };
  return { plan: undefined, diagnostics: [diagnostic], files: [] };
}

/**
 * Load and validate `<projectDir>/bearing/`. The plan is returned only when
 * there is no diagnostic; diagnostics are sorted with compareDiagnostics.
 */
export async function loadProject(
  projectDir: string,
  options: LoadOptions = {},
): Promise<LoadResult> {
  const base = options.displayBase ?? currentDir(projectDir);
  try {
    const read = await readProjectFiles(projectDir, { displayBase: base });
    const { analyseProject } = await import('./project.js');
    return checkProjectFiles(projectDir, read, analyseProject);
  } catch (e) {
    return internalError(projectDir, base, e);
  }
}

/**
 * loadProject for the run, which keeps each valid plan for the reading
 * commands: `keep` writes it (plan-cache.ts) under the digest of the very
 * bytes that were checked, whenever the files have changed since. The run
 * calls it once it holds the lock, as the one writer of `.state/`.
 */
export async function loadProjectToKeep(
  projectDir: string,
  options: LoadOptions = {},
): Promise<{ result: LoadResult; keep: ((cacheFile: string) => void) | undefined }> {
  const base = options.displayBase ?? currentDir(projectDir);
  try {
    const read = await readProjectFiles(projectDir, { displayBase: base });
    const { analyseProject } = await import('./project.js');
    const result = checkProjectFiles(projectDir, read, analyseProject);
    const plan = result.plan;
    if (!read.ok || !plan) return { result, keep: undefined };
    const root = resolve(projectDir);
    const keep = (cacheFile: string): void => {
      const key = planDigest(root, read);
      if (key !== undefined) writeCachedPlan(cacheFile, key, root, read, plan);
    };
    return { result, keep };
  } catch (e) {
    return { result: internalError(projectDir, base, e), keep: undefined };
  }
}

/**
 * loadProject for the reading commands (status, summary), which run far
 * more often than the task files change: the plan the run kept
 * (loadProjectToKeep) is reused while every file it was built from is
 * unchanged, so the checks are not even imported. The reading commands
 * write nothing, so after an edit they load in full until the run keeps the
 * new plan. The files are read without awaiting each: a one-shot command has
 * nothing to do meanwhile.
 */
export async function loadProjectCached(
  projectDir: string,
  options: CachedLoadOptions,
): Promise<LoadResult> {
  const base = options.displayBase ?? currentDir(projectDir);
  try {
    const read = readProjectFilesSync(projectDir, { displayBase: base });
    if (!read.ok) return { plan: undefined, diagnostics: [read.diagnostic], files: [] };
    const root = resolve(projectDir);
    const key = planDigest(root, read);
    const cached =
      key === undefined ? undefined : readCachedPlan(options.cacheFile, key, root, base);
    if (cached) return { plan: cached, diagnostics: [], files: displayed(read) };
    const { analyseProject } = await import('./project.js');
    return checkProjectFiles(projectDir, read, analyseProject);
  } catch (e) {
    return internalError(projectDir, base, e);
  }
}
