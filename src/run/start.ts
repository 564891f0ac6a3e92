/**
 * `bearing start`: open an interactive planner session (Claude Code or Codex)
 * in a project. The planner's instructions go in through each CLI's
 * system-prompt mechanism, so they stay in force after the CLI compacts its
 * context; the opening message goes in as the CLI's prompt argument:
 *
 *   claude [--model M] --append-system-prompt INSTRUCTIONS -- OPENING
 *   codex  [-m M] -c developer_instructions="INSTRUCTIONS" -- OPENING
 *
 * (claude 2.1.197 and codex-cli 0.169.0; `--append-system-prompt` keeps
 * Claude Code's own system prompt and adds ours; codex's
 * `developer_instructions` becomes a developer message that codex puts back
 * after every compaction.) No shell is involved and the CLI inherits the
 * terminal; Bearing waits for it and passes its exit code on.
 *
 * A resumed session gets the instructions again, because neither CLI keeps
 * them: `claude --resume ID` alone sends none of them (the system prompt is
 * rebuilt from the flags of each run), and `codex resume ID` alone keeps the
 * old developer message only until the first compaction, which rebuilds it
 * from the current config (both checked against a local stand-in API with
 * claude 2.1.197 and codex-cli 0.171.0):
 *
 *   claude [--model M] --session-id UUID --append-system-prompt INSTRUCTIONS -- OPENING
 *   claude [--model M] --append-system-prompt INSTRUCTIONS --resume [ID] | --continue
 *   codex resume [-m M] -c developer_instructions="INSTRUCTIONS" [-- ID | --last]
 *
 * A new claude session gets its id from Bearing, so the command that resumes
 * it can be printed when it ends; codex has no such option, so its sessions
 * end with `--continue` (`codex resume --last`: the newest interactive
 * session in this folder).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { claudeAdapter } from '../agents/claude.js';
import { codexAdapter } from '../agents/codex.js';
import { PACKAGE_ROOT } from '../package-root.js';
import type {
  InteractiveCommand,
  InteractiveEnd,
  InteractiveSession,
  StartInteractive,
} from '../process/interactive.js';
import { which } from '../process/which.js';
import { isProjectRoot } from '../state/project.js';
import { listTaskFilesSync } from '../tasks/load.js';
import { exampleTaskFile, fileInTheWay, type InitResult, initProject } from './init.js';
import { openingMessage, type PlannerCli, plannerInstructions } from './planner-prompt.js';

/** The strongest planning model by default; `undefined` means the CLI's own default (no flag). */
export const DEFAULT_PLANNER_MODEL: Record<PlannerCli, string | undefined> = {
  claude: 'opus',
  codex: undefined,
};

export const PLANNER_INSTALL_HINT: Record<PlannerCli, string> = {
  claude: claudeAdapter.installHint,
  codex: codexAdapter.installHint,
};

export const PLANNER_CLI_NAMES: Record<PlannerCli, string> = {
  claude: 'Claude Code',
  codex: 'Codex',
};

/** Model names as the CLIs take them: aliases (`opus`), ids (`claude-fable-5`, `opus[1m]`), provider paths. */
const MODEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/[\]-]*$/;

/** `undefined` when `model` can be passed to a CLI, else what is wrong with it. */
export function checkModelName(model: string): string | undefined {
  if (MODEL_PATTERN.test(model) && model.length <= 200) return undefined;
  return `expected a model name such as opus or sonnet (letters, digits, . _ - : @ / [ ]), got "${model}"`;
}

/**
 * A TOML basic string holding `text`, for codex's `-c key=value` (the value
 * is parsed as TOML). JSON's escapes are TOML's, except that TOML also wants
 * DEL escaped; non-ASCII text is allowed as it is.
 */
export function tomlString(text: string): string {
  return JSON.stringify(text).replace(/\u007f/g, '\\u007F');
}

/** Session ids as the CLIs print them (UUIDs), or a codex session name. */
const SESSION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `undefined` when `id` can be passed to a CLI as a session id, else what is wrong with it. */
export function checkSessionId(id: string): string | undefined {
  if (SESSION_ID_PATTERN.test(id) && id.length <= 200) return undefined;
  return `expected a session id such as 5b0c8a47-1f2e-4d3c-9a8b-7c6d5e4f3a21 (letters, digits, . _ -), got "${id}"`;
}

