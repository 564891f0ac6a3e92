/**
 * Opt-in (BEARING_REAL_CLI=1): runs the real claude and codex CLIs with our
 * adapters' exact argv, the prompt on stdin as the runner gives it, against
 * an unreachable local API (127.0.0.1:9) or a local stand-in for it, so
 * nothing leaves the machine. Checks that every flag is accepted, that a
 * 300 KiB prompt reaches the model whole (also on resume), and that the
 * fakes accept nothing the real `--help` does not list.
 *
 *   BEARING_REAL_CLI=1 BEARING_REAL_CLI_DIR=/path/to/node_modules/.bin npx vitest run tests/agents/real-cli.test.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claudeAdapter } from '../../src/agents/claude.js';
import { codexAdapter } from '../../src/agents/codex.js';
import type { AgentAdapter, InvocationInput } from '../../src/agents/types.js';
import type { Task } from '../../src/core/task.js';
import { makeTask } from '../../src/core/test-support.js';
import { CLAUDE_OPTIONS, HIDDEN_OPTIONS } from '../fixtures/fake-agent/claude.js';
import { CODEX_EXEC_OPTIONS, CODEX_RESUME_OPTIONS } from '../fixtures/fake-agent/codex.js';
import { cleanTempDirs, type FakeInvocation, tempDir } from './fake-support.js';
import { startStandin } from './model-api-standin.js';

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

/** A closed port: the API is unreachable. */
const NOWHERE = 'http://127.0.0.1:9';

function sandboxEnv(api = NOWHERE): { env: Record<string, string>; cwd: string } {
  const home = tempDir('bearing-real-home-');
  const codexHome = join(home, '.codex');
  mkdirSync(codexHome, { recursive: true });
  // A local model provider (nowhere, or the stand-in), so codex never reaches a real API.
  writeFileSync(
    join(codexHome, 'config.toml'),
    [
      'model_provider = "local"',
      '[model_providers.local]',
      'name = "local"',
      `base_url = "${api}/v1"`,
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
      ANTHROPIC_BASE_URL: api,
      ANTHROPIC_API_KEY: 'sk-test',
      CLAUDE_CODE_MAX_RETRIES: '0',
      OPENAI_API_KEY: 'sk-test',
      IS_SANDBOX: '1',
      DISABLE_AUTOUPDATER: '1',
    },
  };
}

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * Runs until exit, or until `stopWhen` matches stdout (then kills the process
 * group). With `promptOnStdin`, stdin is the prompt written to a file, as the
 * runner gives it (prompt.txt); else /dev/null.
 */
