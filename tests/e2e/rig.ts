/**
 * End-to-end test rig (wireit's test-rig is the model): a temp project (a git
 * repo by default) and a separate temp HOME, the built bin spawned with a
 * scrubbed environment whose PATH starts with the fake `claude`/`codex`, and
 * helpers to read what Bearing recorded. Every process a test starts is
 * tracked and killed after the test, with its process group, so a failing
 * test cannot leave agents behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll } from 'vitest';
import type { RunState, TaskRecord } from '../../src/core/state.js';
import { loadState } from '../../src/state/store.js';
import { createFixture, type Fixture, type FixtureFiles } from '../helpers/fixtures.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(REPO, 'bin', 'bearing.js');
export const FAKE_BIN = join(REPO, 'tests', 'fixtures', 'bin');
export const NODE = process.execPath;

/** One scenario of the fake agents (tests/fixtures/fake-agent/README.md). */
export interface Scenario {
  match?: string;
  outcome?: string;
  summary?: string;
  message?: string;
  writeFiles?: Record<string, string>;
  failCommands?: { command: string; output?: string; exitCode?: number }[];
  delayMs?: number;
  releaseFile?: string;
  hang?: boolean;
  grandchildPidFile?: string;
  ignoreSigterm?: boolean;
  printBytes?: number;
  printLineBytes?: number;
  exitCode?: number;
  sessionId?: string;
  costUsd?: number;
  usage?: Record<string, number>;
  resetsAt?: number;
  attempts?: Omit<Scenario, 'match' | 'attempts'>[];
}

/** One line of the fakes' BEARING_FAKE_LOG. */
export interface FakeCall {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  stdinType: string | null;
  /** The prompt the fake received (argument and stdin combined, as the real CLI reads them). */
  prompt: string | null;
  time: string;
  /** Which fake: inferred from argv (codex always starts with `exec`). */
  cli: 'claude' | 'codex';
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time of the bearing process. */
  ms: number;
}

export interface Running {
  child: ChildProcess;
  pid: number;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout or stderr matches; rejects when the process ends first or on timeout. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<RunResult>;
}

/** Processes and process groups to kill after each test, whatever happened. */
const livePids = new Set<number>();
const liveGroups = new Set<number>();
const tempDirs: string[] = [];

/** Call once per test file: cleans up processes, then temp dirs, after each test. */
export function useRig(): void {
  beforeAll(() => {
    if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) {
      throw new Error('end-to-end tests spawn the built bin: run `npm run build` first');
    }
  });
  afterEach(async () => {
    // Agents lead their own process groups: end them (and their children) first,
    // or killing a bearing that is still running would orphan them.
    for (const pid of livePids) for (const child of childrenOf(pid)) liveGroups.add(child);
    for (const pid of livePids) killQuietly(pid, 'SIGKILL');
    for (const pgid of liveGroups) killQuietly(-pgid, 'SIGKILL');
    livePids.clear();
    liveGroups.clear();
    for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Kill the process group `pid` belongs to after the test (an agent left by kill -9). */
export function trackGroupOf(pid: number): void {
  const pgid = processGroupOf(pid);
  if (pgid !== undefined && pgid > 1) liveGroups.add(pgid);
  livePids.add(pid);
}

export function processGroupOf(pid: number): number | undefined {
  const stat = procStat(pid);
  return stat ? Number(stat[2]) : undefined;
}

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, ...]. */
function procStat(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Alive = exists and is not a zombie (PID 1 may not reap orphans in a container). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const state = procStat(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** Live (non-zombie) processes whose parent is `ppid`. */
export function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && Number(stat[1]) === ppid && stat[0] !== 'Z' && stat[0] !== 'X') {
      out.push(Number(entry));
    }
  }
  return out;
}

/** Polls `check` until it returns a value other than undefined/false. */
export async function waitFor<T>(
  check: () => T | undefined | false,
  what: string,
  timeoutMs = 20_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(intervalMs);
  }
}

