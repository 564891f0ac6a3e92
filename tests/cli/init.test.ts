/**
 * `bearing init [dir]` against the built bin: the layout it creates, that the
 * result validates and matches the shipped JSON Schema, that it never
 * overwrites a file, and its errors.
 */
import {
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadProject } from '../../src/tasks/load.js';
import { checkJsonSchema } from './json-schema-check.js';
import { bearing, expectNoStackTrace, lines, ROOT, useCli, yaml } from './support.js';

const { project, run } = useCli();

const SHIPPED_TASK_SCHEMA = join(ROOT, 'schema', 'task-file.schema.json');
const SHIPPED_CONFIG_SCHEMA = join(ROOT, 'schema', 'config.schema.json');

const NEXT = [
  '',
  'Next: write tasks in bearing/tasks/ (see the example), then:',
  '  bearing validate   check them',
  '  bearing run        run them; results go to bearing/status.md',
];

/** Every file under `dir` with its bytes and modification time, to prove nothing changed. */
function snapshot(dir: string): Record<string, { bytes: string; mtimeMs: number }> {
  const out: Record<string, { bytes: string; mtimeMs: number }> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out[p] = { bytes: readFileSync(p, 'base64'), mtimeMs: statSync(p).mtimeMs };
    }
  };
  walk(dir);
  return out;
}

/** The `$schema=` of a file's `# yaml-language-server:` first line, resolved as an editor does. */
function modelineSchema(file: string): string {
  const first = readFileSync(file, 'utf8').split('\n')[0]!;
  const match = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
  expect(match, `first line of ${file}: ${first}`).not.toBeNull();
  return resolve(dirname(file), match![1]!);
}

