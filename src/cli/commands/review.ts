import { review as reviewTask } from '../../run/review.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { projectRootOrReport } from '../project-dir.js';

export interface ReviewOptions {
  json?: boolean;
}

/** `bearing approve` and `bearing retry`. */
export async function review(
  ctx: CommandContext,
  name: 'approve' | 'retry',
  id: string,
  dir: string,
  opts: ReviewOptions,
): Promise<void> {
  const root = projectRootOrReport(ctx, name, dir);
  if (root === undefined) return;
  const result = await reviewTask(root, ctx.cwd, name, id);
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
}
