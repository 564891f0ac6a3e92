/**
 * One task file: decides which of the two written forms it uses (one task, or
 * `tasks:` with optional `defaults:`), validates every task in it and returns
 * them as entities for the checks that need all files at once.
 */
import { didYouMean } from '../core/suggest.js';
import {
  DEFAULTS_SPEC,
  describeValue,
  type Entity,
  isPlainObject,
  TASK_SPEC,
  validateEntity,
} from './entity.js';
import type { FileReport } from './report.js';
import { taskFileSchema, taskOnlyShape, taskSettingsShape } from './schema.js';
import type { ParsedYaml, Path, Position } from './yaml-file.js';

/** A validated task with what precedence needs: its file's defaults and where it is written. */
export interface TaskEntity extends Entity {
  /** The `defaults:` of the task's file, if any. */
  fileDefaults: Entity | undefined;
  /** Where the task's mapping starts. */
  source: Position;
}

/** What one task file contributes to the project-wide checks. */
export interface TaskFileResult {
  tasks: TaskEntity[];
  /** The file's own `defaults:` (checked once, not per task). */
  defaults: Entity | undefined;
  /**
   * Ids seen in a file too broken to validate, so that other files'
   * references to them are not reported as unknown on top of the real problem.
   */
  looseIds: string[];
}

const FILE_KEYS = Object.keys(taskFileSchema.shape);
const SCHEMA_KEY = '$schema';
const EXPECTED_FORM = 'one task (a mapping with id:) or a list of tasks under tasks:';

function checkSchemaKey(root: Record<string, unknown>, report: FileReport): void {
  const value = root[SCHEMA_KEY];
  if (value !== undefined && typeof value !== 'string') {
    report.value([SCHEMA_KEY], `expected a string, got ${describeValue(value)}`);
  }
}

function looseIds(value: unknown): string[] {
  if (!isPlainObject(value)) return [];
  if (typeof value.id === 'string') return [value.id];
  if (!Array.isArray(value.tasks)) return [];
  return value.tasks.flatMap((t: unknown) =>
    isPlainObject(t) && typeof t.id === 'string' ? [t.id] : [],
  );
}

function taskEntity(
  value: unknown,
  path: Path,
  report: FileReport,
  fileDefaults: Entity | undefined,
  alsoSuggest?: readonly string[],
): TaskEntity | undefined {
  const spec = alsoSuggest ? { ...TASK_SPEC, alsoSuggest } : TASK_SPEC;
  const entity = validateEntity(spec, value, path, report);
  if (!entity) return undefined;
  // Field by field, not spread: V8 gives each object a spread makes its own
  // hidden class, and every check across thousands of tasks would miss its caches.
  const { given, values } = entity;
  return { report, path, given, values, fileDefaults, source: report.locator.value(path) };
}

/** Validate one parsed task file; every problem goes to `report`. */
export function checkTaskFile(parsed: ParsedYaml, report: FileReport): TaskFileResult {
  const none: TaskFileResult = { tasks: [], defaults: undefined, looseIds: [] };
  if (!parsed.usable) return { ...none, looseIds: looseIds(parsed.value) };
  const root = parsed.value;
  if (parsed.empty) {
    report.at({ line: 1, col: 1 }, '', `empty file: expected ${EXPECTED_FORM}`);
    return none;
  }
  if (!isPlainObject(root)) {
    const hint = Array.isArray(root) ? '; put the list under tasks:' : '';
    report.value([], `expected ${EXPECTED_FORM}, got ${describeValue(root)}${hint}`);
    return none;
  }

  const multi = Object.hasOwn(root, 'tasks') || Object.hasOwn(root, 'defaults');
  if (!multi) {
    checkSchemaKey(root, report);
    const { [SCHEMA_KEY]: _schema, ...task } = root;
    const entity = taskEntity(task, [], report, undefined, ['tasks', SCHEMA_KEY]);
    return { ...none, tasks: entity ? [entity] : [] };
  }

  for (const key of Object.keys(root)) {
    if (FILE_KEYS.includes(key)) continue;
    if (key === 'id') {
      report.key(
        [key],
        'a file holds either one task (with id: at the top) or a list under tasks:, not both; move this task into tasks:',
      );
    } else if (key in taskSettingsShape) {
      report.key([key], `"${key}" is a task setting; put it under defaults: or in a task`);
    } else if (key in taskOnlyShape) {
      report.key([key], `"${key}" belongs in a task; put it in one of the tasks under tasks:`);
    } else {
      report.key([key], `unknown key "${key}"${didYouMean(key, FILE_KEYS)}`);
    }
  }
  checkSchemaKey(root, report);

  const defaults =
    root.defaults === null || root.defaults === undefined
      ? undefined
      : validateEntity(DEFAULTS_SPEC, root.defaults, ['defaults'], report);

  const tasks: TaskEntity[] = [];
  const list = root.tasks;
  if (list === undefined) {
    report.value([], 'missing: a file with defaults: needs a list of tasks under tasks:', 'tasks');
  } else if (!Array.isArray(list)) {
    report.value(['tasks'], `expected a list of tasks, got ${describeValue(list)}`);
  } else {
    list.forEach((item: unknown, i: number) => {
      const entity = taskEntity(item, ['tasks', i], report, defaults);
      if (entity) tasks.push(entity);
    });
  }
  return { tasks, defaults, looseIds: [] };
}