export function tempDir(prefix = 'bearing-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export interface ProjectOptions {
  /** Make the project a git repository, everything committed (default true). */
  git?: boolean;
  scenarios?: Scenario[];
  /** Extra environment for every bearing command of this project. */
  env?: Record<string, string>;
  /**
   * Keep Bearing's check that an agent task changed files (`expect_changes`,
   * on by default in Bearing). Off by default here, through `defaults:` the
   * rig adds to config.yaml (unless the test's has its own): most tests script agents that
   * answer without writing, and are about something else. The check has its
   * own tests (hand-off.test.ts).
   */
  expectChanges?: boolean;
}

/** config.yaml for a test that does not keep the hand-off check (see ProjectOptions). */
const NO_CHANGE_CHECK = 'defaults:\n  expect_changes: false\n';

/**
 * A temp project plus a temp HOME (outside the project, so the fakes' log,
 * script and attempt counters never count as files a task changed).
 */
export class Project {
  readonly home: string;
  readonly fakeLog: string;
  readonly script: string;
  readonly env: Record<string, string>;

  private constructor(
    readonly fx: Fixture,
    extraEnv: Record<string, string>,
  ) {
    this.home = tempDir('bearing-e2e-home-');
    this.fakeLog = join(this.home, 'fake-log.jsonl');
    this.script = join(this.home, 'script.json');
    // Scrubbed: no ANTHROPIC_/OPENAI_ keys, no user config, fakes first on PATH.
    this.env = {
      PATH: [FAKE_BIN, dirname(NODE), '/usr/bin', '/bin'].join(':'),
      HOME: this.home,
      BEARING_FAKE_LOG: this.fakeLog,
      BEARING_FAKE_SCRIPT: this.script,
      NO_COLOR: '1',
      LANG: 'C.UTF-8',
      TZ: 'UTC',
      ...extraEnv,
    };
  }

  static async create(files: FixtureFiles, options: ProjectOptions = {}): Promise<Project> {
    const config = files['bearing/config.yaml'];
    const withConfig =
      options.expectChanges ||
      // No tasks, no project: a test about finding (or making) one gets none.
      !Object.keys(files).some((f) => f.startsWith('bearing/tasks/')) ||
      (config !== undefined && (typeof config !== 'string' || /^defaults:/m.test(config)))
        ? files
        : {
            ...files,
            'bearing/config.yaml': `${config ? config.replace(/\n?$/, '\n') : ''}${NO_CHANGE_CHECK}`,
          };
    const fx = await createFixture(withConfig, {
      git: options.git ?? true,
      prefix: 'bearing-e2e-p-',
    });
    tempDirs.push(fx.dir);
    const project = new Project(fx, options.env ?? {});
    project.scenarios(options.scenarios ?? []);
    return project;
  }

  get dir(): string {
    return this.fx.dir;
  }

  path(...parts: string[]): string {
    return this.fx.path(...parts);
  }

  /** Replace the fakes' scenario script (attempt counters are kept). */
  scenarios(list: Scenario[]): void {
    writeFileSync(this.script, JSON.stringify(list));
  }

  write(rel: string, contents: string): void {
    const file = this.path(rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, contents);
  }

  /** Spawn `node bin/bearing.js <args>` in the project dir; resolves when it exits. */
  run(args: string[], options: StartOptions = {}) {
    return this.start(args, options).done;
  }

  start(args: string[], options: StartOptions = {}) {
    return startBin(args, {
      cwd: options.cwd ?? this.dir,
      env: { ...this.env, ...options.env },
      timeoutMs: options.timeoutMs ?? 60_000,
      ...(options.prefix ? { prefix: options.prefix } : {}),
    });
  }

  /** The recorded state as every reader loads it: the snapshot and its journal. */
  state(): RunState {
    const loaded = loadState(this.dir);
    if (!loaded.ok) throw new Error(loaded.error.message);
    return loaded.value;
  }

  task(id: string): TaskRecord {
    const record = this.state().tasks[id];
    if (!record) throw new Error(`no record for task ${id} in state.json`);
    return record;
  }

  statusMd(): string {
    return readFileSync(this.path('bearing/status.md'), 'utf8');
  }

  /** The `- Next:` / `- Progress:` style header lines of status.md, by label. */
  statusLine(label: string): string {
    const line = this.statusMd()
      .split('\n')
      .find((l) => l.startsWith(`- ${label}: `));
    if (line === undefined) throw new Error(`status.md has no "- ${label}:" line`);
    return line.slice(label.length + 4);
  }

