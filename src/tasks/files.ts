/**
 * Finding and reading a project's files in `bearing/`, without parsing them:
 * the bytes of `config.yaml` and of every task file, each read with a size
 * limit, or why it could not be read. Kept apart from the YAML parser and
 * the schema so that a command can tell whether the files changed without
 * loading either (see cached-load.ts).
 *
 * Task files are `bearing/tasks/**\/*.yaml` and `*.yml`: subfolders are
 * read too (a planner may group tasks by area), hidden files and folders
 * (starting with `.`) are skipped, and files are ordered by their path
 * relative to `bearing/tasks/`, which is the declaration order used to
 * break ties in the dependency order.
 */
import { type Dirent, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Diagnostic } from '../core/diagnostic.js';
import { err, ok, type Result } from '../core/result.js';
import { MAX_FILE_BYTES } from './rules.js';

/** One file as read from disk: its bytes, or why it could not be read. */
export interface SourceFile {
  /** The path as shown to the user. */
  display: string;
  content: Result<Uint8Array, string>;
}

/** How paths are shown. */
export interface LoadOptions {
  /** Diagnostic paths are shown relative to this folder when inside it (default: the cwd). */
  displayBase?: string;
}

/** What was read from `bearing/`, or the one problem that left nothing to read. */
export type ProjectFiles =
  | {
      ok: true;
      config: SourceFile | undefined;
      /** The task files, in declaration order. */
      taskFiles: SourceFile[];
      /** Where config.yaml is or would be, absolute. */
      configPath: string;
      /** The task files' absolute paths, in declaration order. */
      paths: string[];
      /** The folder paths are shown relative to. */
      base: string;
    }
  | { ok: false; diagnostic: Diagnostic };

/** The files, when `bearing/` and `bearing/tasks/` were there to read. */
export type ReadFiles = Extract<ProjectFiles, { ok: true }>;

const TASK_FILE = /\.ya?ml$/;

/** `path` as shown to the user: relative to `base` when inside it, else absolute. */
export function displayPath(path: string, base: string): string {
  const rel = relative(base, path);
  if (rel === '') return '.';
  // `..` only as a whole segment: `..proj/` is a folder inside base.
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return path;
  return rel;
}

/** A size in MiB as messages show it: one decimal, without a trailing `.0`. */
function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '');
}

function sizeMessage(size: number, advice: string): string {
  return `file is ${(size / (1024 * 1024)).toFixed(1)} MiB (${size} bytes); Bearing reads files of at most ${mib(MAX_FILE_BYTES)} MiB (${MAX_FILE_BYTES} bytes)${advice}`;
}

const TASK_FILE_ADVICE = ': split it into several task files';

function errorMessage(e: unknown): string {
  const code = (e as { code?: string } | null)?.code;
  if (code === 'ENOENT') return 'not found';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a folder, not a file';
  return e instanceof Error ? e.message : String(e);
}

/** The cwd, which no longer exists if it was deleted under us: then show paths absolute. */
export function currentDir(fallback: string): string {
  try {
    return process.cwd();
  } catch {
    return fallback;
  }
}

interface Layout {
  bearing: string;
  tasks: string;
  config: string;
}

function layoutOf(projectDir: string): Layout {
  const bearing = join(projectDir, 'bearing');
  return { bearing, tasks: join(bearing, 'tasks'), config: join(bearing, 'config.yaml') };
}

function missingDiagnostic(layout: Layout, base: string, which: 'bearing' | 'tasks'): Diagnostic {
  const file = displayPath(which === 'bearing' ? layout.bearing : layout.tasks, base);
  const message =
    which === 'bearing'
      ? 'no bearing/ folder in this project; `bearing init` creates it with an example task'
      : 'no bearing/tasks/ folder; `bearing init` creates it with an example task';
  return { file, line: 0, col: 0, field: '', message };
}

function isDir(path: string, statFn: (p: string) => { isDirectory(): boolean }): boolean {
  try {
    return statFn(path).isDirectory();
  } catch {
    return false;
  }
}

function sortFiles(files: string[], tasksDir: string): string[] {
  const keyed = files.map((f) => ({ f, key: relative(tasksDir, f).split(/[\\/]/).join('/') }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.f);
}

function isHidden(entry: Dirent): boolean {
  return entry.name.startsWith('.');
}

/** Every task file under `tasks/`, in declaration order (sorted by relative path). */
export function listTaskFilesSync(tasksDir: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (dir: string) => {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (isHidden(entry)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory() || (entry.isSymbolicLink() && isDir(path, statSync))) walk(path);
      else if (TASK_FILE.test(entry.name)) out.push(path);
    }
  };
  walk(tasksDir);
  return sortFiles(out, tasksDir);
}