function run(
  inv: FakeInvocation,
  ctx: ReturnType<typeof sandboxEnv>,
  stopWhen?: RegExp | ((stdout: string) => boolean),
) {
  let stdin: number | 'ignore' = 'ignore';
  if (inv.promptOnStdin) {
    const file = join(tempDir('bearing-real-prompt-'), 'prompt.txt');
    writeFileSync(file, inv.prompt ?? '');
    stdin = openSync(file, 'r');
  }
  return new Promise<Run>((resolve) => {
    const child = spawn(bin(inv.file), inv.args, {
      cwd: ctx.cwd,
      env: { ...ctx.env, ...inv.env },
      stdio: [stdin, 'pipe', 'pipe'],
      detached: true,
    });
    if (typeof stdin === 'number') closeSync(stdin);
    let stdout = '';
    let stderr = '';
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {}
    };
    const timer = setTimeout(kill, 45_000);
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
      const stop = typeof stopWhen === 'function' ? stopWhen(stdout) : stopWhen?.test(stdout);
      if (stop) setTimeout(kill, 200);
    });
    child.stderr?.on('data', (c: Buffer) => {
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

/** The adapter's invocation, carrying its prompt for stdin. */
const invocation = (adapter: AgentAdapter, inv: InvocationInput): FakeInvocation => ({
  ...adapter.buildInvocation(inv),
  prompt: inv.prompt,
});

function expectAccepted(r: Run): void {
  for (const re of REJECTIONS) expect(r.stderr).not.toMatch(re);
}

afterAll(cleanTempDirs);

describe.skipIf(!enabled)('real CLIs accept our exact argv', () => {
  // The API is unreachable, so a result event is an outage; a resume of an
  // unknown session fails before any request.
  it.each([
    ['minimal', input({}), 'outage'],
    [
      'every option',
      input({
        model: 'sonnet',
        maxTurns: 3,
        budgetUsd: 0.5,
        effort: 'xhigh',
        permissionMode: 'acceptEdits',
      }),
      'outage',
    ],
    ['plan mode', input({ permissionMode: 'plan', effort: 'low' }), 'outage'],
    // 2.1.332's name for `default`; 2.1.197 rejects it, so Bearing must not pass it as is.
    ['manual mode', input({ permissionMode: 'manual' }), 'outage'],
    [
      'resume (unknown id: the CLI reports it, but parses every flag)',
      input({ model: 'opus' }, { resumeSessionId: '11111111-1111-1111-1111-111111111111' }),
      'agent-error',
    ],
  ])(
    'claude: %s',
    async (_name, inv, reason) => {
      const r = await run(invocation(claudeAdapter, inv), sandboxEnv());
      expectAccepted(r);
      const parser = claudeAdapter.createParser();
      for (const line of r.stdout.split('\n')) parser.push(line);
      const result = parser.finish(r.code === null ? {} : { exitCode: r.code });
      expect(result.failure?.reason).toBe(reason);
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
      const r = await run(invocation(codexAdapter, inv), ctx, /"thread\.started"/);
      expectAccepted(r);
      expect(r.stdout).toMatch(/"type":"thread\.started"/);
    },
    60_000,
  );

  it('codex: exec resume with our argv (-c sandbox_mode, no -s)', async () => {
    const ctx = sandboxEnv();
    const first = await run(
      invocation(codexAdapter, input({ cli: 'codex' })),
      ctx,
      /"thread\.started"/,
    );
    const id = /"thread_id":"([^"]+)"/.exec(first.stdout)?.[1];
    expect(id).toBeDefined();
    const inv = invocation(
      codexAdapter,
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

/** 300 KiB, over Linux's 128 KiB cap on one argument, starting with a dash. */
const LONG_PROMPT = `-BEGIN ${'abcdefghij'.repeat(30 * 1024)} END`;

describe.skipIf(!enabled)('real CLIs read a prompt of any size from stdin', () => {
  it('claude -p: a 300 KiB prompt on stdin reaches the model whole, also with --resume', async () => {
    const api = await startStandin();
    try {
      const ctx = sandboxEnv(api.url);
      const first = await run(invocation(claudeAdapter, input({}, { prompt: LONG_PROMPT })), ctx);
      expectAccepted(first);
      const parser = claudeAdapter.createParser();
      for (const line of first.stdout.split('\n')) parser.push(line);
      const result = parser.finish(first.code === null ? {} : { exitCode: first.code });
      expect(result.status, first.stderr).toBe('completed');
      expect(api.userTexts()).toContain(LONG_PROMPT);

      const second = `second ${LONG_PROMPT}`;
      const resumed = await run(
        invocation(claudeAdapter, input({}, { prompt: second, resumeSessionId: result.sessionId })),
        ctx,
      );
      expectAccepted(resumed);
      expect(resumed.stdout).toContain(`"session_id":"${result.sessionId}"`);
      // The resumed request carries the earlier prompt and the new one, both whole.
      const last = api.requests.at(-1)?.userTexts ?? [];
      expect(last).toContain(LONG_PROMPT);
      expect(last).toContain(second);
    } finally {
      await api.close();
    }
  }, 120_000);

  it('codex exec -: a 300 KiB prompt on stdin reaches the model whole, also on exec resume', async () => {
    const api = await startStandin();
    try {
      const ctx = sandboxEnv(api.url);
      const first = await run(
        invocation(codexAdapter, input({ cli: 'codex', model: 'gpt-5' }, { prompt: LONG_PROMPT })),
        ctx,
      );
      expectAccepted(first);
      expect(first.stdout).toContain('"type":"turn.completed"');
      expect(api.userTexts()).toContain(LONG_PROMPT);
      const id = /"thread_id":"([^"]+)"/.exec(first.stdout)?.[1];
      expect(id).toBeDefined();

      const second = `second ${LONG_PROMPT}`;
      const resumed = await run(
        invocation(
          codexAdapter,
          input({ cli: 'codex', model: 'gpt-5' }, { prompt: second, resumeSessionId: id }),
        ),
        ctx,
      );
      expectAccepted(resumed);
      expect(resumed.stdout).toContain('"type":"turn.completed"');
      const last = api.requests.at(-1)?.userTexts ?? [];
      expect(last).toContain(LONG_PROMPT);
      expect(last).toContain(second);
    } finally {
      await api.close();
    }
  }, 120_000);
});

describe.skipIf(!enabled)('real CLIs on API failures: what the parsers make of them', () => {
  /** Runs the adapter's invocation against a stand-in answering `status`, until a parser signal. */
  async function againstStatus(adapter: AgentAdapter, task: Partial<Task>, status: number) {
    const api = await startStandin({ status });
    try {
      const ctx = sandboxEnv(api.url);
      ctx.env.CLAUDE_CODE_MAX_RETRIES = '2';
      // Stop as the runner will: at the first line whose signal is fatal.
      const parser = adapter.createParser();
      let seen = 0;
      let signal: string | undefined;
      await run(invocation(adapter, input(task)), ctx, (stdout) => {
        const lines = stdout.split('\n');
        for (; seen < lines.length - 1 && signal === undefined; seen++) {
          signal = parser.push(lines[seen] ?? '');
        }
        return signal === 'fatal';
      });
      return { signal, result: parser.finish({ signal: 'SIGKILL', endedByUs: true }) };
    } finally {
      await api.close();
    }
  }

  it.each([
    ['claude', claudeAdapter, {}],
    ['codex', codexAdapter, { cli: 'codex', model: 'gpt-5' }],
  ] as const)(
    '%s: a 401 is fatal at its first retry and an auth error',
    async (_n, adapter, task) => {
      const { signal, result } = await againstStatus(adapter, task, 401);
      expect(signal).toBe('fatal');
      expect(result.failure?.reason).toBe('auth-error');
    },
    120_000,
  );

  it('claude: a 500 after its retries is an outage', async () => {
    const api = await startStandin({ status: 500 });
    try {
      const ctx = sandboxEnv(api.url);
      ctx.env.CLAUDE_CODE_MAX_RETRIES = '1';
      const r = await run(invocation(claudeAdapter, input({})), ctx);
      const parser = claudeAdapter.createParser();
      for (const line of r.stdout.split('\n')) parser.push(line);
      expect(parser.finish({ exitCode: r.code ?? 0 }).failure).toMatchObject({
        reason: 'outage',
        apiStatus: 500,
      });
    } finally {
      await api.close();
    }
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
        promptOnStdin: false,
      },
      sandboxEnv(),
    );
    expectAccepted(r);
    expect(r.stdout).toContain('"type":"result"');
  }, 60_000);
});