/**
 * Which planner session to open: a new one (claude: with the id Bearing
 * gives it), one to resume (no id: the CLI's picker), or the CLI's most
 * recent one in the project.
 */
export type PlannerSession =
  | { kind: 'new'; sessionId: string | undefined }
  | { kind: 'resume'; sessionId: string | undefined }
  | { kind: 'continue' };

/**
 * The planner CLI's arguments: instructions as the system prompt, then the
 * opening message (a new session) or what to resume.
 */
export function plannerArgs(
  cli: PlannerCli,
  model: string | undefined,
  instructions: string,
  opening: string,
  session: PlannerSession = { kind: 'new', sessionId: undefined },
): string[] {
  switch (cli) {
    case 'claude': {
      const head = [
        ...(model !== undefined ? ['--model', model] : []),
        ...(session.kind === 'new' && session.sessionId !== undefined
          ? ['--session-id', session.sessionId]
          : []),
        '--append-system-prompt',
        instructions,
      ];
      switch (session.kind) {
        case 'new':
          return [...head, '--', opening];
        case 'resume':
          return [
            ...head,
            '--resume',
            ...(session.sessionId !== undefined ? [session.sessionId] : []),
          ];
        case 'continue':
          return [...head, '--continue'];
      }
      break;
    }
    case 'codex': {
      const options = [
        ...(model !== undefined ? ['-m', model] : []),
        '-c',
        `developer_instructions=${tomlString(instructions)}`,
      ];
      switch (session.kind) {
        case 'new':
          return [...options, '--', opening];
        case 'resume':
          return [
            'resume',
            ...options,
            ...(session.sessionId !== undefined ? ['--', session.sessionId] : []),
          ];
        case 'continue':
          return ['resume', ...options, '--last'];
      }
    }
  }
}

/**
 * What to run to resume the session that has just ended, with the
 * instructions: `bearing start` with the same CLI and model, by id when
 * Bearing knows it, else `--continue`. Two lines, the command indented.
 */
export function resumeAdvice(options: {
  bearingCommand: string;
  /** Given when the project is not the folder the command is run from. */
  dir: string | undefined;
  cli: PlannerCli;
  model: string | undefined;
  /** The session's id, when Bearing knows it. */
  sessionId: string | undefined;
}): string {
  const { cli, model, sessionId } = options;
  const words = [
    options.bearingCommand,
    'start',
    ...(options.dir !== undefined ? [shellWord(options.dir)] : []),
    '--cli',
    cli,
    ...(model !== undefined ? ['--model', shellWord(model)] : ['--yes']),
    ...(sessionId !== undefined ? ['--resume', sessionId] : ['--continue']),
  ];
  const why =
    cli === 'claude'
      ? '`claude --resume` alone leaves them out'
      : '`codex resume` alone loses them when Codex compacts the conversation';
  const alternative =
    sessionId === undefined && cli === 'codex'
      ? '   (or --resume ID, with the session id Codex printed)'
      : '';
  return `To resume this planner session with Bearing's instructions (${why}):\n  ${words.join(' ')}${alternative}`;
}

/** bin/bearing.js of this installation. */
export const BEARING_BIN = fileURLToPath(new URL('bin/bearing.js', PACKAGE_ROOT));

/** A word for a POSIX shell: as it is when safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * How the planner runs Bearing from its shell: `bearing` when it is on the
 * PATH the planner gets, else node and this installation's bin/bearing.js
 * (a clone run with `node bin/bearing.js`, an `npx` run).
 */
export function bearingCommand(env: NodeJS.ProcessEnv, cwd: string): string {
  if (which('bearing', env, cwd) !== undefined) return 'bearing';
  const node = which('node', env, cwd) !== undefined ? 'node' : process.execPath;
  return `${shellWord(node)} ${shellWord(BEARING_BIN)}`;
}

export interface StartInput {
  /** The project directory (absolute). */
  root: string;
  cli: PlannerCli;
  model: string | undefined;
  /** The planner's whole environment, and where its CLI and `bearing` are looked up. */
  env: NodeJS.ProcessEnv;
  startInteractive: StartInteractive;
  /** Told what is about to run, after any init and before the terminal is handed over. */
  onLaunch?: (launch: Launch) => void;
  /** The running session, to pass signals on to it. */
  onSession?: (session: InteractiveSession) => void;
  /** What to open; a new session by default. */
  session?: { kind: 'new' } | Exclude<PlannerSession, { kind: 'new' }>;
  /** Ids for new claude sessions; random UUIDs by default. */
  newSessionId?: () => string;
}

