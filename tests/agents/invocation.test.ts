import { describe, expect, it } from 'vitest';
import { claudeAdapter } from '../../src/agents/claude.js';
import { codexAdapter } from '../../src/agents/codex.js';
import { customAdapter, expandArgs } from '../../src/agents/custom.js';
import { adapterFor, requiredCommands } from '../../src/agents/registry.js';
import type { InvocationInput } from '../../src/agents/types.js';
import type { CustomAgent, Task } from '../../src/core/task.js';
import { makeTask } from '../../src/core/test-support.js';

const input = (task: Partial<Task>, rest: Partial<InvocationInput> = {}): InvocationInput => ({
  task: makeTask({ id: 't', ...task }),
  prompt: 'Build it',
  isGitRepo: true,
  ...rest,
});

describe('claude invocation', () => {
  it('minimal: print mode, stream-json, permission mode; the prompt goes on stdin', () => {
    expect(claudeAdapter.buildInvocation(input({}))).toEqual({
      file: 'claude',
      args: ['-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', 'auto'],
      env: {},
      promptOnStdin: true,
    });
  });

  it('`manual` (the name since Claude Code 2.1.332) is passed as `default`, which older versions also accept', () => {
    const args = (mode: Task['permissionMode']) =>
      claudeAdapter.buildInvocation(input({ permissionMode: mode })).args;
    expect(args('manual')).toEqual(args('default'));
    expect(args('manual').slice(-2)).toEqual(['--permission-mode', 'default']);
  });

  it('every option, resuming', () => {
    const inv = claudeAdapter.buildInvocation(
      input(
        {
          model: 'sonnet',
          maxTurns: 20,
          budgetUsd: 2.5,
          effort: 'high',
          permissionMode: 'acceptEdits',
        },
        { resumeSessionId: 'a5d5484e-63e0-412d-b13e-10f34f90bcc4', prompt: '--help me' },
      ),
    );
    expect(inv.args).toEqual([
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--model',
      'sonnet',
      '--max-turns',
      '20',
      '--max-budget-usd',
      '2.5',
      '--effort',
      'high',
      '--permission-mode',
      'acceptEdits',
      '--resume',
      'a5d5484e-63e0-412d-b13e-10f34f90bcc4',
    ]);
    expect(inv.promptOnStdin).toBe(true);
  });

  it('leaves out an effort claude does not have (minimal)', () => {
    expect(claudeAdapter.buildInvocation(input({ effort: 'minimal' })).args).not.toContain(
      '--effort',
    );
  });

  it('keeps the prompt out of argv, however long or odd (it goes on stdin)', () => {
    const prompt = `-rm -rf / "quoted" $(whoami) \`id\`\nline two; --model opus ${'x'.repeat(300 * 1024)}`;
    const inv = claudeAdapter.buildInvocation(input({}, { prompt }));
    expect(inv.promptOnStdin).toBe(true);
    expect(inv.args.some((a) => a.includes('line two'))).toBe(false);
    expect(inv.args).not.toContain('--');
    expect(inv.args.filter((a) => a === '--model')).toEqual([]);
  });

  it('is resumable and has the npm install hint', () => {
    expect(claudeAdapter.resumable).toBe(true);
    expect(claudeAdapter.installHint).toBe('npm install -g @anthropic-ai/claude-code');
  });
});