  /** The `## <id>` section of status.md. */
  statusSection(id: string): string {
    const md = this.statusMd();
    const start = md.search(new RegExp(`^## ${id.replace(/[.]/g, '\\.')}( |$)`, 'm'));
    if (start < 0) throw new Error(`status.md has no section for ${id}`);
    const rest = md.slice(start + 3);
    const end = rest.search(/^## /m);
    return `## ${end < 0 ? rest : rest.slice(0, end)}`;
  }

  attemptDir(id: string, attempt: number): string {
    return this.path('bearing/.state/runs', id, String(attempt));
  }

  promptOf(id: string, attempt: number): string {
    return readFileSync(join(this.attemptDir(id, attempt), 'prompt.txt'), 'utf8');
  }

  /** Every invocation of a fake agent so far, in order. */
  calls(): FakeCall[] {
    if (!existsSync(this.fakeLog)) return [];
    return readFileSync(this.fakeLog, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const entry = JSON.parse(l) as Omit<FakeCall, 'cli'>;
        return { ...entry, cli: entry.argv[0] === 'exec' ? 'codex' : 'claude' };
      });
  }

  /** Calls whose prompt contains `marker`. */
  callsFor(marker: string): FakeCall[] {
    return this.calls().filter((c) => (c.prompt ?? '').includes(marker));
  }

  lockExists(): boolean {
    return existsSync(this.path('bearing/.state/lock'));
  }
}

export interface StartOptions {
  timeoutMs?: number;
  /** Where to run the bin (default: the project). */
  cwd?: string;
  /** Added to (and overriding) the project's environment. */
  env?: Record<string, string>;
  /** Run the bin under this command, e.g. `/usr/bin/time -f %M`. */
  prefix?: string[];
}

export function startBin(
  args: string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs: number; prefix?: string[] },
): Running {
  const started = Date.now();
  const argv = [...(options.prefix ?? []), NODE, BIN, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not spawn the bearing bin');
  const pid = child.pid;
  livePids.add(pid);
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const l of listeners) l();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const l of listeners) l();
  });
  const done = new Promise<RunResult>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      killQuietly(pid, 'SIGKILL');
      reject(
        new Error(
          `bearing ${args.join(' ')} did not exit within ${options.timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
        ),
      );
    }, options.timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      livePids.delete(pid);
      for (const l of listeners) l();
      resolvePromise({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  // A test that never awaits `done` (it killed the process) must not see an unhandled rejection.
  done.catch(() => {});
  let exited = false;
  void done.then(
    () => {
      exited = true;
    },
    () => {
      exited = true;
    },
  );
  return {
    child,
    pid,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitForOutput(pattern, timeoutMs = 20_000) {
      return new Promise<void>((resolvePromise, reject) => {
        const check = (): void => {
          if (pattern.test(stdout) || pattern.test(stderr)) {
            cleanup();
            resolvePromise();
          } else if (exited) {
            cleanup();
            reject(new Error(`bearing exited before printing ${pattern}\n${stdout}\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${pattern} within ${timeoutMs} ms\n${stdout}\n${stderr}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** A task file with one task. Values are written as YAML flow scalars via JSON. */
export function taskYaml(task: Record<string, unknown>): string {
  return `${Object.entries(task)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join('\n')}\n`;
}

/** A task file with several tasks and optional defaults (JSON is valid YAML). */
export function tasksYaml(
  tasks: Record<string, unknown>[],
  defaults?: Record<string, unknown>,
): string {
  return `${JSON.stringify(defaults ? { defaults, tasks } : { tasks }, null, 2)}\n`;
}

/** An executable file (mode 0755 unless given). */
export function writeExecutable(file: string, source: string, mode = 0o755): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, source);
  chmodSync(file, mode);
}

/** Reads a pid written by the fake's `grandchildPidFile`, once it exists. */
export async function readPidFile(file: string, timeoutMs = 20_000): Promise<number> {
  return waitFor(
    () => {
      if (!existsSync(file)) return undefined;
      const n = Number(readFileSync(file, 'utf8'));
      return Number.isInteger(n) && n > 0 ? n : undefined;
    },
    `pid file ${file}`,
    timeoutMs,
  );
}
