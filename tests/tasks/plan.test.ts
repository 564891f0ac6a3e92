/** What a valid project loads into: precedence, normalisation, order, and which files are read. */
import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/task.js';
import { loadProject } from '../../src/tasks/load.js';
import { useProjects, yaml } from './support.js';

const { plan, load, problems, fixtures } = useProjects();

describe('a valid multi-file project', () => {
  it('loads config, file defaults and tasks into a normalised plan', async () => {
    const p = await plan({
      'bearing/config.yaml': yaml(
        '$schema: ../node_modules/bearing/schema/config.schema.json',
        'defaults:',
        '  model: sonnet',
        '  timeout: 1h',
        'agents:',
        '  aider:',
        '    command: aider',
        '    args: [--message, "{prompt}", --model, "{model}"]',
        '    output: text',
        '    install_hint: pipx install aider-chat',
        '  plain:',
        '    command: my-agent',
        '  piped:',
        '    command: my-agent',
        '    prompt_input: stdin',
        'run:',
        '  concurrency: 3',
        '  max_log_size: 500KB',
        '  min_free_space: 1000000',
      ),
      'bearing/tasks/10-db.yaml': yaml(
        'defaults:',
        '  effort: high',
        '  focus: [src/db.js]',
        'tasks:',
        '  - id: db-schema',
        '    name: SQLite schema',
        '    budget_usd: 3',
        '    max_turns: 20',
        '    permission_mode: acceptEdits',
        '    skip: [node_modules, dist]',
        '    checkpoint: notify',
        '    on_failure: skip',
        '    retries: 0',
        '    verify: npm test',
        '    prompt: |',
        '      Create src/db.js.',
        '  - id: lint',
        '    cli: shell',
        '    run: npm run lint',
        '    depends_on: [db-schema]',
      ),
      'bearing/tasks/20-api.yml': yaml(
        '$schema: ../../node_modules/bearing/schema/task-file.schema.json',
        'id: api',
        'cli: aider',
        'prompt: Build the API.',
        'depends_on: [db-schema, lint]',
        'idle_timeout: 90',
      ),
    });

    const source = (file: string, line: number, col: number) => ({ file, line, col });
    expect(p.tasks).toEqual<Task[]>([
      {
        id: 'db-schema',
        name: 'SQLite schema',
        cli: 'claude',
        model: 'sonnet',
        effort: 'high',
        budgetUsd: 3,
        maxTurns: 20,
        timeoutMs: 3_600_000,
        idleTimeoutMs: 600_000,
        permissionMode: 'acceptEdits',
        sandbox: 'workspace-write',
        focus: ['src/db.js'],
        skip: ['node_modules', 'dist'],
        dependsOn: [],
        checkpoint: 'notify',
        onFailure: 'skip',
        retries: 0,
        verify: 'npm test',
        retryMode: 'auto',
        expectChanges: true,
        prompt: 'Create src/db.js.\n',
        source: source('bearing/tasks/10-db.yaml', 5, 5),
      },
      {
        id: 'lint',
        name: 'lint',
        cli: 'shell',
        // No model or effort from the defaults: a shell task runs no agent.
        timeoutMs: 3_600_000,
        idleTimeoutMs: 600_000,
        permissionMode: 'auto',
        sandbox: 'workspace-write',
        focus: ['src/db.js'],
        skip: [],
        dependsOn: ['db-schema'],
        checkpoint: 'auto',
        onFailure: 'retry',
        retries: 1,
        retryMode: 'auto',
        expectChanges: false,
        run: 'npm run lint',
        source: source('bearing/tasks/10-db.yaml', 17, 5),
      },
      {
        id: 'api',
        name: 'api',
        cli: 'aider',
        model: 'sonnet',
        timeoutMs: 3_600_000,
        idleTimeoutMs: 90_000,
        permissionMode: 'auto',
        sandbox: 'workspace-write',
        focus: [],
        skip: [],
        dependsOn: ['db-schema', 'lint'],
        checkpoint: 'auto',
        onFailure: 'retry',
        retries: 1,
        retryMode: 'auto',
        expectChanges: true,
        prompt: 'Build the API.',
        source: source('bearing/tasks/20-api.yml', 1, 1),
      },
    ]);
    expect(p.agents).toEqual({
      aider: {
        name: 'aider',
        command: 'aider',
        args: ['--message', '{prompt}', '--model', '{model}'],
        output: 'text',
        promptInput: 'argument',
        installHint: 'pipx install aider-chat',
      },
      plain: {
        name: 'plain',
        command: 'my-agent',
        args: ['{prompt}'],
        output: 'text',
        promptInput: 'argument',
      },
      // With the prompt on stdin, no argument template is the default.
      piped: { name: 'piped', command: 'my-agent', args: [], output: 'text', promptInput: 'stdin' },
    });
    expect(p.run).toEqual({
      concurrency: 3,
      promptFormat: 'structured',
      contextLimit: 8000,
      waitForLimits: true,
      maxLogBytes: 500 * 1024,
      minFreeBytes: 1_000_000,
      isolation: 'auto',
      worktreeDir: 'bearing/.state/worktrees',
      conflictRetries: 1,
      remote: 'origin',
    });
  });

  it('uses built-in defaults when nothing is set', async () => {
    const p = await plan({ 'bearing/tasks/a.yaml': yaml('id: a', 'prompt: x') });
    expect(p.tasks).toEqual([
      {
        id: 'a',
        name: 'a',
        cli: 'claude',
        timeoutMs: 30 * 60_000,
        idleTimeoutMs: 10 * 60_000,
        permissionMode: 'auto',
        sandbox: 'workspace-write',
        focus: [],
        skip: [],
        dependsOn: [],
        checkpoint: 'auto',
        onFailure: 'retry',
        retries: 1,
        retryMode: 'auto',
        expectChanges: true,
        prompt: 'x',
        source: { file: 'bearing/tasks/a.yaml', line: 1, col: 1 },
      },
    ]);
    expect(p.agents).toEqual({});
    expect(p.run).toEqual({
      concurrency: 1,
      promptFormat: 'structured',
      contextLimit: 8000,
      waitForLimits: true,
      maxLogBytes: 64 * 1024 * 1024,
      minFreeBytes: 512 * 1024 * 1024,
      isolation: 'auto',
      worktreeDir: 'bearing/.state/worktrees',
      conflictRetries: 1,
      remote: 'origin',
    });
  });

  it('treats empty config sections (all commented out) as unset', async () => {
    const p = await plan({
      'bearing/config.yaml': yaml('defaults:', '#  model: opus', 'agents:', 'run:'),
      'bearing/tasks/a.yaml': yaml('id: a', 'prompt: x'),
    });
    expect(p.tasks[0]?.model).toBeUndefined();
    expect(p.run.concurrency).toBe(1);
  });

  it('accepts an empty config.yaml and an empty tasks folder', async () => {
    const result = await load({ 'bearing/config.yaml': '', 'bearing/tasks': { dir: true } });
    expect(result).toEqual({
      plan: {
        tasks: [],
        agents: {},
        run: {
          concurrency: 1,
          promptFormat: 'structured',
          contextLimit: 8000,
          waitForLimits: true,
          maxLogBytes: 64 * 1024 * 1024,
          minFreeBytes: 512 * 1024 * 1024,
          isolation: 'auto',
          worktreeDir: 'bearing/.state/worktrees',
          conflictRetries: 1,
          remote: 'origin',
        },
      },
      diagnostics: [],
      files: [],
    });
  });
});

