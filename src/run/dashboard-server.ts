/**
 * `bearing ui`: a small HTTP server on 127.0.0.1 that serves the dashboard
 * page, its view of the project as JSON and as server-sent events, the tail of
 * a running attempt's output, and the approve/retry buttons. node:http alone:
 * a handful of routes needs no framework, and SSE is a response left open.
 *
 * Who may use it (docs/architecture.md, "The dashboard's token"):
 * - the Host header must name 127.0.0.1 or localhost at our port, so a page
 *   on another domain that resolves to 127.0.0.1 (DNS rebinding) is refused;
 * - every request presents the token printed in the URL: the page's first
 *   load in `?token=`, which sets an HttpOnly, SameSite=Strict cookie that the
 *   browser then sends with every asset, fetch and EventSource (which cannot
 *   set headers); scripts may send `X-Bearing-Token` instead;
 * - actions (POST) must also come from our own origin (Origin header), so no
 *   other page, local or not, can press the buttons.
 * Anything else gets 403 and no hint of what is there.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DashboardView } from '../core/dashboard-view.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { runsDir, statusFile } from '../state/paths.js';
import { PLAIN } from '../ui/output.js';
import { renderTranscriptEntry } from '../ui/transcript-view.js';
import { transcriptFeed } from './attempt-log.js';
import { FileTail, latestOutput, readDashboard, taskDetail } from './dashboard-data.js';
import { review } from './review.js';
import type { ProjectSnapshot } from './snapshot.js';
import { type BearingWatcher, watchBearing } from './watch.js';

/** Only this interface: other machines never reach the dashboard. */
export const DASHBOARD_HOST = '127.0.0.1';

export interface DashboardOptions {
  root: string;
  /** Where relative paths in messages are shown from. */
  displayBase: string;
  env: NodeJS.ProcessEnv;
  /** 0: a free port the system picks. */
  port: number;
  /** How long a burst of file changes is gathered into one update. */
  debounceMs?: number;
}

