/**
 * The commander program: every command Bearing accepts, with its arguments,
 * options and help, declared here in one place. What a command does is in
 * commands/<name>.ts, imported only when it runs, so `bearing --help` (and a
 * mistyped command, which lists them) loads none of it: not the run loop,
 * execa, chokidar, zod or yaml, nor the other commands.
 */
import { Command, Option } from 'commander';
import { PROMPT_FORMATS } from '../tasks/values.js';
import { VERSION } from '../version.js';
import type { DiffOptions } from './commands/diff.js';
import type { InitOptions } from './commands/init.js';
import type { LogOptions } from './commands/log.js';
import type { PromptOptions } from './commands/prompt.js';
import type { ReviewOptions } from './commands/review.js';
import type { RunOptions } from './commands/run.js';
import type { StartOptions } from './commands/start.js';
import type { StatusOptions } from './commands/status.js';
import type { UiOptions } from './commands/ui.js';
import type { ValidateOptions } from './commands/validate.js';
import type { WatchOptions } from './commands/watch.js';
import type { WorkerOptions } from './commands/worker.js';
import type { CommandContext } from './context.js';
import { EXIT_DESCRIPTIONS } from './exit-codes.js';

/** How every command but init and start describes its `[dir]` argument. */
const PROJECT_DIR_HELP =
  'the project or any folder in it; bearing/ is looked for there, then above it up to the git root';

