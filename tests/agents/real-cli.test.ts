/**
 * Opt-in (BEARING_REAL_CLI=1): runs the real claude and codex CLIs with our
 * adapters' exact argv against an unreachable local API (127.0.0.1:9), so
 * nothing leaves the machine, and checks that every flag is accepted and
 * that the fakes accept nothing the real `--help` does not list.
 *
 *   BEARING_REAL_CLI=1 BEARING_REAL_CLI_DIR=/path/to/node_modules/.bin npx vitest run tests/agents/real-cli.test.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claudeAdapter } from '../../src/agents/claude.js';
import { codexAdapter } from '../../src/agents/codex.js';
import type { AgentInvocation, InvocationInput } from '../../src/agents/types.js';
import type { Task } from '../../src/core/task.js';
import { makeTask } from '../../src/core/test-support.js';
import { CLAUDE_OPTIONS, HIDDEN_OPTIONS } from '../fixtures/fake-agent/claude.js';
import { CODEX_EXEC_OPTIONS, CODEX_RESUME_OPTIONS } from '../fixtures/fake-agent/codex.js';
import { cleanTempDirs, tempDir } from './fake-support.js';

const enabled = process.env.BEARING_REAL_CLI === '1';
const binDir = process.env.BEARING_REAL_CLI_DIR;
const bin = (name: string) => (binDir ? join(binDir, name) : name);

/** Phrases the real parsers print when they reject an argument. */
const REJECTIONS = [
  /unknown option/i,
  /unexpected argument/i,
  /error: option '/i,
  /invalid value/i,
  /a value is required/i,
  /Error loading config/i,
  /Error parsing -c/i,
  /Unknown --effort value/i,
];

