/**
 * The planner's instructions and its opening message. The instructions are
 * assembled from planner-prompts/ (shared.md, then the CLI's own file) with
 * the task-file reference generated from the zod schema put in at run time,
 * so what the planner is taught is exactly what `bearing validate` accepts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../package-root.js';
import { referenceMarkdown } from '../tasks/reference.js';

/** The CLIs `bearing start` can open a planner session in. */
export const PLANNER_CLIS = ['claude', 'codex'] as const;
export type PlannerCli = (typeof PLANNER_CLIS)[number];

/** Where the prompt sources ship, whatever directory Bearing is installed in. */
export const PLANNER_PROMPTS_DIR = fileURLToPath(new URL('planner-prompts/', PACKAGE_ROOT));

/** Replaced in shared.md by the generated task-file reference. */
export const REFERENCE_MARKER = '<!-- bearing:task-file-reference -->';
/** Replaced in shared.md by how to run Bearing in this session. */
export const COMMAND_MARKER = '<!-- bearing:command -->';

/** The files one CLI's instructions are made of, in order. */
export function plannerPromptFiles(cli: PlannerCli): string[] {
  return [join(PLANNER_PROMPTS_DIR, 'shared.md'), join(PLANNER_PROMPTS_DIR, `${cli}.md`)];
}

export interface InstructionsOptions {
  /**
   * How the planner runs Bearing from its shell: `bearing` when that is on
   * PATH, else the full command (e.g. `node /path/to/bin/bearing.js`).
   */
  bearingCommand: string;
}

/**
 * The planner's system instructions for `cli`: shared.md with the reference
 * and the command line filled in, then the CLI's own section.
 * Throws when a prompt file is missing or lacks a marker: a broken install.
 */
export function plannerInstructions(cli: PlannerCli, options: InstructionsOptions): string {
  const [sharedFile, cliFile] = plannerPromptFiles(cli) as [string, string];
  const shared = readFileSync(sharedFile, 'utf8');
  for (const marker of [REFERENCE_MARKER, COMMAND_MARKER]) {
    if (shared.split(marker).length !== 2) {
      throw new Error(`${sharedFile}: expected the marker ${marker} exactly once`);
    }
  }
  const command =
    options.bearingCommand === 'bearing'
      ? 'Run Bearing as `bearing` (it is on PATH).'
      : `\`bearing\` is not on PATH in this project: wherever these instructions say \`bearing\`, run \`${options.bearingCommand}\` instead (for example \`${options.bearingCommand} validate\`).`;
  const filled = shared
    .replace(REFERENCE_MARKER, () => referenceMarkdown())
    .replace(COMMAND_MARKER, () => command);
  return `${filled.trimEnd()}\n\n${readFileSync(cliFile, 'utf8').trimEnd()}\n`;
}

/** What the planner should look at first: what exists in bearing/. */
export interface ProjectGlance {
  /** bearing/ was created by this `bearing start`. */
  initialised: boolean;
  /**
   * The only task file is the example `bearing init` writes, unchanged: no
   * plan yet, whether bearing/ was made now or by an earlier start whose
   * CLI exited at once.
   */
  exampleOnly?: boolean;
  hasStatus: boolean;
  /** Task files, relative to the project, e.g. `bearing/tasks/api.yaml`. */
  taskFiles: string[];
}

const MAX_LISTED_FILES = 20;

/**
 * The first user message of the session (the CLI's prompt argument): get
 * your bearings, then ask. Worded for what exists, so the planner does not
 * go looking for files that are not there.
 */
export function openingMessage(glance: ProjectGlance): string {
  const listed = glance.taskFiles.slice(0, MAX_LISTED_FILES);
  const more = glance.taskFiles.length - listed.length;
  const files = listed.map((f) => `\`${f}\``).join(', ') + (more > 0 ? ` and ${more} more` : '');
  const steps: string[] = [];
  if (glance.initialised) {
    steps.push(
      'Bearing has just set up `bearing/` in this project: nothing has run yet, and `bearing/tasks/example.yaml` is only an example, to be replaced by the real plan.',
    );
  } else if (glance.exampleOnly && !glance.hasStatus) {
    steps.push(
      'Bearing has set up `bearing/` in this project, but nothing has been planned or run yet: `bearing/tasks/example.yaml` is only an example, as `bearing init` wrote it, to be replaced by the real plan.',
    );
  } else if (glance.hasStatus) {
    steps.push(
      `Read \`bearing/status.md\` (the results of the last run) and the task files (${files || 'none yet'}), and \`bearing/plan.md\` if it exists.`,
    );
  } else if (glance.taskFiles.length > 0) {
    steps.push(
      `Nothing has run yet. Read the task files (${files}) and \`bearing/plan.md\` if it exists.`,
    );
  } else {
    steps.push('There are no task files yet. Read `bearing/plan.md` if it exists.');
  }
  steps.push(
    "Look at the project's layout: the top-level files, the README, how it is built and tested.",
  );
  steps.push(
    glance.hasStatus || (!glance.initialised && !glance.exampleOnly && glance.taskFiles.length > 0)
      ? 'Then tell me in a few lines where things stand (done, failed, waiting for review, next) and ask me what to work on. Do not write or change tasks until we agree.'
      : 'Then tell me in a few lines what you found and ask me what we are going to build. Do not write tasks until we agree.',
  );
  return `You are the planner for this project (your instructions explain the role). ${steps.join(' ')}`;
}
