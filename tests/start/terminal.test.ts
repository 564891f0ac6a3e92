/**
 * `bearing start` in a pseudo-terminal (util-linux `script`; skipped where it
 * is missing): the questions are asked at a terminal, and the planner CLI gets
 * the terminal itself, stdin and stdout both, as an interactive session needs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BIN,
  type FakeCall,
  project,
  readCalls,
  runWith,
  sandbox,
  useTempDirs,
} from './support.js';

useTempDirs();

const SCRIPT = '/usr/bin/script';
const hasScript =
  existsSync(SCRIPT) && spawnSync(SCRIPT, ['--version'], { encoding: 'utf8' }).status === 0;

/** A word for `sh -c`, single-quoted. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs `bearing <args>` with a terminal on stdin, stdout and stderr, typing `keys`. */
function inTerminal(args: string[], cwd: string, env: Record<string, string>, keys: string) {
  const command = ['exec', q(process.execPath), q(BIN), ...args.map(q)].join(' ');
  // -q quiet, -e exit with the command's code, -c the command, /dev/null: no typescript file.
  return runWith(SCRIPT, ['-qec', command, '/dev/null'], {
    cwd,
    env: { ...env, SHELL: '/bin/sh', TERM: 'dumb' },
    input: keys,
  });
}

describe.skipIf(!hasScript)('bearing start at a terminal', () => {
  it('asks, then hands the terminal (stdin and stdout) to the planner CLI', async () => {
    const sb = sandbox();
    const dir = project({ 'bearing/tasks/a.yaml': 'id: a\nprompt: A\n' });
    const r = await inTerminal(['start'], dir, sb.env, '2\ngpt-6-astra\n');
    expect(r.stdout).toContain('Planner CLI: 1) claude (Claude Code)  2) codex (Codex) [claude]: ');
    expect(r.stdout).toContain("[codex's default]: ");
    expect(r.stdout).toContain(
      'fake codex: interactive session (model gpt-6-astra, stdin tty, stdout tty)',
    );
    expect(r.code).toBe(0);
    const calls = readCalls(sb.log);
    expect(calls).toHaveLength(1);
    const call = calls[0] as FakeCall;
    expect(call.argv.slice(0, 3)).toEqual(['-m', 'gpt-6-astra', '-c']);
    expect(call.stdinType).toBe('tty');
    expect(call.stdoutType).toBe('tty');
    expect(call.cwd).toBe(dir);
  });

  it('with --cli and --model nothing is asked', async () => {
    const sb = sandbox();
    const dir = project({ 'bearing/tasks/a.yaml': 'id: a\nprompt: A\n' });
    const r = await inTerminal(['start', '--cli', 'claude', '--model', 'sonnet'], dir, sb.env, '');
    expect(r.stdout).not.toContain('Planner CLI');
    expect(r.stdout).toContain(
      'fake claude: interactive session (model sonnet, stdin tty, stdout tty)',
    );
    expect(r.code).toBe(0);
  });

  it('bearing init offers the planner; yes starts it', async () => {
    const sb = sandbox();
    const dir = project();
    const r = await inTerminal(['init'], dir, sb.env, 'y\n\n\n');
    expect(r.stdout).toContain('Start a planner session now (bearing start)? [y/N] ');
    expect(r.stdout).toContain(
      'fake claude: interactive session (model opus, stdin tty, stdout tty)',
    );
    expect(r.code).toBe(0);
    const calls = readCalls(sb.log);
    expect(calls).toHaveLength(1);
    // init created bearing/ just before, so start found it there, with the
    // example, which it still calls an example.
    expect((calls[0] as FakeCall).argv.at(-1)).toContain(
      '`bearing/tasks/example.yaml` is only an example',
    );
  });

  it('bearing init: the default answer is no', async () => {
    const sb = sandbox();
    const r = await inTerminal(['init'], project(), sb.env, '\n');
    expect(r.stdout).toContain('Start a planner session now (bearing start)? [y/N] ');
    expect(r.code).toBe(0);
    expect(readCalls(sb.log)).toEqual([]);
  });

  it('bearing init --no-start and --json ask nothing', async () => {
    const sb = sandbox();
    for (const flag of ['--no-start', '--json']) {
      const r = await inTerminal(['init', flag], project(), sb.env, 'y\n');
      expect(r.stdout, flag).not.toContain('Start a planner session');
      expect(r.code, flag).toBe(0);
    }
    expect(readCalls(sb.log)).toEqual([]);
  });
});
