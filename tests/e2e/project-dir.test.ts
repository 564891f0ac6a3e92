/**
 * Which project a command works on, through the built bin: every command
 * finds bearing/ from a subfolder, as git finds its repository, and stops at
 * the root of the git repository; without a project, a one-line error that
 * names `bearing init` (exit 2). Reading commands create nothing, with a
 * project or without one; start and init judge "initialised" by config.yaml
 * and tasks/, not by bearing/ existing.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectNoStackTrace } from '../cli/support.js';
import { Project, taskYaml, useRig } from './rig.js';

useRig();

const HELLO = taskYaml({ id: 'hello', cli: 'shell', run: 'echo hello from the task' });

/** A project with one shell task, `src/` (holding a source folder called bearing/) and `src/deep/`. */
function withProject(options: { git?: boolean } = {}): Promise<Project> {
  return Project.create(
    {
      'bearing/config.yaml': '# config\n',
      'bearing/tasks/hello.yaml': HELLO,
      'src/bearing/index.ts': 'export {};\n',
      'src/deep/app.ts': 'export {};\n',
    },
    options,
  );
}

/** Every path under `dir` with a hash of its contents (or `dir`), except `.git`. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name === '.git') continue;
      const path = join(d, entry.name);
      const rel = relative(dir, path);
      if (entry.isDirectory()) {
        out.push(`${rel}/`);
        walk(path);
      } else {
        out.push(`${rel} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

/** Paths above the cwd are shown absolute, as in every other message. */
const noProject = (cwdShown: string, topShown: string, command: string): string =>
  `bearing ${command}: no Bearing project: no bearing/ in ${cwdShown === topShown ? cwdShown : `${cwdShown} or any folder above it up to ${topShown}`} (the root of its git repository). Run \`bearing init\` in the project's root folder to create one.\n`;

