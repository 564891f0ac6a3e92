/**
 * One test per problem the loader reports, each asserting the exact line a
 * user sees: `file:line:col: field: message`.
 */
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../src/tasks/load.js';
import { useProjects, yaml } from './support.js';

const { problems, plan, fixtures } = useProjects();

const T = 'bearing/tasks';
const CONFIG = 'bearing/config.yaml';

describe('YAML', () => {
  it('reports a syntax error at the position the YAML library gives', async () => {
    expect(
      await problems({ [`${T}/a.yaml`]: yaml('id: a', 'prompt: "never closed', 'cli: claude') }),
    ).toEqual(['bearing/tasks/a.yaml:4:1: yaml: Missing closing "quote']);
    expect(await problems({ [`${T}/a.yaml`]: yaml('id: a', 'prompt: run: this') })).toEqual([
      'bearing/tasks/a.yaml:2:9: yaml: unexpected nested mapping: put a value that contains ": " in quotes (or use a | block), or check the indentation',
    ]);
    expect(
      await problems({ [`${T}/a.yaml`]: yaml('id: a', 'depends_on: [b', 'prompt: x') }),
    ).toEqual([
      'bearing/tasks/a.yaml:3:1: yaml: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('reports tab indentation', async () => {
    expect(await problems({ [`${T}/a.yaml`]: yaml('tasks:', '  - id: a', '\tprompt: x') })).toEqual(
      [
        'bearing/tasks/a.yaml:3:1: yaml: tabs are not allowed as indentation in YAML; indent with spaces',
      ],
    );
  });

  it('reports a duplicate key at the second occurrence, naming the first', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml('tasks:', '  - id: a', '    prompt: x', '    prompt: y'),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:4:5: tasks[0].prompt: duplicate key "prompt" (first at line 3)',
    ]);
  });

  it('reports a second YAML document', async () => {
    expect(
      await problems({ [`${T}/a.yaml`]: yaml('id: a', 'prompt: x', '---', 'id: b', 'prompt: y') }),
    ).toEqual([
      'bearing/tasks/a.yaml:3:1: yaml: a task file holds one YAML document; remove the "---" separator or split the file',
    ]);
  });

  it('does not report references to tasks of a file it could not parse', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml('id: a', 'prompt: "broken'),
        [`${T}/b.yaml`]: yaml('id: b', 'prompt: x', 'depends_on: [a]'),
      }),
    ).toEqual(['bearing/tasks/a.yaml:3:1: yaml: Missing closing "quote']);
  });
});

describe('file shape', () => {
  it('refuses an empty file, saying what was expected', async () => {
    expect(await problems({ [`${T}/a.yaml`]: '# nothing yet\n' })).toEqual([
      'bearing/tasks/a.yaml:1:1: empty file: expected one task (a mapping with id:) or a list of tasks under tasks:',
    ]);
  });

  it('refuses a bare list, suggesting tasks:', async () => {
    expect(await problems({ [`${T}/a.yaml`]: yaml('- id: a', '  prompt: x') })).toEqual([
      'bearing/tasks/a.yaml:1:1: expected one task (a mapping with id:) or a list of tasks under tasks:, got a list; put the list under tasks:',
    ]);
  });

  it('refuses id: and tasks: in the same file', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml('id: a', 'prompt: x', 'tasks:', '  - id: b', '    prompt: y'),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:1:1: id: a file holds either one task (with id: at the top) or a list under tasks:, not both; move this task into tasks:',
      'bearing/tasks/a.yaml:2:1: prompt: "prompt" belongs in a task; put it in one of the tasks under tasks:',
    ]);
  });

  it('points a task setting at the top of a tasks: file to defaults:', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml('model: opus', 'tasks:', '  - id: a', '    prompt: x'),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:1:1: model: "model" is a task setting; put it under defaults: or in a task',
    ]);
  });

  it('refuses defaults: without tasks:', async () => {
    expect(await problems({ [`${T}/a.yaml`]: yaml('defaults:', '  model: opus') })).toEqual([
      'bearing/tasks/a.yaml:1:1: tasks: missing: a file with defaults: needs a list of tasks under tasks:',
    ]);
  });

  it('refuses tasks: that is not a list, and list items that are not mappings', async () => {
    expect(await problems({ [`${T}/a.yaml`]: yaml('tasks: a') })).toEqual([
      'bearing/tasks/a.yaml:1:8: tasks: expected a list of tasks, got string "a"',
    ]);
    expect(await problems({ [`${T}/a.yaml`]: yaml('tasks:', '  - just-an-id') })).toEqual([
      'bearing/tasks/a.yaml:2:5: tasks[0]: expected a task (a mapping with id:), got string "just-an-id"',
    ]);
  });

  it('refuses a task without an id, at the task', async () => {
    expect(await problems({ [`${T}/a.yaml`]: yaml('tasks:', '  - prompt: x') })).toEqual([
      'bearing/tasks/a.yaml:2:5: tasks[0].id: missing: every task needs an id',
    ]);
  });
});

