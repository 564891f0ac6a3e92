import { mkdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changedFiles, isGitRepo, snapshotWorkTree } from '../../src/state/changes.js';
import { git, gitRepo, useTempDirs, writeFiles } from './support.js';

const tempDir = useTempDirs();

// Keep git from finding a repository above the temp dirs (e.g. if TMPDIR is inside a checkout).
let savedCeiling: string | undefined;
beforeAll(() => {
  savedCeiling = process.env.GIT_CEILING_DIRECTORIES;
  process.env.GIT_CEILING_DIRECTORIES = tmpdir();
});
afterAll(() => {
  if (savedCeiling === undefined) delete process.env.GIT_CEILING_DIRECTORIES;
  else process.env.GIT_CEILING_DIRECTORIES = savedCeiling;
});

/** Snapshot, act, snapshot; both snapshots must be of the expected kind (no silent fallback). */
async function measure(
  project: string,
  act: () => void,
  kind: 'git' | 'files' = 'git',
): Promise<string[]> {
  const before = await snapshotWorkTree(project);
  act();
  const after = await snapshotWorkTree(project);
  expect([before.kind, after.kind]).toEqual([kind, kind]);
  return changedFiles(before, after);
}

describe('changedFiles in a git repository', () => {
  it('reports new, modified, deleted and re-modified files, and not untouched dirty ones', async () => {
    const project = tempDir();
    gitRepo(project, {
      'clean.txt': 'clean\n',
      'modify.txt': 'v1\n',
      'delete.txt': 'bye\n',
      'dirty-again.txt': 'v1\n',
      'dirty-left.txt': 'v1\n',
      'src/deep/file.ts': 'export {};\n',
      'bearing/tasks/a.yaml': 'id: a\n',
    });
    // Already dirty before the task starts:
    writeFiles(project, {
      'dirty-again.txt': 'v2 (person)\n',
      'dirty-left.txt': 'v2 (person)\n',
      'untracked-left.txt': 'scratch\n',
    });
    expect(await isGitRepo(project)).toBe(true);

    const files = await measure(project, () => {
      writeFiles(project, {
        'modify.txt': 'v2\n',
        'dirty-again.txt': 'v3 (agent)\n',
        'new.txt': 'new\n',
        'src/deep/new dir/with space.ts': 'x\n',
        'bearing/status.md': '# status\n',
        'bearing/tasks/a.yaml': 'id: a\nname: edited during the run\n',
        'bearing/.state/state.json': '{}\n',
      });
      rmSync(join(project, 'delete.txt'));
    });
    expect(files).toEqual([
      'delete.txt',
      'dirty-again.txt',
      'modify.txt',
      'new.txt',
      'src/deep/new dir/with space.ts',
    ]);
  });

  it('reports a file restored to its committed content, and staged-only changes', async () => {
    const project = tempDir();
    gitRepo(project, { 'a.txt': 'committed\n', 'b.txt': 'b\n' });
    writeFiles(project, { 'a.txt': 'dirty\n' });
    const files = await measure(project, () => {
      git(project, 'checkout', '--', 'a.txt');
      writeFiles(project, { 'b.txt': 'b2\n' });
      git(project, 'add', 'b.txt');
    });
    expect(files).toEqual(['a.txt', 'b.txt']);
  });

  it('sees through commits: what the agent committed counts, what was only committed does not', async () => {
    const project = tempDir();
    gitRepo(project, { 'edited.txt': 'v1\n', 'was-dirty.txt': 'v1\n', 'same.txt': 'same\n' });
    writeFiles(project, { 'was-dirty.txt': 'v2 (person)\n' });
    const files = await measure(project, () => {
      writeFiles(project, { 'edited.txt': 'v2 (agent)\n', 'added.txt': 'new\n' });
      git(project, 'mv', 'same.txt', 'renamed.txt');
      // The agent commits everything, including the person's dirty file, unchanged.
      git(project, 'add', '-A');
      git(project, 'commit', '-q', '-m', 'agent work');
    });
    expect(files).toEqual(['added.txt', 'edited.txt', 'renamed.txt', 'same.txt']);
    expect(git(project, 'status', '--porcelain')).toBe('');
  });

  it('does not report files git ignores', async () => {
    const project = tempDir();
    gitRepo(project, { '.gitignore': 'dist/\n', 'a.txt': 'a\n' });
    const files = await measure(project, () => {
      writeFiles(project, { 'dist/out.js': 'built\n', 'a.txt': 'a2\n' });
    });
    expect(files).toEqual(['a.txt']);
  });

  it('reports paths relative to a project inside a larger repository, and only its own', async () => {
    const repo = tempDir();
    gitRepo(repo, { 'outside.txt': 'o\n', 'apps/web/inside.txt': 'i\n' });
    const project = join(repo, 'apps/web');
    const files = await measure(project, () => {
      writeFiles(repo, {
        'outside.txt': 'o2\n',
        'apps/web/inside.txt': 'i2\n',
        'apps/web/new.txt': 'n\n',
        'apps/web/bearing/status.md': 's\n',
      });
    });
    expect(files).toEqual(['inside.txt', 'new.txt']);
  });

  it('works in a repository with no commit yet', async () => {
    const project = tempDir();
    git(project, 'init', '-q');
    writeFiles(project, { 'a.txt': 'a\n' });
    const files = await measure(project, () =>
      writeFiles(project, { 'a.txt': 'a2\n', 'b.txt': 'b' }),
    );
    expect(files).toEqual(['a.txt', 'b.txt']);
  });
});

