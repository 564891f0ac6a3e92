/**
 * A real redis-server for the queue tests: its own free port, its own temp
 * folder, no persistence unless asked; killed by `stop()`. `restart()` stops
 * it (SIGTERM, as a service manager does) and starts it again on the same
 * port: what a Redis restart looks like to the clients.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../../src/process/which.js';

/**
 * Why the queue tests cannot run here, or undefined when they can (or must,
 * in CI): `npm test` on a new machine without redis-server skips them with
 * this message; `.ci/run` installs it and sets CI, so there they fail instead.
 */
export function redisSkipReason(): string | undefined {
  if (which('redis-server', process.env) || process.env.CI) return undefined;
  return 'redis-server is not installed: the queue tests are skipped (install it with `apt-get install -y redis-server`; in CI, with CI set, they fail instead)';
}

export interface RedisServer {
  port: number;
  url: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `persist`: an append-only file written at every command, as a production
 * Redis that must keep its jobs across a restart is set up.
 */
export async function startRedis(
  options: { password?: string; persist?: boolean } = {},
): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bearing-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push(
    ...(options.persist
      ? ['--appendonly', 'yes', '--appendfsync', 'always']
      : ['--appendonly', 'no']),
  );
  if (options.password) args.push('--requirepass', options.password);
  let child = await launch(args);
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    async restart() {
      await kill(child, 'SIGTERM');
      child = await launch(args);
    },
    async stop() {
      await kill(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function launch(args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString('utf8');
      if (out.includes('Ready to accept connections')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.resume();
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!out.includes('Ready to accept connections')) {
        reject(new Error(`redis-server exited with ${code} before it was ready:\n${out}`));
      }
    });
  });
}

function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
