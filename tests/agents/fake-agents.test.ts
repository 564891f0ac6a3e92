/**
 * The fake agent CLIs, run with our adapters' exact argv and read with our
 * parsers: what end-to-end tests of the runner will rely on.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claudeAdapter } from '../../src/agents/claude.js';
import { codexAdapter } from '../../src/agents/codex.js';
import type { AgentAdapter, InvocationInput } from '../../src/agents/types.js';
import type { Task } from '../../src/core/task.js';
import { makeTask } from '../../src/core/test-support.js';
import {
  cleanTempDirs,
  type FakeInvocation,
  isAlive,
  readLog,
  runFake,
  spawnFake,
  tempDir,
  waitFor,
} from './fake-support.js';

afterAll(cleanTempDirs);

/** The adapter's invocation, carrying its prompt for the stdin the runner gives. */
function withPrompt(adapter: AgentAdapter, input: InvocationInput): FakeInvocation {
  return { ...adapter.buildInvocation(input), prompt: input.prompt };
}

const claudeInv = (task: Partial<Task> = {}, rest: Partial<InvocationInput> = {}) =>
  withPrompt(claudeAdapter, {
    task: makeTask({ id: 't', ...task }),
    prompt: 'Build the thing',
    isGitRepo: false,
    ...rest,
  });

const codexInv = (task: Partial<Task> = {}, rest: Partial<InvocationInput> = {}) =>
  withPrompt(codexAdapter, {
    task: makeTask({ id: 't', cli: 'codex', ...task }),
    prompt: 'Build the thing',
    isGitRepo: false,
    ...rest,
  });

const raw = (file: string, args: string[]): FakeInvocation => ({
  file,
  args,
  env: {},
  promptOnStdin: false,
});