describe('precedence: task > file defaults > config defaults > built-in', () => {
  const config = yaml(
    'defaults:',
    '  model: from-config',
    '  retries: 5',
    '  timeout: 5m',
    '  skip: [config]',
  );
  const file = yaml(
    'defaults:',
    '  model: from-file',
    '  retries: 3',
    '  skip: [file]',
    'tasks:',
    '  - id: own',
    '    prompt: x',
    '    model: from-task',
    '    retries: 0',
    '    skip: []',
    '  - id: inherits',
    '    prompt: x',
  );

  it('resolves each key at the most specific level that sets it', async () => {
    const p = await plan({
      'bearing/config.yaml': config,
      'bearing/tasks/a.yaml': file,
      'bearing/tasks/b.yaml': yaml('id: config-only', 'prompt: x'),
    });
    const pick = (t: Task) => [t.id, t.model, t.retries, t.timeoutMs, t.skip, t.idleTimeoutMs];
    expect(p.tasks.map(pick)).toEqual([
      ['own', 'from-task', 0, 300_000, [], 600_000],
      ['inherits', 'from-file', 3, 300_000, ['file'], 600_000],
      ['config-only', 'from-config', 5, 300_000, ['config'], 600_000],
    ]);
  });

  it('does not leak one file’s defaults into another file', async () => {
    const p = await plan({
      'bearing/tasks/a.yaml': yaml(
        'defaults:',
        '  model: opus',
        'tasks:',
        '  - id: a',
        '    prompt: x',
      ),
      'bearing/tasks/b.yaml': yaml('id: b', 'prompt: x'),
    });
    expect(p.tasks.map((t) => [t.id, t.model])).toEqual([
      ['a', 'opus'],
      ['b', undefined],
    ]);
  });

  it('checks the effective cli: a shell default makes run required and prompt optional', async () => {
    expect(
      await problems({
        'bearing/tasks/a.yaml': yaml(
          'defaults:',
          '  cli: shell',
          'tasks:',
          '  - id: a',
          '    prompt: x',
        ),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:4:5: tasks[0].run: missing: shell task "a" needs run: (the command to run)',
    ]);
  });
});

describe('dependency order', () => {
  const files = {
    'bearing/tasks/b.yaml': yaml(
      'tasks:',
      '  - { id: deploy, prompt: x, depends_on: [test, docs] }',
      '  - { id: docs, prompt: x }',
      '  - { id: test, prompt: x, depends_on: [build] }',
    ),
    'bearing/tasks/a.yaml': yaml(
      'tasks:',
      '  - { id: build, prompt: x, depends_on: [setup] }',
      '  - { id: lint, prompt: x }',
    ),
    'bearing/tasks/0/setup.yaml': yaml('id: setup', 'prompt: x'),
  };

  it('puts dependencies first and otherwise keeps declaration order (files by path, tasks in file order)', async () => {
    const p = await plan(files);
    expect(p.tasks.map((t) => t.id)).toEqual(['setup', 'build', 'lint', 'docs', 'test', 'deploy']);
  });

  it('gives the same order however the files were written', async () => {
    const reversed = Object.fromEntries(Object.entries(files).reverse());
    const a = await plan(files);
    const b = await plan(reversed);
    expect(b.tasks.map((t) => t.id)).toEqual(a.tasks.map((t) => t.id));
  });
});

describe('which files are read', () => {
  it('reads *.yaml and *.yml in subfolders, skips hidden entries and other files, sorted by path', async () => {
    const result = await load({
      'bearing/tasks/b.yml': yaml('id: b', 'prompt: x'),
      'bearing/tasks/a/z.yaml': yaml('id: z', 'prompt: x'),
      'bearing/tasks/a.yaml': yaml('id: a', 'prompt: x'),
      'bearing/tasks/.hidden.yaml': 'not: [valid',
      'bearing/tasks/.drafts/x.yaml': 'not: [valid',
      'bearing/tasks/notes.md': '# not a task file',
      'bearing/tasks/a.yaml.bak': 'not: [valid',
      'bearing/plan.md': 'never read',
    });
    expect(result.diagnostics).toEqual([]);
    expect(result.files).toEqual([
      'bearing/tasks/a.yaml',
      'bearing/tasks/a/z.yaml',
      'bearing/tasks/b.yml',
    ]);
  });

  it('says when bearing/ or bearing/tasks/ is missing, and how to create it', async () => {
    expect(await problems({ 'README.md': 'hi' })).toEqual([
      'bearing: no bearing/ folder in this project; `bearing init` creates it with an example task',
    ]);
    expect(await problems({ 'bearing/config.yaml': '' })).toEqual([
      'bearing/tasks: no bearing/tasks/ folder; `bearing init` creates it with an example task',
    ]);
  });

  it('shows paths relative to displayBase when inside it, else absolute', async () => {
    const fx = await fixtures.create({
      'proj/bearing/tasks/a.yaml': yaml('id: a', 'prompt: x', 'retries: -1'),
    });
    const inside = await loadProject(fx.path('proj'), { displayBase: fx.dir });
    expect(inside.files).toEqual(['proj/bearing/tasks/a.yaml']);
    expect(inside.diagnostics[0]?.file).toBe('proj/bearing/tasks/a.yaml');
    const outside = await loadProject(fx.path('proj'), { displayBase: fx.path('elsewhere') });
    expect(outside.diagnostics[0]?.file).toBe(fx.path('proj/bearing/tasks/a.yaml'));
  });

  it('defaults displayBase to the current directory', async () => {
    // Each case sets the cwd itself: comparing against wherever the tests were
    // started from passed or failed depending on where the temp dir was.
    const fx = await fixtures.create({
      'proj/bearing/tasks/a.yaml': yaml('id: a', 'prompt: x'),
      'proj-other/x': '',
    });
    const cwd = process.cwd();
    const filesFrom = async (dir: string) => {
      process.chdir(dir);
      try {
        return (await loadProject(fx.path('proj'))).files;
      } finally {
        process.chdir(cwd);
      }
    };
    expect(await filesFrom(fx.path('proj'))).toEqual(['bearing/tasks/a.yaml']);
    expect(await filesFrom(fx.dir)).toEqual(['proj/bearing/tasks/a.yaml']);
    // A sibling whose name starts with the project's is not a parent of it.
    expect(await filesFrom(fx.path('proj-other'))).toEqual([fx.path('proj/bearing/tasks/a.yaml')]);
  });

  it('shows a path inside displayBase whose first folder starts with ".." as relative', async () => {
    const fx = await fixtures.create({ '..proj/bearing/tasks/a.yaml': yaml('id: a', 'prompt: x') });
    const result = await loadProject(fx.path('..proj'), { displayBase: fx.dir });
    expect(result.files).toEqual(['..proj/bearing/tasks/a.yaml']);
  });
});
