import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import { type InteractiveSession, startInteractive } from '../../process/interactive.js';
import { PLANNER_CLIS, type PlannerCli } from '../../run/planner-prompt.js';
import { type Ask, chooseCli, chooseModel } from '../../run/planner-questions.js';
import {
  bearingCommand,
  checkModelName,
  checkSessionId,
  type Launch,
  missingPlannerCli,
  type PlannerSession,
  resumeAdvice,
  startPlanner,
} from '../../run/start.js';
import { findProjectRoot } from '../../state/project.js';
import type { CommandContext } from '../context.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { resolveProjectDir } from '../project-dir.js';

export interface StartOptions {
  cli?: string;
  model?: string;
  yes?: boolean;
  /** `true`: `--resume` without an id (the CLI's picker). */
  resume?: string | boolean;
  continue?: boolean;
}

/** The session `--resume`/`--continue` ask for, or what is wrong with them. */
function wantedSession(
  opts: StartOptions,
): { session: Exclude<PlannerSession, { kind: 'new' }> | { kind: 'new' } } | { problem: string } {
  if (opts.resume !== undefined && opts.continue) {
    return { problem: '--resume and --continue: give one of them, not both' };
  }
  if (opts.continue) return { session: { kind: 'continue' } };
  if (opts.resume === undefined || opts.resume === false) return { session: { kind: 'new' } };
  if (opts.resume === true) return { session: { kind: 'resume', sessionId: undefined } };
  const problem = checkSessionId(opts.resume);
  if (problem !== undefined) return { problem: `--resume: ${problem}` };
  return { session: { kind: 'resume', sessionId: opts.resume } };
}

/** How the start line names the session being opened. */
function sessionWords(session: PlannerSession): string {
  switch (session.kind) {
    case 'new':
      return 'Starting the planner';
    case 'resume':
      return session.sessionId !== undefined
        ? `Resuming the planner session ${session.sessionId}`
        : 'Resuming a planner session (pick it in the list)';
    case 'continue':
      return "Resuming the planner's most recent session";
  }
}

/**
 * Answers read line by line from stdin: typed at a terminal, or piped
 * (`printf 'codex\n\n' | bearing start`), where each answer is echoed so the
 * transcript reads as if typed. Closing it stops reading stdin, so the
 * planner CLI that inherits it next gets every key.
 */
export function stdinAnswers(ctx: CommandContext): { ask: Ask; close(): void } {
  const terminal = Boolean(process.stdin.isTTY);
  const rl = createInterface({
    input: process.stdin,
    ...(terminal ? { output: process.stdout } : {}),
    terminal,
  });
  const lines = rl[Symbol.asyncIterator]();
  let ended = false;
  return {
    ask: async (question) => {
      // At a terminal the question is readline's prompt, so line editing
      // (which redraws the line) keeps it; piped, it is written as it is.
      if (terminal) {
        rl.setPrompt(question);
        rl.prompt();
      } else {
        ctx.output.raw(question);
      }
      const next = ended ? undefined : await lines.next();
      if (next === undefined || next.done) {
        ended = true;
        ctx.output.raw('\n');
        return undefined;
      }
      if (!terminal) ctx.output.raw(`${next.value}\n`);
      return next.value;
    },
    close: () => {
      rl.close();
      process.stdin.pause();
    },
  };
}

/** The exit code a shell reports for a process killed by `signal`. */
function signalExitCode(signal: string): number {
  const n = (constants.signals as Record<string, number | undefined>)[signal];
  return n === undefined ? EXIT.failed : 128 + n;
}

/**
 * The whole of `bearing start` once the directory is known; `bearing init`
 * calls it too when the person accepts its offer.
 */
