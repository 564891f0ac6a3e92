import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
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