function sandboxEnv(): { env: Record<string, string>; cwd: string } {
  const home = tempDir('bearing-real-home-');
  const codexHome = join(home, '.codex');
  mkdirSync(codexHome, { recursive: true });
  // A local model provider that points nowhere, so codex never reaches a real API.
  writeFileSync(
    join(codexHome, 'config.toml'),
    [
      'model_provider = "local"',
      '[model_providers.local]',
      'name = "local"',
      'base_url = "http://127.0.0.1:9/v1"',
      'env_key = "OPENAI_API_KEY"',
      'wire_api = "responses"',
      '',
    ].join('\n'),
  );
  return {
    cwd: tempDir('bearing-real-cwd-'),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      CODEX_HOME: codexHome,
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
      ANTHROPIC_API_KEY: 'sk-test',
      CLAUDE_CODE_MAX_RETRIES: '0',
      OPENAI_API_KEY: 'sk-test',
    },
  };
}

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs until exit, or until `stopWhen` matches stdout (then kills the process group). */
function run(inv: AgentInvocation, ctx: ReturnType<typeof sandboxEnv>, stopWhen?: RegExp) {
  return new Promise<Run>((resolve) => {
    const child = spawn(bin(inv.file), inv.args, {
      cwd: ctx.cwd,
      env: { ...ctx.env, ...inv.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {}
    };
    const timer = setTimeout(kill, 45_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stopWhen?.test(stdout)) setTimeout(kill, 200);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

const input = (task: Partial<Task>, rest: Partial<InvocationInput> = {}): InvocationInput => ({
  task: makeTask({ id: 'real', ...task }),
  prompt: '-a prompt that starts with a dash',
  isGitRepo: false,
  ...rest,
});

function expectAccepted(r: Run): void {
  for (const re of REJECTIONS) expect(r.stderr).not.toMatch(re);
}

afterAll(cleanTempDirs);

describe.skipIf(!enabled)('real CLIs accept our exact argv', () => {
  it.each([
    ['minimal', input({})],
    [
      'every option',
      input({
        model: 'sonnet',
        maxTurns: 3,
        budgetUsd: 0.5,
        effort: 'xhigh',
        permissionMode: 'acceptEdits',
      }),
    ],
    ['plan mode', input({ permissionMode: 'plan', effort: 'low' })],
    [
      'resume (unknown id: the CLI reports it, but parses every flag)',
      input({ model: 'opus' }, { resumeSessionId: '11111111-1111-1111-1111-111111111111' }),
    ],
  ])(
    'claude: %s',
    async (_name, inv) => {
      const r = await run(claudeAdapter.buildInvocation(inv), sandboxEnv());
      expectAccepted(r);
      const parser = claudeAdapter.createParser();
      for (const line of r.stdout.split('\n')) parser.push(line);
      const result = parser.finish(r.code === null ? {} : { exitCode: r.code });
      // A result event was printed and read: the API was unreachable, so an agent error.
      expect(result.failure?.reason).toBe('agent-error');
      expect(result.turns).toBeDefined();
    },
    60_000,
  );

  it.each([
    ['minimal', input({ cli: 'codex' })],
    [
      'every option',
      input({ cli: 'codex', model: 'gpt-5', effort: 'high', sandbox: 'danger-full-access' }),
    ],
  ])(
    'codex: %s',
    async (_name, inv) => {
      const ctx = sandboxEnv();
      const r = await run(codexAdapter.buildInvocation(inv), ctx, /"thread\.started"/);
      expectAccepted(r);
      expect(r.stdout).toMatch(/"type":"thread\.started"/);
    },
    60_000,
  );

  it('codex: exec resume with our argv (-c sandbox_mode, no -s)', async () => {
    const ctx = sandboxEnv();
    const first = await run(
      codexAdapter.buildInvocation(input({ cli: 'codex' })),
      ctx,
      /"thread\.started"/,
    );
    const id = /"thread_id":"([^"]+)"/.exec(first.stdout)?.[1];
    expect(id).toBeDefined();
    const inv = codexAdapter.buildInvocation(
      input(
        { cli: 'codex', model: 'gpt-5', effort: 'low', sandbox: 'read-only' },
        { resumeSessionId: id },
      ),
    );
    const r = await run(inv, ctx, /"thread\.started"/);
    expectAccepted(r);
    expect(r.stdout).toContain(`"thread_id":"${id}"`);
  }, 120_000);
});

describe.skipIf(!enabled)('the fakes accept only what the real CLIs list', () => {
  const help = (args: string[]) => {
    const r = spawnSync(bin(args[0] ?? ''), args.slice(1), {
      encoding: 'utf8',
      env: sandboxEnv().env,
    });
    return `${r.stdout}${r.stderr}`;
  };
  const listed = (text: string, flag: string) =>
    new RegExp(`(^|[\\s,])${flag.replace(/[-]/g, '\\-')}([\\s,=<\\[]|$)`, 'm').test(text);

  it('claude', () => {
    const text = help(['claude', '--help']);
    const missing = Object.keys(CLAUDE_OPTIONS).filter(
      (f) => !HIDDEN_OPTIONS.includes(f) && !listed(text, f),
    );
    expect(missing).toEqual([]);
  });

  it('codex exec and codex exec resume', () => {
    const exec = help(['codex', 'exec', '--help']);
    const resume = help(['codex', 'exec', 'resume', '--help']);
    expect(Object.keys(CODEX_EXEC_OPTIONS).filter((f) => !listed(exec, f))).toEqual([]);
    expect(Object.keys(CODEX_RESUME_OPTIONS).filter((f) => !listed(resume, f))).toEqual([]);
    // And what the adapter leaves out on resume is really absent there.
    expect(listed(resume, '--sandbox')).toBe(false);
  });

  it('the hidden --max-turns is really accepted', async () => {
    const r = await run(
      {
        file: 'claude',
        args: ['-p', '--max-turns', '2', '--output-format', 'json', '--', 'x'],
        env: {},
      },
      sandboxEnv(),
    );
    expectAccepted(r);
    expect(r.stdout).toContain('"type":"result"');
  }, 60_000);
});
