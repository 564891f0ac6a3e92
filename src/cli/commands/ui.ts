/**
 * `bearing ui`: serve the dashboard until Ctrl-C. The server lives in
 * run/dashboard-server.ts; this prints where it is and waits.
 */
import { startDashboard } from '../../run/dashboard-server.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { projectRootOrReport } from '../project-dir.js';

export interface UiOptions {
  port?: string;
}

export async function ui(ctx: CommandContext, dir: string, opts: UiOptions): Promise<void> {
  const port = parsePort(opts.port);
  if (port === undefined) {
    ctx.output.err(
      `bearing ui: --port: expected a port number from 0 to 65535 (0: a free one), got "${opts.port}"`,
    );
    ctx.setExitCode(EXIT.invalid);
    return;
  }
  const root = projectRootOrReport(ctx, 'ui', dir);
  if (root === undefined) return;
  const started = await startDashboard({ root, displayBase: ctx.cwd, env: ctx.env, port });
  if (!started.ok) {
    ctx.output.err(`bearing ui: ${started.message}`);
    ctx.setExitCode(EXIT.failed);
    return;
  }
  const dashboard = started.value;
  ctx.output.out(`Bearing dashboard: ${dashboard.url}`);
  ctx.output.out(
    'Open it in a browser on this machine; the token in it is the only way in. Ctrl-C stops it.',
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.off('SIGHUP', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.once('SIGHUP', stop);
  });
  await dashboard.close();
  ctx.setExitCode(EXIT.interrupted);
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return 0;
  if (!/^\d{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port <= 65535 ? port : undefined;
}
