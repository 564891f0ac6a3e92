/**
 * `bearing/config.yaml`: project-wide task defaults, custom agents and run
 * settings, validated the same way as task files.
 */
import { didYouMean } from '../core/suggest.js';
import {
  AGENT_SPEC,
  DEFAULTS_SPEC,
  describeValue,
  type Entity,
  isPlainObject,
  RUN_SPEC,
  validateEntity,
} from './entity.js';
import { type FileReport, formatPath } from './report.js';
import { BUILTIN_CLIS, configFileSchema, taskOnlyShape, taskSettingsShape } from './schema.js';
import { NOTIFY_PLACEHOLDERS } from './values.js';
import type { ParsedYaml } from './yaml-file.js';

/** What the task checks need from config.yaml, kept even when parts of it are invalid. */
export interface ConfigResult {
  defaults: Entity | undefined;
  /** Every agent name written, even when its settings are broken (so `cli:` can refer to it). */
  agentNames: string[];
  /** Agents whose settings are valid, by name. */
  agents: Map<string, Entity>;
  run: Entity | undefined;
}

/** No config.yaml, an empty one, or one too broken to read: everything built in. */
export const EMPTY_CONFIG: ConfigResult = {
  defaults: undefined,
  agentNames: [],
  agents: new Map(),
  run: undefined,
};

const CONFIG_KEYS = Object.keys(configFileSchema.shape);

/** Validate a parsed config.yaml; every problem goes to `report`. An empty file is fine. */
export function checkConfigFile(parsed: ParsedYaml, report: FileReport): ConfigResult {
  const root = parsed.value;
  if (!parsed.usable) {
    const names = isPlainObject(root) && isPlainObject(root.agents) ? Object.keys(root.agents) : [];
    return { ...EMPTY_CONFIG, agentNames: names, agents: new Map() };
  }
  if (parsed.empty || root === null) return EMPTY_CONFIG;
  if (!isPlainObject(root)) {
    report.value(
      [],
      `expected a mapping with defaults:, agents: or run:, got ${describeValue(root)}`,
    );
    return EMPTY_CONFIG;
  }

  for (const key of Object.keys(root)) {
    if (CONFIG_KEYS.includes(key)) continue;
    if (key in taskSettingsShape) {
      report.key([key], `"${key}" is a task setting; put it under defaults:`);
    } else if (key in taskOnlyShape) {
      report.key([key], `"${key}" belongs in a task file, not in config.yaml`);
    } else {
      report.key([key], `unknown key "${key}"${didYouMean(key, CONFIG_KEYS)}`);
    }
  }
  if (root.$schema !== undefined && typeof root.$schema !== 'string') {
    report.value(['$schema'], `expected a string, got ${describeValue(root.$schema)}`);
  }

  // A section left empty (every line commented out) means "not set".
  const section = (key: string) => (root[key] === null ? undefined : root[key]);

  const defaultsValue = section('defaults');
  const defaults =
    defaultsValue === undefined
      ? undefined
      : validateEntity(DEFAULTS_SPEC, defaultsValue, ['defaults'], report);

  const agents = new Map<string, Entity>();
  let agentNames: string[] = [];
  const agentsValue = section('agents');
  if (agentsValue !== undefined && !isPlainObject(agentsValue)) {
    report.value(
      ['agents'],
      `expected a mapping of agent names to their settings, got ${describeValue(agentsValue)}`,
    );
  } else if (agentsValue !== undefined) {
    agentNames = Object.keys(agentsValue);
    for (const name of agentNames) {
      const path = ['agents', name];
      if ((BUILTIN_CLIS as readonly string[]).includes(name)) {
        report.key(path, `"${name}" is a built-in cli; give the custom agent another name`);
      }
      const entity = validateEntity(AGENT_SPEC, agentsValue[name], path, report);
      if (!entity) continue;
      if (!entity.given.has('command')) {
        report.value(
          path,
          'missing: a custom agent needs command: (the executable to run)',
          formatPath([...path, 'command']),
        );
      }
      const args = entity.values.args as string[] | undefined;
      const onStdin = entity.values.prompt_input === 'stdin';
      const withPrompt = args?.findIndex((a) => a.includes('{prompt}')) ?? -1;
      if (onStdin && args && withPrompt >= 0) {
        report.value(
          [...path, 'args', withPrompt],
          'with prompt_input: stdin the prompt goes on stdin and {prompt} is not filled in; remove it',
        );
      } else if (!onStdin && args && withPrompt < 0) {
        report.value(
          [...path, 'args'],
          'no argument contains {prompt}, so the agent would never receive the task (or set prompt_input: stdin)',
        );
      }
      agents.set(name, entity);
    }
  }

  const runValue = section('run');
  const run =
    runValue === undefined ? undefined : validateEntity(RUN_SPEC, runValue, ['run'], report);
  const notify = run?.values.notify as string[] | undefined;
  for (const [i, arg] of (notify ?? []).entries()) {
    for (const m of arg.matchAll(/\{([a-z_]+)\}/g)) {
      if ((NOTIFY_PLACEHOLDERS as readonly string[]).includes(m[1]!)) continue;
      report.value(
        ['run', 'notify', i],
        `unknown placeholder {${m[1]}}; run.notify takes ${NOTIFY_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}${didYouMean(m[1]!, NOTIFY_PLACEHOLDERS)}`,
      );
    }
  }
  return { defaults, agentNames, agents, run };
}