describe('changedFiles without git', () => {
  it('compares size and modification time, skipping .git-less noise and bearing/', async () => {
    const project = tempDir();
    writeFiles(project, {
      'keep.txt': 'keep\n',
      'touch.txt': 'same size\n',
      'grow.txt': 'a\n',
      'gone.txt': 'x\n',
      'node_modules/pkg/index.js': 'v1\n',
      'bearing/tasks/a.yaml': 'id: a\n',
    });
    expect(await isGitRepo(project)).toBe(false);
    const before = await snapshotWorkTree(project);
    expect(before.kind).toBe('files');
    writeFiles(project, {
      'grow.txt': 'a longer line\n',
      'sub/new.txt': 'n\n',
      'node_modules/pkg/index.js': 'v2\n',
      'bearing/status.md': 's\n',
    });
    const later = new Date(Date.now() + 5000);
    utimesSync(join(project, 'touch.txt'), later, later);
    rmSync(join(project, 'gone.txt'));
    const after = await snapshotWorkTree(project);
    expect(changedFiles(before, after)).toEqual([
      'gone.txt',
      'grow.txt',
      'sub/new.txt',
      'touch.txt',
    ]);
  });

  it('stops at the file cap and reports nothing beyond where either walk stopped', async () => {
    const project = tempDir();
    const files: Record<string, string> = {};
    for (let i = 0; i < 10; i++) files[`f${i}.txt`] = `${i}\n`;
    writeFiles(project, files);
    const before = await snapshotWorkTree(project, { maxFiles: 5 });
    expect(before).toMatchObject({ truncated: true, boundary: 'f4.txt' });
    expect(before.entries.size).toBe(5);
    writeFiles(project, { 'f1.txt': 'changed\n', 'f8.txt': 'changed, beyond the cap\n' });
    const after = await snapshotWorkTree(project, { maxFiles: 5 });
    expect(changedFiles(before, after)).toEqual(['f1.txt']);
  });

  it('reports a moved file at both its old and its new path', async () => {
    const project = tempDir();
    writeFiles(project, { 'old/a.txt': 'a\n' });
    const files = await measure(
      project,
      () => {
        mkdirSync(join(project, 'new'));
        renameSync(join(project, 'old/a.txt'), join(project, 'new/a.txt'));
      },
      'files',
    );
    expect(files).toEqual(['new/a.txt', 'old/a.txt']);
  });
});

describe('snapshot speed', () => {
  it('snapshots a 5,000-file repository quickly', async () => {
    const project = tempDir();
    const files: Record<string, string> = {};
    for (let i = 0; i < 5000; i++)
      files[`src/m${i % 50}/file${i}.ts`] = `export const v${i} = ${i};\n`;
    gitRepo(project, files);
    for (let i = 0; i < 50; i++) writeFileSync(join(project, `src/m0/file${i * 50}.ts`), 'dirty\n');
    const start = performance.now();
    const before = await snapshotWorkTree(project);
    const after = await snapshotWorkTree(project);
    const elapsed = performance.now() - start;
    expect(before.entries.size).toBe(5000);
    expect(changedFiles(before, after)).toEqual([]);
    // Two snapshots; measured at ~50 ms here. Generous bound for slow CI machines.
    expect(elapsed).toBeLessThan(5000);
  });
});
