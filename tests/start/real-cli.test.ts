/**
 * Opt-in (BEARING_REAL_CLI=1): checks `bearing start`'s arguments against the
 * real CLIs, with nothing leaving the machine.
 *
 * - codex: `codex debug prompt-input` renders what the model would see; the
 *   planner's `-c developer_instructions=...` must come out, exactly, as a
 *   developer message (and the opening message as the user's).
 * - claude: `claude -p` against a local stand-in for the API; the request's
 *   system prompt must hold the planner's instructions given with
 *   `--append-system-prompt`, and the user message the opening message.
 * - the fakes' interactive option tables list only what the real `--help` does.
 *
 *   BEARING_REAL_CLI=1 BEARING_REAL_CLI_DIR=/path/to/node_modules/.bin npx vitest run tests/start/real-cli.test.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { plannerInstructions } from '../../src/run/planner-prompt.js';
import { plannerArgs } from '../../src/run/start.js';
import { CLAUDE_OPTIONS } from '../fixtures/fake-agent/claude.js';
import { CODEX_INTERACTIVE_OPTIONS } from '../fixtures/fake-agent/codex.js';
import { tempDir, useTempDirs } from './support.js';

useTempDirs();

const enabled = process.env.BEARING_REAL_CLI === '1';
const binDir = process.env.BEARING_REAL_CLI_DIR;
const bin = (name: string) => (binDir ? join(binDir, name) : name);
const OPENING = 'Opening message from bearing start';

function codexEnv(): { env: Record<string, string>; cwd: string } {
  const home = tempDir('bearing-real-home-');
  const codexHome = join(home, '.codex');
  mkdirSync(codexHome, { recursive: true });
  writeFileSync(
    join(codexHome, 'config.toml'),
    'model_provider = "local"\n[model_providers.local]\nname = "local"\nbase_url = "http://127.0.0.1:9/v1"\nenv_key = "OPENAI_API_KEY"\nwire_api = "responses"\n',
  );
  return {
    cwd: tempDir('bearing-real-cwd-'),
    env: { PATH: process.env.PATH ?? '', HOME: home, CODEX_HOME: codexHome, OPENAI_API_KEY: 'x' },
  };
}

describe.skipIf(!enabled)('bearing start with the real CLIs', () => {
  it('codex shows -c developer_instructions to the model as a developer message', () => {
    const instructions = plannerInstructions('codex', { bearingCommand: 'bearing' });
    const [, config] = plannerArgs('codex', undefined, instructions, OPENING);
    const { env, cwd } = codexEnv();
    const r = spawnSync(bin('codex'), ['debug', 'prompt-input', '-c', config as string, OPENING], {
      cwd,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const items = JSON.parse(r.stdout) as {
      role?: string;
      content?: { type: string; text?: string }[];
    }[];
    const texts = (role: string) =>
      items.filter((i) => i.role === role).flatMap((i) => (i.content ?? []).map((c) => c.text));
    expect(texts('developer')).toContain(instructions);
    expect(texts('user')).toContain(OPENING);
  }, 90_000);

  it('claude sends --append-system-prompt as part of the system prompt', async () => {
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          '{"type":"error","error":{"type":"invalid_request_error","message":"local stand-in"}}',
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const instructions = plannerInstructions('claude', { bearingCommand: 'bearing' });
    const args = plannerArgs('claude', 'opus', instructions, OPENING);
    const home = tempDir('bearing-real-home-');
    try {
      await new Promise<void>((resolve) => {
        const child = spawn(bin('claude'), ['-p', ...args], {
          cwd: tempDir('bearing-real-cwd-'),
          env: {
            PATH: process.env.PATH ?? '',
            HOME: home,
            ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`,
            ANTHROPIC_API_KEY: 'sk-test',
            CLAUDE_CODE_MAX_RETRIES: '0',
          },
          stdio: ['ignore', 'ignore', 'ignore'],
        });
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    } finally {
      server.close();
    }
    const main = bodies
      .map((b) => {
        try {
          return JSON.parse(b) as { system?: unknown; messages?: unknown; model?: string };
        } catch {
          return undefined;
        }
      })
      .find((b) => JSON.stringify(b?.system ?? '').includes('# Bearing planner'));
    expect(main, 'a request carrying the planner instructions').toBeDefined();
    const system = ((main?.system ?? []) as { text?: string }[])
      .map((s) => s.text ?? '')
      .join('\n');
    expect(system).toContain(instructions.trim());
    expect(JSON.stringify(main?.messages)).toContain(OPENING);
    expect(main?.model).toMatch(/opus/);
  }, 90_000);

  it('the fakes accept only interactive options the real --help lists', () => {
    const help = (args: string[]) => {
      const r = spawnSync(bin(args[0] ?? ''), args.slice(1), {
        encoding: 'utf8',
        env: codexEnv().env,
      });
      return `${r.stdout}${r.stderr}`;
    };
    const listed = (text: string, flag: string) =>
      new RegExp(`(^|[\\s,])${flag.replace(/[-]/g, '\\-')}([\\s,=<\\[]|$)`, 'm').test(text);
    const codex = help(['codex', '--help']);
    expect(Object.keys(CODEX_INTERACTIVE_OPTIONS).filter((f) => !listed(codex, f))).toEqual([]);
    const claude = help(['claude', '--help']);
    expect(listed(claude, '--append-system-prompt')).toBe(true);
    expect(CLAUDE_OPTIONS['--append-system-prompt']).toBe('value');
  });
});
