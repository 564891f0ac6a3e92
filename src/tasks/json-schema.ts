/**
 * JSON Schemas for editors (yaml-language-server, VS Code), generated from
 * the zod schema so completion and checking match `bearing validate`:
 * descriptions come from `.describe()`, defaults from BUILTIN_DEFAULTS, and
 * id/duration/size patterns and lower bounds from rules.ts. The shipped copies in
 * schema/ are written by scripts/generate-schema.js; a test fails when they
 * are stale.
 */
import { z } from 'zod';
import { DURATION_KEYS } from './entity.js';
import { NUMBER_RULES } from './rules.js';
import {
  BUILTIN_CLIS,
  BUILTIN_DEFAULTS,
  configFileSchema,
  customAgentSchema,
  DURATION_PATTERN,
  runSettingsSchema,
  SIZE_KEYS,
  SIZE_PATTERN,
  TASK_ID_MAX_LENGTH,
  TASK_ID_PATTERN,
  taskDefaultsSchema,
  taskFileSchema,
  taskSchema,
} from './schema.js';

/** A JSON Schema (or part of one) as plain data. */
export type JsonObject = { [key: string]: unknown };

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

function toJson(schema: z.ZodType): JsonObject {
  const out = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) as JsonObject;
  delete out.$schema;
  return out;
}

function propertiesOf(schema: JsonObject): Record<string, JsonObject> {
  return schema.properties as Record<string, JsonObject>;
}

/** Attach defaults, patterns and bounds to the properties of one object schema. */
function decorate(schema: JsonObject, defaults: Readonly<Record<string, unknown>>): JsonObject {
  const props = propertiesOf(schema);
  for (const [key, prop] of Object.entries(props)) {
    if (DURATION_KEYS.has(key)) {
      delete prop.type;
      prop.anyOf = [
        { type: 'string', pattern: DURATION_PATTERN.source },
        { type: 'number', exclusiveMinimum: 0 },
      ];
    }
    if (SIZE_KEYS.has(key)) {
      delete prop.type;
      prop.anyOf = [
        { type: 'string', pattern: SIZE_PATTERN.source },
        { type: 'integer', minimum: 0 },
      ];
    }
    const rule = NUMBER_RULES[key];
    if (rule) {
      delete prop.minimum;
      delete prop.maximum;
      if (rule.exclusive) prop.exclusiveMinimum = rule.min;
      else prop.minimum = rule.min;
    }
    if (key === 'id') {
      prop.pattern = TASK_ID_PATTERN.source;
      prop.maxLength = TASK_ID_MAX_LENGTH;
    }
    if (key === 'depends_on') (prop.items as JsonObject).pattern = TASK_ID_PATTERN.source;
    if (key === 'cli') prop.examples = [...BUILTIN_CLIS];
    const value = defaults[key];
    if (value !== undefined) prop.default = structuredClone(value);
  }
  return schema;
}

function schemaKeyProperty(): JsonObject {
  return toJson(taskFileSchema.shape.$schema.unwrap());
}

function taskJson(): JsonObject {
  return { ...decorate(toJson(taskSchema), BUILTIN_DEFAULTS.task), required: ['id'] };
}

/**
 * A task file: one task (a mapping with `id`), or `tasks:` with optional
 * `defaults:`. `$schema` is allowed in both forms so the editor hint can sit
 * in any file.
 */
export function taskFileJsonSchema(): JsonObject {
  const task = taskJson();
  const single: JsonObject = {
    ...task,
    title: 'One task',
    properties: { $schema: schemaKeyProperty(), ...propertiesOf(task) },
  };
  const multi: JsonObject = {
    type: 'object',
    title: 'Several tasks',
    description: taskFileSchema.description,
    properties: {
      $schema: schemaKeyProperty(),
      defaults: { $ref: '#/$defs/taskDefaults' },
      tasks: {
        type: 'array',
        description: taskFileSchema.shape.tasks.unwrap().description,
        items: { $ref: '#/$defs/task' },
      },
    },
    required: ['tasks'],
    additionalProperties: false,
  };
  return {
    $schema: DRAFT,
    title: 'Bearing task file',
    description:
      'A file in bearing/tasks/: one task (a mapping with id:) or a list of tasks under tasks:, with optional defaults:.',
    anyOf: [single, multi],
    $defs: {
      task,
      taskDefaults: decorate(toJson(taskDefaultsSchema), BUILTIN_DEFAULTS.task),
    },
  };
}

/** `bearing/config.yaml`. */
export function configJsonSchema(): JsonObject {
  const root = toJson(configFileSchema);
  const props = propertiesOf(root);
  props.defaults = decorate(toJson(taskDefaultsSchema), BUILTIN_DEFAULTS.task);
  props.defaults.description = configFileSchema.shape.defaults.unwrap().description;
  props.agents = {
    type: 'object',
    description: configFileSchema.shape.agents.unwrap().description,
    propertyNames: { not: { enum: [...BUILTIN_CLIS] } },
    additionalProperties: {
      ...decorate(toJson(customAgentSchema), BUILTIN_DEFAULTS.agent),
      required: ['command'],
    },
  };
  props.run = decorate(toJson(runSettingsSchema), BUILTIN_DEFAULTS.run);
  return { $schema: DRAFT, title: 'Bearing config.yaml', ...root };
}

/** The files shipped in schema/, by name, as their exact text. */
export function schemaFiles(): Record<string, string> {
  const text = (schema: JsonObject) => `${JSON.stringify(schema, null, 2)}\n`;
  return {
    'task-file.schema.json': text(taskFileJsonSchema()),
    'config.schema.json': text(configJsonSchema()),
  };
}
