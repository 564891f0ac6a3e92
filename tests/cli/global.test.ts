/**
 * What every command shares, against the built bin: help, version, usage
 * errors, a closed stdout pipe, and the README's exit-code table.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_DESCRIPTIONS } from '../../src/cli/exit-codes.js';
import { expectNoStackTrace, lines, ROOT, shell, useCli, yaml } from './support.js';

const { project, run } = useCli();

/** In the order `bearing --help` lists them. */
const COMMANDS = [
  'init',
  'start',
  'validate',
  'run',
  'status',
  'summary',
  'watch',
  'ui',
  'prompt',
  'approve',
  'retry',
  'log',
  'diff',
  'worker',
];

/** The contract scripts rely on; the README documents the same table. */
const EXIT_TABLE = [
  'Exit codes:',
  '    0  success',
  '    1  the run ended with failed tasks, or the command failed',
  '    2  invalid input: task files, config.yaml or command-line usage',
  '    3  the run is paused: a task awaits `bearing approve` or review',
  '    4  another `bearing run` is working on this project',
  '    5  an agent CLI that a task needs is not installed',
  '    6  Bearing cannot read or write its files in bearing/ (disk full, permissions)',
  "    7  the run's spend cap stopped its agents, or kept tasks from starting",
  '   70  internal error in Bearing (please report it)',
  '  130  interrupted (Ctrl-C, SIGTERM or SIGHUP)',
];

/** Command names in the `Commands:` section of a help text. */
function listedCommands(help: string): string[] {
  const section = help.split('\nCommands:\n')[1]?.split('\n\n')[0] ?? '';
  return section
    .split('\n')
    .map((l) => /^ {2}(\S+)/.exec(l)?.[1])
    .filter((name): name is string => name !== undefined);
}

const USAGE_HINT = '(run with --help for usage)';

describe('bearing --help', () => {
  it('lists every command and the exit codes', async () => {
    const result = await run(await project(), '--help');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')[0]).toBe('Usage: bearing [options] [command]');
    expect(listedCommands(result.stdout)).toEqual([...COMMANDS, 'help']);
    expect(result.stdout.endsWith(`\n\n${lines(...EXIT_TABLE)}`)).toBe(true);
    expect(result.code).toBe(0);
    // `bearing help` says the same.
    expect(await run(await project(), 'help')).toMatchObject({ code: 0, stdout: result.stdout });
  });

  it.each(COMMANDS)('`bearing %s --help` shows usage and examples', async (command) => {
    const result = await run(await project(), command, '--help');
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(new RegExp(`^Usage: bearing ${command} `));
    const examples = result.stdout.split('\nExamples:\n')[1];
    expect(examples, 'an Examples section').toBeDefined();
    expect(examples).toMatch(new RegExp(`^ {2}\\$ .*\\bbearing ${command}\\b`, 'm'));
    expect(result.code).toBe(0);
  });

  it('prints help on stderr and exits 2 when no command is given', async () => {
    const fx = await project();
    const result = await run(fx);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe((await run(fx, '--help')).stdout);
    expect(result.code).toBe(2);
  });
});

describe('bearing --version', () => {
  it("prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      expect(await run(await project(), flag)).toMatchObject({
        code: 0,
        stdout: `${version}\n`,
        stderr: '',
      });
    }
  });
});

describe('usage errors exit 2 without a stack trace', () => {
  it.each([
    [['frob'], ["error: unknown command 'frob'", USAGE_HINT]],
    [['vaildate'], ["error: unknown command 'vaildate'", '(Did you mean validate?)', USAGE_HINT]],
    [['--frob'], ["error: unknown option '--frob'", USAGE_HINT]],
    [
      ['validate', '--jsn'],
      ["error: unknown option '--jsn'", '(Did you mean --json?)', USAGE_HINT],
    ],
    [
      ['validate', 'a', 'b'],
      ["error: too many arguments for 'validate'. Expected 1 argument but got 2.", USAGE_HINT],
    ],
  ])('bearing %j', async (args, stderr) => {
    const result = await run(await project(), ...args);
    expectNoStackTrace(result);
    expect(result).toMatchObject({ code: 2, stdout: '', stderr: lines(...stderr) });
  });
});

/** Linux's default pipe capacity; output beyond twice this cannot all be buffered before head exits. */
const PIPE_BUFFER = 65_536;

describe('a closed stdout pipe', () => {
  it('`bearing validate | head -1` ends quietly with exit code 0', async () => {
    // Far more output than a pipe buffers, so bearing is still writing when head exits.
    const files: Record<string, string> = {};
    for (let f = 0; f < 4; f++) {
      const tasks = Array.from({ length: 1000 }, (_, i) => [
        `  - id: t${f}-${String(i).padStart(4, '0')}`,
        `    name: ${'A task with a long name to fill the pipe quickly'} ${i}`,
        '    prompt: x',
      ]).flat();
      files[`bearing/tasks/f${f}.yaml`] = yaml('tasks:', ...tasks);
    }
    const fx = await project(files);
    const result = await shell('{ bearing validate; echo "$?" > exit-code; } | head -1', {
      cwd: fx.dir,
    });
    expectNoStackTrace(result);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(lines('4000 tasks in 4 files, valid. In dependency order:'));
    expect(result.code).toBe(0);
    expect(readFileSync(fx.path('exit-code'), 'utf8')).toBe('0\n');
    // And the output really was larger than a pipe holds.
    const full = await run(fx, 'validate');
    expect(full.stdout.length).toBeGreaterThan(2 * PIPE_BUFFER);
  });

  it('keeps exit code 2 when the reader of an invalid project goes away', async () => {
    const files: Record<string, string> = {};
    for (let f = 0; f < 1000; f++)
      files[`bearing/tasks/f${f}.yaml`] = yaml(`id: t${f}`, 'promt: x');
    const fx = await project(files);
    const result = await shell('{ bearing validate 2>&1; echo "$?" > exit-code; } | head -1', {
      cwd: fx.dir,
    });
    expectNoStackTrace(result);
    expect(result.stdout).toBe(
      lines(
        'bearing/tasks/f0.yaml:1:1: prompt: missing: task "t0" runs on claude and needs a prompt: (what the agent must do)',
      ),
    );
    expect(readFileSync(fx.path('exit-code'), 'utf8')).toBe('2\n');
    expect((await run(fx, 'validate')).stderr.length).toBeGreaterThan(2 * PIPE_BUFFER);
  });
});

const README = join(ROOT, 'README.md');

describe('README.md', () => {
  it.skipIf(!existsSync(README))(
    // Skipped while README.md does not exist yet (the lead is writing it).
    'documents exactly the exit codes and descriptions of EXIT_DESCRIPTIONS',
    () => {
      const text = readFileSync(README, 'utf8');
      const heading = /^#{1,6} .*exit codes.*$/im.exec(text);
      expect(heading, 'a README section titled "Exit codes"').not.toBeNull();
      const after = text.slice(heading!.index + heading![0].length);
      const table = /(?:^\|.*\|[ \t]*(?:\n|$))+/m.exec(after)?.[0] ?? '';
      const rows = table
        .trim()
        .split('\n')
        .map((row) =>
          row
            .trim()
            .replace(/^\||\|$/g, '')
            .split('|')
            .map((cell) => cell.trim()),
        )
        .filter((cells) => !cells.every((c) => /^:?-+:?$/.test(c)))
        .slice(1); // the header row
      const documented = rows.map(([code, meaning]) => [code?.replace(/`/g, ''), meaning]);
      expect(documented).toEqual(Object.entries(EXIT_DESCRIPTIONS));
    },
  );
});
