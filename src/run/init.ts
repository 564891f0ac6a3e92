/**
 * `bearing init`: lay out bearing/ in a project without ever overwriting a
 * file the person or the planner already has.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../package-root.js';
import { listTaskFilesSync } from '../tasks/load.js';

/** Where the shipped JSON Schemas are, whatever directory Bearing is installed in. */
export const SCHEMA_DIR = fileURLToPath(new URL('schema/', PACKAGE_ROOT));
export const TASK_SCHEMA_FILE = join(SCHEMA_DIR, 'task-file.schema.json');
export const CONFIG_SCHEMA_FILE = join(SCHEMA_DIR, 'config.schema.json');

export interface InitResult {
  root: string;
  created: string[];
  /** Files of Bearing's own that init rewrote: an out-of-date schema copy. */
  updated: string[];
  kept: string[];
}

/**
 * The project's copy of the JSON Schemas, which the `$schema` lines point at.
 * A path into Bearing's install (a global folder, an npx cache) would be
 * committed with the task files and break on every other machine; a copy
 * inside bearing/ travels with them. It is Bearing's file, not the user's:
 * init brings it up to date, validate says when it is not.
 */
export const SCHEMA_COPIES: readonly { file: string; shipped: string }[] = [
  { file: 'bearing/.schema/task-file.schema.json', shipped: TASK_SCHEMA_FILE },
  { file: 'bearing/.schema/config.schema.json', shipped: CONFIG_SCHEMA_FILE },
];

/** `$schema` of bearing/tasks/*.yaml and of bearing/config.yaml, relative to each file's folder. */
const TASK_SCHEMA_REF = '../.schema/task-file.schema.json';
const CONFIG_SCHEMA_REF = '.schema/config.schema.json';

/**
 * The schema copies in `root` that differ from this Bearing's schemas (made
 * by another version), as absolute paths. A missing copy is not listed: the
 * project may not use one (the examples, a project made by an older Bearing).
 * Reads only.
 */
export function staleSchemaCopies(root: string): string[] {
  return SCHEMA_COPIES.map(({ file, shipped }) => ({ path: join(root, file), shipped }))
    .filter(({ path, shipped }) => existsSync(path) && !sameBytes(path, shipped))
    .map(({ path }) => path);
}

