import { formatDiagnostic } from '../../core/diagnostic.js';
import type { IsolationMode } from '../../core/task.js';
import { runProject } from '../../run/runner.js';
import { ISOLATION_MODES } from '../../tasks/values.js';
import { runView } from '../../ui/run-view.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { projectRootOrReport } from '../project-dir.js';

export interface RunOptions {
  concurrency?: string;
  isolation?: string;
  queue?: string;
  maxCost?: string;
  json?: boolean;
}

export async function run(ctx: CommandContext, dir: string, opts: RunOptions): Promise<void> {
  let concurrency: number | undefined;
  if (opts.concurrency !== undefined) {
    concurrency = Number(opts.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      ctx.output.err(
        `bearing run: --concurrency: expected a whole number >= 1, got "${opts.concurrency}"`,
      );
      ctx.setExitCode(EXIT.invalid);
      return;
    }
  }
  let maxCostUsd: number | undefined;
  if (opts.maxCost !== undefined) {
    maxCostUsd = Number(opts.maxCost);
    if (opts.maxCost.trim() === '' || !Number.isFinite(maxCostUsd) || maxCostUsd <= 0) {
      ctx.output.err(
        `bearing run: --max-cost: expected an amount in US dollars above 0, got "${opts.maxCost}"`,
      );
      ctx.setExitCode(EXIT.invalid);
      return;
    }
  }
  const isolation = opts.isolation;
  if (isolation !== undefined && !isIsolationMode(isolation)) {
    ctx.output.err(
      `bearing run: --isolation: expected one of ${ISOLATION_MODES.join(', ')}, got "${isolation}"`,
    );
    ctx.setExitCode(EXIT.invalid);
    return;
  }
  const root = projectRootOrReport(ctx, 'run', dir);
  if (root === undefined) return;
  const controller = new AbortController();
  const view = runView(ctx.output, { json: Boolean(opts.json) });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      view.note(`bearing: ${signal}: stopping every agent and saving state (again to force)...`);
      controller.abort();
    } else {
      view.note('bearing: forced exit; state already saved up to the last transition');
      process.exit(EXIT.interrupted);
    }
  };
  // SIGHUP: the terminal or SSH session closed. The agents were started in
  // their own process groups, so nothing else ends them: stop as for Ctrl-C.
  const signalsHandled: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signalsHandled) process.on(s, onSignal);
  try {
    const end = await runProject({
      root,
      displayBase: ctx.cwd,
      env: ctx.env,
      signal: controller.signal,
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(isolation !== undefined ? { isolation } : {}),
      ...(opts.queue !== undefined ? { queue: opts.queue } : {}),
      ...(maxCostUsd !== undefined ? { maxCostUsd } : {}),
      onEvent: view,
    });
    switch (end.kind) {
      case 'done':
        ctx.setExitCode(EXIT.ok);
        break;
      case 'failed':
      case 'stopped':
        ctx.setExitCode(EXIT.failed);
        break;
      case 'paused':
        ctx.setExitCode(EXIT.paused);
        break;
      case 'interrupted':
        ctx.setExitCode(EXIT.interrupted);
        break;
      case 'io-error':
        ctx.setExitCode(EXIT.io);
        break;
      case 'internal-error':
        ctx.setExitCode(EXIT.internal);
        break;
      case 'lock-lost':
        ctx.setExitCode(EXIT.locked);
        break;
      case 'cost-cap':
        ctx.setExitCode(EXIT.costCap);
        break;
      case 'invalid':
        for (const d of end.diagnostics) ctx.output.err(formatDiagnostic(d));
        ctx.output.err(
          `\n${end.diagnostics.length} problem${end.diagnostics.length === 1 ? '' : 's'}; nothing was run.`,
        );
        ctx.setExitCode(EXIT.invalid);
        break;
      case 'locked':
        // Some lock messages end in a full stop of their own.
        ctx.output.err(
          `bearing run: ${end.holder.message.replace(/\.$/, '')}. Follow it with \`bearing watch\`.`,
        );
        ctx.setExitCode(EXIT.locked);
        break;
      case 'missing-cli':
        for (const m of end.missing) {
          ctx.output.err(
            `bearing run: \`${m.command}\` is not installed or not on PATH (needed by ${m.tasks.join(', ')}). Install it: ${m.installHint}`,
          );
        }
        ctx.output.err('Nothing was run.');
        ctx.setExitCode(EXIT.missingCli);
        break;
      case 'state-error':
        ctx.output.err(`bearing run: ${end.message}`);
        ctx.setExitCode(EXIT.io);
        break;
      case 'workspace-error':
        ctx.output.err(`bearing run: ${end.message}. Nothing was run.`);
        ctx.setExitCode(EXIT.invalid);
        break;
    }
  } finally {
    for (const s of signalsHandled) process.off(s, onSignal);
  }
}

function isIsolationMode(value: string): value is IsolationMode {
  return (ISOLATION_MODES as readonly string[]).includes(value);
}
