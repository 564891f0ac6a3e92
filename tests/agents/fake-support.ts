/**
 * Running the fake agent binaries in temp dirs, the way the process layer
 * will: argv from our adapters, stdin the prompt file when the invocation
 * says so (else ignored), output fed to our parsers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  AgentInvocation,
  AgentRunResult,
  OutputParser,
  OutputSignal,
} from '../../src/agents/types.js';
import { MAX_AGENT_LINE_BYTES } from '../../src/agents/types.js';
import { LineSplitter } from '../../src/process/line-splitter.js';
import { FAKE_BIN } from './support.js';

export interface FakeRun {
  /** The parser signal that made us end the process, if one did. */
  stoppedOn?: OutputSignal;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  result?: AgentRunResult;
  ms: number;
}

/** An invocation and the prompt the runner would write to the attempt's prompt.txt. */
export type FakeInvocation = AgentInvocation & { prompt?: string };

export interface FakeOptions {
  cwd: string;
  scenarios?: unknown[];
  /**
   * What fd 0 is. Default: when the invocation has `promptOnStdin`, the
   * prompt as a file (`prompt-file`, as a redirect `< prompt.txt` gives) or
   * piped from us and then closed (`prompt-pipe`, as execa's `stdin: {file}`
   * gives); else /dev/null. `pipe` leaves a pipe open for the test to drive.
   */
  stdin?: 'ignore' | 'pipe' | 'prompt-file' | 'prompt-pipe';
  env?: Record<string, string>;
  parser?: OutputParser;
  /** Keep at most this much stdout text in the FakeRun (the parser still sees all of it). */
  keepStdout?: number;
  /**
   * End the process group (SIGTERM) at the first of these parser signals, as
   * the runner does, and tell `finish` it was ended by us.
   */
  stopOn?: OutputSignal[];
}

const dirs: string[] = [];

export function tempDir(prefix = 'bearing-fake-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function cleanTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Writes the scenario script beside (not inside) the work dir, returns its path. */
export function writeScript(scenarios: unknown[]): string {
  const file = join(tempDir('bearing-script-'), 'script.json');
  writeFileSync(file, JSON.stringify(scenarios));
  return file;
}

export function spawnFake(
  inv: FakeInvocation,
  opts: FakeOptions,
): { child: ChildProcess; done: Promise<FakeRun> } {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: opts.cwd,
    ...inv.env,
    ...opts.env,
  };
  if (opts.scenarios) env.BEARING_FAKE_SCRIPT = writeScript(opts.scenarios);
  const stdinMode = opts.stdin ?? (inv.promptOnStdin ? 'prompt-file' : 'ignore');
  if (stdinMode.startsWith('prompt-') && inv.prompt === undefined) {
    throw new Error('spawnFake: a prompt on stdin needs the invocation to carry its prompt');
  }
  let promptFd: number | undefined;
  if (stdinMode === 'prompt-file') {
    const file = join(tempDir('bearing-prompt-'), 'prompt.txt');
    writeFileSync(file, inv.prompt ?? '');
    promptFd = openSync(file, 'r');
  }
  const started = Date.now();
  const child = spawn(join(FAKE_BIN, inv.file), inv.args, {
    cwd: opts.cwd,
    env,
    stdio: [
      promptFd ?? (stdinMode === 'prompt-pipe' ? 'pipe' : (stdinMode as 'ignore' | 'pipe')),
      'pipe',
      'pipe',
    ],
    detached: true,
  });
  if (promptFd !== undefined) closeSync(promptFd);
  if (stdinMode === 'prompt-pipe') child.stdin?.end(inv.prompt);
  const keep = opts.keepStdout ?? 1_000_000;
  let stdout = '';
  let stdoutBytes = 0;
  let stderr = '';
  let stoppedOn: OutputSignal | undefined;
  const splitter = new LineSplitter(MAX_AGENT_LINE_BYTES, (line) => {
    const signal = opts.parser?.push(line);
    if (signal && !stoppedOn && opts.stopOn?.includes(signal)) {
      stoppedOn = signal;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {}
    }
  });
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    stdoutBytes += Buffer.byteLength(chunk);
    if (stdout.length < keep) stdout += chunk.slice(0, keep - stdout.length);
    splitter.push(Buffer.from(chunk));
  });
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<FakeRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      splitter.end();
      // stderr lines reach the parser too: they are non-JSON and only used in messages.
      for (const line of stderr.split('\n')) if (line.trim()) opts.parser?.push(line);
      const result = opts.parser?.finish({
        ...(exitCode === null ? {} : { exitCode }),
        ...(signal === null ? {} : { signal }),
        ...(stoppedOn ? { endedByUs: true } : {}),
      });
      resolve({
        ...(stoppedOn ? { stoppedOn } : {}),
        exitCode,
        signal,
        stdout,
        stderr,
        stdoutBytes,
        result,
        ms: Date.now() - started,
      });
    });
  });
  return { child, done };
}

export function runFake(inv: FakeInvocation, opts: FakeOptions): Promise<FakeRun> {
  return spawnFake(inv, opts).done;
}

/** Alive and not a zombie (a reparented child may linger unreaped in containers). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  const state = readFileSync(stat, 'utf8').split(') ')[1]?.[0];
  return state !== 'Z' && state !== 'X';
}

export async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function readLog(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