describe('every command finds bearing/ from a subfolder', () => {
  it('validate, run, status, summary, prompt, log, retry and approve', async () => {
    const p = await withProject();
    const cwd = p.path('src');
    const validate = await p.run(['validate'], { cwd });
    expect(validate.stderr).toBe('');
    expect(validate.stdout).toContain('1 task in 1 file, valid.');
    expect(validate.code).toBe(0);

    const run = await p.run(['run'], { cwd: p.path('src', 'deep') });
    expect(run.code).toBe(0);
    expect(p.task('hello').status).toBe('completed');
    expect(existsSync(p.path('src', 'deep', 'bearing'))).toBe(false);
    expect(existsSync(p.path('src', 'bearing', '.state'))).toBe(false);

    const summary = await p.run(['summary'], { cwd });
    expect(summary.stderr).toBe('');
    expect(summary.stdout.split('\n')[0]).toBe('Bearing: 1/1 completed');
    expect(summary.code).toBe(0);

    const status = await p.run(['status', '--json'], { cwd });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).tasks.map((t: { id: string }) => t.id)).toEqual(['hello']);

    const prompt = await p.run(['prompt', 'hello'], { cwd });
    expect(prompt.stdout).toContain('hello is a shell task');
    expect(prompt.code).toBe(0);

    const log = await p.run(['log', 'hello'], { cwd });
    expect(log.stderr).toContain(`# hello, attempt 1 of 1: ${p.path('bearing')}`);
    expect(log.code).toBe(0);

    // approve: the task is completed, so it is refused for that reason, not for a missing project.
    const approve = await p.run(['approve', 'hello'], { cwd });
    expect(approve.stderr).not.toContain('no Bearing project');
    expect(approve.stderr).toContain('hello');

    const retry = await p.run(['retry', 'hello'], { cwd });
    expect(retry.stderr).toBe('');
    expect(retry.code).toBe(0);
    expect(p.task('hello').status).toBe('queued');
  });

  it('[dir] is looked up the same way: a folder inside the project finds it', async () => {
    const p = await withProject();
    const r = await p.run(['validate', 'src/deep']);
    expect(r.stdout).toContain('1 task in 1 file, valid.');
    expect(r.code).toBe(0);
    // A mistyped folder does not fall through to the project around it.
    const typo = await p.run(['summary', 'srcc']);
    expect(typo.stderr).toBe('bearing summary: srcc is not a folder\n');
    expect(typo.code).toBe(2);
  });

  it('watch follows the run of the project it is in', async () => {
    const p = await withProject();
    const watch = p.start(['watch'], { cwd: p.path('src', 'deep') });
    await watch.waitForOutput(/no run is active; waiting/);
    expect((await p.run(['run'])).code).toBe(0);
    const watched = await watch.done;
    expect(watched.stdout).toMatch(/hello: .* -> completed/);
    expect(watched.stdout).toMatch(/run ended/);
    expect(watched.code).toBe(0);
  });

  it('init in a subfolder names the project it is in and nests no second one', async () => {
    const p = await withProject();
    const before = snapshot(p.dir);
    const r = await p.run(['init', '--no-start'], { cwd: p.path('src', 'deep') });
    expectNoStackTrace(r);
    expect(r.stdout).toBe(
      `${p.dir} is already a Bearing project (its bearing/ is set up); nothing changed. Every bearing command finds it from here.\n`,
    );
    expect(r.code).toBe(0);
    const json = await p.run(['init', '--json'], { cwd: p.path('src', 'deep') });
    expect(JSON.parse(json.stdout)).toEqual({ root: p.dir, created: [], updated: [], kept: [] });
    expect(snapshot(p.dir)).toEqual(before);
  });

  it('start in a subfolder opens the planner in the project it is in', async () => {
    const p = await withProject();
    const before = snapshot(p.dir);
    const r = await p.run(['start', '--cli', 'claude', '--model', 'opus'], {
      cwd: p.path('src', 'deep'),
    });
    expect(r.stderr.split('\n')[0]).toBe(
      `Starting the planner: claude (opus) in ${p.dir}. End the session to return.`,
    );
    // The resume advice names the project it found, not the subfolder.
    expect(r.stderr).toMatch(
      /bearing\.js start \S+ --cli claude --model opus --resume [0-9a-f-]{36}\n$/,
    );
    expect(r.stderr).toContain(` start ${p.dir} --cli claude`);
    expect(r.code).toBe(0);
    expect(p.calls().map((c) => c.cwd)).toEqual([p.dir]);
    expect(snapshot(p.dir)).toEqual(before);
  });
});

describe('the search stops at the root of the git repository', () => {
  it('a repository (.git a file, as in a worktree) inside a project is a project of its own', async () => {
    const p = await withProject({ git: false });
    p.write('inner/.git', 'gitdir: /nowhere/.git/worktrees/inner\n');
    p.write('inner/sub/file.txt', 'x\n');
    const r = await p.run(['summary'], { cwd: p.path('inner', 'sub') });
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(noProject('.', p.path('inner'), 'summary'));
    expect(r.code).toBe(2);
  });

  it('a project above the repository (.git a folder) is not found', async () => {
    const p = await withProject({ git: false });
    p.write('inner/sub/file.txt', 'x\n');
    execFileSync('git', ['init', '-q'], { cwd: p.path('inner') });
    const r = await p.run(['validate'], { cwd: p.path('inner', 'sub') });
    expect(r.stderr).toBe(noProject('.', p.path('inner'), 'validate'));
    expect(r.code).toBe(2);
  });
});

