/**
 * `bearing start` against the fake claude and codex: the exact argv,
 * environment, working directory and terminal each receives, for each CLI and
 * model choice, given as flags or answered on stdin, and the error for a
 * missing CLI.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openingMessage, plannerInstructions } from '../../src/run/planner-prompt.js';
import { tomlString } from '../../src/run/start.js';
import { referenceMarkdown } from '../../src/tasks/reference.js';
import {
  BIN,
  bearing,
  type FakeCall,
  loggedEnv,
  project,
  readCalls,
  sandbox,
  tempDir,
  useTempDirs,
} from './support.js';

useTempDirs();

/** `bearing` is not on the sandbox PATH, so the planner is told to run the bin with node. */
const BEARING_COMMAND = `node ${BIN}`;
const claudeInstructions = () => plannerInstructions('claude', { bearingCommand: BEARING_COMMAND });
const codexInstructions = () => plannerInstructions('codex', { bearingCommand: BEARING_COMMAND });
const SHARED = readFileSync(new URL('../../planner-prompts/shared.md', import.meta.url), 'utf8');
const CLAUDE_MD = readFileSync(new URL('../../planner-prompts/claude.md', import.meta.url), 'utf8');
const CODEX_MD = readFileSync(new URL('../../planner-prompts/codex.md', import.meta.url), 'utf8');

/** A project that already has a plan and a status file. */
function plannedProject(): string {
  return project({
    'bearing/config.yaml': 'defaults:\n  cli: claude\n',
    'bearing/tasks/01-api.yaml': 'id: api\nprompt: Build the API\n',
    'bearing/tasks/02-docs.yaml': 'id: docs\ncli: shell\nrun: echo docs\ndepends_on: [api]\n',
    'bearing/status.md': '# Status\n\n0/2 completed\n',
    'package.json': '{}\n',
  });
}

const OPENING_PLANNED = openingMessage({
  initialised: false,
  hasStatus: true,
  taskFiles: ['bearing/tasks/01-api.yaml', 'bearing/tasks/02-docs.yaml'],
});

/**
 * `argv` without the `--session-id UUID` a new claude session gets (checked
 * here; resume.test.ts checks what it is for).
 */
function withoutSessionId(argv: string[]): string[] {
  const at = argv.indexOf('--session-id');
  expect(at).toBeGreaterThanOrEqual(0);
  expect(argv[at + 1]).toMatch(
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  return [...argv.slice(0, at), ...argv.slice(at + 2)];
}

function onlyCall(log: string): FakeCall {
  const calls = readCalls(log);
  expect(calls).toHaveLength(1);
  return calls[0] as FakeCall;
}

describe('bearing start --cli claude', () => {
  it('passes the instructions with --append-system-prompt and the opening message last', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'claude', '--model', 'opus'], {
      cwd: dir,
      env: sb.env,
    });
    expect(r.stderr).toMatch(
      new RegExp(
        `^Starting the planner: claude \\(opus\\) in ${dir}\\. End the session to return\\.\\nTo resume this planner session`,
      ),
    );
    expect(r.stdout).toBe(
      'fake claude: interactive session (model opus, stdin null, stdout socket)\n',
    );
    expect(r.code).toBe(0);
    const call = onlyCall(sb.log);
    expect(withoutSessionId(call.argv)).toEqual([
      '--model',
      'opus',
      '--append-system-prompt',
      claudeInstructions(),
      '--',
      OPENING_PLANNED,
    ]);
    // The environment goes through unchanged: nothing added, nothing removed.
    expect(call.env).toEqual(loggedEnv(sb.env));
    expect(call.cwd).toBe(dir);
    expect(call.stdinType).toBe('null');
    // What the planner is taught, independently of the code that assembles it.
    const instructions = call.argv[5] as string;
    expect(instructions).toContain(referenceMarkdown());
    expect(instructions).toContain(CLAUDE_MD.trim());
    expect(instructions).not.toContain(CODEX_MD.trim());
    expect(instructions.startsWith(SHARED.slice(0, SHARED.indexOf('<!--')))).toBe(true);
    expect(instructions).toContain(`run \`${BEARING_COMMAND}\` instead`);
    expect(instructions).not.toContain('<!-- bearing:');
    const opening = call.argv[7] as string;
    expect(opening).toContain('Read `bearing/status.md`');
    expect(opening).toContain('`bearing/tasks/01-api.yaml`, `bearing/tasks/02-docs.yaml`');
    expect(opening).toContain("Look at the project's layout");
    expect(opening).toContain('ask me what to work on');
  });

  it.each([
    ['sonnet', ['--model', 'sonnet']],
    ['claude-fable-5', ['--model', 'claude-fable-5']],
  ])('--model %s', async (model, flags) => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start', dir, '--cli', 'claude', '--model', model], {
      cwd: tempDir(),
      env: sb.env,
    });
    expect(r.code).toBe(0);
    const call = onlyCall(sb.log);
    expect(withoutSessionId(call.argv)).toEqual([
      ...flags,
      '--append-system-prompt',
      claudeInstructions(),
      '--',
      OPENING_PLANNED,
    ]);
    expect(call.cwd).toBe(dir);
  });

  it('--yes takes the default model: opus', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start', '--yes'], { cwd: dir, env: sb.env, input: 'codex\n' });
    expect(r.code).toBe(0);
    // Nothing was asked, so nothing was read from stdin.
    expect(r.stdout).not.toContain('Planner CLI');
    expect(withoutSessionId(onlyCall(sb.log).argv).slice(0, 3)).toEqual([
      '--model',
      'opus',
      '--append-system-prompt',
    ]);
  });
});

