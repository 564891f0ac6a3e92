/**
 * `bearing worker --queue <url>`: serve attempts from coordinators' queues
 * until Ctrl-C or SIGTERM, which end the running agents and give their jobs
 * back (src/queue/worker.ts).
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseQueueUrl } from '../../queue/connection.js';
import { runWorker } from '../../queue/worker.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';

export interface WorkerOptions {
  queue: string;
  concurrency?: string;
  cli?: string;
  cache?: string;
  lockMs?: string;
}

export async function worker(ctx: CommandContext, opts: WorkerOptions): Promise<void> {
  const usage = (message: string): void => {
    ctx.output.err(`bearing worker: ${message}`);
    ctx.setExitCode(EXIT.invalid);
  };
  const address = parseQueueUrl(opts.queue);
  if (!address.ok) return usage(`--queue: ${address.message}`);
  const concurrency = wholeNumber(opts.concurrency ?? '1');
  if (concurrency === undefined) {
    return usage(`--concurrency: expected a whole number >= 1, got "${opts.concurrency}"`);
  }
  const lockMs = opts.lockMs === undefined ? undefined : wholeNumber(opts.lockMs);
  if (opts.lockMs !== undefined && lockMs === undefined) {
    return usage(`--lock-ms: expected a whole number >= 1, got "${opts.lockMs}"`);
  }
  const clis = opts.cli
    ?.split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const cacheDir = opts.cache
    ? resolve(ctx.cwd, opts.cache)
    : join(ctx.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'bearing', 'worker');

  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  try {
    await runWorker({
      address: address.value,
      concurrency,
      ...(clis && clis.length > 0 ? { clis } : {}),
      cacheDir,
      env: ctx.env,
      signal: controller.signal,
      ...(lockMs !== undefined ? { lockMs } : {}),
      log: (line) => ctx.output.err(line),
    });
    ctx.setExitCode(controller.signal.aborted ? EXIT.interrupted : EXIT.ok);
  } catch (error) {
    ctx.output.err(`bearing worker: ${error instanceof Error ? error.message : String(error)}`);
    ctx.setExitCode(EXIT.failed);
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

function wholeNumber(text: string): number | undefined {
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}
