/**
 * Everything read from `bearing/`, checked as a whole: each file on its own,
 * then the rules that span files (unique ids, known dependencies and agents,
 * cycles, what each CLI accepts), then, when nothing is wrong, the normalised
 * plan. Pure: bytes in, plan or diagnostics out; load.ts does the reading.
 */

import { LineCounter } from 'yaml';
import { compareDiagnostics, type Diagnostic } from '../core/diagnostic.js';
import { didYouMean } from '../core/suggest.js';
import type { Plan, Task } from '../core/task.js';
import { VERSION } from '../version.js';
import { type ConfigResult, checkConfigFile, EMPTY_CONFIG } from './config-file.js';
import { dependencyOrder } from './dependency-order.js';
import type { Entity } from './entity.js';
import type { SourceFile } from './files.js';
import { IdSuggester } from './id-suggester.js';
import { normalizeAgents, normalizeRun, normalizeTask } from './normalize.js';
import { FileReport, formatPath } from './report.js';
import { focusOutside, focusRelative, foreignModel, MAX_ARGUMENT_PROMPT_BYTES } from './rules.js';
import {
  BUILTIN_CLIS,
  BUILTIN_DEFAULTS,
  EFFORTS_BY_CLI,
  type TaskSettingKey,
  type WrittenCustomAgent,
  type WrittenTask,
  type WrittenTaskDefaults,
} from './schema.js';
import { checkTaskFile, type TaskEntity } from './task-file.js';
import { decodeText, Locator, type ParsedYaml, parseYaml } from './yaml-file.js';

export type { SourceFile } from './files.js';

/** The files of one project as read from disk; see load.ts. */
export interface ProjectInput {
  config: SourceFile | undefined;
  /** In declaration order (sorted by path). */
  taskFiles: SourceFile[];
  /** The project root, absolute; focus paths are judged against it. */
  projectDir?: string;
}

/** A plan when nothing is wrong, else every problem, sorted. */
export interface Analysis {
  plan: Plan | undefined;
  diagnostics: Diagnostic[];
}

const NO_POSITION = new Locator(undefined, new LineCounter());

/** Read bytes as YAML, reporting what stops it; undefined when there is nothing to validate. */
function parseFile(
  file: SourceFile,
  sink: Diagnostic[],
): { parsed: ParsedYaml; report: FileReport; text: string } | undefined {
  const bare = new FileReport(file.display, NO_POSITION, sink);
  if (!file.content.ok) {
    bare.at({ line: 0, col: 0 }, '', file.content.error);
    return undefined;
  }
  const text = decodeText(file.content.value);
  if (!text.ok) {
    bare.at({ line: 0, col: 0 }, '', text.error);
    return undefined;
  }
  const parsed = parseYaml(text.value);
  const report = new FileReport(file.display, parsed.locator, sink);
  for (const p of parsed.problems) {
    const pos = parsed.locator.position(p.offset);
    report.at(pos, p.path ? formatPath(p.path) : 'yaml', p.message);
  }
  return { parsed, report, text: text.value };
}

/** An exception while checking one file becomes that file's diagnostic, never a crash. */
function guarded<T>(display: string, sink: Diagnostic[], fallback: T, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    sink.push({
      file: display,
      line: 0,
      col: 0,
      field: '',
      message: `internal error while checking this file (bearing ${VERSION}): ${detail}; please report it`,
    });
    return fallback;
  }
}

interface Resolved {
  value: unknown;
  /** The mapping the value came from; undefined for a built-in default. */
  origin: Entity | undefined;
  /** The key was written where it came from, but its value was invalid (already reported). */
  broken: boolean;
}

function resolveSetting(
  task: TaskEntity,
  config: Entity | undefined,
  key: TaskSettingKey,
): Resolved {
  for (const layer of [task, task.fileDefaults, config]) {
    if (layer?.given.has(key)) {
      return { value: layer.values[key], origin: layer, broken: !(key in layer.values) };
    }
  }
  return { value: BUILTIN_DEFAULTS.task[key], origin: undefined, broken: false };
}

function fieldOf(entity: Entity, key: string): string {
  return formatPath([...entity.path, key]);
}

function label(task: TaskEntity): string {
  const id = task.values.id;
  return typeof id === 'string' ? `task "${id}"` : 'this task';
}