describe('keys and values', () => {
  it('reports an unknown key at the key, with a did-you-mean', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml('tasks:', '  - id: b', '    prompt: x', '    dependson: [a]'),
        [`${T}/b.yaml`]: yaml('id: a', 'prompt: x', 'modl: opus', 'colour: red'),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:4:5: tasks[0].dependson: unknown key "dependson" (did you mean "depends_on"?)',
      'bearing/tasks/b.yaml:3:1: modl: unknown key "modl" (did you mean "model"?)',
      'bearing/tasks/b.yaml:4:1: colour: unknown key "colour"',
    ]);
  });

  it('reports a task-only key in defaults', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml(
          'defaults:',
          '  depends_on: [x]',
          'tasks:',
          '  - id: a',
          '    prompt: x',
        ),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:2:3: defaults.depends_on: "depends_on" cannot be a default; set it on each task',
    ]);
  });

  it('reports wrong types as expected/got', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml(
          'id: a',
          'prompt: x',
          'max_turns: "3"',
          'retries: 1.5',
          'model: 4',
          'depends_on: b',
          'focus: [src/a.js, 3]',
          'name:',
        ),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:3:12: max_turns: expected a number, got string "3"',
      'bearing/tasks/a.yaml:4:10: retries: expected a whole number, got number 1.5',
      'bearing/tasks/a.yaml:5:8: model: expected a string, got number 4 (put it in quotes)',
      'bearing/tasks/a.yaml:6:13: depends_on: expected a list, got string "b" (write a list: [b])',
      'bearing/tasks/a.yaml:7:19: focus[1]: expected a string, got number 3 (put it in quotes)',
      'bearing/tasks/a.yaml:8:1: name: expected a string, got an empty value',
    ]);
  });

  it('lists the allowed values of an enum, with a did-you-mean', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml('id: a', 'prompt: x', 'checkpoint: paus', 'on_failure: explode'),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:3:13: checkpoint: expected one of auto, notify, pause, got "paus" (did you mean "pause"?)',
      'bearing/tasks/a.yaml:4:13: on_failure: expected one of retry, skip, pause, stop, got "explode"',
    ]);
  });

  it('explains what a duration looks like', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml('id: a', 'prompt: x', 'timeout: "30 minutes"', 'idle_timeout: true'),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:3:10: timeout: expected a duration such as 90s, 30m or 1h30m (or a number of seconds), got "30 minutes"',
      'bearing/tasks/a.yaml:4:15: idle_timeout: expected a duration such as 90s, 30m or 1h30m (or a number of seconds), got boolean true',
    ]);
  });

  it('refuses timeouts of zero or less, and beyond what a timer can hold', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml(
          'tasks:',
          '  - id: a',
          '    prompt: x',
          '    timeout: 0s',
          '  - id: b',
          '    prompt: x',
          '    timeout: -5',
          '  - id: c',
          '    prompt: x',
          '    idle_timeout: 1000h',
        ),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:4:14: tasks[0].timeout: expected a duration greater than zero, got "0s"',
      'bearing/tasks/a.yaml:7:14: tasks[1].timeout: expected a duration greater than zero, got -5',
      'bearing/tasks/a.yaml:10:19: tasks[2].idle_timeout: expected at most 596h (about 24 days), got "1000h"',
    ]);
  });

  it('refuses budgets of zero or less, max_turns below 1 and negative retries', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml(
          'defaults:',
          '  budget_usd: 0',
          'tasks:',
          '  - id: a',
          '    prompt: x',
          '    budget_usd: -2.5',
          '    max_turns: 0',
          '    retries: -1',
        ),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:2:15: defaults.budget_usd: expected a number greater than 0, got 0',
      'bearing/tasks/a.yaml:6:17: tasks[0].budget_usd: expected a number greater than 0, got -2.5',
      'bearing/tasks/a.yaml:7:16: tasks[0].max_turns: expected at least 1, got 0',
      'bearing/tasks/a.yaml:8:14: tasks[0].retries: expected 0 or more, got -1',
    ]);
  });
});