describe('bearing start --cli codex', () => {
  it('passes the instructions as -c developer_instructions (a TOML string), no -m by default', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'codex', '--yes'], { cwd: dir, env: sb.env });
    expect(r.stderr.split('\n')[0]).toBe(
      `Starting the planner: codex (the CLI's default model) in ${dir}. End the session to return.`,
    );
    expect(r.code).toBe(0);
    const call = onlyCall(sb.log);
    expect(call.argv).toEqual([
      '-c',
      `developer_instructions=${tomlString(codexInstructions())}`,
      '--',
      OPENING_PLANNED,
    ]);
    expect(call.env).toEqual(loggedEnv(sb.env));
    expect(call.cwd).toBe(dir);
    // codex parses the value as TOML: a basic string that decodes to the instructions exactly.
    const value = (call.argv[1] as string).slice('developer_instructions='.length);
    expect(value.startsWith('"') && value.endsWith('"')).toBe(true);
    expect(value).not.toMatch(/[\n\r\t\u007f]/);
    const decoded = JSON.parse(value) as string;
    expect(decoded).toBe(codexInstructions());
    expect(decoded).toContain(CODEX_MD.trim());
    expect(decoded).not.toContain(CLAUDE_MD.trim());
    expect(decoded).toContain(referenceMarkdown());
  });

  it('--model M is passed as -m M', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'codex', '--model', 'gpt-6-astra'], {
      cwd: dir,
      env: sb.env,
    });
    expect(r.code).toBe(0);
    expect(onlyCall(sb.log).argv).toEqual([
      '-m',
      'gpt-6-astra',
      '-c',
      `developer_instructions=${tomlString(codexInstructions())}`,
      '--',
      OPENING_PLANNED,
    ]);
  });
});