describe('fake claude', () => {
  it('success: writes the files, prints the reference shapes, our parser completes', async () => {
    const cwd = tempDir();
    const run = await runFake(claudeInv(), {
      cwd,
      parser: claudeAdapter.createParser(),
      scenarios: [
        {
          match: 'thing',
          outcome: 'success',
          summary: 'Made it',
          writeFiles: { 'src/a.txt': 'A\n' },
        },
      ],
    });
    expect(run.exitCode).toBe(0);
    expect(readFileSync(join(cwd, 'src/a.txt'), 'utf8')).toBe('A\n');
    const types = run.stdout
      .trim()
      .split('\n')
      .map((l) => {
        const e = JSON.parse(l);
        return e.subtype ? `${e.type}/${e.subtype}` : e.type;
      });
    expect(types).toEqual(['system/init', 'assistant', 'user', 'assistant', 'result/success']);
    const init = JSON.parse(run.stdout.split('\n')[0] ?? '');
    expect(init.permissionMode).toBe('auto');
    expect(init.cwd).toBe(cwd);
    expect(run.result).toMatchObject({
      status: 'completed',
      summary: 'Made it',
      costUsd: 0.023424,
      usage: { inputTokens: 240, outputTokens: 80, cacheReadTokens: 20480, cacheWriteTokens: 4096 },
      turns: 2,
      sessionId: init.session_id,
      model: 'claude-sonnet-5',
    });
  });

  it.each([
    [
      'max-turns',
      { reason: 'max-turns', message: 'Reached maximum number of turns (3)', turns: 4 },
      1,
    ],
    ['max-budget', { reason: 'budget-exceeded', message: 'Reached maximum budget ($0.02)' }, 1],
    ['permission-denied', { reason: 'permission-denied', tools: ['Write'] }, 0],
    ['api-429', { reason: 'rate-limited', apiStatus: 429 }, 1],
    ['api-529', { reason: 'outage', cli: 'claude', apiStatus: 529 }, 1],
    ['api-401', { reason: 'auth-error', message: 'Invalid API key · Fix external API key' }, 1],
    [
      'api-401-retries',
      {
        reason: 'auth-error',
        message: 'Failed to authenticate. API Error: 401 stand-in status 401',
      },
      1,
    ],
    ['api-403', { reason: 'auth-error' }, 1],
    ['api-500', { reason: 'outage', cli: 'claude', apiStatus: 500 }, 1],
    [
      'conn-refused',
      {
        reason: 'outage',
        cli: 'claude',
        message: 'API Error: Unable to connect to API (ConnectionRefused)',
      },
      1,
    ],
    [
      'usage-limit',
      {
        reason: 'rate-limited',
        message: "You've hit your limit · resets 1pm (Europe/Lisbon)",
        resetsAt: '2026-05-12T06:00:00.000Z',
      },
      1,
    ],
    ['no-result', { reason: 'agent-exit', exitCode: 1 }, 1],
    ['crash', { reason: 'agent-exit', exitCode: 1 }, 1],
  ])('%s is classified by our parser', async (outcome, failure, exitCode) => {
    const cwd = tempDir();
    const run = await runFake(claudeInv({ maxTurns: 3, budgetUsd: 0.02 }), {
      cwd,
      parser: claudeAdapter.createParser(),
      scenarios: [{ outcome, resetsAt: 1778565600, writeFiles: { 'x.txt': 'x' } }],
    });
    expect(run.exitCode).toBe(exitCode);
    expect(run.result?.status).toBe('failed');
    expect(run.result?.failure).toMatchObject(failure);
    // Denied writes do not happen.
    expect(existsSync(join(cwd, 'x.txt'))).toBe(outcome !== 'permission-denied');
  });

  it('fallback: retries and a model switch, then success on the fallback model', async () => {
    const run = await runFake(claudeInv({ model: 'sonnet' }), {
      cwd: tempDir(),
      parser: claudeAdapter.createParser(),
      scenarios: [{ outcome: 'fallback', summary: 'ok' }],
    });
    expect(run.result).toMatchObject({
      status: 'completed',
      summary: 'ok',
      model: 'claude-haiku-4-5-20251001',
    });
    expect(run.result?.notes).toHaveLength(2);
  });

  it('resume keeps the session id; a scenario can fork a new one', async () => {
    const id = 'a5d5484e-63e0-412d-b13e-10f34f90bcc4';
    const parser = claudeAdapter.createParser();
    await runFake(claudeInv({}, { resumeSessionId: id }), { cwd: tempDir(), parser });
    const forked = claudeAdapter.createParser();
    const run = await runFake(claudeInv({}, { resumeSessionId: id }), {
      cwd: tempDir(),
      parser: forked,
      scenarios: [{ sessionId: 'forked-session' }],
    });
    expect(run.result?.sessionId).toBe('forked-session');
  });

  it('rejects an unknown option like the real CLI (stderr, exit 1, no stdout)', async () => {
    const run = await runFake(raw('claude', ['-p', '--bogus', 'x']), { cwd: tempDir() });
    expect(run).toMatchObject({
      exitCode: 1,
      stdout: '',
      stderr: "error: unknown option '--bogus'\n",
    });
  });

  it('rejects a prompt starting with - unless it follows --', async () => {
    const bad = await runFake(
      raw('claude', ['-p', '--output-format', 'stream-json', '--verbose', '-hello']),
      { cwd: tempDir() },
    );
    expect(bad.stderr).toBe("error: unknown option '-hello'\n");
    const good = await runFake(claudeInv({}, { prompt: '-hello' }), {
      cwd: tempDir(),
      parser: claudeAdapter.createParser(),
    });
    expect(good.result?.status).toBe('completed');
  });

  it('enforces the real constraints: stream-json needs --verbose, choices, budget > 0', async () => {
    const cwd = tempDir();
    expect(
      (await runFake(raw('claude', ['-p', '--output-format', 'stream-json', '--', 'x']), { cwd }))
        .stderr,
    ).toBe('Error: When using --print, --output-format=stream-json requires --verbose\n');
    expect(
      (await runFake(raw('claude', ['-p', '--permission-mode', 'yolo', '--', 'x']), { cwd }))
        .stderr,
    ).toBe(
      "error: option '--permission-mode <mode>' argument 'yolo' is invalid. Allowed choices are acceptEdits, auto, bypassPermissions, default, dontAsk, plan.\n",
    );
    expect(
      (await runFake(raw('claude', ['-p', '--max-budget-usd', '0', '--', 'x']), { cwd })).stderr,
    ).toBe('error: --max-budget-usd must be a positive number greater than 0\n');
  });

  it('permission modes as each version takes them: 2.1.197 rejects manual; 2.1.332 lists manual and still takes default', async () => {
    const cwd = tempDir();
    const mode = async (value: string, version?: string) => {
      const inv = raw('claude', [
        '-p',
        '--output-format',
        'json',
        '--permission-mode',
        value,
        '--',
        'x',
      ]);
      if (version) inv.env = { BEARING_FAKE_CLAUDE_VERSION: version };
      const run = await runFake(inv, { cwd });
      return { code: run.exitCode, stderr: run.stderr };
    };
    // As the real 2.1.197 printed it.
    expect(await mode('manual')).toEqual({
      code: 1,
      stderr:
        "error: option '--permission-mode <mode>' argument 'manual' is invalid. Allowed choices are acceptEdits, auto, bypassPermissions, default, dontAsk, plan.\n",
    });
    expect((await mode('default')).code).toBe(0);
    expect((await mode('manual', '2.1.332')).code).toBe(0);
    expect((await mode('default', '2.1.332')).code).toBe(0);
    // As the real 2.1.332 printed it.
    expect(await mode('yolo', '2.1.332')).toEqual({
      code: 1,
      stderr:
        "error: option '--permission-mode <mode>' argument 'yolo' is invalid. Allowed choices are acceptEdits, auto, bypassPermissions, manual, dontAsk, plan.\n",
    });
  });

  it.skipIf(process.getuid?.() !== 0)(
    'as root, bypassPermissions is refused unless IS_SANDBOX=1 (as the real CLI does)',
    async () => {
      const inv = claudeInv({ permissionMode: 'bypassPermissions' });
      const refused = await runFake(inv, { cwd: tempDir(), parser: claudeAdapter.createParser() });
      expect(refused.exitCode).toBe(1);
      expect(refused.result?.failure).toMatchObject({ reason: 'agent-exit', exitCode: 1 });
      const allowed = await runFake(inv, { cwd: tempDir(), env: { IS_SANDBOX: '1' } });
      expect(allowed.exitCode).toBe(0);
    },
  );

  it('warns after 3 s when stdin is left open, as the real CLI does', async () => {
    const argv = ['-p', '--output-format', 'stream-json', '--verbose', '--', 'Build the thing'];
    const { child, done } = spawnFake(raw('claude', argv), {
      cwd: tempDir(),
      stdin: 'pipe',
      parser: claudeAdapter.createParser(),
    });
    const run = await done;
    expect(child.stdin).not.toBeNull();
    expect(run.stderr).toContain('Warning: no stdin data received in 3s, proceeding without it.');
    expect(run.ms).toBeGreaterThanOrEqual(2900);
    expect(run.result?.status).toBe('completed');
  }, 15_000);

  it('prints no warning with the prompt on stdin, and logs the invocation and prompt', async () => {
    const cwd = tempDir();
    const log = join(tempDir(), 'log.jsonl');
    const inv = claudeInv({ model: 'opus' });
    const run = await runFake(inv, {
      cwd,
      env: { BEARING_FAKE_LOG: log, ANTHROPIC_API_KEY: 'sk-test', SECRET_TOKEN: 'no' },
    });
    expect(run.stderr).toBe('');
    const [entry] = readLog(log);
    expect(entry).toMatchObject({
      argv: inv.args,
      cwd,
      stdinType: 'file',
      prompt: 'Build the thing',
      env: { BEARING_FAKE_LOG: log, ANTHROPIC_API_KEY: 'sk-test', HOME: cwd },
    });
    expect(Object.keys(entry?.env as object)).not.toContain('SECRET_TOKEN');
    expect(Object.keys(entry?.env as object)).not.toContain('PATH');
  });

  it('attempts: the first fails, the second succeeds (counted across processes)', async () => {
    const scenarios = [
      {
        match: 'thing',
        attempts: [{ outcome: 'api-529' }, { outcome: 'success', summary: 'second' }],
      },
    ];
    const script = join(tempDir(), 's.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(script, JSON.stringify(scenarios));
    const env = { BEARING_FAKE_SCRIPT: script };
    const first = await runFake(claudeInv(), {
      cwd: tempDir(),
      env,
      parser: claudeAdapter.createParser(),
    });
    const second = await runFake(claudeInv(), {
      cwd: tempDir(),
      env,
      parser: claudeAdapter.createParser(),
    });
    const third = await runFake(claudeInv(), {
      cwd: tempDir(),
      env,
      parser: claudeAdapter.createParser(),
    });
    expect(first.result?.failure?.reason).toBe('outage');
    expect(second.result).toMatchObject({ status: 'completed', summary: 'second' });
    expect(third.result).toMatchObject({ status: 'completed', summary: 'second' });
  });

  it('matches scenarios by prompt substring, first match wins', async () => {
    const scenarios = [
      { match: 'alpha', summary: 'A' },
      { match: 'beta', summary: 'B' },
      { summary: 'anything else' },
    ];
    const results = [];
    for (const prompt of ['do beta now', 'alpha and beta', 'gamma']) {
      const run = await runFake(claudeInv({}, { prompt }), {
        cwd: tempDir(),
        scenarios,
        parser: claudeAdapter.createParser(),
      });
      results.push(run.result?.summary);
    }
    expect(results).toEqual(['B', 'A', 'anything else']);
  });

  it('delayMs delays the result; exitCode overrides the exit', async () => {
    const run = await runFake(claudeInv(), {
      cwd: tempDir(),
      scenarios: [{ delayMs: 300, exitCode: 1 }],
      parser: claudeAdapter.createParser(),
    });
    expect(run.ms).toBeGreaterThanOrEqual(300);
    expect(run.exitCode).toBe(1);
    // Exit 1 with a success result (as with a failed MCP server): still completed.
    expect(run.result?.status).toBe('completed');
  });

  it('printBytes streams that much valid output first, and the result still parses', async () => {
    const bytes = 5 * 1024 * 1024;
    const run = await runFake(claudeInv(), {
      cwd: tempDir(),
      scenarios: [{ printBytes: bytes, summary: 'after the flood' }],
      parser: claudeAdapter.createParser(),
      keepStdout: 0,
    });
    expect(run.stdoutBytes).toBeGreaterThan(bytes);
    expect(run.result).toMatchObject({
      status: 'completed',
      summary: 'after the flood',
      notes: [],
    });
  });
});

/** 300 KiB, over Linux's 128 KiB cap on one argument: only stdin can carry it. */
const LONG_PROMPT = `BEGIN ${'abcdefghij'.repeat(30 * 1024)} END`;

describe('the prompt on stdin, as the real CLIs read it (reference README)', () => {
  const logged = (log: string) => readLog(log).map((e) => e.prompt);

  it.each(['prompt-file', 'prompt-pipe'] as const)(
    'claude reads a 300 KiB prompt whole from stdin (%s), also on --resume',
    async (stdin) => {
      const log = join(tempDir(), 'log.jsonl');
      const env = { BEARING_FAKE_LOG: log };
      const id = 'a5d5484e-63e0-412d-b13e-10f34f90bcc4';
      for (const rest of [{}, { resumeSessionId: id }]) {
        const inv = claudeInv({}, { prompt: LONG_PROMPT, ...rest });
        expect(inv.args.join(' ')).not.toContain('BEGIN');
        const run = await runFake(inv, {
          cwd: tempDir(),
          env,
          stdin,
          parser: claudeAdapter.createParser(),
        });
        expect(run.result?.status).toBe('completed');
      }
      expect(logged(log)).toEqual([LONG_PROMPT, LONG_PROMPT]);
      expect(readLog(log)[1]?.argv).toContain('--resume');
    },
  );

  it.each(['prompt-file', 'prompt-pipe'] as const)(
    'codex reads a 300 KiB prompt whole from stdin given `-` (%s), also on exec resume',
    async (stdin) => {
      const log = join(tempDir(), 'log.jsonl');
      const env = { BEARING_FAKE_LOG: log };
      const id = '01a20d92-3de3-7720-9842-fa3cffacdeed';
      for (const rest of [{}, { resumeSessionId: id }]) {
        const inv = codexInv({}, { prompt: LONG_PROMPT, ...rest });
        const run = await runFake(inv, {
          cwd: tempDir(),
          env,
          stdin,
          parser: codexAdapter.createParser(),
        });
        expect(run.result?.status).toBe('completed');
        // `-` reads without a word; only the implicit forms announce it.
        expect(run.stderr).toBe('');
      }
      expect(logged(log)).toEqual([LONG_PROMPT, LONG_PROMPT]);
    },
  );

  it('a prompt argument plus stdin: claude appends it on a new line, codex as a <stdin> block', async () => {
    const log = join(tempDir(), 'log.jsonl');
    const env = { BEARING_FAKE_LOG: log };
    const claudeArgv = ['-p', '--output-format', 'stream-json', '--verbose', '--', 'arg prompt'];
    const codexArgv = ['exec', '--json', '--skip-git-repo-check', '--', 'arg prompt'];
    await runFake(
      { ...raw('claude', claudeArgv), prompt: 'line1\n' },
      { cwd: tempDir(), env, stdin: 'prompt-file' },
    );
    const codex = await runFake(
      { ...raw('codex', codexArgv), prompt: 'no-newline' },
      { cwd: tempDir(), env, stdin: 'prompt-file' },
    );
    expect(codex.stderr).toBe('Reading additional input from stdin...\n');
    expect(logged(log)).toEqual([
      'arg prompt\nline1\n',
      'arg prompt\n\n<stdin>\nno-newline\n</stdin>',
    ]);
  });

  it("no prompt at all: the real CLIs' errors, exit 1", async () => {
    const cwd = tempDir();
    const claude = await runFake(
      { ...raw('claude', ['-p', '--output-format', 'stream-json', '--verbose']), prompt: '' },
      { cwd, stdin: 'prompt-file' },
    );
    expect(claude).toMatchObject({
      exitCode: 1,
      stderr:
        'Error: Input must be provided either through stdin or as a prompt argument when using --print\n',
    });
    const codex = await runFake(
      { ...raw('codex', ['exec', '--json', '--skip-git-repo-check', '--', '-']), prompt: '' },
      { cwd, stdin: 'prompt-file' },
    );
    expect(codex).toMatchObject({ exitCode: 1, stderr: 'No prompt provided via stdin.\n' });
    const implicit = await runFake(raw('codex', ['exec', '--json', '--skip-git-repo-check']), {
      cwd,
    });
    expect(implicit).toMatchObject({
      exitCode: 1,
      stderr: 'Reading prompt from stdin...\nNo prompt provided via stdin.\n',
    });
  });
});

describe('the fakes and the parser signals, as the runner will use them', () => {
  it('claude 401 with minutes between retries: stopped at the first retry event, an auth error', async () => {
    const run = await runFake(claudeInv(), {
      cwd: tempDir(),
      parser: claudeAdapter.createParser(),
      scenarios: [{ outcome: 'api-401-retries', retryDelayMs: 60_000 }],
      stopOn: ['fatal', 'final'],
    });
    expect(run.stoppedOn).toBe('fatal');
    expect(run.ms).toBeLessThan(30_000);
    expect(run.result?.failure).toEqual({
      reason: 'auth-error',
      message: 'the API refused the credentials (status 401, authentication_failed)',
    });
  });

  it('codex 401 with long reconnect waits: stopped at the first notice, an auth error', async () => {
    const run = await runFake(codexInv(), {
      cwd: tempDir(),
      parser: codexAdapter.createParser(),
      scenarios: [{ outcome: 'http-401', retryDelayMs: 60_000 }],
      stopOn: ['fatal', 'final'],
    });
    expect(run.stoppedOn).toBe('fatal');
    expect(run.ms).toBeLessThan(30_000);
    expect(run.result?.failure?.reason).toBe('auth-error');
  });

  it.each([
    ['claude', claudeInv, claudeAdapter],
    ['codex', codexInv, codexAdapter],
  ] as const)(
    '%s prints its final event and does not exit (hangAfterFinal): ended, the result stands',
    async (_cli, inv, adapter) => {
      const run = await runFake(inv(), {
        cwd: tempDir(),
        parser: adapter.createParser(),
        scenarios: [{ summary: 'All done.', hangAfterFinal: true }],
        stopOn: ['fatal', 'final'],
      });
      expect(run.stoppedOn).toBe('final');
      expect(run.signal).toBe('SIGTERM');
      expect(run.result).toMatchObject({ status: 'completed', summary: 'All done.' });
      expect(run.result?.notes?.at(-1)).toMatch(/did not exit; Bearing ended it$/);
    },
  );

  it('codex unreachable: waits for the network forever, signals nothing', async () => {
    const { child, done } = spawnFake(codexInv(), {
      cwd: tempDir(),
      parser: codexAdapter.createParser(),
      scenarios: [{ outcome: 'unreachable', retryDelayMs: 50 }],
      stopOn: ['fatal', 'final'],
    });
    let waits = 0;
    child.stdout?.on('data', (c: Buffer) => {
      waits += (c.toString().match(/waiting for network/g) ?? []).length;
    });
    await waitFor(() => waits >= 3);
    process.kill(-(child.pid ?? 0), 'SIGKILL');
    const run = await done;
    expect(run.stoppedOn).toBeUndefined();
    expect(run.result?.failure).toEqual({ reason: 'signal', signal: 'SIGKILL' });
  });
});

describe('fake codex', () => {
  it('success outside a git repo with --skip-git-repo-check: writes files, our parser completes', async () => {
    const cwd = tempDir();
    const run = await runFake(codexInv(), {
      cwd,
      parser: codexAdapter.createParser(),
      scenarios: [{ outcome: 'success', summary: 'Made it', writeFiles: { 'a.txt': 'A' } }],
    });
    expect(run.exitCode).toBe(0);
    expect(readFileSync(join(cwd, 'a.txt'), 'utf8')).toBe('A');
    expect(run.result).toMatchObject({
      status: 'completed',
      summary: 'Made it',
      usage: { inputTokens: 3000, outputTokens: 84, cacheReadTokens: 2048, cacheWriteTokens: 0 },
      turns: 1,
    });
    expect(run.result?.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it('patch: the files are written and named in completed file_change items', async () => {
    const cwd = tempDir();
    const run = await runFake(codexInv(), {
      cwd,
      parser: codexAdapter.createParser(),
      scenarios: [{ outcome: 'patch', writeFiles: { 'src/x.ts': 'x', 'y.md': 'y' } }],
    });
    expect(run.result?.status).toBe('completed');
    const changed = run.stdout
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as { item?: { type: string; status: string; changes: { path: string }[] } },
      )
      .filter((e) => e.item?.type === 'file_change' && e.item.status === 'completed')
      .flatMap((e) => e.item!.changes.map((c) => c.path));
    expect(changed).toEqual([join(cwd, 'src/x.ts'), join(cwd, 'y.md')]);
    expect(readFileSync(join(cwd, 'y.md'), 'utf8')).toBe('y');
  });

  it.each([
    ['http-429', { reason: 'rate-limited', apiStatus: 429 }],
    ['http-500', { reason: 'outage', cli: 'codex' }],
    ['http-401', { reason: 'auth-error' }],
    ['resp-failed', { reason: 'outage', cli: 'codex' }],
    [
      'usage-limit',
      { reason: 'rate-limited', message: "You've hit your usage limit. Try again at 3:28 PM." },
    ],
  ])('%s is classified by our parser', async (outcome, failure) => {
    const run = await runFake(codexInv(), {
      cwd: tempDir(),
      parser: codexAdapter.createParser(),
      scenarios: [{ outcome }],
    });
    expect(run.exitCode).toBe(1);
    expect(run.result?.failure).toMatchObject(failure);
  });

  it('read-only sandbox: reports success, writes nothing (like the real one)', async () => {
    const cwd = tempDir();
    const run = await runFake(codexInv({ sandbox: 'read-only' }), {
      cwd,
      parser: codexAdapter.createParser(),
      scenarios: [{ writeFiles: { 'a.txt': 'A' } }],
    });
    expect(run.result?.status).toBe('completed');
    expect(existsSync(join(cwd, 'a.txt'))).toBe(false);
  });

  it('in a git repo runs without --skip-git-repo-check; outside one it refuses', async () => {
    const repo = tempDir();
    execFileSync('git', ['init', '-q'], { cwd: repo });
    mkdirSync(join(repo, 'sub'));
    const inRepo = await runFake(codexInv({}, { isGitRepo: true }), {
      cwd: join(repo, 'sub'),
      parser: codexAdapter.createParser(),
    });
    expect(inRepo.result?.status).toBe('completed');
    const outside = await runFake(codexInv({}, { isGitRepo: true }), {
      cwd: tempDir(),
      parser: codexAdapter.createParser(),
    });
    expect(outside.exitCode).toBe(1);
    expect(outside.stderr).toContain(
      'Not inside a trusted directory and --skip-git-repo-check was not specified.',
    );
    expect(outside.result?.failure).toMatchObject({ reason: 'agent-exit', exitCode: 1 });
  });

  it('resume: same thread id, sandbox pinned with -c is honoured', async () => {
    const cwd = tempDir();
    const id = '01a20d92-3de3-7720-9842-fa3cffacdeed';
    const run = await runFake(codexInv({}, { resumeSessionId: id, prompt: '-retry' }), {
      cwd,
      parser: codexAdapter.createParser({
        previousUsage: {
          inputTokens: 1000,
          outputTokens: 4,
          cacheReadTokens: 48,
          cacheWriteTokens: 0,
        },
      }),
      scenarios: [{ writeFiles: { 'r.txt': 'r' } }],
    });
    expect(run.result).toMatchObject({
      status: 'completed',
      sessionId: id,
      usage: { inputTokens: 2000, outputTokens: 80, cacheReadTokens: 2000, cacheWriteTokens: 0 },
    });
    expect(existsSync(join(cwd, 'r.txt'))).toBe(true);
  });

  it('rejects unknown arguments with clap wording and exit 2; -s on resume too', async () => {
    const cwd = tempDir();
    const bogus = await runFake(raw('codex', ['exec', '--json', '--bogus', 'x']), { cwd });
    expect(bogus.exitCode).toBe(2);
    expect(bogus.stderr).toBe(
      "error: unexpected argument '--bogus' found\n\n  tip: to pass '--bogus' as a value, use '-- --bogus'\n\nUsage: codex exec [OPTIONS] [PROMPT]\n       codex exec [OPTIONS] <COMMAND> [ARGS]\n\nFor more information, try '--help'.\n",
    );
    const resumeS = await runFake(raw('codex', ['exec', 'resume', '--json', '-s', 'read-only']), {
      cwd,
    });
    expect(resumeS.exitCode).toBe(2);
    expect(resumeS.stderr.split('\n')[0]).toBe("error: unexpected argument '-s' found");
    const dashPrompt = await runFake(
      raw('codex', ['exec', '--json', '--skip-git-repo-check', '-hello']),
      { cwd },
    );
    expect(dashPrompt.exitCode).toBe(2);
    const badSandbox = await runFake(
      raw('codex', [
        'exec',
        '--json',
        '--skip-git-repo-check',
        '-c',
        'sandbox_mode="nope"',
        '--',
        'x',
      ]),
      { cwd },
    );
    expect(badSandbox.exitCode).toBe(1);
    expect(badSandbox.stderr).toContain('unknown variant `nope`');
  });

  it('fails loudly when stdin is an open pipe (the real codex hangs)', async () => {
    const argv = ['exec', '--json', '--skip-git-repo-check', '--', 'Build the thing'];
    const run = await runFake(raw('codex', argv), {
      cwd: tempDir(),
      stdin: 'pipe',
      env: { BEARING_FAKE_STDIN_WAIT_MS: '300' },
      parser: codexAdapter.createParser(),
    });
    expect(run.exitCode).toBe(97);
    expect(run.stderr).toContain('Reading additional input from stdin...');
    expect(run.stderr).toContain('stdin is an open');
    expect(run.result?.status).toBe('failed');
  });

  it('ignoreSigterm: SIGTERM is ignored, SIGKILL is not', async () => {
    const cwd = tempDir();
    const { child, done } = spawnFake(claudeInv(), {
      cwd,
      scenarios: [{ hang: true, ignoreSigterm: true, grandchildPidFile: 'g.pid' }],
    });
    await waitFor(() => existsSync(join(cwd, 'g.pid')));
    const pid = child.pid ?? 0;
    process.kill(pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect(isAlive(pid)).toBe(true);
    process.kill(-pid, 'SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
  });

  it('hang: the agent and its grandchild sleep until the whole process group is killed', async () => {
    const cwd = tempDir();
    const pidFile = join(cwd, 'grandchild.pid');
    const { child, done } = spawnFake(codexInv(), {
      cwd,
      parser: codexAdapter.createParser(),
      scenarios: [{ hang: true, grandchildPidFile: 'grandchild.pid' }],
    });
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '');
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    const pid = child.pid ?? 0;
    expect(isAlive(grandchild)).toBe(true);
    // Killing only the agent leaves the grandchild running...
    process.kill(pid, 'SIGKILL');
    const run = await done;
    expect(run.signal).toBe('SIGKILL');
    expect(run.result?.failure).toEqual({ reason: 'signal', signal: 'SIGKILL' });
    expect(run.result?.sessionId).toBeDefined();
    expect(isAlive(grandchild)).toBe(true);
    // ...killing the group ends it.
    process.kill(-pid, 'SIGKILL');
    await waitFor(() => !isAlive(grandchild));
  });
});
