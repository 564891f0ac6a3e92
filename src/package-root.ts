import { existsSync } from 'node:fs';

/**
 * The installed package's folder, which holds package.json, bin/, web/,
 * schema/ and planner-prompts/. The code runs from dist/ as tsc writes it
 * (tests import it there) and from dist/bundle/ as `bearing` runs it, one
 * folder deeper, so the folder is found from this module's place, not
 * counted from it.
 */
export const PACKAGE_ROOT: URL = (() => {
  let dir = new URL('./', import.meta.url);
  for (let up = 0; up < 3; up++) {
    if (existsSync(new URL('package.json', dir))) return dir;
    dir = new URL('../', dir);
  }
  return new URL('../', import.meta.url);
})();
