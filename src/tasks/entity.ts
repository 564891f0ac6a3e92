/**
 * Validates one mapping (a task, a defaults block, a custom agent, the run
 * settings) against its zod schema plus the value rules, reporting every
 * problem at its line and column, and keeps the keys that were valid so that
 * checks across tasks can still run on a file with mistakes.
 */
import type { z } from 'zod';
import { didYouMean } from '../core/suggest.js';
import { DURATION_EXAMPLES, parseDuration } from './duration.js';
import type { FileReport } from './report.js';
import { checkNumberRule, NUMBER_RULES, TASK_ID_RULE } from './rules.js';
import {
  customAgentSchema,
  runSettingsSchema,
  SIZE_KEYS,
  TASK_ID_MAX_LENGTH,
  TASK_ID_PATTERN,
  taskDefaultsSchema,
  taskOnlyShape,
  taskSchema,
  taskSettingsShape,
} from './schema.js';
import { parseSize, SIZE_EXAMPLES } from './size.js';
import type { Path } from './yaml-file.js';

/** A validated mapping: the keys the user wrote, and those of them that passed. */
export interface Entity {
  report: FileReport;
  path: Path;
  /** Every key written, valid or not (so later checks do not repeat a reported problem). */
  given: ReadonlySet<string>;
  /** Only the keys that passed every check. */
  values: Record<string, unknown>;
}

/** How to validate and describe one kind of mapping. */
export interface EntitySpec {
  schema: z.ZodObject;
  /** What the mapping is, for "expected ..., got ..." when it is not a mapping. */
  what: string;
  /** A message for a key that is known elsewhere but misplaced here. */
  misplaced?: (key: string) => string | undefined;
  /** More names to suggest for unknown keys. */
  alsoSuggest?: readonly string[];
}

/** A task, in either file form. */
export const TASK_SPEC: EntitySpec = {
  schema: taskSchema,
  what: 'a task (a mapping with id:)',
};

/** `defaults:` in a task file or config.yaml: settings only, no per-task keys. */
export const DEFAULTS_SPEC: EntitySpec = {
  schema: taskDefaultsSchema,
  what: 'a mapping of task settings',
  misplaced: (key) =>
    key in taskOnlyShape ? `"${key}" cannot be a default; set it on each task` : undefined,
};

/** One entry of config.yaml `agents:`. */
export const AGENT_SPEC: EntitySpec = {
  schema: customAgentSchema,
  what: 'a custom agent (a mapping with command:)',
};

/** config.yaml `run:`. */
export const RUN_SPEC: EntitySpec = {
  schema: runSettingsSchema,
  what: 'a mapping of run settings',
};

/** Keys whose schema is the duration union. */
export const DURATION_KEYS: ReadonlySet<string> = new Set(
  Object.entries(taskSettingsShape)
    .filter(([, s]) => (s as unknown as { def: { type: string } }).def.type === 'union')
    .map(([k]) => k),
);

/** Unknown keys reported one by one per mapping; a mapping with more is not what it claims to be. */
const MAX_UNKNOWN_KEYS = 20;

const NON_EMPTY: ReadonlySet<string> = new Set(['cli', 'model', 'verify', 'name', 'command']);

