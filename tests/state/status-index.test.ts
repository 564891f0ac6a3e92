/**
 * The copy of the index a run's git status writes (src/state/status-index.ts):
 * snapshots through it say what snapshots reading the index itself say
 * (tests/state/tree-watch.test.ts holds them equal step by step), and here:
 * the person's index is never written, git's untracked cache is kept in the
 * copy, and where the copy must not or cannot be used, it is not.
 */
import { mkdirSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { snapshotWorkTree, WorkTreeWatch } from '../../src/state/changes.js';
import {
  git,
  gitRepo,
  ownTempDirs,
  sortedEntries,
  useClosing,
  useTempDirs,
  writeFiles,
} from './support.js';

const tempDir = useTempDirs();
const closing = useClosing();
const workTreeWatch = (root: string): WorkTreeWatch => closing(new WorkTreeWatch(root));

/** This process's copies of the index. */
const copies = (): string[] =>
  ownTempDirs('bearing-index-').map((name) => join(tmpdir(), name, 'index'));

/** What tells whether a file was written: its identity, size and times, to the nanosecond. */
function stamp(file: string): string {
  const st = statSync(file, { bigint: true });
  return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** A repository with tracked files and untracked ones in folders of their own. */
function repoWithUntracked(root: string): void {
  gitRepo(root, { 'src/a.ts': 'a', 'src/b.ts': 'b', 'top.txt': 't' });
  writeFiles(root, { 'gen/x/1.ts': '1', 'gen/y/2.ts': '2', 'notes.md': 'n' });
}

describe("the run's copy of the index", () => {
  it("never writes the person's index; git keeps its untracked cache in the copy", async () => {
    const root = tempDir();
    repoWithUntracked(root);
    const index = join(root, '.git', 'index');
    const before = stamp(index);
    const watch = workTreeWatch(root);
    for (let step = 0; step < 4; step++) {
      writeFiles(root, { 'src/a.ts': `a${step}`, [`gen/x/new${step}.ts`]: `${step}` });
      const watched = await snapshotWorkTree(root, { watch });
      expect(sortedEntries(watched), `step ${step}`).toEqual(
        sortedEntries(await snapshotWorkTree(root)),
      );
    }
    expect(stamp(index)).toBe(before);
    const [copy, ...others] = copies();
    expect(others).toEqual([]);
    // The index extension git's untracked cache is stored in.
    expect(readFileSync(copy!).includes('UNTR')).toBe(true);
    watch.close();
    expect(copies()).toEqual([]);
  });

  it('is made again when it went (a cleaner of the temp folder), not read as an empty index', async () => {
    for (const cleaned of ['file', 'folder'] as const) {
      const root = tempDir();
      repoWithUntracked(root);
      const watch = workTreeWatch(root);
      for (let step = 0; step < 2; step++) await snapshotWorkTree(root, { watch });
      const [copy] = copies();
      rmSync(cleaned === 'file' ? copy! : join(copy!, '..'), { recursive: true });
      // A tracked file deleted: an empty index would not know it was there.
      unlinkSync(join(root, 'src', 'b.ts'));
      const watched = await snapshotWorkTree(root, { watch });
      expect(watched.entries.has('src/b.ts'), cleaned).toBe(false);
      expect(sortedEntries(watched), cleaned).toEqual(sortedEntries(await snapshotWorkTree(root)));
      expect(copies(), cleaned).toHaveLength(1);
      watch.close();
    }
  });

  it('closed while a status reads it, is removed once that status has read it whole', async () => {
    const root = tempDir();
    repoWithUntracked(root);
    const watch = workTreeWatch(root);
    await snapshotWorkTree(root, { watch }); // lists the index: the next status reads the copy
    unlinkSync(join(root, 'src', 'b.ts'));
    const pending = snapshotWorkTree(root, { watch });
    await new Promise((resolve) => setImmediate(resolve)); // its git status has started
    expect(copies()).toHaveLength(1);
    watch.close();
    expect(copies()).toHaveLength(1);
    const watched = await pending;
    expect(watched.entries.has('src/b.ts')).toBe(false);
    expect(sortedEntries(watched)).toEqual(sortedEntries(await snapshotWorkTree(root)));
    expect(copies()).toEqual([]);
  });

  it("is not used with a submodule, whose own index git's status would write", async () => {
    const root = tempDir();
    mkdirSync(join(root, 'sub'));
    gitRepo(join(root, 'sub'), { 'inner.txt': 'i' });
    gitRepo(root, { 'top.txt': 't' }); // adds sub as a gitlink to the repository inside
    expect(git(root, 'ls-files', '-s', 'sub')).toMatch(/^160000 /);
    const subIndex = join(root, 'sub', '.git', 'index');
    const before = stamp(subIndex);
    const watch = workTreeWatch(root);
    for (let step = 0; step < 3; step++) {
      writeFiles(root, { 'sub/inner.txt': `i${step}`, 'top.txt': `t${step}` });
      const watched = await snapshotWorkTree(root, { watch });
      expect(sortedEntries(watched), `step ${step}`).toEqual(
        sortedEntries(await snapshotWorkTree(root)),
      );
    }
    expect(copies()).toEqual([]);
    expect(stamp(subIndex)).toBe(before);
  });

  it('is not used for a project below the top of its work tree', async () => {
    const root = tempDir();
    repoWithUntracked(root);
    const project = join(root, 'src');
    const watch = workTreeWatch(project);
    for (let step = 0; step < 3; step++) {
      writeFiles(project, { 'a.ts': `a${step}`, [`new${step}.ts`]: `${step}` });
      const watched = await snapshotWorkTree(project, { watch });
      expect(sortedEntries(watched), `step ${step}`).toEqual(
        sortedEntries(await snapshotWorkTree(project)),
      );
    }
    expect(copies()).toEqual([]);
  });
});