describe('the questions, answered on stdin', () => {
  const CLI_Q = 'Planner CLI: 1) claude (Claude Code)  2) codex (Codex) [claude]: ';
  const CLAUDE_MODEL_Q = 'Model (opus, sonnet, fable, or any name claude --model takes) [opus]: ';
  const CODEX_MODEL_Q =
    "Model (any name codex -m takes; `codex debug models` lists them) [codex's default]: ";

  it('empty answers take the defaults: claude with opus', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start'], { cwd: dir, env: sb.env, input: '\n\n' });
    expect(r.stdout).toBe(
      `${CLI_Q}\n${CLAUDE_MODEL_Q}\nfake claude: interactive session (model opus, stdin socket, stdout socket)\n`,
    );
    expect(r.code).toBe(0);
    expect(withoutSessionId(onlyCall(sb.log).argv).slice(0, 3)).toEqual([
      '--model',
      'opus',
      '--append-system-prompt',
    ]);
  });

  it('2 and a model name: codex -m', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start'], { cwd: dir, env: sb.env, input: '2\ngpt-6-astra\n' });
    expect(r.stdout).toContain(`${CLI_Q}2\n${CODEX_MODEL_Q}gpt-6-astra\n`);
    expect(r.code).toBe(0);
    expect(onlyCall(sb.log).argv).toEqual([
      '-m',
      'gpt-6-astra',
      '-c',
      `developer_instructions=${tomlString(codexInstructions())}`,
      '--',
      OPENING_PLANNED,
    ]);
  });

  it('codex and an empty model: no -m', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start'], { cwd: dir, env: sb.env, input: 'Codex\n\n' });
    expect(r.code).toBe(0);
    expect(onlyCall(sb.log).argv[0]).toBe('-c');
  });

  it('wrong answers are explained and asked again', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start'], {
      cwd: dir,
      env: sb.env,
      input: 'gemini\nclaude\nopus; rm -rf /\nsonnet\n',
    });
    expect(r.stdout).toContain(`${CLI_Q}gemini\n${CLI_Q}claude\n`);
    expect(r.stderr).toContain('Expected claude or codex (or 1 or 2), got "gemini".');
    expect(r.stderr).toContain('Expected a model name such as opus or sonnet');
    expect(r.code).toBe(0);
    expect(onlyCall(sb.log).argv.slice(0, 2)).toEqual(['--model', 'sonnet']);
  });

  it('only what is not given is asked: --cli codex asks the model', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'codex'], {
      cwd: dir,
      env: sb.env,
      input: 'gpt-6-sol\n',
    });
    expect(r.stdout).not.toContain(CLI_Q);
    expect(r.stdout).toContain(`${CODEX_MODEL_Q}gpt-6-sol\n`);
    expect(onlyCall(sb.log).argv.slice(0, 2)).toEqual(['-m', 'gpt-6-sol']);
  });

  it('the end of input takes the defaults (stdin from /dev/null)', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start'], { cwd: dir, env: sb.env });
    expect(r.code).toBe(0);
    expect(onlyCall(sb.log).argv.slice(0, 2)).toEqual(['--model', 'opus']);
  });
});