describe('no project: a one-line error naming `bearing init`, exit 2', () => {
  const COMMANDS: string[][] = [
    ['validate'],
    ['run'],
    ['status'],
    ['summary'],
    ['watch'],
    ['prompt', 'hello'],
    ['log', 'hello'],
    ['diff', 'hello'],
    ['approve', 'hello'],
    ['retry', 'hello'],
  ];
  for (const args of COMMANDS) {
    it(`bearing ${args.join(' ')}, from the repository's root and from a subfolder`, async () => {
      const p = await Project.create({ 'src/app.ts': 'export {};\n', 'README.md': '# app\n' });
      const before = snapshot(p.dir);
      const atRoot = await p.run(args, { timeoutMs: 15_000 });
      expect(atRoot.stdout).toBe('');
      expect(atRoot.stderr).toBe(noProject('.', '.', args[0]!));
      expect(atRoot.code).toBe(2);
      const inSrc = await p.run(args, { cwd: p.path('src'), timeoutMs: 15_000 });
      expect(inSrc.stderr).toBe(noProject('.', p.dir, args[0]!));
      expect(inSrc.code).toBe(2);
      expect(snapshot(p.dir)).toEqual(before);
    });
  }
});

describe('reading commands leave the tree byte for byte as it was', () => {
  const READERS: string[][] = [
    ['status'],
    ['status', '--json'],
    ['summary'],
    ['validate'],
    ['validate', '--json'],
    ['prompt', 'hello'],
    ['log', 'hello'],
    ['diff', 'hello'],
  ];
  it('in a project that has never run (no bearing/.state/, as in a fresh clone)', async () => {
    const p = await withProject();
    const before = snapshot(p.dir);
    expect(before.some((l) => l.startsWith('bearing/.state'))).toBe(false);
    for (const args of READERS) {
      await p.run(args);
      await p.run(args, { cwd: p.path('src') });
      expect(snapshot(p.dir), `bearing ${args.join(' ')}`).toEqual(before);
    }
    // watch waits for a run; it must wait without creating bearing/.state/.
    const watch = p.start(['watch'], { cwd: p.path('src') });
    await watch.waitForOutput(/no run is active; waiting/);
    expect(snapshot(p.dir)).toEqual(before);
    watch.child.kill('SIGINT');
    expect((await watch.done).code).toBe(130);
    expect(snapshot(p.dir)).toEqual(before);
    // Seventeen processes one after the other: on a loaded machine a second each.
  }, 90_000);

  it('in a project after a run', async () => {
    const p = await withProject();
    expect((await p.run(['run'])).code).toBe(0);
    const before = snapshot(p.dir);
    for (const args of READERS) {
      await p.run(args, { cwd: p.path('src') });
      expect(snapshot(p.dir), `bearing ${args.join(' ')}`).toEqual(before);
    }
  }, 90_000);
});

describe('start and init judge "initialised" by config.yaml and tasks/', () => {
  it('a bearing/ holding only .state/ (left by an older watch) gets config, example and .gitignore', async () => {
    const p = await Project.create({ 'bearing/.state': { dir: true } });
    const r = await p.run(['start', '--cli', 'claude', '--model', 'opus']);
    expect(r.stderr.split('\n')[0]).toBe(
      `Initialised bearing/ in ${p.dir}: bearing/config.yaml, bearing/.gitignore, bearing/plan.md, bearing/tasks/example.yaml, bearing/.schema/task-file.schema.json, bearing/.schema/config.schema.json`,
    );
    expect(r.code).toBe(0);
    for (const f of ['config.yaml', '.gitignore', 'plan.md', 'tasks/example.yaml']) {
      expect(existsSync(p.path('bearing', f)), f).toBe(true);
    }
  });

  it('init there creates them too', async () => {
    const p = await Project.create({ 'bearing/.state': { dir: true } });
    const r = await p.run(['init', '--no-start']);
    expect(r.stdout.split('\n')[0]).toBe(`Initialised bearing/ in ${p.dir}`);
    expect(r.code).toBe(0);
    expect(existsSync(p.path('bearing', 'tasks', 'example.yaml'))).toBe(true);
  });

  it('start and init in a repository without a project create it where they are asked to', async () => {
    const p = await Project.create({ 'src/app.ts': 'export {};\n' });
    const r = await p.run(['init', '--no-start'], { cwd: p.path('src') });
    expect(r.stdout.split('\n')[0]).toBe(`Initialised bearing/ in ${p.path('src')}`);
    expect(existsSync(p.path('src', 'bearing', 'config.yaml'))).toBe(true);
  });
});