/** A YAML mapping as loaded (not a list, a date, binary data or a set). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** `string "3"`, `number 3`, `a list`...: what was found, for messages. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') {
    return value === '' ? 'an empty string' : `string ${JSON.stringify(truncate(value))}`;
  }
  if (typeof value === 'number' || typeof value === 'bigint') return `number ${value}`;
  if (typeof value === 'boolean') return `boolean ${value}`;
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'binary data';
  if (value instanceof Date) return 'a date';
  if (value instanceof Set) return 'a set';
  return 'a mapping';
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

function issueMessage(issue: z.core.$ZodIssue, actual: unknown, key: string): string {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      let hint = '';
      if (
        issue.expected === 'string' &&
        (typeof actual === 'number' || typeof actual === 'boolean')
      ) {
        hint = ' (put it in quotes)';
      } else if (issue.expected === 'array' && typeof actual === 'string') {
        hint = ` (write a list: [${actual}])`;
      }
      return `expected ${expected}, got ${describeValue(actual)}${hint}`;
    }
    case 'invalid_value': {
      const values = issue.values.map(String);
      const got = typeof actual === 'string' ? JSON.stringify(actual) : describeValue(actual);
      const dym = typeof actual === 'string' ? didYouMean(actual, values) : '';
      return `expected one of ${values.join(', ')}, got ${got}${dym}`;
    }
    case 'invalid_union':
      if (DURATION_KEYS.has(key))
        return `expected ${DURATION_EXAMPLES}, got ${describeValue(actual)}`;
      if (SIZE_KEYS.has(key)) return `expected ${SIZE_EXAMPLES}, got ${describeValue(actual)}`;
      return `${issue.message}, got ${describeValue(actual)}`;
    case 'too_big':
      return `expected at most ${String(issue.maximum)}, got ${describeValue(actual)}`;
    case 'too_small':
      return `expected at least ${String(issue.minimum)}, got ${describeValue(actual)}`;
    default:
      return issue.message;
  }
}

/** The id rule: ids become file names, so they must be path-safe. */
export function checkTaskId(id: string): string | undefined {
  if (id.length > TASK_ID_MAX_LENGTH) {
    return `expected an id of at most ${TASK_ID_MAX_LENGTH} characters (ids become file names), got ${id.length} characters`;
  }
  if (TASK_ID_PATTERN.test(id)) return undefined;
  const slug = id
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '');
  const tryThis = slug && slug !== id && TASK_ID_PATTERN.test(slug) ? ` (try "${slug}")` : '';
  return `${TASK_ID_RULE}, got ${JSON.stringify(id)}${tryThis}`;
}

/** Rules beyond the zod types; a message when the value breaks one. */
function checkRule(key: string, value: unknown, spec: EntitySpec): string | undefined {
  if (spec.schema === taskSchema && key === 'id' && typeof value === 'string')
    return checkTaskId(value);
  if (DURATION_KEYS.has(key) && (typeof value === 'string' || typeof value === 'number')) {
    const parsed = parseDuration(value);
    return parsed.ok ? undefined : parsed.error;
  }
  if (SIZE_KEYS.has(key) && (typeof value === 'string' || typeof value === 'number')) {
    const parsed = parseSize(value);
    return parsed.ok ? undefined : parsed.error;
  }
  const rule = NUMBER_RULES[key];
  if (rule && typeof value === 'number') {
    const expected = checkNumberRule(rule, value);
    return expected === undefined ? undefined : `expected ${expected}, got ${value}`;
  }
  if (NON_EMPTY.has(key) && typeof value === 'string' && value.trim() === '') {
    return 'expected a non-empty string, got an empty string';
  }
  return undefined;
}

/**
 * Validate `value` (found at `path`) as `spec`, reporting every problem.
 * Undefined when it is not a mapping at all.
 */
export function validateEntity(
  spec: EntitySpec,
  value: unknown,
  path: Path,
  report: FileReport,
): Entity | undefined {
  if (!isPlainObject(value)) {
    report.value(path, `expected ${spec.what}, got ${describeValue(value)}`);
    return undefined;
  }
  const bad = new Set<string>();
  const result = spec.schema.safeParse(value);
  if (!result.success) {
    const known = Object.keys(spec.schema.shape);
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        const candidates = [...known, ...(spec.alsoSuggest ?? [])];
        issue.keys.forEach((key, i) => {
          bad.add(key);
          if (i > MAX_UNKNOWN_KEYS) return;
          const rest = issue.keys.length - MAX_UNKNOWN_KEYS;
          const message =
            i === MAX_UNKNOWN_KEYS
              ? `${rest} more unknown keys from here on, not shown: is this really ${spec.what}?`
              : (spec.misplaced?.(key) ?? `unknown key "${key}"${didYouMean(key, candidates)}`);
          report.key([...path, key], message);
        });
        continue;
      }
      const key = String(issue.path[0] ?? '');
      bad.add(key);
      const issuePath = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
      report.value([...path, ...issuePath], issueMessage(issue, valueAt(value, issue.path), key));
    }
  }
  for (const [key, v] of Object.entries(value)) {
    if (bad.has(key)) continue;
    const message = checkRule(key, v, spec);
    if (message !== undefined) {
      bad.add(key);
      report.value([...path, key], message);
    }
  }
  const keys = Object.keys(value);
  return {
    report,
    path,
    given: new Set(keys),
    // Nothing changes the values later, so a valid mapping needs no copy.
    values:
      bad.size === 0
        ? value
        : Object.fromEntries(keys.filter((k) => !bad.has(k)).map((k) => [k, value[k]])),
  };
}