describe('codex invocation', () => {
  it('minimal, in a git repo', () => {
    expect(codexAdapter.buildInvocation(input({ cli: 'codex' }))).toEqual({
      file: 'codex',
      args: ['exec', '--json', '-s', 'workspace-write', '--', '-'],
      env: {},
      promptOnStdin: true,
    });
  });

  it('every option, outside a git repo', () => {
    const inv = codexAdapter.buildInvocation(
      input(
        { cli: 'codex', model: 'gpt-5.2-codex', effort: 'xhigh', sandbox: 'danger-full-access' },
        { isGitRepo: false, prompt: '-x' },
      ),
    );
    expect(inv.args).toEqual([
      'exec',
      '--json',
      '-m',
      'gpt-5.2-codex',
      '-s',
      'danger-full-access',
      '-c',
      'model_reasoning_effort="xhigh"',
      '--skip-git-repo-check',
      '--',
      '-',
    ]);
    expect(inv.promptOnStdin).toBe(true);
  });

  it('resume: no -s (exec resume rejects it); the sandbox is pinned with -c', () => {
    const inv = codexAdapter.buildInvocation(
      input(
        { cli: 'codex', model: 'o3', effort: 'low', sandbox: 'read-only' },
        { resumeSessionId: '01a20d92-3de3-7720-9842-fa3cffacdeed', isGitRepo: false },
      ),
    );
    expect(inv.args).toEqual([
      'exec',
      'resume',
      '--json',
      '-m',
      'o3',
      '-c',
      'sandbox_mode="read-only"',
      '-c',
      'model_reasoning_effort="low"',
      '--skip-git-repo-check',
      '--',
      '01a20d92-3de3-7720-9842-fa3cffacdeed',
      '-',
    ]);
    expect(inv.args).not.toContain('-s');
    expect(inv.promptOnStdin).toBe(true);
  });

  it('leaves out an effort codex does not have (max)', () => {
    expect(codexAdapter.buildInvocation(input({ cli: 'codex', effort: 'max' })).args).toEqual([
      'exec',
      '--json',
      '-s',
      'workspace-write',
      '--',
      '-',
    ]);
  });

  it('is resumable and has the npm install hint', () => {
    expect(codexAdapter.resumable).toBe(true);
    expect(codexAdapter.installHint).toBe('npm install -g @openai/codex');
  });
});

describe('shell invocation', () => {
  it('runs task.run through sh -c as one element; the prompt plays no part', () => {
    const task = makeTask({ id: 'lint', cli: 'shell', run: 'npm run lint && echo "ok $HOME"' });
    const adapter = adapterFor(task, {});
    expect(adapter.buildInvocation({ task, prompt: 'ignored', isGitRepo: true })).toEqual({
      file: 'sh',
      args: ['-c', 'npm run lint && echo "ok $HOME"'],
      env: {},
      promptOnStdin: false,
    });
    expect(adapter.resumable).toBe(false);
  });
});