export interface Launch {
  command: InteractiveCommand;
  /** What `bearing init` created, when bearing/ was missing. */
  initialised: InitResult | undefined;
  session: PlannerSession;
}

export type StartOutcome =
  | { kind: 'missing-cli'; cli: PlannerCli; command: string; installHint: string }
  | { kind: 'init-failed'; message: string }
  | { kind: 'ended'; end: InteractiveEnd; launch: Launch };

/** `undefined` when the planner CLI is on PATH, else the outcome that says how to install it. */
export function missingPlannerCli(
  cli: PlannerCli,
  env: NodeJS.ProcessEnv,
  root: string,
): Extract<StartOutcome, { kind: 'missing-cli' }> | undefined {
  return which(cli, env, root) === undefined ? missing(cli) : undefined;
}

function missing(cli: PlannerCli): Extract<StartOutcome, { kind: 'missing-cli' }> {
  return { kind: 'missing-cli', cli, command: cli, installHint: PLANNER_INSTALL_HINT[cli] };
}

/** Drops the `$schema` comment line, which differs between installs and machines. */
function withoutSchemaLine(text: string): string {
  return text.replace(/^# yaml-language-server: \$schema=.*\n/, '');
}

/**
 * Whether `file` is the example task file exactly as `bearing init` writes
 * it (whatever its `$schema` line says). Decided by content, not by "is this
 * the first start": a first start whose CLI exited at once leaves bearing/
 * behind, and the next planner must still see the example for what it is.
 */
export function isInitExample(file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  return withoutSchemaLine(text) === withoutSchemaLine(exampleTaskFile(''));
}

/** Everything before the hand-over: the CLI check, bearing/ when missing, the prompt. */
export function prepareStart(
  input: Omit<StartInput, 'startInteractive' | 'onLaunch' | 'onSession'>,
): Exclude<StartOutcome, { kind: 'ended' }> | Launch {
  const { root, cli, env } = input;
  const file = which(cli, env, root);
  if (file === undefined) return missing(cli);
  let initialised: InitResult | undefined;
  // Judged by config.yaml and tasks/: a bearing/ holding only .state/ is not set up.
  if (!isProjectRoot(root)) {
    const blocker = fileInTheWay(root);
    if (blocker !== undefined) {
      return { kind: 'init-failed', message: `${blocker} is a file, not a folder` };
    }
    try {
      initialised = initProject(root);
    } catch (error) {
      return { kind: 'init-failed', message: (error as Error).message };
    }
  }
  const taskFiles = listTaskFilesSync(join(root, 'bearing', 'tasks')).map((f) =>
    relative(root, f).split(sep).join('/'),
  );
  const opening = openingMessage({
    initialised: initialised !== undefined,
    exampleOnly: taskFiles.length === 1 && isInitExample(join(root, taskFiles[0] as string)),
    hasStatus: existsSync(join(root, 'bearing', 'status.md')),
    taskFiles,
  });
  const instructions = plannerInstructions(cli, { bearingCommand: bearingCommand(env, root) });
  const wanted = input.session ?? { kind: 'new' };
  // Only claude takes an id for a new session (`--session-id`); codex picks its own.
  const session: PlannerSession =
    wanted.kind === 'new'
      ? {
          kind: 'new',
          sessionId: cli === 'claude' ? (input.newSessionId ?? randomUUID)() : undefined,
        }
      : wanted;
  return {
    command: {
      file,
      args: plannerArgs(cli, input.model, instructions, opening, session),
      cwd: root,
      env: { ...env },
    },
    initialised,
    session,
  };
}

/** Prepares, hands the terminal to the planner CLI and waits until the person ends the session. */
export async function startPlanner(input: StartInput): Promise<StartOutcome> {
  const prepared = prepareStart(input);
  if ('kind' in prepared) return prepared;
  input.onLaunch?.(prepared);
  const session = input.startInteractive(prepared.command);
  input.onSession?.(session);
  return { kind: 'ended', end: await session.done, launch: prepared };
}
