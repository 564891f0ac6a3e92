/**
 * A stand-in for the model APIs on 127.0.0.1, for running the real claude and
 * codex CLIs with nothing leaving the machine: the Anthropic Messages API
 * (streamed, for `ANTHROPIC_BASE_URL`) and the OpenAI Responses API (for a
 * codex `model_providers` entry). Every answer is one short text turn, or an
 * error status when asked; every request's user texts are kept whole, so a
 * test can check that a prompt arrived byte for byte.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandinRequest {
  method: string;
  path: string;
  /** Size of the request body: a 300 KiB prompt makes a body at least that big. */
  bodyBytes: number;
  /** The text parts of the user messages (Anthropic `messages`, OpenAI `input`), in order. */
  userTexts: string[];
  /** The request body as sent (to look at system prompts and developer messages). */
  body: string;
}

export interface Standin {
  /** `http://127.0.0.1:<port>`: claude's ANTHROPIC_BASE_URL; codex's base_url is this + `/v1`. */
  url: string;
  requests: StandinRequest[];
  /** Every user text the model was sent, over all requests. */
  userTexts(): string[];
  close(): Promise<void>;
}

export interface StandinOptions {
  /** Answer every model request with this HTTP status instead (e.g. 401, 529). */
  status?: number;
  /** The assistant's reply. */
  reply?: string;
}

type Json = Record<string, unknown>;

function userTextsOf(body: string): string[] {
  let parsed: Json;
  try {
    parsed = JSON.parse(body) as Json;
  } catch {
    return [];
  }
  const messages = (parsed.messages ?? parsed.input ?? []) as Json[];
  const texts: string[] = [];
  for (const m of Array.isArray(messages) ? messages : []) {
    if (m.role !== 'user') continue;
    const parts = typeof m.content === 'string' ? [{ text: m.content }] : (m.content as Json[]);
    for (const p of Array.isArray(parts) ? parts : []) {
      if (typeof p.text === 'string') texts.push(p.text);
    }
  }
  return texts;
}

function sse(res: ServerResponse, events: Json[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) res.write(`event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`);
  res.end();
}

function json(res: ServerResponse, status: number, body: Json): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Anthropic Messages API: the streamed events of one text block. */
function anthropic(res: ServerResponse, body: string, reply: string): void {
  let model = 'claude-sonnet-4-5';
  let stream = false;
  try {
    const b = JSON.parse(body) as Json;
    if (typeof b.model === 'string') model = b.model;
    stream = b.stream === true;
  } catch {}
  const message = {
    id: 'msg_standin',
    type: 'message',
    role: 'assistant',
    model,
    content: [] as Json[],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 1 },
  };
  if (!stream) {
    json(res, 200, {
      ...message,
      content: [{ type: 'text', text: reply }],
      stop_reason: 'end_turn',
    });
    return;
  }
  sse(res, [
    { type: 'message_start', message },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: reply } },
    { type: 'content_block_stop', index: 0 },
    {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 5 },
    },
    { type: 'message_stop' },
  ]);
}

/** OpenAI Responses API: the streamed events of one assistant message. */
function responses(res: ServerResponse, reply: string): void {
  const item = {
    type: 'message',
    id: 'msg_standin',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text: reply, annotations: [] }],
  };
  sse(res, [
    { type: 'response.created', response: { id: 'resp_standin' } },
    {
      type: 'response.output_item.added',
      output_index: 0,
      item: { ...item, status: 'in_progress', content: [] },
    },
    {
      type: 'response.output_text.delta',
      output_index: 0,
      content_index: 0,
      item_id: item.id,
      delta: reply,
    },
    { type: 'response.output_item.done', output_index: 0, item },
    {
      type: 'response.completed',
      response: {
        id: 'resp_standin',
        usage: {
          input_tokens: 10,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: 5,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: 15,
        },
      },
    },
  ]);
}

export async function startStandin(options: StandinOptions = {}): Promise<Standin> {
  const reply = options.reply ?? 'OK from the stand-in';
  const requests: StandinRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      requests.push({
        method: req.method ?? '',
        path,
        bodyBytes: Buffer.byteLength(body),
        userTexts: userTextsOf(body),
        body,
      });
      const isModel = path.startsWith('/v1/messages') || path.startsWith('/v1/responses');
      if (options.status !== undefined && isModel) {
        json(res, options.status, {
          type: 'error',
          error: { type: 'api_error', message: `stand-in answers ${options.status}` },
        });
      } else if (path === '/v1/messages/count_tokens') {
        json(res, 200, { input_tokens: 10 });
      } else if (path.startsWith('/v1/messages')) {
        anthropic(res, body, reply);
      } else if (path.startsWith('/v1/responses')) {
        responses(res, reply);
      } else {
        json(res, 404, {});
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    userTexts: () => requests.flatMap((r) => r.userTexts),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
