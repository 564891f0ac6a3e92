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
 * - resuming: `claude -p --resume ID` without `--append-system-prompt` sends
 *   none of the instructions, with it they are in the system prompt again;
 *   `codex exec resume` without `-c developer_instructions` loses them at the
 *   first compaction, with it they come back after it (exec resume shares the
 *   interactive `codex resume`'s session code, and runs without a terminal).
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
import { plannerArgs, tomlString } from '../../src/run/start.js';
import { startStandin } from '../agents/model-api-standin.js';
import { CLAUDE_OPTIONS } from '../fixtures/fake-agent/claude.js';
import {
  CODEX_INTERACTIVE_OPTIONS,
  CODEX_INTERACTIVE_RESUME_OPTIONS,
} from '../fixtures/fake-agent/codex.js';
import { runWith, tempDir, useTempDirs } from './support.js';

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

  it('claude --resume keeps the instructions only when --append-system-prompt is passed again', async () => {
    const standin = await startStandin();
    const instructions = plannerInstructions('claude', { bearingCommand: 'bearing' });
    const cwd = tempDir('bearing-real-cwd-');
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: tempDir('bearing-real-home-'),
      ANTHROPIC_BASE_URL: standin.url,
      ANTHROPIC_API_KEY: 'sk-test',
      CLAUDE_CODE_MAX_RETRIES: '0',
      DISABLE_AUTOUPDATER: '1',
    };
    // Not spawnSync: the stand-in answers from this process's event loop.
    const claude = async (args: string[]) => {
      const r = await runWith(bin('claude'), ['-p', ...args], { cwd, env });
      expect(r.code, r.stderr).toBe(0);
    };
    /** The system prompt of the main request that carried `text` as a user message. */
    const systemFor = (text: string) => {
      const request = standin.requests.find(
        (q) => q.path.startsWith('/v1/messages') && q.userTexts.at(-1) === text,
      );
      expect(request, `a request ending with "${text}"`).toBeDefined();
      const body = JSON.parse(request?.body ?? '{}') as { system?: { text?: string }[] };
      return (body.system ?? []).map((b) => b.text ?? '').join('\n');
    };
    try {
      const id = '5b0c8a47-1f2e-4d3c-9a8b-7c6d5e4f3a21';
      const [, , ...fresh] = plannerArgs('claude', undefined, instructions, 'first', {
        kind: 'new',
        sessionId: id,
      });
      await claude(['--session-id', id, ...fresh]);
      expect(systemFor('first')).toContain(instructions.trim());
      await claude(['--resume', id, '--', 'bare resume']);
      expect(systemFor('bare resume')).not.toContain('# Bearing planner');
      const resumed = plannerArgs('claude', undefined, instructions, '', {
        kind: 'resume',
        sessionId: id,
      });
      await claude([...resumed, '--', 'bearing resume']);
      expect(systemFor('bearing resume')).toContain(instructions.trim());
    } finally {
      await standin.close();
    }
  }, 180_000);

  it('codex resume keeps the instructions after a compaction only when -c developer_instructions is passed again', async () => {
    const standin = await startStandin();
    const marker = 'BEARING-PLANNER-INSTRUCTIONS-MARKER';
    const config = `developer_instructions=${tomlString(`# Bearing planner\n${marker}`)}`;
    const { env, cwd } = codexEnv();
    writeFileSync(
      join(env.CODEX_HOME as string, 'config.toml'),
      `model_provider = "local"\n[model_providers.local]\nname = "local"\nbase_url = "${standin.url}/v1"\nenv_key = "OPENAI_API_KEY"\nwire_api = "responses"\n`,
    );
    const codex = async (args: string[]) => {
      const r = await runWith(bin('codex'), ['exec', '--json', '--skip-git-repo-check', ...args], {
        cwd,
        env,
      });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    /** Whether the model request whose last user text is `text` carried the instructions. */
    const instructed = (text: string) => {
      const request = standin.requests.find(
        (q) => q.path.startsWith('/v1/responses') && q.userTexts.at(-1) === text,
      );
      expect(request, `a request ending with "${text}"`).toBeDefined();
      return (request?.body ?? '').includes(marker);
    };
    // A tiny limit: codex compacts after every turn.
    const compactEveryTurn = ['-c', 'model_auto_compact_token_limit=5'];
    try {
      const started = await codex(['-c', config, '--', 'first']);
      const thread = /"thread_id":"([^"]+)"/.exec(started)?.[1] as string;
      expect(thread).toBeDefined();
      expect(instructed('first')).toBe(true);
      for (const [name, extra] of [
        ['bare', []],
        ['bearing', ['-c', config]],
      ] as const) {
        await codex(['resume', ...compactEveryTurn, ...extra, thread, '--', `${name} 1`]);
        await codex(['resume', ...compactEveryTurn, ...extra, thread, '--', `${name} 2`]);
      }
      // Without -c, the developer message goes at the first compaction;
      // with it, codex puts the instructions back.
      expect(instructed('bare 2')).toBe(false);
      expect(instructed('bearing 2')).toBe(true);
    } finally {
      await standin.close();
    }
  }, 240_000);

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
    const codexResume = help(['codex', 'resume', '--help']);
    expect(
      Object.keys(CODEX_INTERACTIVE_RESUME_OPTIONS).filter((f) => !listed(codexResume, f)),
    ).toEqual([]);
    const claude = help(['claude', '--help']);
    expect(listed(claude, '--append-system-prompt')).toBe(true);
    expect(CLAUDE_OPTIONS['--append-system-prompt']).toBe('value');
    // What bearing start --resume/--continue pass, with the arity the real one has.
    for (const [flag, arity] of [
      ['--session-id', 'value'],
      ['--resume', 'optional'],
      ['--continue', 'flag'],
    ] as const) {
      expect(listed(claude, flag), flag).toBe(true);
      expect(CLAUDE_OPTIONS[flag], flag).toBe(arity);
    }
  });
});