describe('ids', () => {
  const rule =
    'expected an id of lowercase letters, digits, ".", "_" and "-" that starts with a letter or digit (ids become file names)';

  it.each([
    ['../x', `${rule}, got "../x" (try "x")`],
    ['a/b', `${rule}, got "a/b" (try "a-b")`],
    ['A', `${rule}, got "A" (try "a")`],
    ['-x', `${rule}, got "-x" (try "x")`],
    ['""', `${rule}, got ""`],
    ['"my task"', `${rule}, got "my task" (try "my-task")`],
  ])('refuses id %s, saying what is allowed', async (id, message) => {
    expect(await problems({ [`${T}/a.yaml`]: yaml(`id: ${id}`, 'prompt: x') })).toEqual([
      `bearing/tasks/a.yaml:1:5: id: ${message}`,
    ]);
  });

  it('refuses an id longer than the limit', async () => {
    expect(
      await problems({ [`${T}/a.yaml`]: yaml(`id: ${'a'.repeat(101)}`, 'prompt: x') }),
    ).toEqual([
      'bearing/tasks/a.yaml:1:5: id: expected an id of at most 100 characters (ids become file names), got 101 characters',
    ]);
  });

  it('refuses an id that YAML reads as a number', async () => {
    expect(await problems({ [`${T}/a.yaml`]: yaml('id: 001', 'prompt: x') })).toEqual([
      'bearing/tasks/a.yaml:1:5: id: expected a string, got number 1 (put it in quotes)',
    ]);
  });

  it('reports a duplicate id across files, naming both places', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml('tasks:', '  - id: setup', '    prompt: x'),
        [`${T}/b.yaml`]: yaml('id: setup', 'prompt: y'),
      }),
    ).toEqual([
      'bearing/tasks/b.yaml:1:5: id: duplicate id "setup": also defined at bearing/tasks/a.yaml:2:9',
    ]);
  });
});

describe('dependencies', () => {
  it('reports an unknown dependency at the entry, with a did-you-mean', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml(
          'tasks:',
          '  - id: db-schema',
          '    prompt: x',
          '  - id: api',
          '    prompt: y',
          '    depends_on: [db-schema, db-shema, frontend]',
        ),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:6:29: tasks[1].depends_on: unknown task "db-shema" (did you mean "db-schema"?)',
      'bearing/tasks/a.yaml:6:39: tasks[1].depends_on: unknown task "frontend"',
    ]);
  });

  it('reports a self-dependency and a dependency listed twice', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml(
          'tasks:',
          '  - id: b',
          '    prompt: x',
          '  - id: a',
          '    prompt: x',
          '    depends_on: [a, b, b]',
        ),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:6:18: tasks[1].depends_on: task "a" depends on itself',
      'bearing/tasks/a.yaml:6:24: tasks[1].depends_on: "b" is listed twice',
    ]);
  });

  it('reports a cycle across files with its full path, once', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml('id: a', 'prompt: x', 'depends_on: [b]'),
        [`${T}/b.yaml`]: yaml('id: b', 'prompt: x', 'depends_on: [c]'),
        [`${T}/c.yaml`]: yaml('id: c', 'prompt: x', 'depends_on: [ok, a]'),
        [`${T}/d.yaml`]: yaml('id: ok', 'prompt: x'),
        [`${T}/e.yaml`]: yaml('id: behind', 'prompt: x', 'depends_on: [c]'),
      }),
    ).toEqual(['bearing/tasks/a.yaml:3:14: depends_on: dependency cycle: a -> b -> c -> a']);
  });
});

