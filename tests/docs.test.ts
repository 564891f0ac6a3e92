import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inboxDir } from '../src/state/inbox.js';
import {
  journalFile,
  lockFile,
  planCacheFile,
  runsDir,
  stateDir,
  stateFile,
} from '../src/state/paths.js';
import { referenceMarkdown } from '../src/tasks/reference.js';
import { BUILTIN_DEFAULTS, taskOnlyShape, taskSettingsShape } from '../src/tasks/schema.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README task file reference', () => {
  it('is what scripts/generate-docs.js generates from the schema (run `npm run generate`)', () => {
    const start = readme.indexOf('<!-- reference:start');
    const from = readme.indexOf('\n', start) + 1;
    const to = readme.indexOf('<!-- reference:end -->');
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(from, to)).toBe(`${referenceMarkdown()}\n`);
  });

  it('documents every task key with its built-in default', () => {
    for (const key of [...Object.keys(taskOnlyShape), ...Object.keys(taskSettingsShape)]) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${key}\` |`));
      expect(row, key).toBeDefined();
      const value = (BUILTIN_DEFAULTS.task as Record<string, unknown>)[key];
      if (typeof value === 'string' || typeof value === 'number')
        expect(row).toContain(`\`${value}\``);
    }
  });
});

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ARCHITECTURE = 'docs/architecture.md';

/** Relative links in a markdown file (`[text](target)`), without their #fragment. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith('#'))
    .map((target) => target.replace(/#.*$/, ''));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(e.name) ? [path] : [];
  });
}

describe('docs/architecture.md', () => {
  it('is linked from the README', () => {
    expect(relativeLinks(readme)).toContain(ARCHITECTURE);
  });

  it('and the README link only to files that exist', () => {
    for (const file of ['README.md', ARCHITECTURE]) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const target of relativeLinks(text)) {
        expect(existsSync(join(ROOT, dirname(file), target)), `${file} -> ${target}`).toBe(true);
      }
    }
  });

  it('is what source comments cite: none cites DESIGN.md, which the repository does not contain', () => {
    const citing = ['src', 'scripts', 'bench']
      .flatMap((d) => sourceFiles(join(ROOT, d)))
      .filter((f) => readFileSync(f, 'utf8').includes('DESIGN.md'))
      .map((f) => relative(ROOT, f));
    expect(citing).toEqual([]);
  });

  it('names every file and folder Bearing keeps under bearing/.state/', () => {
    const doc = readFileSync(join(ROOT, ARCHITECTURE), 'utf8');
    const root = '/project';
    const state = stateDir(root);
    const worktrees = join(root, BUILTIN_DEFAULTS.run.worktree_dir);
    const names = [
      stateFile(root),
      journalFile(root),
      lockFile(root),
      planCacheFile(root),
      runsDir(root),
      inboxDir(root),
      worktrees,
    ].map((p) => relative(state, p));
    for (const name of [...names, '.gitignore']) expect(doc, name).toContain(name);
  });
});
