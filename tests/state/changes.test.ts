import {
  chmodSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  changedFiles,
  isGitRepo,
  pathChanges,
  type Snapshot,
  type SnapshotOptions,
  snapshotWorkTree,
  WorkTreeWatch,
} from '../../src/state/changes.js';
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

/**
 * snapshotWorkTree, or, `watched`, as a run takes them in place: through one
 * watch per folder, kept across its snapshots (closed after each test).
 */
function snapshots(
  watched: boolean,
): (project: string, options?: SnapshotOptions) => Promise<Snapshot> {
  const watches = new Map<string, WorkTreeWatch>();
  afterEach(() => {
    for (const watch of watches.values()) watch.close();
    watches.clear();
  });
  return (project, options = {}) => {
    if (!watched) return snapshotWorkTree(project, options);
    if (!watches.has(project)) watches.set(project, new WorkTreeWatch(project));
    return snapshotWorkTree(project, { ...options, watch: watches.get(project)! });
  };
}

/** Snapshot, act, snapshot; both snapshots must be of the expected kind (no silent fallback). */
async function measure(
  project: string,
  act: () => void,
  kind: 'git' | 'files' = 'git',
  snapshot: (project: string) => Promise<Snapshot> = snapshotWorkTree,
): Promise<string[]> {
  const before = await snapshot(project);
  act();
  const after = await snapshot(project);
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

  it('tells what happened to each changed path: added, removed or modified', async () => {
    const project = tempDir();
    gitRepo(project, { 'keep.txt': 'k\n', 'edit.txt': 'v1\n', 'drop.txt': 'bye\n' });
    writeFiles(project, { 'scratch.txt': 'before\n' });
    const before = await snapshotWorkTree(project);
    writeFiles(project, { 'edit.txt': 'v2\n', 'scratch.txt': 'after\n', 'made.txt': 'new\n' });
    rmSync(join(project, 'drop.txt'));
    const after = await snapshotWorkTree(project);
    expect(pathChanges(before, after)).toEqual([
      { path: 'drop.txt', change: 'removed' },
      { path: 'edit.txt', change: 'modified' },
      { path: 'made.txt', change: 'added' },
      { path: 'scratch.txt', change: 'modified' },
    ]);
    expect(changedFiles(before, after)).toEqual([
      'drop.txt',
      'edit.txt',
      'made.txt',
      'scratch.txt',
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

describe('changedFiles in a git repository: links, binaries, folders, modes, nested repositories', () => {
  it('reports links made, retargeted and removed, and not a dirty link left alone', async () => {
    const project = tempDir();
    gitRepo(project, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    symlinkSync('a.txt', join(project, 'tracked-link'));
    symlinkSync('a.txt', join(project, 'removed-link'));
    git(project, 'add', '-A');
    git(project, 'commit', '-q', '-m', 'links');
    symlinkSync('nowhere', join(project, 'dangling-left'));
    const files = await measure(project, () => {
      unlinkSync(join(project, 'tracked-link'));
      symlinkSync('b.txt', join(project, 'tracked-link'));
      unlinkSync(join(project, 'removed-link'));
      symlinkSync('a.txt', join(project, 'new-link'));
    });
    expect(files).toEqual(['new-link', 'removed-link', 'tracked-link']);
  });

  it('reports binary files by content', async () => {
    const project = tempDir();
    gitRepo(project, { 'a.bin': '\u0000\u0001\u0002', 'same.bin': '\u0000\u00ff' });
    writeFileSync(join(project, 'dirty.bin'), Buffer.from([0, 1, 2, 3]));
    const files = await measure(project, () => {
      writeFileSync(join(project, 'a.bin'), Buffer.from([0, 1, 3]));
      writeFileSync(join(project, 'new.bin'), Buffer.from([0, 0, 0, 255]));
      // Written again with the same bytes: not a change.
      writeFileSync(join(project, 'same.bin'), Buffer.from([0, 0xc3, 0xbf]));
    });
    expect(files).toEqual(['a.bin', 'new.bin']);
  });

  it('reports files in untracked folders one by one, and nothing for a folder left alone', async () => {
    const project = tempDir();
    gitRepo(project, { 'a.txt': 'a\n' });
    writeFiles(project, { 'scratch/old.txt': 'o\n', 'scratch/deep/old.txt': 'o\n' });
    const files = await measure(project, () => {
      writeFiles(project, {
        'scratch/deep/new.txt': 'n\n',
        'fresh/one.txt': '1\n',
        'fresh/sub/two.txt': '2\n',
      });
      mkdirSync(join(project, 'empty-dir'));
    });
    expect(files).toEqual(['fresh/one.txt', 'fresh/sub/two.txt', 'scratch/deep/new.txt']);
  });

  it('does not report a change of mode alone (the content is what counts)', async () => {
    const project = tempDir();
    gitRepo(project, { 'run.sh': 'echo hi\n', 'other.sh': 'echo\n' });
    const files = await measure(project, () => {
      chmodSync(join(project, 'run.sh'), 0o755);
      writeFiles(project, { 'other.sh': 'echo changed\n' });
    });
    expect(files).toEqual(['other.sh']);
  });

  it('reports a nested repository by its checked-out commit, as one path', async () => {
    const project = tempDir();
    gitRepo(project, { 'a.txt': 'a\n' });
    const nested = join(project, 'nested');
    mkdirSync(nested);
    gitRepo(nested, { 'in.txt': '1\n' });
    const untouched = join(project, 'untouched');
    mkdirSync(untouched);
    gitRepo(untouched, { 'in.txt': '1\n' });
    const files = await measure(project, () => {
      // Edits inside it do not count; its new commit does.
      writeFiles(nested, { 'in.txt': '2\n' });
      git(nested, 'commit', '-q', '-am', 'two');
      writeFiles(untouched, { 'in.txt': 'dirty inside\n' });
    });
    expect(files).toEqual(['nested/']);
  });

  it('sees a rewrite that keeps the size and puts the old modification time back', async () => {
    const project = tempDir();
    gitRepo(project, { 'a.txt': 'a\n' });
    writeFiles(project, { 'untracked.txt': 'before\n', 'dirty-tracked.txt': 'x\n' });
    git(project, 'add', 'dirty-tracked.txt');
    git(project, 'commit', '-q', '-m', 'tracked');
    writeFiles(project, { 'dirty-tracked.txt': 'dirty\n' });
    const old = new Date(Date.now() - 3_600_000);
    for (const f of ['untracked.txt', 'dirty-tracked.txt']) utimesSync(join(project, f), old, old);
    // Two snapshots first: whatever a snapshot remembers of the files, it remembers it now.
    await snapshotWorkTree(project);
    const files = await measure(project, () => {
      for (const [f, text] of [
        ['untracked.txt', 'BEFORE\n'],
        ['dirty-tracked.txt', 'DIRTY\n'],
      ] as const) {
        const path = join(project, f);
        const { atime, mtime } = statSync(path);
        writeFileSync(path, text);
        utimesSync(path, atime, mtime);
      }
    });
    expect(files).toEqual(['dirty-tracked.txt', 'untracked.txt']);
  });

  it('past maxHashed, compares the rest by size and time, and still reports their changes', async () => {
    const project = tempDir();
    gitRepo(project, { 'a.txt': 'a\n' });
    writeFiles(project, { 'u1.txt': '1\n', 'u2.txt': '2\n', 'u3.txt': '3\n', 'u4.txt': '4\n' });
    const before = await snapshotWorkTree(project, { maxHashed: 2 });
    writeFiles(project, { 'u4.txt': 'four\n', 'u1.txt': 'one\n' });
    const after = await snapshotWorkTree(project, { maxHashed: 2 });
    expect([...before.entries.values()].filter((k) => k.startsWith('stat:')).length).toBe(2);
    expect(changedFiles(before, after)).toEqual(['u1.txt', 'u4.txt']);
  });
});

for (const watched of [false, true]) {
  describe(`object ids remembered between snapshots${watched ? ', through a watch' : ''}`, () => {
    const snapshot = snapshots(watched);

    /** Snapshots whose clock is a minute ahead: every file counts as long settled. */
    const later = { now: () => Date.now() + 60_000 };

    it('never hide a change: same size, the old mtime put back, in one task after another', async () => {
      const project = tempDir();
      gitRepo(project, { 'tracked.txt': 'v1\n' });
      writeFiles(project, {
        'tracked.txt': 'dirty\n',
        'untracked.txt': 'aaaa\n',
        'left.txt': 'x\n',
      });
      let before = await snapshot(project, later);
      for (const text of ['bbbb\n', 'cccc\n', 'bbbb\n']) {
        for (const f of ['untracked.txt', 'tracked.txt']) {
          const path = join(project, f);
          const { atime, mtime } = statSync(path);
          writeFileSync(path, f === 'tracked.txt' ? text.replace(/./, 'D') : text);
          utimesSync(path, atime, mtime);
        }
        const after = await snapshot(project, later);
        expect(changedFiles(before, after)).toEqual(['tracked.txt', 'untracked.txt']);
        before = after;
      }
      // Touched, not changed: the same content is no change, remembered or hashed again.
      const now = new Date();
      utimesSync(join(project, 'left.txt'), now, now);
      expect(changedFiles(before, await snapshot(project, later))).toEqual([]);
    });

    it('keep the answer right when the index changes between snapshots', async () => {
      const project = tempDir();
      gitRepo(project, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
      writeFiles(project, { 'new.txt': 'n\n', 'a.txt': 'a2\n' });
      const before = await snapshot(project, later);
      const files = await measure(
        project,
        () => {
          git(project, 'add', 'new.txt', 'a.txt');
          git(project, 'commit', '-q', '-m', 'agent');
          writeFiles(project, { 'b.txt': 'b2\n' });
        },
        'git',
        snapshot,
      );
      expect(files).toEqual(['b.txt']);
      const after = await snapshot(project, later);
      expect(changedFiles(before, after)).toEqual(['b.txt']);
      expect(new Map(after.entries)).toEqual(
        new Map([
          ['a.txt', expect.stringMatching(/^[0-9a-f]{40}$/)],
          ['b.txt', expect.stringMatching(/^[0-9a-f]{40}$/)],
          ['new.txt', expect.stringMatching(/^[0-9a-f]{40}$/)],
        ]),
      );
      expect(after.entries.size).toBe(3);
      expect(after.entries.get('new.txt')).toBe(before.entries.get('new.txt'));
    });
  });
}

for (const watched of [false, true]) {
  describe(`changedFiles without git${watched ? ', through a watch kept between snapshots' : ''}`, () => {
    const snapshot = snapshots(watched);

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
      const before = await snapshot(project);
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
      const after = await snapshot(project);
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
      const before = await snapshot(project, { maxFiles: 5 });
      expect(before).toMatchObject({ truncated: true, boundary: 'f4.txt' });
      expect(before.entries.size).toBe(5);
      writeFiles(project, { 'f1.txt': 'changed\n', 'f8.txt': 'changed, beyond the cap\n' });
      const after = await snapshot(project, { maxFiles: 5 });
      expect(changedFiles(before, after)).toEqual(['f1.txt']);
    });

    it('reports links, skips .git and node_modules folders at any depth and bearing/ only at the top', async () => {
      const project = tempDir();
      writeFiles(project, {
        'a.txt': 'a\n',
        'sub/node_modules/x.js': '1\n',
        'sub/.git/HEAD': 'ref\n',
        'sub/bearing/notes.txt': 'n\n',
      });
      symlinkSync('a.txt', join(project, 'link'));
      symlinkSync('a.txt', join(project, 'left-link'));
      const files = await measure(
        project,
        () => {
          unlinkSync(join(project, 'link'));
          symlinkSync('sub/bearing/notes.txt', join(project, 'link'));
          symlinkSync('a.txt', join(project, 'new-link'));
          writeFiles(project, {
            'sub/node_modules/x.js': '2\n',
            'sub/.git/HEAD': 'ref2\n',
            'sub/bearing/notes.txt': 'n2\n',
          });
          mkdirSync(join(project, 'empty-dir'));
        },
        'files',
        snapshot,
      );
      expect(files).toEqual(['link', 'new-link', 'sub/bearing/notes.txt']);
    });

    it('walks folders depth first in name order: the cap cuts the same place every time', async () => {
      const project = tempDir();
      writeFiles(project, {
        'a/1.txt': '1',
        'a/b/2.txt': '2',
        'a/c.txt': '3',
        'b.txt': '4',
        'c/5.txt': '5',
      });
      const before = await snapshot(project, { maxFiles: 3 });
      expect(before).toMatchObject({ truncated: true, boundary: 'a/c.txt' });
      expect([...before.entries.keys()]).toEqual(['a/1.txt', 'a/b/2.txt', 'a/c.txt']);
      writeFiles(project, { 'a/b/2.txt': 'two', 'b.txt': 'four' });
      const after = await snapshot(project, { maxFiles: 3 });
      expect(changedFiles(before, after)).toEqual(['a/b/2.txt']);
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
        snapshot,
      );
      expect(files).toEqual(['new/a.txt', 'old/a.txt']);
    });
  });
}

describe('a larger repository', () => {
  it('lists all 5,000 files of a repository with dirty ones, and no change between two snapshots', async () => {
    const project = tempDir();
    const files: Record<string, string> = {};
    for (let i = 0; i < 5000; i++)
      files[`src/m${i % 50}/file${i}.ts`] = `export const v${i} = ${i};\n`;
    gitRepo(project, files);
    for (let i = 0; i < 50; i++) writeFileSync(join(project, `src/m0/file${i * 50}.ts`), 'dirty\n');
    // How long it takes is bench/changes.js's business, not a test's.
    const before = await snapshotWorkTree(project);
    const after = await snapshotWorkTree(project);
    expect(before.entries.size).toBe(5000);
    expect(changedFiles(before, after)).toEqual([]);
  });
});
