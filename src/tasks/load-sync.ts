/**
 * loadProject, blocking, for callers that cannot await (tests, scripts). Apart
 * from load.ts because it imports the checks (and the YAML parser and zod)
 * up front, which the reading commands avoid when they reuse a cached plan.
 */
import { currentDir, type LoadOptions, readProjectFilesSync } from './files.js';
import { checkProjectFiles, internalError, type LoadResult } from './load.js';
import { analyseProject } from './project.js';

/** As loadProject, blocking, and with no cache. */
export function loadProjectSync(projectDir: string, options: LoadOptions = {}): LoadResult {
  try {
    return checkProjectFiles(projectDir, readProjectFilesSync(projectDir, options), analyseProject);
  } catch (e) {
    return internalError(projectDir, options.displayBase ?? currentDir(projectDir), e);
  }
}
