/**
 * Helpers for the state tests: temp directories that are always removed, git
 * fixtures built from {path: contents} maps, and the real modules bundled to
 * plain JS so child processes (crash and race tests) run the code under test.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';
import { afterEach } from 'vitest';
import type { Snapshot } from '../../src/state/changes.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Child processes still running; killed after each test, even one that failed midway. */
const liveChildren = new Set<ChildProcess>();

/** A fresh temp directory, removed after the current test (after its child processes are gone). */
export function useTempDirs(): () => string {
  const made: string[] = [];
  afterEach(async () => {
    await Promise.all(
      [...liveChildren].map(
        (child) =>
          new Promise<void>((res) => {
            if (child.exitCode !== null || child.signalCode !== null) return res();
            child.once('exit', () => res());
            child.kill('SIGKILL');
          }),
      ),
    );
    liveChildren.clear();
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'bearing-state-'));
    made.push(dir);
    return dir;
  };
}

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, contents] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), contents);
  }
}

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'commit.gpgsign=false', ...args], {
    cwd,
    env: GIT_ENV,
    encoding: 'utf8',
  });
}

/** A repository with `files` committed on one commit. */
export function gitRepo(root: string, files: Record<string, string>): void {
  git(root, 'init', '-q');
  writeFiles(root, files);
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'initial');
}

/** Bundle src modules to .mjs files in `outDir` (cached per test file run). */
export async function bundle(
  outDir: string,
  entries: Record<string, string>,
): Promise<Record<string, string>> {
  await build({
    input: Object.fromEntries(
      Object.entries(entries).map(([name, path]) => [name, join(ROOT, path)]),
    ),
    platform: 'node',
    logLevel: 'silent',
    output: { dir: outDir, format: 'esm', entryFileNames: '[name].mjs' },
  });
  return Object.fromEntries(
    Object.keys(entries).map((name) => [name, join(outDir, `${name}.mjs`)]),
  );
}

/**
 * Runs a script in `node --allow-natives-syntax`, where V8's own view of
 * objects can be asked (hidden classes, via the `sameMap(a, b)` it defines),
 * with `entries` bundled: `script` gets their paths. Its stdout and stderr.
 */
export async function withNatives(
  entries: Record<string, string>,
  script: (modules: Record<string, string>) => string,
): Promise<{ stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bearing-bundle-'));
  try {
    const modules = await bundle(dir, entries);
    const child = spawnSync(
      process.execPath,
      [
        '--allow-natives-syntax',
        '--input-type=module',
        '-e',
        `const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)');\n${script(modules)}`,
      ],
      { encoding: 'utf8' },
    );
    return { stdout: child.stdout, stderr: child.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Spawn `node --input-type=module -e <script>` with args; stdout collected line by line. */
export function nodeChild(
  script: string,
  args: string[] = [],
): { child: ChildProcess; lines: string[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  liveChildren.add(child);
  child.on('exit', () => liveChildren.delete(child));
  const lines: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, lines, exited };
}

/** A pid that belonged to a process which has exited. */
export async function deadPid(): Promise<number> {
  const { child, exited } = nodeChild('');
  await exited;
  return child.pid!;
}

export async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Returns what it is given, and closes it after the current test (watches). */
export function useClosing(): <T extends { close(): void }>(opened: T) => T {
  const opened: Array<{ close(): void }> = [];
  afterEach(() => {
    for (const o of opened.splice(0)) o.close();
  });
  return (o) => {
    opened.push(o);
    return o;
  };
}

/**
 * This process's folders `<prefix><pid>-*` in the temp folder (the fence's,
 * the index copy's): other test files' workers make theirs alongside.
 */
export function ownTempDirs(prefix: string): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith(`${prefix}${process.pid}-`));
}

/** A snapshot's entries by path, to compare two whatever their order. */
export function sortedEntries(s: Snapshot): Array<[string, string]> {
  return [...s.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
