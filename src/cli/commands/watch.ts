import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { PROJECT_DIR_HELP, projectRootOrReport } from '../project-dir.js';

export function registerWatch(program: Command, ctx: CommandContext): void {
  program
    .command('watch')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      'Follow a run from another terminal: print every task state change as it is recorded, until the run ends (waits for a run to start if none is active).',
    )
    .option('--json', 'print one JSON object per change')
    .addHelpText('after', '\nExamples:\n  $ bearing run & bearing watch\n  $ bearing watch --json')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const root = projectRootOrReport(ctx, 'watch', dir);
      if (root === undefined) return;
      const { watchProject } = await import('../../run/watch.js');
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const { color } = ctx.output;
      const time = () => color.dim(new Date().toTimeString().slice(0, 8));
      try {
        await watchProject({
          root,
          signal: controller.signal,
          onEvent: (e) => {
            if (opts.json) {
              ctx.output.out(JSON.stringify(e));
              return;
            }
            switch (e.type) {
              case 'waiting':
                ctx.output.out(`${time()} no run is active; waiting for one (Ctrl-C to stop)`);
                break;
              case 'run-active':
                ctx.output.out(`${time()} run active (pid ${e.pid}, since ${e.startedAt})`);
                break;
              case 'change':
                ctx.output.out(
                  `${time()} ${color.bold(e.id)}: ${e.from} -> ${e.to}${e.costUsd ? ` ($${e.costUsd.toFixed(4)})` : ''}${e.error ? ` [${e.error}]` : ''}`,
                );
                break;
              case 'run-ended':
                ctx.output.out(`${time()} run ended`);
                ctx.output.out(e.next);
                break;
            }
          },
        });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      if (controller.signal.aborted) ctx.setExitCode(EXIT.interrupted);
    });
}