export interface Dashboard {
  /** The URL to open, with the token. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The page and its scripts, shipped in the package beside dist/. */
const WEB_DIR = fileURLToPath(new URL('web/', PACKAGE_ROOT));

/** A browser-ready ES module of the layout library, served as it is installed: no build step. */
function dagreModule(): string {
  const pkg = createRequire(import.meta.url).resolve('@dagrejs/dagre/package.json');
  return join(dirname(pkg), 'dist', 'dagre.esm.js');
}

const ASSETS: Record<string, { file: () => string; type: string }> = {
  '/': { file: () => join(WEB_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/assets/app.js': { file: () => join(WEB_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/style.css': { file: () => join(WEB_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  '/assets/dagre.js': { file: dagreModule, type: 'text/javascript; charset=utf-8' },
};

/** How often a followed output file is looked at. */
const TAIL_POLL_MS = 300;
/** A comment line to keep idle SSE connections from being dropped by proxies or the browser. */
const KEEPALIVE_MS = 15_000;

export async function startDashboard(
  options: DashboardOptions,
): Promise<{ ok: true; value: Dashboard } | { ok: false; message: string }> {
  const server = new DashboardServer(options);
  return server.listen();
}

class DashboardServer {
  readonly #options: DashboardOptions;
  readonly #token = randomBytes(24).toString('base64url');
  readonly #server: Server;
  #port = 0;
  #watcher: BearingWatcher | undefined;
  /** Open event streams: each gets every new view. */
  readonly #clients = new Set<ServerResponse>();
  /** Cleanups of open log streams, run on close. */
  readonly #tails = new Set<() => void>();
  #latest: { view: DashboardView; snapshot: ProjectSnapshot; json: string } | undefined;
  #reading: Promise<void> | undefined;
  #stale = false;
  /** Why the last read failed (an unreadable state.json), while it does. */
  #problem: string | undefined;

  constructor(options: DashboardOptions) {
    this.#options = options;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) send(res, 500, 'text/plain', `internal error: ${String(error)}`);
        else res.end();
      });
    });
  }

  listen(): Promise<{ ok: true; value: Dashboard } | { ok: false; message: string }> {
    return new Promise((resolve) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        resolve({
          ok: false,
          message:
            error.code === 'EADDRINUSE'
              ? `port ${this.#options.port} on ${DASHBOARD_HOST} is in use; choose another with --port, or --port 0 for a free one`
              : `cannot listen on ${DASHBOARD_HOST}:${this.#options.port}: ${error.message}`,
        });
      };
      this.#server.once('error', onError);
      this.#server.listen(this.#options.port, DASHBOARD_HOST, () => {
        this.#server.off('error', onError);
        const address = this.#server.address();
        this.#port = typeof address === 'object' && address ? address.port : this.#options.port;
        this.#startWatching();
        resolve({
          ok: true,
          value: {
            url: `http://${DASHBOARD_HOST}:${this.#port}/?token=${this.#token}`,
            port: this.#port,
            close: () => this.#close(),
          },
        });
      });
    });
  }

  #startWatching(): void {
    const { root } = this.#options;
    const status = statusFile(root);
    const runs = runsDir(root);
    this.#watcher = watchBearing(root, {
      // status.md follows state.json, and runs/ is followed by the log tails.
      accept: (path) => path !== status && !path.startsWith(runs),
      intervalMs: this.#options.debounceMs ?? 100,
      onChange: () => void this.#refresh(),
    });
  }

  async #close(): Promise<void> {
    await this.#watcher?.close();
    for (const stop of this.#tails) stop();
    for (const res of this.#clients) res.end();
    this.#clients.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /**
   * Reads the project again and sends the view to every stream when it
   * changed. One read at a time: a change during a read makes one more.
   */
  #refresh(): Promise<void> {
    if (this.#reading) {
      this.#stale = true;
      return this.#reading;
    }
    this.#reading = (async () => {
      do {
        this.#stale = false;
        const read = await readDashboard(
          this.#options.root,
          this.#options.displayBase,
          this.#options.env,
        ).catch((error: unknown) => ({
          ok: false as const,
          message: `internal error: ${String(error)}`,
        }));
        if (!read.ok) {
          // The page keeps showing the last view, with the problem beside it.
          this.#problem = read.message;
          broadcast(this.#clients, 'problem', JSON.stringify({ message: read.message }));
          continue;
        }
        // A view after a problem tells the page the problem is over, changed or not.
        const recovered = this.#problem !== undefined;
        this.#problem = undefined;
        // generatedAt changes on every read: compare without it.
        const json = JSON.stringify({ ...read.value.view, generatedAt: '' });
        const changed = recovered || json !== this.#latest?.json;
        this.#latest = { ...read.value, json };
        if (changed) broadcast(this.#clients, 'view', JSON.stringify(read.value.view));
      } while (this.#stale);
    })().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async #current(): Promise<{ view: DashboardView; snapshot: ProjectSnapshot } | undefined> {
    if (!this.#latest || this.#reading) await this.#refresh();
    return this.#latest;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!this.#allowedHost(req.headers.host)) return forbidden(res);
    const fromQuery = url.searchParams.get('token');
    const presented = fromQuery ?? header(req, 'x-bearing-token') ?? this.#cookieToken(req);
    if (presented === undefined || !sameSecret(presented, this.#token)) return forbidden(res);
    const headers: Record<string, string> = {};
    // The first load carries the token in the URL; from then on the cookie does.
    if (fromQuery !== null) {
      headers['set-cookie'] =
        `${this.#cookieName()}=${this.#token}; Path=/; HttpOnly; SameSite=Strict`;
    }

    if (req.method === 'POST') {
      if (!this.#sameOrigin(req)) return forbidden(res);
      const action = /^\/api\/tasks\/([^/]+)\/(approve|retry)$/.exec(url.pathname);
      if (!action) return send(res, 404, 'text/plain', 'not found');
      return this.#act(res, decodeURIComponent(action[1]!), action[2] as 'approve' | 'retry');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'text/plain', 'method not allowed', { allow: 'GET, HEAD, POST' });
    }
    const asset = ASSETS[url.pathname];
    if (asset) return send(res, 200, asset.type, readFileSync(asset.file()), headers);
    if (url.pathname === '/api/view') {
      const current = await this.#current();
      if (!current) return send(res, 500, 'text/plain', this.#problem ?? 'cannot read the project');
      return send(res, 200, 'application/json', JSON.stringify(current.view), headers);
    }
    if (url.pathname === '/api/events') return this.#events(req, res);
    const task = /^\/api\/tasks\/([^/]+)(\/log)?$/.exec(url.pathname);
    if (task) {
      const id = decodeURIComponent(task[1]!);
      return task[2]
        ? this.#log(req, res, id, url.searchParams.get('raw') === '1')
        : this.#detail(res, id);
    }
    return send(res, 404, 'text/plain', 'not found');
  }

  #allowedHost(host: string | undefined): boolean {
    return host === `${DASHBOARD_HOST}:${this.#port}` || host === `localhost:${this.#port}`;
  }

  /**
   * Browsers send Origin with every POST; a page of ours has exactly this
   * one. A request without it does not come from a web page (curl, a
   * script), and it has shown the token already.
   */
  #sameOrigin(req: IncomingMessage): boolean {
    const origin = header(req, 'origin');
    if (origin === undefined) return header(req, 'sec-fetch-site') === undefined;
    return (
      origin === `http://${DASHBOARD_HOST}:${this.#port}` ||
      origin === `http://localhost:${this.#port}`
    );
  }

  /** Cookies are shared by every port of a host: the name carries ours. */
  #cookieName(): string {
    return `bearing_ui_${this.#port}`;
  }

  #cookieToken(req: IncomingMessage): string | undefined {
    const name = this.#cookieName();
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [key, ...value] = part.trim().split('=');
      if (key === name) return value.join('=');
    }
    return undefined;
  }

  async #act(res: ServerResponse, id: string, action: 'approve' | 'retry'): Promise<void> {
    const { root, displayBase } = this.#options;
    const outcome = await review(root, displayBase, action, id);
    void this.#refresh();
    const code = {
      applied: 200,
      'queued-for-run': 202,
      refused: 409,
      'unknown-task': 404,
      error: 500,
    }[outcome.kind];
    send(res, code, 'application/json', JSON.stringify({ id, action, ...outcome }));
  }

  async #detail(res: ServerResponse, id: string): Promise<void> {
    const current = await this.#current();
    const detail = current && taskDetail(this.#options.root, current.snapshot, id);
    if (!detail) return send(res, 404, 'text/plain', `no task "${id}"`);
    send(res, 200, 'application/json', JSON.stringify(detail));
  }

  #events(req: IncomingMessage, res: ServerResponse): void {
    openStream(res);
    this.#clients.add(res);
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    req.on('close', () => {
      clearInterval(keepalive);
      this.#clients.delete(res);
    });
    void this.#current().then((current) => {
      if (current) res.write(sse('view', JSON.stringify(current.view)));
      if (this.#problem) res.write(sse('problem', JSON.stringify({ message: this.#problem })));
    });
  }

  /**
   * The output of the task's latest attempt as it grows: `output` events of
   * text. An agent's event stream is sent as `bearing log` shows it (its
   * adapter's transcript reader), unless `?raw=1` asks for the bytes.
   */
  async #log(req: IncomingMessage, res: ServerResponse, id: string, raw: boolean): Promise<void> {
    const current = await this.#current();
    const output = current && latestOutput(current.snapshot, this.#options.root, id);
    if (!output) return send(res, 404, 'text/plain', `${id} has not run yet`);
    openStream(res);
    res.write(sse('attempt', JSON.stringify({ attempt: output.attempt, raw })));
    const tail = new FileTail(output.path);
    let lines: string[] = [];
    const feed =
      raw || output.format === undefined
        ? undefined
        : transcriptFeed(output.format, output.cwd, (entry) => {
            lines.push(...renderTranscriptEntry(entry, PLAIN));
          });
    const push = (): void => {
      const text = tail.read();
      if (feed === undefined) {
        if (text !== '') res.write(sse('output', JSON.stringify({ text })));
        return;
      }
      if (text !== '') feed.push(Buffer.from(text));
      if (lines.length === 0) return;
      res.write(sse('output', JSON.stringify({ text: `${lines.join('\n')}\n` })));
      lines = [];
    };
    push();
    const poll = setInterval(push, TAIL_POLL_MS);
    const stop = (): void => {
      clearInterval(poll);
      feed?.end();
      this.#tails.delete(stop);
      res.end();
    };
    this.#tails.add(stop);
    req.on('close', stop);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Sent with everything: no caching, no framing by other pages, no loading from elsewhere. */
const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

function send(
  res: ServerResponse,
  code: number,
  type: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  res.writeHead(code, { ...SECURITY_HEADERS, 'content-type': type, ...headers });
  res.end(body);
}

function forbidden(res: ServerResponse): void {
  send(res, 403, 'text/plain', 'forbidden: open the URL `bearing ui` printed, with its token\n');
}

function openStream(res: ServerResponse): void {
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    connection: 'keep-alive',
  });
  res.write(': bearing\n\n');
}

function sse(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

function broadcast(clients: Set<ServerResponse>, event: string, data: string): void {
  const message = sse(event, data);
  for (const res of clients) res.write(message);
}
