import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { PROJECT_DIR_HELP, projectRootOrReport } from '../project-dir.js';

export function registerReview(program: Command, ctx: CommandContext): void {
  const action =
    (name: 'approve' | 'retry') => async (id: string, dir: string, opts: { json?: boolean }) => {
      const root = projectRootOrReport(ctx, name, dir);
      if (root === undefined) return;
      const { review } = await import('../../run/review.js');
      const result = await review(root, ctx.cwd, name, id);
      if (opts.json) ctx.output.out(JSON.stringify({ id, action: name, ...result }));
      else if (result.kind === 'applied' || result.kind === 'queued-for-run')
        ctx.output.out(result.message);
      else ctx.output.err(`bearing ${name}: ${result.message}`);
      switch (result.kind) {
        case 'applied':
        case 'queued-for-run':
          if (!opts.json && result.kind === 'applied') ctx.output.out(result.followUp);
          break;
        case 'refused':
          ctx.setExitCode(EXIT.failed);
          break;
        case 'unknown-task':
          ctx.setExitCode(EXIT.invalid);
          break;
        case 'error':
          ctx.setExitCode(EXIT.failed);
          break;
      }
    };
  program
    .command('approve')
    .argument('<id>', 'task id')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      'Accept a task that awaits review (checkpoint: pause, or on_failure: pause) so its dependents can run; a failed task is accepted as completed.',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  $ bearing approve db-schema && bearing run')
    .action(action('approve'));
  program
    .command('retry')
    .argument('<id>', 'task id')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      'Queue a failed, skipped, completed or reviewed task to run again, with a fresh retry budget; after a failure the next attempt gets the error appended.',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  $ bearing retry auth && bearing run')
    .action(action('retry'));
}