function sameBytes(a: string, b: string): boolean {
  try {
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}

export function exampleTaskFile(schema: string): string {
  return `# yaml-language-server: $schema=${schema}
#
# A Bearing task file. \`bearing run\` runs each task in a fresh, headless agent
# process (claude -p, codex exec, or any CLI), in dependency order, and writes
# the results to bearing/status.md. Bearing never writes this file: edit it at
# any time, even during a run. \`bearing validate\` checks it.
#
# Every key, its default and its meaning: the JSON Schema on the first line
# (your editor completes and checks keys with it) and the README.

# Defaults for the tasks in this file; a task's own value wins.
defaults:
  cli: claude          # claude | codex | shell | a custom agent from config.yaml
  timeout: 30m         # wall clock for one attempt; the agent is killed after it
  on_failure: retry    # retry | skip | pause | stop
  retries: 1           # extra attempts for on_failure: retry

tasks:
  - id: hello          # lowercase letters, digits, . _ - ; unique across all files
    name: Say hello
    # model: sonnet      # unset: the CLI's default model
    # budget_usd: 1      # spending ceiling for one attempt
    # max_turns: 20
    skip: [node_modules] # never read or modify these (bearing/ is always skipped)
    prompt: |
      Create the file hello.txt containing exactly the line: Hello from Bearing
      Done when hello.txt exists with that line and nothing else changed.

  - id: check-hello
    name: Check the greeting
    cli: shell         # a deterministic step: no agent, runs \`run\` with sh -c
    run: grep -qx "Hello from Bearing" hello.txt
    depends_on: [hello]
    checkpoint: notify # auto | notify (flag in status.md) | pause (wait for bearing approve)
`;
}

export function configFile(schema: string): string {
  return `# yaml-language-server: $schema=${schema}
#
# Bearing project configuration. Everything here is optional.

# Defaults for every task in the project; a task file's \`defaults:\` and the
# task's own values win over these.
#
# The two spending limits are on, so that no agent runs uncapped without
# you knowing: an attempt that reaches one fails (budget-exceeded,
# max-turns) and is retried or not as on_failure says. Raise them, or
# delete them for no limit, as your tasks need. Claude Code applies both;
# codex has neither (cap a whole run with run.max_cost_usd below).
defaults:
  budget_usd: 5                # the most one attempt may spend, in US dollars
  max_turns: 100               # the most model requests in one attempt
  # cli: claude
  # model: sonnet
  # permission_mode: auto      # what claude may do unattended
  # sandbox: workspace-write   # what codex may do
  # timeout: 30m
  # idle_timeout: 10m

# Custom agents: any CLI that takes a prompt as an argument. A task selects
# one with \`cli: <name>\`. No shell is involved: each list item is one argument.
# agents:
#   aider:
#     command: aider
#     args: ["--yes-always", "--no-pretty", "--model", "{model}", "--message", "{prompt}"]
#     output: text             # text | claude | codex
#     install_hint: pipx install aider-chat

# How \`bearing run\` behaves.
# run:
#   concurrency: 1             # tasks side by side
#   prompt_format: structured  # structured | prose
#   context_limit: 8000        # characters of PRIOR context handed to one task
#   max_cost_usd: 50           # spend cap of one run: no task starts that could
#                              # pass it, and agents are stopped once they do
`;
}

const PLAN_MD = `# Plan

The planner's own notes: goals, decisions, open questions. Bearing never reads
this file. Results of runs are in status.md.
`;

const GITIGNORE = `# Bearing's own run state: state.json, raw agent output, the run lock.
.state/
`;

/**
 * The path that is a file where init needs a folder (the project folder or one
 * of its parents, bearing/, bearing/tasks/ or bearing/.state/), so the error
 * can name it instead of repeating mkdir's ENOTDIR.
 */
export function fileInTheWay(root: string): string | undefined {
  const notDir = (p: string) => existsSync(p) && !statSync(p).isDirectory();
  let nearest = root;
  while (!existsSync(nearest) && dirname(nearest) !== nearest) nearest = dirname(nearest);
  if (notDir(nearest)) return nearest;
  const bearing = join(root, 'bearing');
  return [bearing, join(bearing, 'tasks'), join(bearing, '.state')].find(notDir);
}

/** Create bearing/ under `root`; files that exist are kept untouched. */
export function initProject(root: string): InitResult {
  const bearing = join(root, 'bearing');
  const tasksDir = join(bearing, 'tasks');
  const files: [string, string][] = [
    [join(bearing, 'config.yaml'), configFile(CONFIG_SCHEMA_REF)],
    [join(bearing, '.gitignore'), GITIGNORE],
    [join(bearing, 'plan.md'), PLAN_MD],
  ];
  // The example only goes where there are no tasks yet: a project with tasks needs no example.
  // Tasks are found as the loader finds them (subfolders too), or the example's tasks would run.
  const hasTasks = listTaskFilesSync(tasksDir).length > 0;
  if (!hasTasks) {
    files.push([join(tasksDir, 'example.yaml'), exampleTaskFile(TASK_SCHEMA_REF)]);
  }
  const result: InitResult = { root, created: [], updated: [], kept: [] };
  mkdirSync(tasksDir, { recursive: true });
  mkdirSync(join(bearing, '.state'), { recursive: true });
  for (const [path, contents] of files) {
    const shown = relative(root, path).split(sep).join('/');
    if (existsSync(path)) {
      result.kept.push(shown);
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    // 'wx' fails if the file appeared meanwhile: never overwrite.
    try {
      writeFileSync(path, contents, { flag: 'wx' });
      result.created.push(shown);
    } catch {
      result.kept.push(shown);
    }
  }
  for (const { file, shipped } of SCHEMA_COPIES) {
    const path = join(root, file);
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, readFileSync(shipped));
      result.created.push(file);
    } else if (sameBytes(path, shipped)) {
      result.kept.push(file);
    } else {
      writeFileSync(path, readFileSync(shipped));
      result.updated.push(file);
    }
  }
  return result;
}