describe('custom agent arguments', () => {
  it('substitutes inside elements, never splitting them', () => {
    expect(
      expandArgs(['--message={prompt}', '-m', '{model}', 'x{prompt}y'], 'a b "c"', 'gpt'),
    ).toEqual(['--message=a b "c"', '-m', 'gpt', 'xa b "c"y']);
  });

  it('drops `{model}` and its flag when no model is set', () => {
    expect(expandArgs(['--model', '{model}', '--yes', '{prompt}'], 'p')).toEqual(['--yes', 'p']);
  });

  it('drops a bare `{model}` without eating a non-flag or a placeholder before it', () => {
    expect(expandArgs(['run', '{model}', '{prompt}'], 'p')).toEqual(['run', 'p']);
    expect(expandArgs(['{prompt}', '{model}'], 'p')).toEqual(['p']);
    expect(expandArgs(['--', '{model}', '{prompt}'], 'p')).toEqual(['--', 'p']);
  });

  it('drops an element that embeds `{model}` when no model is set', () => {
    expect(expandArgs(['--model={model}', '{prompt}'], 'p')).toEqual(['p']);
    expect(expandArgs(['--model={model}', '{prompt}'], 'p', 'm')).toEqual(['--model=m', 'p']);
  });

  it('does not substitute placeholders that come from the prompt itself', () => {
    expect(expandArgs(['{prompt}', '{model}'], 'use {model} and {prompt}', 'm')).toEqual([
      'use {model} and {prompt}',
      'm',
    ]);
  });

  it('builds the invocation from the agent, preferring a fresher copy in the input', () => {
    const agent: CustomAgent = {
      name: 'aider',
      command: 'aider',
      args: ['--model', '{model}', '--message', '{prompt}'],
      output: 'text',
      promptInput: 'argument',
      installHint: 'pipx install aider-chat',
    };
    const task = makeTask({ id: 't', cli: 'aider', model: 'sonnet' });
    const adapter = adapterFor(task, { aider: agent });
    expect(adapter.name).toBe('aider');
    expect(adapter.installHint).toBe('pipx install aider-chat');
    expect(adapter.resumable).toBe(false);
    expect(adapter.buildInvocation({ task, prompt: 'go', isGitRepo: true })).toEqual({
      file: 'aider',
      args: ['--model', 'sonnet', '--message', 'go'],
      env: {},
      promptOnStdin: false,
    });
    const fresher = { ...agent, command: '/opt/aider' };
    expect(
      adapter.buildInvocation({ task, prompt: 'go', isGitRepo: true, agent: fresher }).file,
    ).toBe('/opt/aider');
  });

  it('with prompt_input: stdin, asks for the prompt on stdin and keeps it out of argv', () => {
    const agent: CustomAgent = {
      name: 'mine',
      command: 'my-agent',
      args: ['--yes', '--model', '{model}'],
      output: 'text',
      promptInput: 'stdin',
    };
    const task = makeTask({ id: 't', cli: 'mine' });
    expect(customAdapter(agent).buildInvocation({ task, prompt: 'go', isGitRepo: true })).toEqual({
      file: 'my-agent',
      args: ['--yes'],
      env: {},
      promptOnStdin: true,
    });
  });

  it('has a generic install hint when none is configured', () => {
    const adapter = customAdapter({
      name: 'x',
      command: 'xcli',
      args: ['{prompt}'],
      output: 'text',
      promptInput: 'argument',
    });
    expect(adapter.installHint).toBe('install `xcli` and make sure it is on PATH');
  });
});

describe('registry', () => {
  const agents: Record<string, CustomAgent> = {
    mine: {
      name: 'mine',
      command: 'my-agent',
      args: ['{prompt}'],
      output: 'claude',
      promptInput: 'argument',
    },
  };

  it('maps each cli to its adapter', () => {
    expect(adapterFor(makeTask({ id: 'a' }), agents)).toBe(claudeAdapter);
    expect(adapterFor(makeTask({ id: 'b', cli: 'codex' }), agents)).toBe(codexAdapter);
    expect(adapterFor(makeTask({ id: 'c', cli: 'shell', run: 'true' }), agents).name).toBe('shell');
    expect(adapterFor(makeTask({ id: 'd', cli: 'mine' }), agents).name).toBe('mine');
  });

  it('throws for a cli validation should have rejected (a bug)', () => {
    expect(() => adapterFor(makeTask({ id: 'e', cli: 'nope' }), agents)).toThrow(
      'task "e": unknown cli "nope"',
    );
    expect(() => adapterFor(makeTask({ id: 'e', cli: 'toString' }), agents)).toThrow();
  });

  it('lists each needed command once, in task order, with its install hint', () => {
    const tasks = [
      makeTask({ id: 'a', cli: 'codex' }),
      makeTask({ id: 'b', verify: 'npm test' }),
      makeTask({ id: 'c', cli: 'mine' }),
      makeTask({ id: 'd', cli: 'codex' }),
      makeTask({ id: 'e', cli: 'shell', run: 'make' }),
    ];
    expect(requiredCommands(tasks, agents)).toEqual([
      { cli: 'codex', command: 'codex', installHint: 'npm install -g @openai/codex' },
      {
        cli: 'claude',
        command: 'claude',
        installHint: 'npm install -g @anthropic-ai/claude-code',
      },
      { cli: 'shell', command: 'sh', installHint: 'a POSIX shell (`sh`) on PATH' },
      {
        cli: 'mine',
        command: 'my-agent',
        installHint: 'install `my-agent` and make sure it is on PATH',
      },
    ]);
  });
});