function listNames(names: readonly string[], max = 3): string {
  const shown = names.slice(0, max).map((n) => `"${n}"`);
  const more = names.length - shown.length;
  if (more > 0) return `${shown.join(', ')} and ${more} more`;
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

/** Check every file and, when nothing is wrong, build the plan. Never throws. */
export function analyseProject(input: ProjectInput): Analysis {
  const sink: Diagnostic[] = [];
  try {
    return analyse(input, sink);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    sink.push({
      file: input.config?.display ?? input.taskFiles[0]?.display ?? 'bearing',
      line: 0,
      col: 0,
      field: '',
      message: `internal error while checking the project (bearing ${VERSION}): ${detail}; please report it`,
    });
    return { plan: undefined, diagnostics: sink.sort(compareDiagnostics) };
  }
}

function analyse(input: ProjectInput, sink: Diagnostic[]): Analysis {
  // 1. Each file on its own.
  let config: ConfigResult = EMPTY_CONFIG;
  if (input.config) {
    const file = input.config;
    config = guarded(file.display, sink, EMPTY_CONFIG, () => {
      const read = parseFile(file, sink);
      if (!read) return EMPTY_CONFIG;
      const checked = checkConfigFile(read.parsed, read.report);
      read.parsed.locator.release(read.text);
      return checked;
    });
  }
  const tasks: TaskEntity[] = [];
  const fileDefaults: Entity[] = [];
  const looseIds = new Set<string>();
  for (const file of input.taskFiles) {
    guarded(file.display, sink, undefined, () => {
      const read = parseFile(file, sink);
      if (!read) return;
      const result = checkTaskFile(read.parsed, read.report);
      // Its own checks are done: the rules across files need its document
      // only to place a problem, and keeping every file's makes a big plan
      // slower per task than a small one.
      read.parsed.locator.release(read.text);
      tasks.push(...result.tasks);
      if (result.defaults) fileDefaults.push(result.defaults);
      for (const id of result.looseIds) looseIds.add(id);
    });
  }

  // 2. Rules that need every file.
  const knownClis = [...BUILTIN_CLIS, ...config.agentNames];
  const checkCli = (entity: Entity) => {
    const cli = entity.values.cli;
    if (typeof cli !== 'string' || knownClis.includes(cli)) return;
    const agents = config.agentNames.filter(
      (n) => !(BUILTIN_CLIS as readonly string[]).includes(n),
    );
    const expected =
      agents.length === 0
        ? 'expected claude, codex or shell, or a custom agent defined under agents: in bearing/config.yaml'
        : `expected claude, codex, shell or one of the custom agents in bearing/config.yaml (${agents.join(', ')})`;
    entity.report.value(
      [...entity.path, 'cli'],
      `unknown cli "${cli}"${didYouMean(cli, knownClis)}: ${expected}`,
    );
  };
  if (config.defaults) checkCli(config.defaults);
  for (const d of fileDefaults) checkCli(d);

  // Checked where each list is written, so one bad default is reported once.
  const checkFocus = (entity: Entity) => {
    const focus = entity.values.focus;
    if (!Array.isArray(focus)) return;
    focus.forEach((path: unknown, i) => {
      const why = typeof path === 'string' ? focusOutside(path, input.projectDir) : undefined;
      if (why) entity.report.value([...entity.path, 'focus', i], why, fieldOf(entity, 'focus'));
    });
  };
  for (const entity of [config.defaults, ...fileDefaults, ...tasks]) {
    if (entity) checkFocus(entity);
  }

  const firstById = new Map<string, TaskEntity>();
  for (const task of tasks) {
    const id = task.values.id;
    if (typeof id !== 'string') {
      if (!task.given.has('id')) {
        task.report.value(task.path, 'missing: every task needs an id', fieldOf(task, 'id'));
      }
      continue;
    }
    const first = firstById.get(id);
    if (first) {
      task.report.value(
        [...task.path, 'id'],
        `duplicate id "${id}": also defined at ${first.report.where([...first.path, 'id'])}`,
      );
    } else {
      firstById.set(id, task);
    }
  }
  const knownIds = new Set(firstById.keys());
  for (const id of looseIds) knownIds.add(id);
  // Built at the first unknown dependency: a valid plan needs no suggestions.
  let suggester: IdSuggester | undefined;
  const didYouMeanId = (id: string): string => {
    suggester ??= new IdSuggester(firstById.keys());
    return suggester.didYouMean(id);
  };

  // Effort problems inherited from a defaults block are reported once, where it is written.
  const effortByOrigin = new Map<Entity, Map<string, string[]>>();
  const modelByOrigin = new Map<Entity, Map<string, string[]>>();

  for (const task of tasks) {
    checkCli(task);
    const cli = resolveSetting(task, config.defaults, 'cli');
    const cliName =
      typeof cli.value === 'string' && knownClis.includes(cli.value) ? cli.value : undefined;

    if (cliName !== undefined) {
      const isShell = cliName === 'shell';
      if (isShell && !task.given.has('run')) {
        task.report.value(
          task.path,
          `missing: shell ${label(task)} needs run: (the command to run)`,
          fieldOf(task, 'run'),
        );
      }
      if (!isShell && !task.given.has('prompt')) {
        task.report.value(
          task.path,
          `missing: ${label(task)} runs on ${cliName} and needs a prompt: (what the agent must do)`,
          fieldOf(task, 'prompt'),
        );
      }
      if (!isShell && task.given.has('run')) {
        task.report.key(
          [...task.path, 'run'],
          `only shell tasks have run:, but ${label(task)} runs on ${cliName}; use prompt:, or set cli: shell`,
        );
      }
      // The key this task runs on must say something.
      const needed = isShell ? 'run' : 'prompt';
      const text = task.values[needed];
      // Nothing but white space. Not with a RegExp or charCodeAt: either first
      // copies the parser's string, built piece by piece, into one (35 ms at
      // 20,000 prompts, where trim() takes 6).
      if (typeof text === 'string' && text.trim() === '') {
        const what = isShell ? 'a command' : 'a prompt';
        task.report.value([...task.path, needed], `expected ${what}, got an empty string`);
      }
      const tooLong = promptTooLongForArgument(cliName, config, text);
      if (!isShell && tooLong) task.report.value([...task.path, 'prompt'], tooLong);
      // `run` and `verify` go to `sh -c` as one argument, under the same kernel cap.
      for (const key of ['run', 'verify'] as const) {
        const problem = commandTooLong(task.values[key]);
        if (problem) task.report.value([...task.path, key], problem);
      }

      const effort = resolveSetting(task, config.defaults, 'effort');
      const accepted = (EFFORTS_BY_CLI as Record<string, readonly string[] | undefined>)[cliName];
      if (
        accepted &&
        typeof effort.value === 'string' &&
        !accepted.includes(effort.value) &&
        effort.origin
      ) {
        if (effort.origin === task) {
          task.report.value(
            [...task.path, 'effort'],
            `"${effort.value}" is not accepted by ${cliName} (accepted: ${accepted.join(', ')})`,
          );
        } else {
          const byCli = effortByOrigin.get(effort.origin) ?? new Map<string, string[]>();
          effortByOrigin.set(effort.origin, byCli);
          const ids = byCli.get(cliName) ?? [];
          ids.push(typeof task.values.id === 'string' ? task.values.id : `#${task.path.join('.')}`);
          byCli.set(cliName, ids);
        }
      }
    }

    if (cliName !== undefined) {
      const model = resolveSetting(task, config.defaults, 'model');
      const foreign =
        typeof model.value === 'string' && model.origin
          ? foreignModel(cliName, model.value)
          : undefined;
      if (foreign && model.origin === task) {
        task.report.value([...task.path, 'model'], foreign);
      } else if (foreign && model.origin) {
        const byCli = modelByOrigin.get(model.origin) ?? new Map<string, string[]>();
        modelByOrigin.set(model.origin, byCli);
        const ids = byCli.get(cliName) ?? [];
        ids.push(typeof task.values.id === 'string' ? task.values.id : `#${task.path.join('.')}`);
        byCli.set(cliName, ids);
      }
    }

    const deps = task.values.depends_on as string[] | undefined;
    if (deps) {
      const seen = new Set<string>();
      deps.forEach((dep, i) => {
        const problem =
          dep === task.values.id
            ? `${label(task)} depends on itself`
            : seen.has(dep)
              ? `"${dep}" is listed twice`
              : knownIds.has(dep)
                ? undefined
                : `unknown task "${dep}"${didYouMeanId(dep)}`;
        // The path and field only for a problem: a valid plan has tens of
        // thousands of dependencies.
        if (problem !== undefined) {
          task.report.value([...task.path, 'depends_on', i], problem, fieldOf(task, 'depends_on'));
        }
        seen.add(dep);
      });
    }
  }

  for (const [origin, byCli] of modelByOrigin) {
    for (const [cliName, ids] of byCli) {
      const why = foreignModel(cliName, String(origin.values.model));
      origin.report.value(
        [...origin.path, 'model'],
        `${why} — it reaches ${ids.length === 1 ? 'task' : 'tasks'} ${listNames(ids)}, which run${ids.length === 1 ? 's' : ''} on ${cliName}: set model on ${ids.length === 1 ? 'that task' : 'those tasks'}`,
      );
    }
  }

  for (const [origin, byCli] of effortByOrigin) {
    for (const [cliName, ids] of byCli) {
      const accepted = EFFORTS_BY_CLI[cliName as keyof typeof EFFORTS_BY_CLI];
      const tasksWord = ids.length === 1 ? 'task' : 'tasks';
      origin.report.value(
        [...origin.path, 'effort'],
        `"${String(origin.values.effort)}" is not accepted by ${cliName}, which runs ${tasksWord} ${listNames(ids)} (accepted: ${accepted.join(', ')})`,
      );
    }
  }

  // 3. Cycles, over tasks whose id and dependencies are valid.
  const nodes = [...firstById.values()].map((task) => {
    const id = task.values.id as string;
    const deps = (task.values.depends_on as string[] | undefined) ?? [];
    // A task depending on itself is reported above, not as a cycle.
    return { id, dependsOn: deps.includes(id) ? deps.filter((d) => d !== id) : deps, task };
  });
  const { ordered, cycles } = dependencyOrder(nodes);
  for (const cycle of cycles) {
    const start = firstById.get(cycle[0]!)!;
    const deps = (start.values.depends_on as string[] | undefined) ?? [];
    const index = Math.max(0, deps.indexOf(cycle[1]!));
    start.report.value(
      [...start.path, 'depends_on', index],
      `dependency cycle: ${cycle.join(' -> ')}`,
      fieldOf(start, 'depends_on'),
    );
  }

  if (sink.length > 0) return { plan: undefined, diagnostics: sink.sort(compareDiagnostics) };

  // 4. Nothing wrong: normalise.
  const configDefaults = config.defaults?.values as WrittenTaskDefaults | undefined;
  const planTasks: Task[] = ordered.map(({ task }) => {
    const normal = normalizeTask(
      task.values as WrittenTask,
      [task.fileDefaults?.values as WrittenTaskDefaults | undefined, configDefaults],
      { file: task.report.file, line: task.source.line, col: task.source.col },
    );
    if (normal.focus.length > 0) {
      normal.focus = normal.focus.map((f) => focusRelative(f, input.projectDir));
    }
    return normal;
  });
  const plan: Plan = {
    tasks: planTasks,
    agents: normalizeAgents(
      [...config.agents].map(([name, e]) => [name, e.values as WrittenCustomAgent] as const),
    ),
    run: normalizeRun(config.run?.values),
  };
  return { plan, diagnostics: [] };
}

/** Why a shell command cannot reach `sh -c` as one argument, or undefined. */
function commandTooLong(command: unknown): string | undefined {
  if (typeof command !== 'string') return undefined;
  const bytes = Buffer.byteLength(command);
  if (bytes <= MAX_ARGUMENT_PROMPT_BYTES) return undefined;
  return `the command is ${Math.ceil(bytes / 1024)} KiB, but it goes to \`sh -c\` as one argument and Linux refuses an argument over 128 KiB: put it in a script in the project and run that`;
}

/**
 * Why `prompt` cannot reach `cli` as one argument, or undefined. claude and
 * codex read it from stdin, and so does a custom agent with
 * `prompt_input: stdin`; only an argument is capped by the kernel.
 */
function promptTooLongForArgument(
  cli: string,
  config: ConfigResult,
  prompt: unknown,
): string | undefined {
  const agent = config.agents.get(cli);
  if (!agent || agent.values.prompt_input === 'stdin' || typeof prompt !== 'string') {
    return undefined;
  }
  const bytes = Buffer.byteLength(prompt);
  if (bytes <= MAX_ARGUMENT_PROMPT_BYTES) return undefined;
  const kib = (n: number) => `${Math.ceil(n / 1024)} KiB`;
  return `the prompt is ${kib(bytes)}, but ${cli} takes it as one argument and Linux refuses an argument over 128 KiB (the PRIOR context is added to it): set prompt_input: stdin for ${cli} in bearing/config.yaml if it reads the prompt from stdin, or shorten the prompt (at most ${kib(MAX_ARGUMENT_PROMPT_BYTES)})`;
}
