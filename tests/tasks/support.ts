/** Loads a fixture project through both entry points and returns what a user would see. */
import { expect } from 'vitest';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { type LoadResult, loadProject } from '../../src/tasks/load.js';
import { loadProjectSync } from '../../src/tasks/load-sync.js';
import { type FixtureFiles, useFixtures } from '../helpers/fixtures.js';

export function useProjects() {
  const fixtures = useFixtures();

  /** Load `files` (paths relative to the project root) with the project as display base. */
  async function load(files: FixtureFiles): Promise<LoadResult> {
    const fx = await fixtures.create(files);
    const result = await loadProject(fx.dir, { displayBase: fx.dir });
    // The blocking variant must agree exactly, except for the absolute temp paths it shares.
    expect(loadProjectSync(fx.dir, { displayBase: fx.dir })).toEqual(result);
    if (result.diagnostics.length > 0) expect(result.plan).toBeUndefined();
    return result;
  }

  /** The formatted diagnostics (`file:line:col: field: message`) of an invalid project. */
  async function problems(files: FixtureFiles): Promise<string[]> {
    const result = await load(files);
    expect(result.plan).toBeUndefined();
    return result.diagnostics.map(formatDiagnostic);
  }

  /** The plan of a valid project; fails the test with the diagnostics otherwise. */
  async function plan(files: FixtureFiles) {
    const result = await load(files);
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
    return result.plan!;
  }

  return { fixtures, load, problems, plan };
}

/** Task file text from lines, so fixtures read like the YAML they stand for. */
export const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;
