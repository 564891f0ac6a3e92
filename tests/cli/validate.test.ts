/**
 * `bearing validate [dir]` against the built bin: the graph on success, the
 * JSON shape, and for each class of mistake the exact `file:line:col: field:
 * message` a user sees on stderr, exit code 2, and never a stack trace.
 */
import { describe, expect, it } from 'vitest';
import type { FixtureFiles } from '../helpers/fixtures.js';
import { type BearingResult, expectNoStackTrace, lines, useCli, yaml } from './support.js';

const { project, run } = useCli();

const T = 'bearing/tasks';
const CONFIG = 'bearing/config.yaml';

/** A valid project whose declaration order differs from its dependency order. */
const GRAPH: FixtureFiles = {
  [CONFIG]: yaml('defaults:', '  model: sonnet'),
  [`${T}/00-api.yaml`]: yaml(
    'tasks:',
    '  - id: api-routes',
    '    name: REST routes',
    '    depends_on: [db-schema]',
    '    prompt: Add the routes.',
    '  - id: docs',
    '    cli: codex',
    '    model: gpt-5.2-codex',
    '    prompt: Write the docs.',
  ),
  [`${T}/10-db.yaml`]: yaml('id: db-schema', 'name: SQLite schema', 'prompt: Create the schema.'),
  [`${T}/ui/app.yaml`]: yaml(
    'id: frontend',
    'model: opus',
    'depends_on: [api-routes, docs]',
    'prompt: Build the UI.',
  ),
  [`${T}/zz-lint.yaml`]: yaml(
    'id: lint',
    'cli: shell',
    'run: npm run lint',
    'depends_on: [frontend]',
  ),
};

/** Exit 2, nothing on stdout, exactly these lines and the count line on stderr, no stack trace. */
function expectProblems(result: BearingResult, problems: string[], count: string): void {
  expectNoStackTrace(result);
  expect(result.stdout).toBe('');
  expect(result.stderr).toBe(lines(...problems, '', `${count}.`));
  expect(result.code).toBe(2);
}

async function validate(files: FixtureFiles): Promise<BearingResult> {
  return run(await project(files), 'validate');
}

describe('bearing validate on a valid project', () => {
  it('prints the task graph in dependency order', async () => {
    const result = await validate(GRAPH);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      lines(
        '5 tasks in 4 files, valid. In dependency order:',
        '  docs                       codex gpt-5.2-codex',
        '  db-schema   SQLite schema  claude sonnet',
        '  api-routes  REST routes    claude sonnet        <- db-schema',
        '  frontend                   claude opus          <- api-routes, docs',
        '  lint                       shell                <- frontend',
      ),
    );
    expect(result.code).toBe(0);
  });

  it('takes the project folder as an argument and counts one task in one file', async () => {
    const fx = await project({ [`app/${T}/only.yaml`]: yaml('id: only', 'prompt: x') });
    const result = await run(fx, 'validate', 'app');
    expect(result).toMatchObject({
      code: 0,
      stderr: '',
      stdout: lines('1 task in 1 file, valid. In dependency order:', '  only  claude'),
    });
  });

  it('prints the graph as JSON with --json', async () => {
    const json = await run(await project(GRAPH), 'validate', '--json');
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    expect(json.stdout.endsWith('}\n')).toBe(true);
    const task = (
      id: string,
      name: string,
      cli: string,
      model: string | null,
      deps: string[],
      file: string,
      line: number,
    ) => ({ id, name, cli, model, depends_on: deps, file: `${T}/${file}`, line });
    expect(JSON.parse(json.stdout)).toEqual({
      valid: true,
      files: [`${T}/00-api.yaml`, `${T}/10-db.yaml`, `${T}/ui/app.yaml`, `${T}/zz-lint.yaml`],
      tasks: [
        task('docs', 'docs', 'codex', 'gpt-5.2-codex', [], '00-api.yaml', 6),
        task('db-schema', 'SQLite schema', 'claude', 'sonnet', [], '10-db.yaml', 1),
        task('api-routes', 'REST routes', 'claude', 'sonnet', ['db-schema'], '00-api.yaml', 2),
        task('frontend', 'frontend', 'claude', 'opus', ['api-routes', 'docs'], 'ui/app.yaml', 1),
        task('lint', 'lint', 'shell', null, ['frontend'], 'zz-lint.yaml', 1),
      ],
      diagnostics: [],
      notes: [],
    });
  });

  it('reports problems in --json without writing to stderr, exit 2', async () => {
    const fx = await project({ [`${T}/a.yaml`]: yaml('id: a', 'promt: x') });
    const result = await run(fx, 'validate', '--json');
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      valid: false,
      files: [`${T}/a.yaml`],
      tasks: [],
      diagnostics: [
        {
          file: `${T}/a.yaml`,
          line: 1,
          col: 1,
          field: 'prompt',
          message: 'missing: task "a" runs on claude and needs a prompt: (what the agent must do)',
        },
        {
          file: `${T}/a.yaml`,
          line: 2,
          col: 1,
          field: 'promt',
          message: 'unknown key "promt" (did you mean "prompt"?)',
        },
      ],
      notes: [],
    });
    expect(result.code).toBe(2);
  });
});