describe('agents and what they accept', () => {
  it('requires a prompt for agent tasks and run for shell tasks', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml(
          'tasks:',
          '  - id: agent',
          '    cli: codex',
          '  - id: lint',
          '    cli: shell',
          '  - id: blank',
          '    prompt: "  "',
          '  - id: blank-lines',
          '    prompt: "\\n\\t\\u00a0\\u2028"',
          '  - id: dot',
          '    prompt: "\\n."',
        ),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:2:5: tasks[0].prompt: missing: task "agent" runs on codex and needs a prompt: (what the agent must do)',
      'bearing/tasks/a.yaml:4:5: tasks[1].run: missing: shell task "lint" needs run: (the command to run)',
      'bearing/tasks/a.yaml:7:13: tasks[2].prompt: expected a prompt, got an empty string',
      'bearing/tasks/a.yaml:9:13: tasks[3].prompt: expected a prompt, got an empty string',
    ]);
  });

  it('refuses run on a task that is not a shell task', async () => {
    expect(
      await problems({ [`${T}/a.yaml`]: yaml('id: a', 'prompt: x', 'run: npm test') }),
    ).toEqual([
      'bearing/tasks/a.yaml:3:1: run: only shell tasks have run:, but task "a" runs on claude; use prompt:, or set cli: shell',
    ]);
  });

  it('refuses an effort the task CLI does not accept', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml(
          'tasks:',
          '  - id: a',
          '    prompt: x',
          '    effort: minimal',
          '  - id: b',
          '    cli: codex',
          '    prompt: x',
          '    effort: max',
        ),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:4:13: tasks[0].effort: "minimal" is not accepted by claude (accepted: low, medium, high, xhigh, max)',
      'bearing/tasks/a.yaml:8:13: tasks[1].effort: "max" is not accepted by codex (accepted: minimal, low, medium, high, xhigh)',
    ]);
  });

  it('reports an inherited effort once, where it is written, naming the tasks', async () => {
    expect(
      await problems({
        [CONFIG]: yaml('defaults:', '  effort: minimal'),
        [`${T}/a.yaml`]: yaml(
          'tasks:',
          '  - { id: a, prompt: x }',
          '  - { id: b, prompt: x }',
          '  - { id: c, prompt: x, cli: codex }',
          '  - { id: d, prompt: x }',
          '  - { id: e, prompt: x }',
        ),
      }),
    ).toEqual([
      'bearing/config.yaml:2:11: defaults.effort: "minimal" is not accepted by claude, which runs tasks "a", "b", "d" and 1 more (accepted: low, medium, high, xhigh, max)',
    ]);
  });

  it('reports an unknown cli with a did-you-mean, wherever it is written', async () => {
    expect(
      await problems({
        [CONFIG]: yaml('defaults:', '  cli: codx'),
        [`${T}/a.yaml`]: yaml('id: a', 'cli: cladue', 'prompt: x'),
      }),
    ).toEqual([
      'bearing/config.yaml:2:8: defaults.cli: unknown cli "codx" (did you mean "codex"?): expected claude, codex or shell, or a custom agent defined under agents: in bearing/config.yaml',
      'bearing/tasks/a.yaml:2:6: cli: unknown cli "cladue" (did you mean "claude"?): expected claude, codex or shell, or a custom agent defined under agents: in bearing/config.yaml',
    ]);
  });

  it('accepts custom agents as cli values and suggests them', async () => {
    expect(
      await problems({
        [CONFIG]: yaml(
          'agents:',
          '  aider:',
          '    command: aider',
          '    args: [--message, "{prompt}"]',
        ),
        [`${T}/a.yaml`]: yaml(
          'tasks:',
          '  - { id: a, cli: aider, prompt: x }',
          '  - { id: b, cli: aidr, prompt: x }',
        ),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:3:19: tasks[1].cli: unknown cli "aidr" (did you mean "aider"?): expected claude, codex, shell or one of the custom agents in bearing/config.yaml (aider)',
    ]);
  });
});

