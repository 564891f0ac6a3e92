/**
 * Test fixtures built from `{path: contents}` maps in fresh temp dirs
 * (changesets `gitdir` style), so every test runs against real files and
 * cleans up after itself.
 *
 *   const fx = await createFixture({ 'bearing/tasks/a.yaml': 'id: a\nprompt: hi\n' });
 *   try { ... fx.path('bearing') ... } finally { await fx.cleanup(); }
 *
 * or, in vitest, `const fx = useFixtures()` then `await fx.create({...})` in
 * a test: every fixture it creates is removed after each test.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';

/** File contents, a symlink to create, or an empty folder. */
export type FixtureEntry = string | Uint8Array | { symlink: string } | { dir: true };

/** Paths are relative to the fixture root and use `/`. */
export type FixtureFiles = Record<string, FixtureEntry>;

export interface FixtureOptions {
  /** Temp dir name prefix (default `bearing-test-`). */
  prefix?: string;
  /** Make the root a git repository with everything committed once. */
  git?: boolean;
}

export interface Fixture {
  /** Absolute path of the fixture root. */
  dir: string;
  /** Absolute path of a file or folder inside the fixture. */
  path(...parts: string[]): string;
  /** Add or overwrite entries. */
  write(files: FixtureFiles): Promise<void>;
  /** Remove the whole fixture; safe to call twice. */
  cleanup(): Promise<void>;
}

async function writeEntries(root: string, files: FixtureFiles): Promise<void> {
  for (const [rel, entry] of Object.entries(files)) {
    const target = join(root, ...rel.split('/'));
    if (typeof entry === 'object' && 'dir' in entry) {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(dirname(target), { recursive: true });
    if (typeof entry === 'object' && 'symlink' in entry) {
      await symlink(entry.symlink, target);
    } else {
      await writeFile(target, entry);
    }
  }
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Bearing Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Bearing Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

function git(dir: string, args: string[]): void {
  execFileSync('git', args, { cwd: dir, env: { ...process.env, ...GIT_ENV }, stdio: 'ignore' });
}

/** A fresh temp dir under os.tmpdir() holding `files`. */
export async function createFixture(
  files: FixtureFiles = {},
  options: FixtureOptions = {},
): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), options.prefix ?? 'bearing-test-'));
  const fixture: Fixture = {
    dir,
    path: (...parts) => join(dir, ...parts.flatMap((p) => p.split('/'))),
    write: (more) => writeEntries(dir, more),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  try {
    await writeEntries(dir, files);
    if (options.git) {
      git(dir, ['init', '-q', '-b', 'main']);
      git(dir, ['add', '-A']);
      git(dir, ['commit', '-q', '--allow-empty', '-m', 'fixture']);
    }
  } catch (e) {
    await fixture.cleanup();
    throw e;
  }
  return fixture;
}

/** For vitest: fixtures created through the returned object are removed after each test. */
export function useFixtures(): {
  create(files?: FixtureFiles, options?: FixtureOptions): Promise<Fixture>;
} {
  const live: Fixture[] = [];
  afterEach(async () => {
    await Promise.all(live.splice(0).map((f) => f.cleanup()));
  });
  return {
    async create(files, options) {
      const fixture = await createFixture(files, options);
      live.push(fixture);
      return fixture;
    },
  };
}