/** As listTaskFilesSync, without blocking. */
export async function listTaskFiles(tasksDir: string): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    let real: string;
    try {
      real = await realpath(dir);
    } catch {
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (isHidden(entry)) continue;
      const path = join(dir, entry.name);
      let dirLike = entry.isDirectory();
      if (!dirLike && entry.isSymbolicLink()) {
        dirLike = await stat(path).then(
          (s) => s.isDirectory(),
          () => false,
        );
      }
      if (dirLike) await walk(path);
      else if (TASK_FILE.test(entry.name)) out.push(path);
    }
  };
  await walk(tasksDir);
  return sortFiles(out, tasksDir);
}

/** Files read at once: enough to overlap IO, few enough never to run out of file descriptors. */
const READ_CONCURRENCY = 16;

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Read a file's bytes unless it is too big or not a regular file; the size is checked first. */
function readLimitedSync(path: string, advice = TASK_FILE_ADVICE): Result<Uint8Array, string> {
  try {
    const st = statSync(path);
    if (!st.isFile()) return err('not a regular file');
    if (st.size > MAX_FILE_BYTES) return err(sizeMessage(st.size, advice));
    const bytes = readFileSync(path);
    return bytes.length > MAX_FILE_BYTES ? err(sizeMessage(bytes.length, advice)) : ok(bytes);
  } catch (e) {
    return err(`cannot read: ${errorMessage(e)}`);
  }
}

async function readLimited(
  path: string,
  advice = TASK_FILE_ADVICE,
): Promise<Result<Uint8Array, string>> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return err('not a regular file');
    if (st.size > MAX_FILE_BYTES) return err(sizeMessage(st.size, advice));
    const bytes = await readFile(path);
    return bytes.length > MAX_FILE_BYTES ? err(sizeMessage(bytes.length, advice)) : ok(bytes);
  } catch (e) {
    return err(`cannot read: ${errorMessage(e)}`);
  }
}

/** Read `<projectDir>/bearing/`: config.yaml and every task file, each with the size limit. */
export async function readProjectFiles(
  projectDir: string,
  options: LoadOptions = {},
): Promise<ProjectFiles> {
  const base = options.displayBase ?? currentDir(projectDir);
  const layout = layoutOf(projectDir);
  const [hasBearing, hasTasks] = await Promise.all(
    [layout.bearing, layout.tasks].map((p) =>
      stat(p).then(
        (s) => s.isDirectory(),
        () => false,
      ),
    ),
  );
  if (!hasBearing) return { ok: false, diagnostic: missingDiagnostic(layout, base, 'bearing') };
  if (!hasTasks) return { ok: false, diagnostic: missingDiagnostic(layout, base, 'tasks') };
  const configExists = await stat(layout.config).then(
    () => true,
    () => false,
  );
  const paths = await listTaskFiles(layout.tasks);
  const configContent = configExists ? await readLimited(layout.config, '') : undefined;
  const contents = await mapLimit(paths, READ_CONCURRENCY, (p) => readLimited(p));
  return {
    ok: true,
    config: configContent && { display: displayPath(layout.config, base), content: configContent },
    taskFiles: paths.map((p, i) => ({ display: displayPath(p, base), content: contents[i]! })),
    configPath: layout.config,
    paths,
    base,
  };
}

/** As readProjectFiles, blocking. */
export function readProjectFilesSync(projectDir: string, options: LoadOptions = {}): ProjectFiles {
  const base = options.displayBase ?? currentDir(projectDir);
  const layout = layoutOf(projectDir);
  if (!isDir(layout.bearing, statSync)) {
    return { ok: false, diagnostic: missingDiagnostic(layout, base, 'bearing') };
  }
  if (!isDir(layout.tasks, statSync)) {
    return { ok: false, diagnostic: missingDiagnostic(layout, base, 'tasks') };
  }
  let configExists = true;
  try {
    statSync(layout.config);
  } catch {
    configExists = false;
  }
  const paths = listTaskFilesSync(layout.tasks);
  return {
    ok: true,
    config: configExists
      ? { display: displayPath(layout.config, base), content: readLimitedSync(layout.config, '') }
      : undefined,
    taskFiles: paths.map((p) => ({ display: displayPath(p, base), content: readLimitedSync(p) })),
    configPath: layout.config,
    paths,
    base,
  };
}
