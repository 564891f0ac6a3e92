/**
 * The task-file reference in the README and the planner prompts, generated
 * from the zod schema's descriptions and the built-in defaults so that the
 * documentation says exactly what the validator accepts.
 */
import type { z } from 'zod';
import {
  BUILTIN_DEFAULTS,
  customAgentSchema,
  runSettingsSchema,
  SIZE_KEYS,
  taskOnlyShape,
  taskSettingsShape,
  UNSET_MEANING,
} from './schema.js';

export interface FieldDoc {
  key: string;
  type: string;
  default: string;
  description: string;
}

/** The schema inside `.optional()` (config sections are `.partial()`). */
function unwrap(schema: z.ZodType): z.ZodType {
  const def = (schema as unknown as { def: { type: string; innerType?: z.ZodType } }).def;
  return def.type === 'optional' && def.innerType ? unwrap(def.innerType) : schema;
}

function typeOf(schema: z.ZodType): string {
  const def = (
    schema as unknown as {
      def: {
        type: string;
        options?: unknown[];
        entries?: Record<string, string>;
        element?: z.ZodType;
      };
    }
  ).def;
  switch (def.type) {
    case 'enum':
      return Object.values(def.entries ?? {}).join(' \\| ');
    case 'array':
      return `list of ${def.element ? typeOf(def.element) : 'values'}`;
    case 'union':
      return 'duration';
    case 'number':
      return (schema as unknown as { isInt?: boolean }).isInt ? 'integer' : 'number';
    default:
      return def.type;
  }
}

function formatDefault(value: unknown, unset: string | undefined): string {
  if (value === undefined) return unset ? `(${unset})` : '';
  if (Array.isArray(value)) return value.length ? `\`${JSON.stringify(value)}\`` : '`[]`';
  return `\`${String(value)}\``;
}

function docs(
  shape: Record<string, z.ZodType>,
  defaults: Record<string, unknown>,
  unset: Record<string, string | undefined> = {},
): FieldDoc[] {
  return Object.entries(shape).map(([key, wrapped]) => {
    const schema = unwrap(wrapped);
    return {
      key,
      type: SIZE_KEYS.has(key) ? 'size' : typeOf(schema),
      default: formatDefault(defaults[key], unset[key]),
      description: wrapped.description ?? schema.description ?? '',
    };
  });
}

/** Every task key: the per-task ones first, then those that may also be defaults. */
export function taskFieldDocs(): FieldDoc[] {
  return [
    ...docs(taskOnlyShape, BUILTIN_DEFAULTS.task, UNSET_MEANING),
    ...docs(taskSettingsShape, BUILTIN_DEFAULTS.task, UNSET_MEANING),
  ];
}

export function configFieldDocs(): { agents: FieldDoc[]; run: FieldDoc[] } {
  return {
    agents: docs(customAgentSchema.shape, BUILTIN_DEFAULTS.agent, UNSET_MEANING),
    run: docs(runSettingsSchema.shape, BUILTIN_DEFAULTS.run, UNSET_MEANING),
  };
}

function table(rows: FieldDoc[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    '| key | type | default | meaning |',
    '|---|---|---|---|',
    ...rows.map((r) => `| \`${r.key}\` | ${r.type} | ${r.default} | ${cell(r.description)} |`),
  ].join('\n');
}

/** Markdown for the README between the reference markers. */
export function referenceMarkdown(): string {
  const config = configFieldDocs();
  return [
    '### Task keys',
    '',
    "Any key from `cli` down may also be set in a task file's `defaults:` or in `config.yaml` `defaults:`. Precedence: task > file defaults > config defaults > built-in default.",
    '',
    table(taskFieldDocs()),
    '',
    '### `config.yaml` `agents.<name>`',
    '',
    table(config.agents),
    '',
    '### `config.yaml` `run`',
    '',
    table(config.run),
  ].join('\n');
}