describe('a prompt too long for one argument', () => {
  const agents = yaml(
    'agents:',
    '  aider:',
    '    command: aider',
    '    args: [--message, "{prompt}"]',
    '  piped:',
    '    command: my-agent',
    '    prompt_input: stdin',
  );
  /** A task file whose prompt (a block scalar, with its final newline) is exactly `kib` KiB. */
  const longTask = (cli: string, kib: number) =>
    yaml('id: a', `cli: ${cli}`, 'prompt: |', `  ${'x'.repeat(kib * 1024 - 1)}`);

  it('is refused for a custom agent that takes the prompt as an argument, at the prompt', async () => {
    expect(await problems({ [CONFIG]: agents, [`${T}/a.yaml`]: longTask('aider', 101) })).toEqual([
      'bearing/tasks/a.yaml:3:9: prompt: the prompt is 101 KiB, but aider takes it as one argument and Linux refuses an argument over 128 KiB (the PRIOR context is added to it): set prompt_input: stdin for aider in bearing/config.yaml if it reads the prompt from stdin, or shorten the prompt (at most 100 KiB)',
    ]);
  });

  it('is refused for a shell command or a gate over the argument cap, where it is written', async () => {
    const long = 'x'.repeat(130 * 1024);
    const file = yaml(
      'tasks:',
      '  - id: a',
      '    cli: shell',
      `    run: echo ${long}`,
      '  - id: b',
      '    prompt: do it',
      `    verify: test ${long}`,
    );
    const found = await problems({ [`${T}/a.yaml`]: file });
    expect(found).toEqual([
      expect.stringMatching(
        /^bearing\/tasks\/a\.yaml:4:10: tasks\[0\]\.run: the command is 131 KiB, but it goes to `sh -c` as one argument and Linux refuses an argument over 128 KiB: put it in a script in the project and run that$/,
      ),
      expect.stringMatching(
        /^bearing\/tasks\/a\.yaml:7:13: tasks\[1\]\.verify: the command is 131 KiB/,
      ),
    ]);
  });

  it('is fine for claude, codex and a custom agent reading stdin, and up to 100 KiB', async () => {
    const p = await plan({
      [CONFIG]: agents,
      [`${T}/a.yaml`]: longTask('claude', 300),
      [`${T}/b.yaml`]: longTask('codex', 300).replace('id: a', 'id: b'),
      [`${T}/c.yaml`]: longTask('piped', 300).replace('id: a', 'id: c'),
      [`${T}/d.yaml`]: longTask('aider', 99).replace('id: a', 'id: d'),
    });
    expect(p.tasks.map((t) => t.id)).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('config.yaml', () => {
  const task = { [`${T}/a.yaml`]: yaml('id: a', 'prompt: x') };

  it('with prompt_input: stdin, refuses a {prompt} argument (it would stay empty)', async () => {
    expect(
      await problems({
        ...task,
        [CONFIG]: yaml(
          'agents:',
          '  piped:',
          '    command: x',
          '    prompt_input: stdin',
          '    args: [--yes, "--ask={prompt}"]',
          '  odd:',
          '    command: x',
          '    prompt_input: file',
        ),
      }),
    ).toEqual([
      'bearing/config.yaml:5:19: agents.piped.args[1]: with prompt_input: stdin the prompt goes on stdin and {prompt} is not filled in; remove it',
      'bearing/config.yaml:8:19: agents.odd.prompt_input: expected one of argument, stdin, got "file"',
    ]);
  });

  it('requires a command for each custom agent and refuses built-in names', async () => {
    expect(
      await problems({
        ...task,
        [CONFIG]: yaml(
          'agents:',
          '  aider:',
          '    args: ["{prompt}"]',
          '  claude:',
          '    command: my-claude',
          '  silent:',
          '    command: x',
          '    args: [--quiet]',
          '  typo:',
          '    command: x',
          '    ouput: text',
        ),
      }),
    ).toEqual([
      'bearing/config.yaml:3:5: agents.aider.command: missing: a custom agent needs command: (the executable to run)',
      'bearing/config.yaml:4:3: agents.claude: "claude" is a built-in cli; give the custom agent another name',
      'bearing/config.yaml:8:11: agents.silent.args: no argument contains {prompt}, so the agent would never receive the task (or set prompt_input: stdin)',
      'bearing/config.yaml:11:5: agents.typo.ouput: unknown key "ouput" (did you mean "output"?)',
    ]);
  });

  it('checks run settings and defaults like task files', async () => {
    expect(
      await problems({
        ...task,
        [CONFIG]: yaml(
          'run:',
          '  concurrency: 0',
          '  context_limit: 100',
          '  prompt_format: json',
          'defaults:',
          '  timeout: soon',
          'model: opus',
          'agnets: {}',
        ),
      }),
    ).toEqual([
      'bearing/config.yaml:2:16: run.concurrency: expected at least 1, got 0',
      'bearing/config.yaml:3:18: run.context_limit: expected at least 500, got 100',
      'bearing/config.yaml:4:18: run.prompt_format: expected one of structured, prose, got "json"',
      'bearing/config.yaml:6:12: defaults.timeout: expected a duration such as 90s, 30m or 1h30m (or a number of seconds), got "soon"',
      'bearing/config.yaml:7:1: model: "model" is a task setting; put it under defaults:',
      'bearing/config.yaml:8:1: agnets: unknown key "agnets" (did you mean "agents"?)',
    ]);
  });

  it('checks the sizes in run settings like durations', async () => {
    expect(
      await problems({
        ...task,
        [CONFIG]: yaml('run:', '  max_log_size: 64 megabytes', '  min_free_space: -1', ''),
      }),
    ).toEqual([
      'bearing/config.yaml:2:17: run.max_log_size: expected a size such as 500KB, 64MB or 1GB (or a number of bytes), got "64 megabytes"',
      'bearing/config.yaml:3:19: run.min_free_space: expected a size of 0 or more, got -1',
    ]);
    expect(await problems({ ...task, [CONFIG]: yaml('run:', '  max_log_size: [1MB]') })).toEqual([
      'bearing/config.yaml:2:17: run.max_log_size: expected a size such as 500KB, 64MB or 1GB (or a number of bytes), got a list',
    ]);
  });

  it('refuses a config that is not a mapping', async () => {
    expect(await problems({ ...task, [CONFIG]: yaml('- concurrency: 2') })).toEqual([
      'bearing/config.yaml:1:1: expected a mapping with defaults:, agents: or run:, got a list',
    ]);
  });
});

describe('everything at once', () => {
  it('reports every problem in every file in one pass, sorted by file and position', async () => {
    const lines = await problems({
      [CONFIG]: yaml('run:', '  concurrency: -1'),
      [`${T}/b.yaml`]: yaml('id: b', 'prompt: x', 'depends_on: [nope]', 'retries: -1'),
      [`${T}/a.yaml`]: yaml('id: a', 'promt: x'),
      [`${T}/sub/c.yaml`]: yaml('id: c', 'prompt: "unclosed'),
    });
    expect(lines).toEqual([
      'bearing/config.yaml:2:16: run.concurrency: expected at least 1, got -1',
      'bearing/tasks/a.yaml:1:1: prompt: missing: task "a" runs on claude and needs a prompt: (what the agent must do)',
      'bearing/tasks/a.yaml:2:1: promt: unknown key "promt" (did you mean "prompt"?)',
      'bearing/tasks/b.yaml:3:14: depends_on: unknown task "nope"',
      'bearing/tasks/b.yaml:4:10: retries: expected 0 or more, got -1',
      'bearing/tasks/sub/c.yaml:3:1: yaml: Missing closing "quote',
    ]);
  });
});

describe('a tab in indentation', () => {
  it('is reported as the cause instead of the parser errors it sets off', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml(
          'tasks:',
          '  - id: a',
          '    prompt: |',
          '\t  Add auth',
          '  - id: b',
          '    prompt: x',
        ),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:4:1: yaml: tabs are not allowed as indentation in YAML; indent with spaces',
    ]);
  });

  it('is left alone inside a block scalar that parses', async () => {
    const p = await plan({
      [`${T}/a.yaml`]: yaml(
        'id: a',
        'prompt: |',
        '  Keep this Makefile rule:',
        '  all:',
        '  \techo hi',
      ),
    });
    expect(p.tasks[0]?.prompt).toBe('Keep this Makefile rule:\nall:\n\techo hi\n');
  });
});

describe('a model from the other vendor', () => {
  it('is reported on the task that names it', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml('id: a', 'cli: codex', 'model: sonnet', 'prompt: x'),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:3:8: model: "sonnet" is a Claude model; codex takes OpenAI models (e.g. gpt-5.2-codex), or leave model unset for its default',
    ]);
  });

  it('is reported once at the defaults that hand it to a task on the other CLI', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml(
          'defaults:',
          '  model: opus',
          'tasks:',
          '  - id: a',
          '    prompt: x',
          '  - id: b',
          '    cli: codex',
          '    prompt: y',
        ),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:2:10: defaults.model: "opus" is a Claude model; codex takes OpenAI models (e.g. gpt-5.2-codex), or leave model unset for its default — it reaches task "b", which runs on codex: set model on that task',
    ]);
  });

  it('lets each CLI keep its own models and unknown names', async () => {
    const p = await plan({
      [`${T}/a.yaml`]: yaml(
        'tasks:',
        '  - {id: a, model: claude-sonnet-5, prompt: x}',
        '  - {id: b, cli: codex, model: gpt-5.2-codex, prompt: y}',
        '  - {id: c, cli: codex, model: llama3, prompt: z}',
      ),
    });
    expect(p.tasks.map((t) => t.model)).toEqual(['claude-sonnet-5', 'gpt-5.2-codex', 'llama3']);
  });
});

