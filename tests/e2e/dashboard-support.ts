/**
 * `bearing ui` in tests: start it in a project, read the URL it prints, and
 * make raw HTTP requests with exactly the headers a test chooses (fetch would
 * not let a test send a Host or Origin of its own).
 */
import { request as httpRequest } from 'node:http';
import type { Project, Running } from './rig.js';

export interface Ui {
  running: Running;
  /** The printed URL, token included. */
  url: string;
  /** http://127.0.0.1:<port> */
  origin: string;
  port: number;
  token: string;
}

export async function startUi(p: Project, args: string[] = []): Promise<Ui> {
  const running = p.start(['ui', ...args], { timeoutMs: 120_000 });
  await running.waitForOutput(/Bearing dashboard: http:\S+/);
  const url = /Bearing dashboard: (http:\S+)/.exec(running.stdout())![1]!;
  const parsed = new URL(url);
  return {
    running,
    url,
    origin: parsed.origin,
    port: Number(parsed.port),
    token: parsed.searchParams.get('token')!,
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request to the dashboard. An event stream's body is cut after its first
 * bytes (it never ends by itself), or once `until` says it holds enough.
 */
export function send(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    until?: (body: string) => boolean;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        const done = (): void =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        res.on('data', (chunk: string) => {
          body += chunk;
          const stream = String(res.headers['content-type']).startsWith('text/event-stream');
          if (stream && (options.until?.(body) ?? true)) {
            req.destroy();
            done();
          }
        });
        res.on('end', done);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The text of an event stream's `output` events, one after the other. */
export function outputText(body: string): string {
  return [...body.matchAll(/^event: output\ndata: (.*)$/gm)]
    .map((m) => (JSON.parse(m[1]!) as { text: string }).text)
    .join('');
}
