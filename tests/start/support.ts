/**
 * `bearing start` end to end: the built bin in a temp project, a scrubbed
 * environment whose PATH starts with the fake `claude` and `codex`
 * (tests/fixtures/bin), answers piped on stdin, and the fakes' log of what
 * they received (BEARING_FAKE_LOG). Run `npm run build` first.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'bearing.js');
export const FAKE_BIN = join(ROOT, 'tests', 'fixtures', 'bin');

const KILL_AFTER_MS = 20_000;
const dirs: string[] = [];

/** Call once per test file: removes the temp dirs after each test. */
export function useTempDirs(): void {
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
}

export function tempDir(prefix = 'bearing-start-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Writes `{path: contents}` under a new temp dir (a git repo when `git`), returns its path. */
export function project(files: Record<string, string> = {}): string {
  const dir = tempDir('bearing-start-project-');
  for (const [rel, contents] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), contents);
  }
  return dir;
}

export interface Sandbox {
  home: string;
  log: string;
  script: string;
  /** A directory holding only `node` (the fakes' `#!/usr/bin/env node` needs it). */
  nodeDir: string;
  env: Record<string, string>;
}

/**
 * A scrubbed environment: PATH = [fakes] + a dir holding only `node`, and
 * nothing else: not /usr/bin, where a real `claude` may be installed (a
 * "missing CLI" test must not start it). A temp HOME, the fakes' log, and a
 * few variables the planner CLI must receive unchanged.
 */
export function sandbox(options: { fakes?: boolean; extraPath?: string[] } = {}): Sandbox {
  const home = tempDir('bearing-start-home-');
  const nodeDir = join(home, 'node-bin');
  mkdirSync(nodeDir);
  symlinkSync(process.execPath, join(nodeDir, 'node'));
  const path = [
    ...(options.extraPath ?? []),
    ...(options.fakes === false ? [] : [FAKE_BIN]),
    nodeDir,
  ].join(':');
  const log = join(home, 'fake-log.jsonl');
  const script = join(home, 'script.json');
  return {
    home,
    log,
    script,
    nodeDir,
    env: {
      PATH: path,
      HOME: home,
      NO_COLOR: '1',
      LANG: 'C',
      TZ: 'UTC',
      BEARING_FAKE_LOG: log,
      ANTHROPIC_API_KEY: 'sk-ant-test',
      CLAUDE_CONFIG_DIR: join(home, '.claude'),
      OPENAI_API_KEY: 'sk-openai-test',
      CODEX_HOME: join(home, '.codex'),
    },
  };
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command with `input` piped on stdin (closed after it), or with
 * stdin from /dev/null when `input` is undefined.
 */
export function runWith(
  file: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; input?: string },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr?.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** `bearing <args>` through the built bin, in `cwd`. */
export function bearing(
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; input?: string },
): Promise<Result> {
  return runWith(process.execPath, [BIN, ...args], options);
}

/** One line of the fakes' log. */
export interface FakeCall {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  stdinType: string;
  stdoutType: string;
}

export function readCalls(log: string): FakeCall[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as FakeCall);
}

/** The part of `env` the fakes log (their LOGGED_ENV rule), for exact comparison. */
export function loggedEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(([k]) =>
      /^(BEARING_|CLAUDE_|CODEX_|ANTHROPIC_|OPENAI_)|^(IS_SANDBOX|HOME)$/.test(k),
    ),
  );
}
