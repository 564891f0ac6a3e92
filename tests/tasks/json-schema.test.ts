/**
 * The shipped JSON Schemas are generated from the zod schema; these tests
 * fail when the checked-in copies are stale or when a schema key lacks the
 * description and default (or documented meaning when unset) that the
 * reference docs and editors rely on.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  configJsonSchema,
  type JsonObject,
  schemaFiles,
  taskFileJsonSchema,
} from '../../src/tasks/json-schema.js';
import {
  BUILTIN_DEFAULTS,
  configFileSchema,
  customAgentSchema,
  runSettingsSchema,
  TASK_ID_PATTERN,
  taskDefaultsSchema,
  taskFileSchema,
  taskSchema,
  UNSET_MEANING,
} from '../../src/tasks/schema.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('shipped JSON Schemas', () => {
  it.each(Object.entries(schemaFiles()))(
    'schema/%s matches what the code generates (run `npm run schema`)',
    (name, text) => {
      expect(readFileSync(join(root, 'schema', name), 'utf8')).toBe(text);
    },
  );

  it('accepts both task file forms and attaches defaults, patterns and bounds', () => {
    const schema = taskFileJsonSchema();
    const [single, multi] = schema.anyOf as JsonObject[];
    expect(single?.required).toEqual(['id']);
    expect(Object.keys(single?.properties as JsonObject)).toContain('$schema');
    expect(multi?.required).toEqual(['tasks']);
    const task = (schema.$defs as Record<string, JsonObject>).task!;
    const props = task.properties as Record<string, JsonObject>;
    expect(props.id).toMatchObject({ pattern: TASK_ID_PATTERN.source, maxLength: 100 });
    expect(props.timeout).toMatchObject({
      default: '30m',
      anyOf: [{ type: 'string' }, { type: 'number', exclusiveMinimum: 0 }],
    });
    expect(props.budget_usd).toMatchObject({ exclusiveMinimum: 0 });
    expect(props.max_turns).toMatchObject({ type: 'integer', minimum: 1 });
    expect(props.retries).toMatchObject({ minimum: 0, default: 1 });
    expect(props.cli).toMatchObject({ default: 'claude' });
    const config = configJsonSchema();
    const run = (config.properties as Record<string, JsonObject>).run!;
    expect(run.properties).toMatchObject({
      concurrency: { minimum: 1, default: 1 },
      context_limit: { minimum: 500 },
    });
  });
});

type Shape = Record<string, z.ZodType>;
const unwrap = (s: z.ZodType): z.ZodType => {
  const def = (s as unknown as { def: { type: string; innerType?: z.ZodType } }).def;
  return def.type === 'optional' && def.innerType ? unwrap(def.innerType) : s;
};
const shapeOf = (s: z.ZodObject) => s.shape as Shape;

describe('schema.ts documents every key', () => {
  const objects: [string, z.ZodObject][] = [
    ['task file', taskFileSchema],
    ['task', taskSchema],
    ['defaults', taskDefaultsSchema],
    ['config', configFileSchema],
    ['agent', customAgentSchema],
    ['run', runSettingsSchema],
  ];

  it.each(objects)('every key of the %s object has a description', (_, schema) => {
    const missing = Object.entries(shapeOf(schema))
      .filter(([, s]) => !(s.description ?? unwrap(s).description))
      .map(([k]) => k);
    expect(missing).toEqual([]);
  });

  /** Setting keys: each has a built-in default or a documented meaning when unset. */
  const settings: [string, z.ZodObject, Record<string, unknown>][] = [
    ['task', taskSchema, BUILTIN_DEFAULTS.task],
    ['agent', customAgentSchema, BUILTIN_DEFAULTS.agent],
    ['run', runSettingsSchema, BUILTIN_DEFAULTS.run],
  ];
  const undocumented = () =>
    settings.flatMap(([name, schema, defaults]) =>
      Object.keys(shapeOf(schema))
        .filter(
          (k) =>
            defaults[k] === undefined && !(UNSET_MEANING as Record<string, string | undefined>)[k],
        )
        .map((k) => `${name}.${k}`),
    );

  it('every setting has a BUILTIN_DEFAULTS value or an UNSET_MEANING entry', () => {
    expect(undocumented()).toEqual([]);
  });

  it('every key of BUILTIN_DEFAULTS exists in the schema', () => {
    for (const [, schema, defaults] of settings) {
      expect(Object.keys(defaults).sort()).toEqual(Object.keys(shapeOf(schema)).sort());
    }
  });
});