describe('focus paths', () => {
  it('refuses a relative path that leaves the project, at the entry', async () => {
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml('id: a', 'prompt: x', 'focus: [src/a.js, ../../etc/passwd]'),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:3:19: focus: "../../etc/passwd" is outside the project; focus paths are relative to the project root',
    ]);
    expect(
      await problems({
        [`${T}/a.yaml`]: yaml('tasks:', '  - id: a', '    prompt: x', '    focus: [src/../..]'),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:4:13: tasks[0].focus: "src/../.." is outside the project; focus paths are relative to the project root',
    ]);
  });

  it('refuses an absolute path elsewhere, wherever focus is written', async () => {
    expect(
      await problems({
        [CONFIG]: yaml('defaults:', '  focus: [/etc/passwd]'),
        [`${T}/a.yaml`]: yaml(
          'defaults:',
          '  focus:',
          '    - /tmp',
          'tasks:',
          '  - id: a',
          '    prompt: x',
        ),
      }),
    ).toEqual([
      'bearing/config.yaml:2:11: defaults.focus: "/etc/passwd" is outside the project; focus paths are relative to the project root',
      'bearing/tasks/a.yaml:3:7: defaults.focus: "/tmp" is outside the project; focus paths are relative to the project root',
    ]);
  });

  it('accepts paths inside the project, and makes absolute ones relative to its root', async () => {
    // The task file names the fixture's own absolute paths, so it is written once the fixture exists.
    const fx = await fixtures.create({ [`${T}/.keep`]: '' });
    await fx.write({
      [`${T}/a.yaml`]: yaml(
        'id: a',
        'prompt: x',
        `focus: [src/a.js, ./docs/, "${fx.path('lib/b.js')}", "${fx.dir}", a/../b]`,
      ),
    });
    const loaded = await loadProject(fx.dir, { displayBase: fx.dir });
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.plan?.tasks[0]?.focus).toEqual([
      'src/a.js',
      './docs/',
      'lib/b.js',
      '.',
      'a/../b',
    ]);
  });
});

describe('run.notify', () => {
  it('reports a placeholder it would not fill in, with a did-you-mean; takes the known ones', async () => {
    expect(
      await problems({
        [CONFIG]: yaml(
          'run:',
          '  notify: [notify-send, "bearing {evnt}", "{message} in {project}"]',
        ),
        [`${T}/a.yaml`]: yaml('id: a', 'prompt: x'),
      }),
    ).toEqual([
      'bearing/config.yaml:2:25: run.notify[1]: unknown placeholder {evnt}; run.notify takes {event}, {task}, {message}, {project} (did you mean "event"?)',
    ]);
    const valid = await plan({
      [CONFIG]: yaml('run:', '  notify: [notify-send, "{event} {task}", "{message}"]'),
      [`${T}/a.yaml`]: yaml('id: a', 'prompt: x'),
    });
    expect(valid.run.notify).toEqual(['notify-send', '{event} {task}', '{message}']);
  });

  it('must be a non-empty list of arguments', async () => {
    const got = await problems({
      [CONFIG]: yaml('run:', '  notify: "notify-send done"'),
      [`${T}/a.yaml`]: yaml('id: a', 'prompt: x'),
    });
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^bearing\/config\.yaml:2:11: run\.notify: /);
  });
});