export async function runStart(
  ctx: CommandContext,
  root: string,
  opts: StartOptions,
): Promise<void> {
  if (opts.cli !== undefined && !(PLANNER_CLIS as readonly string[]).includes(opts.cli)) {
    ctx.output.err(`bearing start: --cli: expected claude or codex, got "${opts.cli}"`);
    ctx.setExitCode(EXIT.invalid);
    return;
  }
  if (opts.model !== undefined) {
    const problem = checkModelName(opts.model);
    if (problem !== undefined) {
      ctx.output.err(`bearing start: --model: ${problem}`);
      ctx.setExitCode(EXIT.invalid);
      return;
    }
  }
  const wanted = wantedSession(opts);
  if ('problem' in wanted) {
    ctx.output.err(`bearing start: ${wanted.problem}`);
    ctx.setExitCode(EXIT.invalid);
    return;
  }
  // Ask only for what is not given, and nothing with --yes. The CLI is
  // checked before the model question, so a missing one is reported first.
  const interactive = !opts.yes && (opts.cli === undefined || opts.model === undefined);
  const answers = interactive ? stdinAnswers(ctx) : undefined;
  const ask: Ask = answers ? answers.ask : async () => undefined;
  const say = (line: string): void => ctx.output.err(line);
  let choices: { cli: PlannerCli; model: string | undefined };
  try {
    const cli = (opts.cli as PlannerCli | undefined) ?? (await chooseCli(ask, say));
    const missing = missingPlannerCli(cli, ctx.env, root);
    if (missing !== undefined) {
      reportMissingCli(ctx, missing);
      return;
    }
    choices = {
      cli,
      model: opts.model !== undefined ? opts.model : await chooseModel(cli, ask, say),
    };
  } finally {
    answers?.close();
  }

  // While the planner has the terminal, Ctrl-C and Ctrl-\ are its keys (the
  // terminal sends them to both of us): Bearing must not die of them. A
  // SIGTERM or SIGHUP sent to Bearing is passed on.
  let session: InteractiveSession | undefined;
  const ignore = (): void => {};
  const forward = (signal: NodeJS.Signals): void => session?.kill(signal);
  const handlers: [NodeJS.Signals, (signal: NodeJS.Signals) => void][] = [
    ['SIGINT', ignore],
    ['SIGQUIT', ignore],
    ['SIGTERM', forward],
    ['SIGHUP', forward],
  ];
  const onLaunch = ({ command, initialised, session }: Launch): void => {
    if (initialised !== undefined) {
      ctx.output.err(
        `Initialised bearing/ in ${root}: ${initialised.created.join(', ') || 'nothing to create'}`,
      );
    }
    const model = choices.model === undefined ? "the CLI's default model" : choices.model;
    ctx.output.err(
      `${sessionWords(session)}: ${choices.cli} (${model}) in ${command.cwd}. End the session to return.`,
    );
    for (const [signal, handler] of handlers) process.on(signal, handler);
  };
  try {
    const outcome = await startPlanner({
      root,
      cli: choices.cli,
      model: choices.model,
      env: ctx.env,
      session: wanted.session,
      startInteractive,
      onLaunch,
      onSession: (s) => {
        session = s;
      },
    });
    switch (outcome.kind) {
      case 'missing-cli':
        reportMissingCli(ctx, outcome);
        return;
      case 'init-failed':
        ctx.output.err(`bearing start: cannot create bearing/ in ${root}: ${outcome.message}`);
        ctx.setExitCode(EXIT.failed);
        return;
      case 'ended': {
        const end = outcome.end;
        if (end.kind !== 'spawn-error') {
          // After the CLI's own "claude --resume ID" / "codex resume ID", which leave the instructions out.
          const { session } = outcome.launch;
          ctx.output.err(
            resumeAdvice({
              bearingCommand: bearingCommand(ctx.env, root),
              dir: root === ctx.cwd ? undefined : root,
              cli: choices.cli,
              model: choices.model,
              sessionId: session.kind === 'continue' ? undefined : session.sessionId,
            }),
          );
        }
        switch (end.kind) {
          case 'exited':
            // The planner CLI's own exit code, passed on as it is.
            ctx.setExitCode(end.exitCode as ExitCode);
            return;
          case 'signaled':
            ctx.setExitCode(signalExitCode(end.signal) as ExitCode);
            return;
          case 'spawn-error':
            ctx.output.err(`bearing start: could not start ${choices.cli}: ${end.message}`);
            ctx.setExitCode(end.code === 'ENOENT' ? EXIT.missingCli : EXIT.failed);
            return;
        }
      }
    }
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}

export async function start(ctx: CommandContext, dir: string, opts: StartOptions): Promise<void> {
  // The project this folder is in, up to the git repository's root; else a new one here.
  const target = resolveProjectDir(ctx, dir);
  const around = findProjectRoot(target);
  await runStart(ctx, around.kind === 'found' ? around.root : target, opts);
}

/** The planner CLI is not there: how to install it and log in, exit 5. */
function reportMissingCli(
  ctx: CommandContext,
  missing: { command: string; installHint: string },
): void {
  ctx.output.err(
    `bearing start: \`${missing.command}\` is not installed or not on PATH. Install it: ${missing.installHint}`,
  );
  ctx.output.err(
    `Then log in once by running \`${missing.command}\` on its own, and run bearing start again.`,
  );
  ctx.setExitCode(EXIT.missingCli);
}