describe('bearing init', () => {
  it('creates config.yaml, an example task, plan.md and a .gitignore for .state/', async () => {
    const fx = await project();
    const root = realpathSync(fx.dir);
    const result = await run(fx, 'init');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      lines(
        `Initialised bearing/ in ${root}`,
        '  created bearing/config.yaml',
        '  created bearing/.gitignore',
        '  created bearing/plan.md',
        '  created bearing/tasks/example.yaml',
        '  created bearing/.schema/task-file.schema.json',
        '  created bearing/.schema/config.schema.json',
        ...NEXT,
      ),
    );
    expect(result.code).toBe(0);
    expect(readFileSync(fx.path('bearing/.gitignore'), 'utf8').split('\n')).toContain('.state/');
    expect(readFileSync(fx.path('bearing/plan.md'), 'utf8')).toMatch(/^# Plan\n/);
    expect(statSync(fx.path('bearing/.state')).isDirectory()).toBe(true);

    // The schema each file names is the project's copy of the shipped one.
    const taskSchema = modelineSchema(fx.path('bearing/tasks/example.yaml'));
    expect(taskSchema).toBe(resolve(fx.path('bearing/.schema/task-file.schema.json')));
    expect(readFileSync(taskSchema, 'utf8')).toBe(readFileSync(SHIPPED_TASK_SCHEMA, 'utf8'));
    const configSchema = modelineSchema(fx.path('bearing/config.yaml'));
    expect(configSchema).toBe(resolve(fx.path('bearing/.schema/config.schema.json')));
    expect(readFileSync(configSchema, 'utf8')).toBe(readFileSync(SHIPPED_CONFIG_SCHEMA, 'utf8'));
  });

  it('writes $schema lines that still resolve in a copy of the project on another machine', async () => {
    // Bearing runs from this repository, outside the project: a global install.
    const fx = await project();
    expect((await run(fx, 'init')).code).toBe(0);
    expect(readFileSync(fx.path('bearing/tasks/example.yaml'), 'utf8').split('\n')[0]).toBe(
      '# yaml-language-server: $schema=../.schema/task-file.schema.json',
    );
    expect(readFileSync(fx.path('bearing/config.yaml'), 'utf8').split('\n')[0]).toBe(
      '# yaml-language-server: $schema=.schema/config.schema.json',
    );
    // A clone elsewhere: the pointers lead into the clone, to the same schemas.
    const clone = join((await project()).dir, 'clone');
    cpSync(fx.dir, clone, { recursive: true });
    const cloned = (rel: string) => readFileSync(modelineSchema(join(clone, rel)), 'utf8');
    expect(cloned('bearing/tasks/example.yaml')).toBe(readFileSync(SHIPPED_TASK_SCHEMA, 'utf8'));
    expect(cloned('bearing/config.yaml')).toBe(readFileSync(SHIPPED_CONFIG_SCHEMA, 'utf8'));
  });

  it('brings an out-of-date schema copy up to date, and keeps every other file', async () => {
    const fx = await project();
    const root = realpathSync(fx.dir);
    await run(fx, 'init');
    const old = '{"title": "from an older Bearing"}\n';
    writeFileSync(fx.path('bearing/.schema/task-file.schema.json'), old);
    const result = await run(fx, 'init');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      lines(
        `bearing/ already set up in ${root}; brought its schema copy up to date.`,
        '  updated bearing/.schema/task-file.schema.json',
        '  kept    bearing/config.yaml',
        '  kept    bearing/.gitignore',
        '  kept    bearing/plan.md',
        '  kept    bearing/.schema/config.schema.json',
        ...NEXT,
      ),
    );
    expect(result.code).toBe(0);
    expect(readFileSync(fx.path('bearing/.schema/task-file.schema.json'), 'utf8')).toBe(
      readFileSync(SHIPPED_TASK_SCHEMA, 'utf8'),
    );
  });

  it('creates a project that passes `bearing validate`', async () => {
    const fx = await project();
    expect((await run(fx, 'init')).code).toBe(0);
    const result = await run(fx, 'validate');
    expect(result).toMatchObject({
      code: 0,
      stderr: '',
      stdout: lines(
        '2 tasks in 1 file, valid. In dependency order:',
        '  hello        Say hello           claude',
        '  check-hello  Check the greeting  shell   <- hello',
      ),
    });
  });

  it('caps every agent attempt by default, in config.yaml where the user sees it', async () => {
    const fx = await project();
    expect((await run(fx, 'init')).code).toBe(0);
    const config = readFileSync(fx.path('bearing/config.yaml'), 'utf8');
    expect(parse(config).defaults).toEqual({ budget_usd: 5, max_turns: 100 });
    // Every task has them (claude passes them on as --max-budget-usd, --max-turns).
    const { plan } = await loadProject(fx.path());
    expect(plan!.tasks.map((t) => [t.id, t.budgetUsd, t.maxTurns])).toEqual([
      ['hello', 5, 100],
      ['check-hello', 5, 100],
    ]);
  });

  it('writes an example task file that the shipped JSON Schema accepts', async () => {
    const fx = await project();
    await run(fx, 'init');
    const schema = JSON.parse(readFileSync(SHIPPED_TASK_SCHEMA, 'utf8'));
    const example = parse(readFileSync(fx.path('bearing/tasks/example.yaml'), 'utf8'));
    expect(checkJsonSchema(schema, example)).toEqual([]);
    // The check has teeth: the mistakes an editor flags are flagged here too.
    const broken = structuredClone(example);
    broken.tasks[0].dependson = ['x'];
    broken.tasks[1].checkpoint = 'paus';
    broken.defaults.retries = 1.5;
    expect(checkJsonSchema(schema, broken)).toEqual([
      expect.stringMatching(/^: matches no anyOf branch/),
    ]);
    const multi = { ...schema.anyOf[1], $defs: schema.$defs };
    expect(checkJsonSchema(multi, broken)).toEqual([
      'defaults.retries: expected integer, got number',
      'tasks[0].dependson: key not allowed by the schema',
      'tasks[1].checkpoint: "paus" is not one of ["auto","notify","pause"]',
    ]);
  });

  it('`bearing validate` says when the schema copy is out of date, and changes nothing', async () => {
    const fx = await project();
    await run(fx, 'init');
    const current = await run(fx, 'validate');
    expect(current.stderr).toBe('');
    expect(current.code).toBe(0);

    writeFileSync(fx.path('bearing/.schema/config.schema.json'), '{}\n');
    const before = snapshot(fx.dir);
    const stale = await run(fx, 'validate');
    expect(stale.stdout).toBe(current.stdout);
    expect(stale.stderr).toBe(
      lines(
        'note: bearing/.schema/config.schema.json is not the schema of this Bearing (0.1.0), so editors check against another one; `bearing init` updates it',
      ),
    );
    expect(stale.code).toBe(0);
    const json = JSON.parse((await run(fx, 'validate', '--json')).stdout);
    expect(json.notes).toEqual([
      'bearing/.schema/config.schema.json is not the schema of this Bearing (0.1.0), so editors check against another one; `bearing init` updates it',
    ]);
    // From another folder: the path as seen from there, and an init that reaches the project.
    const parent = dirname(fx.dir);
    const name = basename(fx.dir);
    const away = await bearing(['validate', name], { cwd: parent });
    expect(away.stderr).toBe(
      lines(
        `note: ${name}/bearing/.schema/config.schema.json is not the schema of this Bearing (0.1.0), so editors check against another one; \`bearing init ${name}\` updates it`,
      ),
    );
    expect(snapshot(fx.dir)).toEqual(before);

    // From a subfolder: `bearing init` there would change nothing, so the note names the root.
    mkdirSync(fx.path('src'));
    const below = await bearing(['validate'], { cwd: fx.path('src') });
    expect(below.stderr).toBe(
      lines(
        'note: ../bearing/.schema/config.schema.json is not the schema of this Bearing (0.1.0), so editors check against another one; `bearing init ..` updates it',
      ),
    );
    expect((await bearing(['init', '..'], { cwd: fx.path('src') })).code).toBe(0);
    expect((await bearing(['validate'], { cwd: fx.path('src') })).stderr).toBe('');
  });

  it('creates the project folder named on the command line', async () => {
    const fx = await project();
    const root = join(realpathSync(fx.dir), 'apps', 'web');
    const result = await run(fx, 'init', 'apps/web');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')[0]).toBe(`Initialised bearing/ in ${root}`);
    expect(result.code).toBe(0);
    expect(readdirSync(join(root, 'bearing', 'tasks'))).toEqual(['example.yaml']);
    const validated = await run(fx, 'validate', 'apps/web');
    expect(validated.code).toBe(0);
    expect(validated.stdout.split('\n')[0]).toBe('2 tasks in 1 file, valid. In dependency order:');
  });

  it('changes nothing when run twice, and says so', async () => {
    const fx = await project();
    const root = realpathSync(fx.dir);
    await run(fx, 'init');
    const before = snapshot(fx.dir);
    const result = await run(fx, 'init');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      lines(
        `bearing/ already set up in ${root}; nothing changed.`,
        '  kept    bearing/config.yaml',
        '  kept    bearing/.gitignore',
        '  kept    bearing/plan.md',
        '  kept    bearing/.schema/task-file.schema.json',
        '  kept    bearing/.schema/config.schema.json',
        ...NEXT,
      ),
    );
    expect(result.code).toBe(0);
    expect(snapshot(fx.dir)).toEqual(before);
  });

  it('never overwrites an existing file, byte for byte', async () => {
    const config = '# mine\r\nrun:\n  concurrency: 2\n';
    const plan = Buffer.from([
      0xef,
      0xbb,
      0xbf,
      ...Buffer.from('# My plan\n\nno trailing newline'),
    ]);
    const fx = await project({ 'bearing/config.yaml': config, 'bearing/plan.md': plan });
    const root = realpathSync(fx.dir);
    const result = await run(fx, 'init');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      lines(
        `Initialised bearing/ in ${root}`,
        '  created bearing/.gitignore',
        '  created bearing/tasks/example.yaml',
        '  created bearing/.schema/task-file.schema.json',
        '  created bearing/.schema/config.schema.json',
        '  kept    bearing/config.yaml',
        '  kept    bearing/plan.md',
        ...NEXT,
      ),
    );
    expect(result.code).toBe(0);
    expect(readFileSync(fx.path('bearing/config.yaml'), 'utf8')).toBe(config);
    expect(readFileSync(fx.path('bearing/plan.md'))).toEqual(plan);
  });

  it('adds no example to a project that already has tasks', async () => {
    const task = yaml('id: mine', 'prompt: do it');
    const fx = await project({ 'bearing/tasks/area/mine.yml': task });
    const result = await run(fx, 'init');
    expect(result.stdout.split('\n').slice(1, 4)).toEqual([
      '  created bearing/config.yaml',
      '  created bearing/.gitignore',
      '  created bearing/plan.md',
    ]);
    expect(result.code).toBe(0);
    expect(readdirSync(fx.path('bearing/tasks'))).toEqual(['area']);
    expect(readFileSync(fx.path('bearing/tasks/area/mine.yml'), 'utf8')).toBe(task);
  });

  it('prints what it did as JSON with --json', async () => {
    const fx = await project({ 'bearing/plan.md': 'mine\n' });
    const result = await run(fx, 'init', '--json');
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      root: realpathSync(fx.dir),
      created: [
        'bearing/config.yaml',
        'bearing/.gitignore',
        'bearing/tasks/example.yaml',
        'bearing/.schema/task-file.schema.json',
        'bearing/.schema/config.schema.json',
      ],
      updated: [],
      kept: ['bearing/plan.md'],
    });
    expect(result.code).toBe(0);
  });

  it.each([
    ['the project path', 'notes.txt', 'notes.txt'],
    ['a parent of the project path', 'notes.txt/app', 'notes.txt'],
    ['bearing/', 'proj', 'proj/bearing'],
    ['bearing/tasks/', 'other', 'other/bearing/tasks'],
  ])('refuses in one line, exit 1, when %s is a file', async (_, arg, blocker) => {
    const fx = await project({
      'notes.txt': 'keep me\n',
      'proj/bearing': 'a file\n',
      'other/bearing/tasks': 'a file\n',
    });
    const root = realpathSync(fx.dir);
    const before = snapshot(fx.dir);
    const result = await run(fx, 'init', arg);
    expectNoStackTrace(result);
    expect(result).toMatchObject({
      code: 1,
      stdout: '',
      stderr: lines(
        `bearing init: cannot create bearing/ in ${join(root, arg)}: ${join(root, blocker)} is a file, not a folder`,
      ),
    });
    expect(snapshot(fx.dir)).toEqual(before);
  });

  it('points $schema at the project schema copy in a local install too', async () => {
    // A copy of the package laid out as `npm install bearing` does.
    const fx = await project({ 'package.json': '{"name":"app","private":true}\n' });
    const pkg = fx.path('node_modules/bearing');
    mkdirSync(pkg, { recursive: true });
    for (const part of ['bin', 'dist', 'schema', 'package.json'])
      cpSync(join(ROOT, part), join(pkg, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const result = await bearing(['init'], { cwd: fx.dir, bin: join(pkg, 'bin', 'bearing.js') });
    expect(result.code).toBe(0);
    const example = fx.path('bearing/tasks/example.yaml');
    expect(readFileSync(example, 'utf8').split('\n')[0]).toBe(
      '# yaml-language-server: $schema=../.schema/task-file.schema.json',
    );
    expect(readFileSync(fx.path('bearing/config.yaml'), 'utf8').split('\n')[0]).toBe(
      '# yaml-language-server: $schema=.schema/config.schema.json',
    );
    expect(readFileSync(modelineSchema(example), 'utf8')).toBe(
      readFileSync(SHIPPED_TASK_SCHEMA, 'utf8'),
    );
  });
});