export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('bearing')
    .description(
      'Plan with an AI, then have headless AI coding agents build it: task files in bearing/tasks/, run in dependency order, results in bearing/status.md.',
    )
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.output.out(s.replace(/\n$/, '')),
      writeErr: (s) => ctx.output.err(s.replace(/\n$/, '')),
    })
    .addHelpText(
      'after',
      `\nExit codes:\n${Object.entries(EXIT_DESCRIPTIONS)
        .map(([code, text]) => `  ${code.padStart(3)}  ${text}`)
        .join('\n')}`,
    );

  program
    .command('init')
    .argument(
      '[dir]',
      'where to create bearing/; inside a project already, nothing is created',
      '.',
    )
    .description(
      "Create bearing/ in a project: config.yaml, tasks/ with a commented example, plan.md, a .gitignore for .state/, and .schema/ (a copy of the JSON Schemas the files' $schema lines point at). Never overwrites your files; brings .schema/ up to date.",
    )
    .option('--json', 'print what was created as JSON')
    .option('--no-start', 'do not offer to start a planner session afterwards')
    .addHelpText(
      'after',
      '\nExamples:\n  $ bearing init            # in the current directory\n  $ bearing init ../my-app',
    )
    .action(async (dir: string, opts: InitOptions) =>
      (await import('./commands/init.js')).init(ctx, dir, opts),
    );

  program
    .command('start')
    .argument(
      '[dir]',
      'the project or a folder in it; with no bearing/ there or above it up to the git root, it is created there',
      '.',
    )
    .description(
      "Open an interactive planner session (Claude Code or Codex) in the project: the planner's instructions go in as its system prompt, it reads bearing/status.md and the task files, and you decide together what the agents build. Asks which CLI and model unless given. Exits with the CLI's exit code.",
    )
    .option('--cli <cli>', 'planner CLI: claude or codex (default: ask; claude)')
    .option(
      '--model <model>',
      "planner model (default: ask; opus for claude, the CLI's own default for codex)",
    )
    .option('-y, --yes', 'ask nothing: take the defaults for what --cli and --model leave open')
    .option(
      '--resume [id]',
      "resume a planner session, with Bearing's instructions (no id: the CLI's list to pick from)",
    )
    .option(
      '--continue',
      "resume the CLI's most recent session in the project, with Bearing's instructions",
    )
    .addHelpText(
      'after',
      `
Examples:
  $ bearing start                         # asks: CLI [claude], model [opus]
  $ bearing start --cli claude --model opus
  $ bearing start ../my-app --cli codex --yes
  $ printf 'codex\\n\\n' | bearing start   # answers piped on stdin
  $ bearing start --cli claude --model opus --resume 5b0c8a47-1f2e-4d3c-9a8b-7c6d5e4f3a21
  $ bearing start --cli codex --yes --continue   # codex resume --last

When a session ends, Bearing prints the \`bearing start --resume\` (or
\`--continue\`) command that resumes it: resuming with \`claude --resume\` or
\`codex resume\` alone leaves the planner's instructions out.

The planner's instructions are planner-prompts/shared.md and claude.md or
codex.md (with the task-file reference generated from the schema), passed as
\`claude --append-system-prompt\` or \`codex -c developer_instructions=...\`,
so they stay in force after the CLI compacts the conversation.`,
    )
    .action(async (dir: string, opts: StartOptions) =>
      (await import('./commands/start.js')).start(ctx, dir, opts),
    );

  program
    .command('validate')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      'Check bearing/config.yaml and every task file; on success print the task graph in dependency order, otherwise every problem as file:line:col: field: message (exit code 2).',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ bearing validate\n  $ bearing validate examples/quickstart --json',
    )
    .action(async (dir: string, opts: ValidateOptions) =>
      (await import('./commands/validate.js')).validate(ctx, dir, opts),
    );

  program
    .command('run')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      'Run every ready task in a fresh headless agent process, in dependency order, until nothing is left to run. Task files are re-read before every decision, so edits and new tasks are picked up during the run. Results go to bearing/status.md.',
    )
    .option(
      '-c, --concurrency <n>',
      'tasks side by side (default: config.yaml run.concurrency, else 1)',
    )
    .option(
      '--isolation <mode>',
      'where agents work: worktree (a git worktree each, landed in dependency order), none (the project folder), auto (worktree when concurrency > 1 in a git repository); default: config.yaml run.isolation, else auto',
    )
    .option(
      '--queue <url>',
      'queue mode: put attempts on this Redis queue (redis://host:port, rediss:// for TLS) for `bearing worker`s on other machines, and land what they push; default: config.yaml run.queue',
    )
    .option(
      '--max-cost <usd>',
      "the run's spend cap in US dollars: no task starts that could pass it, and running agents are stopped once they pass it (exit code 7); default: config.yaml run.max_cost_usd, else none",
    )
    .option('--json', 'print one JSON object per event instead of text')
    .addHelpText(
      'after',
      `
Examples:
  $ bearing run                    # the project in the current directory
  $ bearing run examples/quickstart
  $ bearing run --concurrency 3    # independent tasks side by side
  $ bearing run --max-cost 20      # spend at most $20 in this run

Ctrl-C stops spawning, ends every agent and its children, records what was
interrupted and exits 130; the next \`bearing run\` runs those tasks again.`,
    )
    .action(async (dir: string, opts: RunOptions) =>
      (await import('./commands/run.js')).run(ctx, dir, opts),
    );

  program
    .command('status')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      'Show the full status: progress, cost, tokens, what happens next, and per task its state, summary, files changed and error (what bearing/status.md holds, computed now).',
    )
    .option('--json', 'print the status as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ bearing status\n  $ bearing status --json | jq ".tasks[] | select(.status == \\"failed\\")"',
    )
    .action(async (dir: string, opts: StatusOptions) =>
      (await import('./commands/status.js')).status(ctx, 'status', dir, opts),
    );

  program
    .command('summary')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      'One screen for the planner: progress, cost, what happens next, and one line per task.',
    )
    .option('--json', 'print the status as JSON')
    .addHelpText('after', '\nExamples:\n  $ bearing summary')
    .action(async (dir: string, opts: StatusOptions) =>
      (await import('./commands/status.js')).status(ctx, 'summary', dir, opts),
    );

  program
    .command('watch')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      'Follow a run from another terminal: print every task state change as it is recorded, until the run ends (waits for a run to start if none is active).',
    )
    .option('--json', 'print one JSON object per change')
    .addHelpText('after', '\nExamples:\n  $ bearing run & bearing watch\n  $ bearing watch --json')
    .action(async (dir: string, opts: WatchOptions) =>
      (await import('./commands/watch.js')).watch(ctx, dir, opts),
    );

  program
    .command('ui')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      "Serve a local dashboard on 127.0.0.1: the task graph with each task's state and cost, a task's prompt, attempts, errors and live output, run totals with cost per task, and approve and retry buttons. Live whether or not a run is going. Prints the URL to open, with its access token; Ctrl-C stops it.",
    )
    .option('-p, --port <port>', 'port to listen on (default: 0, a free port the system picks)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ bearing ui\n  $ bearing ui examples/quickstart --port 4100\n\nOnly this machine can reach it, and only with the token the printed URL carries.',
    )
    .action(async (dir: string, opts: UiOptions) =>
      (await import('./commands/ui.js')).ui(ctx, dir, opts),
    );

  program
    .command('prompt')
    .argument('<id>', 'task id')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      "Print exactly what the task's agent would receive next: FOCUS/SKIP directives, PRIOR context from completed dependencies, the prompt, a retry note after a failure, and the closing hand-off line.",
    )
    .option('--format <format>', `override run.prompt_format (${PROMPT_FORMATS.join(' | ')})`)
    .option('--json', 'print the prompt and how it would be sent as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ bearing prompt db-schema\n  $ bearing prompt api-routes --format prose\n  $ bearing prompt api-routes --json | jq -r .prompt',
    )
    .action(async (id: string, dir: string, opts: PromptOptions) =>
      (await import('./commands/prompt.js')).prompt(ctx, id, dir, opts),
    );

  program
    .command('approve')
    .argument('<id>', 'task id')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      'Accept a task that awaits review (checkpoint: pause, or on_failure: pause) so its dependents can run; a failed task is accepted as completed.',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  $ bearing approve db-schema && bearing run')
    .action(async (id: string, dir: string, opts: ReviewOptions) =>
      (await import('./commands/review.js')).review(ctx, 'approve', id, dir, opts),
    );

  program
    .command('retry')
    .argument('<id>', 'task id')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      'Queue a failed, skipped, completed or reviewed task to run again, with a fresh retry budget; after a failure the next attempt gets the error appended.',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  $ bearing retry auth && bearing run')
    .action(async (id: string, dir: string, opts: ReviewOptions) =>
      (await import('./commands/review.js')).review(ctx, 'retry', id, dir, opts),
    );

  program
    .command('log')
    .argument('<id>', 'task id')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      "Show what an attempt did (default: the latest attempt). For claude and codex, a transcript read from the agent's events: its messages, each tool call with its main argument (Edit src/db.js, Bash npm test), failed tool calls with their output, and the result (status, cost, turns, tokens). For a shell task or a text agent, its stdout then its stderr. When the verify gate failed, the gate's output follows. Every attempt is kept under bearing/.state/runs/<id>/<attempt>/ with the exact prompt sent.",
    )
    .option('-a, --attempt <n>', 'which attempt (default: the latest)')
    .option('-f, --follow', 'keep reading while the attempt runs, until it ends (or the run does)')
    .option('--raw', "print the agent's output exactly as it printed it (claude/codex: JSON lines)")
    .option('--stderr', "print the agent's stderr instead")
    .option('--prompt', 'print the prompt that was sent instead')
    .option('--verify', "print the verify gate's output instead")
    .option('--json', 'print the attempt directory, its files and result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ bearing log auth\n  $ bearing log auth -f              # while it runs\n  $ bearing log auth --attempt 1 --prompt\n  $ bearing log auth --raw | jq -c "select(.type == \\"result\\")"',
    )
    .action(async (id: string, dir: string, opts: LogOptions) =>
      (await import('./commands/log.js')).log(ctx, id, dir, opts),
    );
  program
    .command('diff')
    .argument('<id>', 'task id')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      "Show what an attempt of a task changed (default: the latest attempt). In worktree mode, its commit as git shows it: the one landed on the target branch, or the one kept on its branch. In place, the files it added, modified or removed (and what they are now against git HEAD, when that differs), then git's diff of them against HEAD: Bearing records which files a task changed, not their contents before it ran, so the diff includes any change made to them since. Without git, only the list.",
    )
    .option('-a, --attempt <n>', 'which attempt (default: the latest)')
    .option('--json', 'print the commit or the files as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ bearing diff db-schema\n  $ bearing diff api --attempt 1\n  $ bearing diff api --json | jq -r ".files[].path"',
    )
    .action(async (id: string, dir: string, opts: DiffOptions) =>
      (await import('./commands/diff.js')).diff(ctx, id, dir, opts),
    );
  program
    .command('worker')
    .description(
      "Run attempts for `bearing run --queue` coordinators, on this machine: fetch the project from its git remote, run the agent in a worktree at the job's base commit, push its work to the attempt's branch and report back. Runs until Ctrl-C.",
    )
    .requiredOption(
      '--queue <url>',
      'the Redis queue (redis://[:password@]host:port, rediss:// for TLS)',
    )
    .option('-c, --concurrency <n>', 'agents at once, per CLI (default 1)')
    .option(
      '--cli <names>',
      'the CLIs to serve, comma-separated (custom agents by their config.yaml name); default: claude, codex and shell, those found on PATH',
    )
    .option(
      '--cache <dir>',
      'where projects are cloned and worktrees made (default: ~/.cache/bearing/worker)',
    )
    .addOption(
      new Option(
        '--lock-ms <ms>',
        'how long a job stays locked without renewal (tests)',
      ).hideHelp(),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ bearing worker --queue redis://queue.internal:6379 --concurrency 4
  $ bearing worker --queue rediss://:secret@queue.internal:6380 --cli claude

Each worker uses its own CLI logins; the queue carries prompts and results,
never credentials. Redis must not be reachable from untrusted networks.`,
    )
    .action(async (opts: WorkerOptions) =>
      (await import('./commands/worker.js')).worker(ctx, opts),
    );

  return program;
}