describe('bearing validate reports each mistake at its place, exit 2', () => {
  const A = `${T}/a.yaml`;

  it('YAML syntax', async () => {
    expectProblems(
      await validate({ [A]: yaml('id: a', 'prompt: "never closed', 'cli: claude') }),
      ['bearing/tasks/a.yaml:4:1: yaml: Missing closing "quote'],
      '1 problem in 1 file',
    );
  });

  it('tab indentation', async () => {
    expectProblems(
      await validate({ [A]: yaml('tasks:', '  - id: a', '\tprompt: x') }),
      [
        'bearing/tasks/a.yaml:3:1: yaml: tabs are not allowed as indentation in YAML; indent with spaces',
      ],
      '1 problem in 1 file',
    );
  });

  it('a duplicate key', async () => {
    expectProblems(
      await validate({ [A]: yaml('tasks:', '  - id: a', '    prompt: x', '    prompt: y') }),
      ['bearing/tasks/a.yaml:4:5: tasks[0].prompt: duplicate key "prompt" (first at line 3)'],
      '1 problem in 1 file',
    );
  });

  it('an unknown key, with a did-you-mean', async () => {
    expectProblems(
      await validate({
        [A]: yaml('tasks:', '  - id: b', '    prompt: x', '    dependson: [b]'),
      }),
      [
        'bearing/tasks/a.yaml:4:5: tasks[0].dependson: unknown key "dependson" (did you mean "depends_on"?)',
      ],
      '1 problem in 1 file',
    );
  });

  it('wrong types', async () => {
    expectProblems(
      await validate({ [A]: yaml('id: a', 'prompt: x', 'max_turns: "3"', 'depends_on: b') }),
      [
        'bearing/tasks/a.yaml:3:12: max_turns: expected a number, got string "3"',
        'bearing/tasks/a.yaml:4:13: depends_on: expected a list, got string "b" (write a list: [b])',
      ],
      '2 problems in 1 file',
    );
  });

  it('a value outside an enum, listing the allowed ones', async () => {
    expectProblems(
      await validate({ [A]: yaml('id: a', 'prompt: x', 'checkpoint: paus') }),
      [
        'bearing/tasks/a.yaml:3:13: checkpoint: expected one of auto, notify, pause, got "paus" (did you mean "pause"?)',
      ],
      '1 problem in 1 file',
    );
  });

  it('a bad duration', async () => {
    expectProblems(
      await validate({ [A]: yaml('id: a', 'prompt: x', 'timeout: "30 minutes"') }),
      [
        'bearing/tasks/a.yaml:3:10: timeout: expected a duration such as 90s, 30m or 1h30m (or a number of seconds), got "30 minutes"',
      ],
      '1 problem in 1 file',
    );
  });

  it('a negative budget', async () => {
    expectProblems(
      await validate({ [A]: yaml('id: a', 'prompt: x', 'budget_usd: -2.5') }),
      ['bearing/tasks/a.yaml:3:13: budget_usd: expected a number greater than 0, got -2.5'],
      '1 problem in 1 file',
    );
  });

  it('an id that is not path-safe', async () => {
    expectProblems(
      await validate({ [A]: yaml('id: ../x', 'prompt: x') }),
      [
        'bearing/tasks/a.yaml:1:5: id: expected an id of lowercase letters, digits, ".", "_" and "-" that starts with a letter or digit (ids become file names), got "../x" (try "x")',
      ],
      '1 problem in 1 file',
    );
  });

  it('a duplicate id across files, naming both places', async () => {
    expectProblems(
      await validate({
        [A]: yaml('tasks:', '  - id: setup', '    prompt: x'),
        [`${T}/b.yaml`]: yaml('id: setup', 'prompt: y'),
      }),
      [
        'bearing/tasks/b.yaml:1:5: id: duplicate id "setup": also defined at bearing/tasks/a.yaml:2:9',
      ],
      '1 problem in 1 file',
    );
  });

  it('an unknown dependency, with a did-you-mean', async () => {
    expectProblems(
      await validate({
        [A]: yaml(
          'tasks:',
          '  - id: db-schema',
          '    prompt: x',
          '  - id: api',
          '    prompt: y',
          '    depends_on: [db-shema]',
        ),
      }),
      [
        'bearing/tasks/a.yaml:6:18: tasks[1].depends_on: unknown task "db-shema" (did you mean "db-schema"?)',
      ],
      '1 problem in 1 file',
    );
  });

  it('a dependency cycle across files, with its full path', async () => {
    expectProblems(
      await validate({
        [A]: yaml('id: a', 'prompt: x', 'depends_on: [b]'),
        [`${T}/b.yaml`]: yaml('id: b', 'prompt: x', 'depends_on: [c]'),
        [`${T}/c.yaml`]: yaml('id: c', 'prompt: x', 'depends_on: [a]'),
      }),
      ['bearing/tasks/a.yaml:3:14: depends_on: dependency cycle: a -> b -> c -> a'],
      '1 problem in 1 file',
    );
  });

  it('an agent task without a prompt and a shell task without run', async () => {
    expectProblems(
      await validate({
        [A]: yaml('tasks:', '  - id: agent', '    cli: codex', '  - id: lint', '    cli: shell'),
      }),
      [
        'bearing/tasks/a.yaml:2:5: tasks[0].prompt: missing: task "agent" runs on codex and needs a prompt: (what the agent must do)',
        'bearing/tasks/a.yaml:4:5: tasks[1].run: missing: shell task "lint" needs run: (the command to run)',
      ],
      '2 problems in 1 file',
    );
  });

  it('an unknown cli, with a did-you-mean', async () => {
    expectProblems(
      await validate({ [A]: yaml('id: a', 'cli: cladue', 'prompt: x') }),
      [
        'bearing/tasks/a.yaml:2:6: cli: unknown cli "cladue" (did you mean "claude"?): expected claude, codex or shell, or a custom agent defined under agents: in bearing/config.yaml',
      ],
      '1 problem in 1 file',
    );
  });

  it('a bad config.yaml value', async () => {
    expectProblems(
      await validate({
        [CONFIG]: yaml('run:', '  concurrency: 0', '  prompt_format: json'),
        [A]: yaml('id: a', 'prompt: x'),
      }),
      [
        'bearing/config.yaml:2:16: run.concurrency: expected at least 1, got 0',
        'bearing/config.yaml:3:18: run.prompt_format: expected one of structured, prose, got "json"',
      ],
      '2 problems in 1 file',
    );
  });

  it('a binary file', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);
    expectProblems(
      await validate({ [`${T}/logo.yaml`]: png }),
      [
        'bearing/tasks/logo.yaml: not a text file (it contains NUL bytes); expected YAML text in UTF-8',
      ],
      '1 problem in 1 file',
    );
  });

  it('an alias bomb, quickly', async () => {
    let bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    let previous = 'a';
    for (const name of 'bcdefghi') {
      bomb += `${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]\n`;
      previous = name;
    }
    const result = await validate({ [A]: bomb });
    expectProblems(
      result,
      [
        'bearing/tasks/a.yaml: yaml: too many alias expansions (more than 100): refusing what looks like a "billion laughs" file',
      ],
      '1 problem in 1 file',
    );
    expect(result.ms).toBeLessThan(10_000);
  });

  it('a file over 8 MiB, quickly', async () => {
    const result = await validate({ [A]: `id: a\nprompt: ${'x'.repeat(9 * 1024 * 1024)}\n` });
    expectProblems(
      result,
      [
        'bearing/tasks/a.yaml: file is 9.0 MiB (9437199 bytes); Bearing reads files of at most 8 MiB (8388608 bytes): split it into several task files',
      ],
      '1 problem in 1 file',
    );
    expect(result.ms).toBeLessThan(10_000);
  });

  it('no bearing/ here or above: one line naming `bearing init`, exit 2', async () => {
    // Not a git repository: the search goes up to the file system's root.
    const fx = await project({ 'README.md': '# not set up\n' });
    const result = await run(fx, 'validate');
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      "bearing validate: no Bearing project: no bearing/ in . or any folder above it up to /. Run `bearing init` in the project's root folder to create one.\n",
    );
    expect(result.code).toBe(2);
    const elsewhere = await run(fx, 'validate', 'elsewhere');
    expect(elsewhere.stderr).toBe('bearing validate: elsewhere is not a folder\n');
    expect(elsewhere.code).toBe(2);
  });

  it('every mistake in every file in one run, sorted by file and position', async () => {
    const fx = await project({
      [`app/${CONFIG}`]: yaml('run:', '  concurrency: -1'),
      [`app/${T}/b.yaml`]: yaml('id: b', 'prompt: x', 'depends_on: [nope]', 'retries: -1'),
      [`app/${T}/a.yaml`]: yaml('id: a', 'promt: x'),
      [`app/${T}/sub/c.yaml`]: yaml('id: c', 'prompt: "unclosed'),
      [`app/${T}/d.yaml`]: Buffer.from([0, 1, 2, 3]),
    });
    // Run from outside the project: paths are shown from where the user is.
    expectProblems(
      await run(fx, 'validate', 'app'),
      [
        'app/bearing/config.yaml:2:16: run.concurrency: expected at least 1, got -1',
        'app/bearing/tasks/a.yaml:1:1: prompt: missing: task "a" runs on claude and needs a prompt: (what the agent must do)',
        'app/bearing/tasks/a.yaml:2:1: promt: unknown key "promt" (did you mean "prompt"?)',
        'app/bearing/tasks/b.yaml:3:14: depends_on: unknown task "nope"',
        'app/bearing/tasks/b.yaml:4:10: retries: expected 0 or more, got -1',
        'app/bearing/tasks/d.yaml: not a text file (it contains NUL bytes); expected YAML text in UTF-8',
        'app/bearing/tasks/sub/c.yaml:3:1: yaml: Missing closing "quote',
      ],
      '7 problems in 5 files',
    );
  });
});
