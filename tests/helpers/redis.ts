/**
 * A real redis-server for the queue tests: its own free port, its own temp
 * folder, no persistence unless asked; killed by `stop()`. `restart()` stops
 * it (SIGTERM, as a service manager does) and starts it again on the same
 * port: what a Redis restart looks like to the clients.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  /** With `tls`: the certificate of the authority that signed the server's (for NODE_EXTRA_CA_CERTS). */
  caFile?: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `persist`: an append-only file written at every command, as a production
 * Redis that must keep its jobs across a restart is set up. `tls`: TLS only
 * (no plain port), with a server certificate for 127.0.0.1 signed by a
 * certificate authority of the test's own, made by openssl.
 */
export async function startRedis(
  options: { password?: string; persist?: boolean; tls?: boolean } = {},
): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bearing-redis-'));
  const tls = options.tls ? certificates(dir) : undefined;
  const args = [
    ...(tls
      ? [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          tls.cert,
          '--tls-key-file',
          tls.key,
          '--tls-ca-cert-file',
          tls.ca,
          '--tls-auth-clients',
          'no',
        ]
      : ['--port', String(port)]),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
  ];
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
    url: `${tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`,
    ...(tls ? { caFile: tls.ca } : {}),
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

/** A certificate authority and a server certificate for 127.0.0.1 that it signed, in `dir`. */
function certificates(dir: string): { ca: string; cert: string; key: string } {
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=bearing test CA',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.crt'),
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    at('server.key'),
    '-out',
    at('server.csr'),
  );
  writeFileSync(at('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.crt'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    at('san.ext'),
    '-out',
    at('server.crt'),
  );
  return { ca: at('ca.crt'), cert: at('server.crt'), key: at('server.key') };
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