describe('bearing start in a project without bearing/', () => {
  it('initialises bearing/ first and says so in the opening message', async () => {
    const sb = sandbox();
    const dir = project({ 'README.md': '# App\n' });
    const r = await bearing(['start', '--cli', 'claude', '--model', 'opus'], {
      cwd: dir,
      env: sb.env,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `Initialised bearing/ in ${dir}: bearing/config.yaml, bearing/.gitignore, bearing/plan.md, bearing/tasks/example.yaml, bearing/.schema/task-file.schema.json, bearing/.schema/config.schema.json\n`,
    );
    expect(existsSync(join(dir, 'bearing', 'tasks', 'example.yaml'))).toBe(true);
    const opening = onlyCall(sb.log).argv.at(-1);
    expect(opening).toBe(
      openingMessage({
        initialised: true,
        hasStatus: false,
        taskFiles: ['bearing/tasks/example.yaml'],
      }),
    );
    expect(opening).toContain('`bearing/tasks/example.yaml` is only an example');
    expect(opening).toContain('ask me what we are going to build');
  });

  it('after a first start whose CLI exited at once, the example is still called an example', async () => {
    const sb = sandbox();
    const dir = project({ 'README.md': '# App\n' });
    writeFileSync(sb.script, JSON.stringify([{ exitCode: 1 }]));
    const first = await bearing(['start', '--cli', 'claude', '--model', 'opus'], {
      cwd: dir,
      env: { ...sb.env, BEARING_FAKE_SCRIPT: sb.script },
    });
    expect(first.code).toBe(1);
    const second = await bearing(['start', '--cli', 'claude', '--model', 'opus'], {
      cwd: dir,
      env: sb.env,
    });
    expect(second.code).toBe(0);
    expect(second.stderr).not.toContain('Initialised');
    const calls = readCalls(sb.log);
    expect(calls).toHaveLength(2);
    const opening = calls[1]?.argv.at(-1);
    expect(opening).toContain('`bearing/tasks/example.yaml` is only an example');
    expect(opening).toContain('ask me what we are going to build');
    expect(opening).not.toContain('Read the task files');
  });

  it('an edited example is the plan, not an example', async () => {
    const sb = sandbox();
    const dir = project({ 'README.md': '# App\n' });
    await bearing(['init', '--no-start'], { cwd: dir, env: sb.env });
    const example = join(dir, 'bearing', 'tasks', 'example.yaml');
    writeFileSync(example, readFileSync(example, 'utf8').replace('Say hello', 'Say hi'));
    const r = await bearing(['start', '--cli', 'claude', '--model', 'opus'], {
      cwd: dir,
      env: sb.env,
    });
    expect(r.code).toBe(0);
    const opening = onlyCall(sb.log).argv.at(-1);
    expect(opening).toContain(
      'Nothing has run yet. Read the task files (`bearing/tasks/example.yaml`)',
    );
    expect(opening).not.toContain('only an example');
  });

  it('tasks but no status yet: the opening message lists the task files', async () => {
    const sb = sandbox();
    const dir = project({ 'bearing/tasks/a.yaml': 'id: a\nprompt: A\n' });
    const r = await bearing(['start', '--cli', 'codex', '--yes'], { cwd: dir, env: sb.env });
    expect(r.code).toBe(0);
    const opening = onlyCall(sb.log).argv.at(-1);
    expect(opening).toContain('Nothing has run yet. Read the task files (`bearing/tasks/a.yaml`)');
    expect(existsSync(join(dir, 'bearing', 'config.yaml'))).toBe(false);
  });
});

describe('exit codes and errors', () => {
  it("passes the planner CLI's exit code on", async () => {
    const sb = sandbox();
    writeFileSync(sb.script, JSON.stringify([{ exitCode: 7 }]));
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'codex', '--yes'], {
      cwd: dir,
      env: { ...sb.env, BEARING_FAKE_SCRIPT: sb.script },
    });
    expect(r.code).toBe(7);
  });

  it.each([
    ['claude', 'npm install -g @anthropic-ai/claude-code'],
    ['codex', 'npm install -g @openai/codex'],
  ])('a missing %s: install hint, exit 5, nothing created, nothing asked', async (cli, hint) => {
    const sb = sandbox({ fakes: false });
    const dir = project({ 'README.md': '# App\n' });
    const r = await bearing(['start', '--cli', cli], { cwd: dir, env: sb.env, input: 'opus\n' });
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `bearing start: \`${cli}\` is not installed or not on PATH. Install it: ${hint}\nThen log in once by running \`${cli}\` on its own, and run bearing start again.\n`,
    );
    expect(existsSync(join(dir, 'bearing'))).toBe(false);
    expect(readCalls(sb.log)).toEqual([]);
  });

  it('a missing CLI chosen in the questions is reported before the model question', async () => {
    const sb = sandbox({ fakes: false });
    const dir = project();
    const r = await bearing(['start'], { cwd: dir, env: sb.env, input: 'codex\ngpt\n' });
    expect(r.code).toBe(5);
    expect(r.stdout).not.toContain('Model');
    expect(r.stderr).toContain('`codex` is not installed');
  });

  it.each([
    [['--cli', 'gemini'], 'bearing start: --cli: expected claude or codex, got "gemini"\n'],
    [
      ['--cli', 'claude', '--model', '--rm -rf'],
      'bearing start: --model: expected a model name such as opus or sonnet (letters, digits, . _ - : @ / [ ]), got "--rm -rf"\n',
    ],
  ])('invalid %j: exit 2', async (flags, message) => {
    const sb = sandbox();
    const dir = project();
    const r = await bearing(['start', ...flags], { cwd: dir, env: sb.env });
    expect(r.stderr).toBe(message);
    expect(r.code).toBe(2);
    expect(readCalls(sb.log)).toEqual([]);
  });

  it('`bearing` on PATH: the planner is told to run it as `bearing`', async () => {
    const binDir = tempDir('bearing-start-onpath-');
    writeFileSync(join(binDir, 'bearing'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const sb = sandbox({ extraPath: [binDir] });
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'claude', '--yes'], { cwd: dir, env: sb.env });
    expect(r.code).toBe(0);
    const instructions = onlyCall(sb.log).argv[5];
    expect(instructions).toBe(plannerInstructions('claude', { bearingCommand: 'bearing' }));
    expect(instructions).toContain('Run Bearing as `bearing` (it is on PATH).');
  });
});
