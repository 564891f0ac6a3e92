import { costText } from '../../core/cost.js';
import { progressJson, progressText } from '../../core/status-report.js';
import { watchProject } from '../../run/watch.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { projectRootOrReport } from '../project-dir.js';

export interface WatchOptions {
  json?: boolean;
}

export async function watch(ctx: CommandContext, dir: string, opts: WatchOptions): Promise<void> {
  const root = projectRootOrReport(ctx, 'watch', dir);
  if (root === undefined) return;
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
          // Progress in the shape `bearing status --json` gives it.
          ctx.output.out(
            JSON.stringify(
              e.type === 'progress' ? { ...e, progress: progressJson(e.progress) } : e,
            ),
          );
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
              `${time()} ${color.bold(e.id)}: ${e.from} -> ${e.to}${e.costUsd ? ` (${costText({ usd: e.costUsd, estimated: e.costEstimated, unknown: false })})` : ''}${e.error ? ` [${e.error}]` : ''}`,
            );
            break;
          case 'progress':
            ctx.output.out(`${time()} ${color.bold(e.id)}: ${progressText(e.progress)}`);
            break;
          case 'worker':
            ctx.output.out(`${time()} ${color.bold(e.id)}: on worker ${e.worker}`);
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
}
