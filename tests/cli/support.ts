/**
 * End-to-end harness: spawns the built bin (`node bin/bearing.js`, so run
 * `npm run build` first) in a temp project with a scrubbed environment, and
 * returns exactly what a user would see (wireit `test/util/test-rig.ts`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { type Fixture, type FixtureFiles, useFixtures } from '../helpers/fixtures.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'bearing.js');

/** Ends a child that hangs, so a hang fails the test with its output instead of a vitest timeout. */
const KILL_AFTER_MS = 20_000;

export interface BearingResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

export interface RunOptions {
  /** Working directory of the child (the project, usually). */
  cwd: string;
  /** HOME for the child; defaults to `cwd`, so nothing outside the fixture is read. */
  home?: string;
  /** Another copy of the bin (an installed package); default: this checkout's. */
  bin?: string;
}

/** Nothing from the developer's environment: no colour, no config in HOME, a minimal PATH. */
export function scrubbedEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: '/usr/bin:/bin', HOME: home, NO_COLOR: '1', LANG: 'C', TZ: 'UTC' };
}

/** `bearing <args>` as a user runs it; resolves when the process has exited. */
export function bearing(args: readonly string[], options: RunOptions): Promise<BearingResult> {
  return spawnAndWait(process.execPath, [options.bin ?? BIN, ...args], options);
}

/**
 * A `sh -c` script, for pipes; in it, `bearing` runs the built bin:
 * `shell('bearing validate | head -1', { cwd })`.
 */
export function shell(script: string, options: RunOptions): Promise<BearingResult> {
  const prelude = 'bearing() { "$BEARING_NODE" "$BEARING_BIN" "$@"; }';
  return spawnAndWait('/bin/sh', ['-c', `${prelude}\n${script}`], options, {
    BEARING_NODE: process.execPath,
    BEARING_BIN: options.bin ?? BIN,
  });
}

function spawnAndWait(
  file: string,
  args: readonly string[],
  options: RunOptions,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<BearingResult> {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` before the CLI tests');
  }
  const env = { ...scrubbedEnv(options.home ?? options.cwd), ...extraEnv };
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: performance.now() - started,
      });
    });
  });
}

/** Text from lines, each ending in a newline, as a terminal receives it. */
export const lines = (...text: string[]): string => text.map((l) => `${l}\n`).join('');

/** Task file text from lines. */
export const yaml = (...text: string[]): string => lines(...text);

/** A Node stack frame: must never reach a user. */
const STACK_FRAME = /^ {4}at /m;

export function expectNoStackTrace(result: BearingResult): void {
  expect(result.stderr).not.toMatch(STACK_FRAME);
  expect(result.stdout).not.toMatch(STACK_FRAME);
}

/**
 * Fixtures plus a `bearing` bound to them: `const { project, run } = useCli()`,
 * then `const fx = await project({...}); await run(fx, 'validate')`.
 */
export function useCli() {
  const fixtures = useFixtures();
  return {
    project: (files: FixtureFiles = {}) => fixtures.create(files, { prefix: 'bearing-cli-' }),
    run: (fx: Fixture, ...args: string[]) => bearing(args, { cwd: fx.dir }),
  };
}
