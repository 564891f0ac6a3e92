/**
 * The watch a run keeps over its project folder (src/state/tree-watch.ts),
 * and snapshots taken through it without git: they must say exactly what a
 * walk of every file says, whatever the agent did to the tree, including
 * when the watch cannot vouch for what it saw and the snapshot walks again.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
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
import { describe, expect, it } from 'vitest';
import {
  pathChanges,
  type Snapshot,
  snapshotWorkTree,
  WorkTreeWatch,
} from '../../src/state/changes.js';
import { TreeWatch } from '../../src/state/tree-watch.js';
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
const treeWatch = (root: string, options?: { maxEvents?: number }): TreeWatch =>
  closing(new TreeWatch(root, options));
const workTreeWatch = (root: string, options?: { maxEvents?: number }): WorkTreeWatch =>
  closing(new WorkTreeWatch(root, options));

/** This process's fence folders. */
const fences = (): string[] => ownTempDirs('bearing-fence-');

describe('TreeWatch', () => {
  it('names what was written, as soon as the writes are done', async () => {
    const root = tempDir();
    writeFiles(root, { 'a/b/old.txt': 'o', 'keep.txt': 'k' });
    const watch = treeWatch(root);
    for (const folder of ['', 'a', 'a/b']) watch.watch(folder);
    expect((await watch.take())?.named).toEqual(new Set());
    // No wait between the writes and the take: the fence is what makes them arrive.
    writeFileSync(join(root, 'a/b/old.txt'), 'changed');
    writeFileSync(join(root, 'a/new.txt'), 'n');
    mkdirSync(join(root, 'c'));
    const written = await watch.take();
    expect(written).toBeDefined();
    expect([...written!.named].sort()).toEqual(['a/b/old.txt', 'a/new.txt', 'c']);
    expect(written!.touches('a/b/old.txt')).toBe(true);
    expect(written!.touches('c/inside.txt')).toBe(true); // under a folder that was named
    expect(written!.touches('keep.txt')).toBe(false);
    expect(written!.touches('a/b')).toBe(false);
    // Each take counts from the last.
    expect((await watch.take())?.named).toEqual(new Set());
  });

  it('does not vouch past its count of events, and does again once reset', async () => {
    const root = tempDir();
    // A new file is two events: made, then written.
    const watch = treeWatch(root, { maxEvents: 8 });
    watch.watch('');
    for (let i = 0; i < 3; i++) writeFileSync(join(root, `f${i}`), 'x');
    expect((await watch.take())?.named.size).toBe(3);
    for (let i = 0; i < 6; i++) writeFileSync(join(root, `g${i}`), 'x');
    expect(await watch.take()).toBeUndefined();
    // Still not, until the caller starts over: what it saw meanwhile is lost.
    writeFileSync(join(root, 'h'), 'x');
    expect(await watch.take()).toBeUndefined();
    watch.reset();
    expect(watch.isWatched('')).toBe(false);
    watch.watch('');
    writeFileSync(join(root, 'h'), 'y');
    expect([...((await watch.take())?.named ?? [])]).toEqual(['h']);
  });

  it('does not vouch when its fence folder went (a temp cleaner), and does with a new one', async () => {
    const root = tempDir();
    const before = fences();
    const watch = treeWatch(root);
    watch.watch('');
    expect(await watch.take()).toBeDefined();
    const made = fences().filter((name) => !before.includes(name));
    expect(made.length).toBe(1);
    rmSync(join(tmpdir(), made[0]!), { recursive: true });
    writeFileSync(join(root, 'a'), 'x');
    expect(await watch.take()).toBeUndefined();
    watch.reset();
    watch.watch('');
    writeFileSync(join(root, 'b'), 'x');
    expect([...((await watch.take())?.named ?? [])]).toEqual(['b']);
  });

  it("removes the fence folders of processes gone (a killed run's), not those of live ones", async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    const leftByDead = mkdtempSync(join(tmpdir(), `bearing-fence-${gone}-`));
    const ours = mkdtempSync(join(tmpdir(), `bearing-fence-${process.pid}-`));
    const other = mkdtempSync(join(tmpdir(), 'bearing-fence-not-a-pid-'));
    try {
      const watch = treeWatch(tempDir());
      watch.watch('');
      expect(await watch.take()).toBeDefined();
      expect(existsSync(leftByDead)).toBe(false);
      expect(existsSync(ours)).toBe(true);
      expect(existsSync(other)).toBe(true);
    } finally {
      for (const dir of [leftByDead, ours, other]) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('once closed, never vouches, and leaves no fence folder behind', async () => {
    const root = tempDir();
    const before = fences();
    const watch = treeWatch(root);
    watch.watch('');
    expect(await watch.take()).toBeDefined();
    expect(fences().length).toBe(before.length + 1);
    watch.close();
    expect(fences()).toEqual(before);
    watch.reset();
    watch.watch('');
    expect(watch.open).toBe(false);
    expect(watch.isWatched('')).toBe(false);
    expect(await watch.take()).toBeUndefined();
  });
});

/** A small deterministic random source, so a failing sequence can be replayed. */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n;
  };
}

const FOLDERS = ['', 'a', 'a/b', 'a/b/c', 'd', 'd/e', 'node_modules/x', 'bearing', 'a/.git', 'f'];

/** One thing an agent may do to a tree; each tolerates what is not there. */
function act(
  root: string,
  pick: (n: number) => number,
  step: number,
  folders: readonly string[] = FOLDERS,
): void {
  const folder = folders[Math.floor(pick(folders.length))]!;
  const dir = folder ? join(root, folder) : root;
  const name = `n${Math.floor(pick(4))}`;
  const path = join(dir, name);
  const quietly = (f: () => void): void => {
    try {
      f();
    } catch {
      // the path is not what this step needs: the step does nothing
    }
  };
  switch (Math.floor(pick(10))) {
    case 0:
    case 1:
      quietly(() => mkdirSync(dir, { recursive: true }));
      quietly(() => writeFileSync(path, `${step}`.repeat(1 + Math.floor(pick(3)))));
      break;
    case 2:
      quietly(() => unlinkSync(path));
      break;
    case 3:
      if (folder) rmSync(dir, { recursive: true, force: true });
      break;
    case 4: {
      // A folder moved, onto a new name or over an empty one.
      const to = folders[Math.floor(pick(folders.length))]!;
      if (folder && to && !to.startsWith(folder)) quietly(() => renameSync(dir, join(root, to)));
      break;
    }
    case 5:
      // A file replaced by a folder with a file in it, or the other way round.
      quietly(() => rmSync(path, { recursive: true, force: true }));
      if (pick(2) < 1)
        quietly(() => writeFiles(root, { [join(folder, name, 'in.txt')]: `${step}` }));
      else quietly(() => writeFileSync(path, `${step}`));
      break;
    case 6:
      quietly(() => symlinkSync(`target-${step}`, `${path}-link`));
      break;
    case 7: {
      const later = new Date(Date.now() + step * 1000);
      quietly(() => utimesSync(path, later, later));
      break;
    }
    case 8:
      // Rewritten to the same size, its times put back: only its ctime tells.
      quietly(() => {
        const { atime, mtime, size } = statSync(path);
        writeFileSync(path, String.fromCharCode(97 + (step % 26)).repeat(size));
        utimesSync(path, atime, mtime);
      });
      break;
    default:
      // A new folder, written into at once.
      quietly(() => writeFiles(root, { [join(folder, `new${step}`, 'x', 'y.txt')]: `${step}` }));
  }
}

/**
 * `steps` rounds of `agent`'s work, each followed by a snapshot through
 * `watch` and one without: they must agree on every entry, and on what
 * changed since the round before.
 */
async function agreeStepByStep(
  root: string,
  watch: WorkTreeWatch,
  kind: Snapshot['kind'],
  steps: number,
  label: string,
  agent: (step: number) => void,
): Promise<void> {
  let lastWatched = await snapshotWorkTree(root, { watch });
  let lastPlain = await snapshotWorkTree(root);
  for (let step = 0; step < steps; step++) {
    agent(step);
    const watched = await snapshotWorkTree(root, { watch });
    const plain = await snapshotWorkTree(root);
    expect([watched.kind, plain.kind]).toEqual([kind, kind]);
    expect(sortedEntries(watched), `${label}, step ${step}`).toEqual(sortedEntries(plain));
    expect(pathChanges(lastWatched, watched), `${label}, step ${step}`).toEqual(
      pathChanges(lastPlain, plain),
    );
    lastWatched = watched;
    lastPlain = plain;
  }
}

describe('snapshots through a watch, without git', () => {
  for (const [label, maxEvents] of [
    ['with room for every event', undefined],
    ['with room for few events, walking again when past it', 6],
  ] as const) {
    it(`say what a walk of every file says, step after step (${label})`, async () => {
      for (const seed of [1, 2, 3]) {
        const root = tempDir();
        writeFiles(root, { 'a/b/c/deep.txt': 'd', 'd/e/x.txt': 'x', 'top.txt': 't' });
        const watch = workTreeWatch(root, maxEvents === undefined ? {} : { maxEvents });
        const pick = random(seed);
        await agreeStepByStep(root, watch, 'files', 40, `seed ${seed}`, (step) => {
          const acts = 1 + Math.floor(pick(5));
          for (let k = 0; k < acts; k++) act(root, pick, step);
        });
      }
    });
  }

  it('keeps each snapshot as it was taken while the watch goes on', async () => {
    const root = tempDir();
    writeFiles(root, { 'a.txt': 'a' });
    const watch = workTreeWatch(root);
    const first = await snapshotWorkTree(root, { watch });
    writeFiles(root, { 'b.txt': 'b' });
    const second = await snapshotWorkTree(root, { watch });
    writeFiles(root, { 'c.txt': 'c', 'a.txt': 'changed' });
    rmSync(join(root, 'b.txt'));
    const third = await snapshotWorkTree(root, { watch });
    expect([...first.entries.keys()]).toEqual(['a.txt']);
    expect([...second.entries.keys()].sort()).toEqual(['a.txt', 'b.txt']);
    expect(pathChanges(first, second)).toEqual([{ path: 'b.txt', change: 'added' }]);
    expect(pathChanges(second, third)).toEqual([
      { path: 'a.txt', change: 'modified' },
      { path: 'b.txt', change: 'removed' },
      { path: 'c.txt', change: 'added' },
    ]);
  });

  it('takes snapshots asked for together one after the other, each right', async () => {
    const root = tempDir();
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) files[`m${i % 10}/f${i}.txt`] = `${i}`;
    writeFiles(root, files);
    const watch = workTreeWatch(root);
    await snapshotWorkTree(root, { watch });
    writeFiles(root, { 'm3/f3.txt': 'changed', 'm9/new.txt': 'n' });
    const [one, two] = await Promise.all([
      snapshotWorkTree(root, { watch }),
      snapshotWorkTree(root, { watch }),
    ]);
    const walked = sortedEntries(await snapshotWorkTree(root));
    expect(sortedEntries(one)).toEqual(walked);
    expect(sortedEntries(two)).toEqual(walked);
  });

  it('past the file cap, walks every time as without a watch', async () => {
    const root = tempDir();
    writeFiles(root, { 'a.txt': '1', 'b.txt': '2', 'c.txt': '3' });
    const watch = workTreeWatch(root);
    const before = await snapshotWorkTree(root, { watch, maxFiles: 2 });
    expect(before).toMatchObject({ truncated: true, boundary: 'b.txt' });
    expect(watch.tree.open).toBe(false);
    writeFiles(root, { 'a.txt': 'changed' });
    const after = await snapshotWorkTree(root, { watch, maxFiles: 2 });
    expect(pathChanges(before, after)).toEqual([{ path: 'a.txt', change: 'modified' }]);
  });
});

/** What an agent may write to a .gitignore: files, folders, negations, nothing. */
const IGNORE_RULES = ['n1\n', 'n2\n!n3\n', '*-link\n', 'x/\n', 'new*\n!new1*\n', 'b\n', ''];

describe('snapshots through a watch, in git', () => {
  const folders = FOLDERS.filter((f) => !f.includes('.git'));

  for (const [label, maxEvents] of [
    ['with room for every event', undefined],
    ['with room for few events, looking at every file again when past it', 6],
  ] as const) {
    it(`say what snapshots without one say, step after step (${label})`, async () => {
      for (const seed of [4, 5]) {
        const root = tempDir();
        gitRepo(root, { 'a/b/c/deep.txt': 'd', 'd/e/x.txt': 'x', 'top.txt': 't' });
        writeFiles(root, { 'd/untracked.txt': 'u', 'f/n1': 'f' });
        const watch = workTreeWatch(root, maxEvents === undefined ? {} : { maxEvents });
        const pick = random(seed);
        await agreeStepByStep(root, watch, 'git', 25, `seed ${seed}`, (step) => {
          const acts = 1 + Math.floor(pick(5));
          for (let k = 0; k < acts; k++) act(root, pick, step, folders);
          // Now and then the agent stages or commits (the index changes under
          // the snapshots), or changes what git ignores.
          const gitStep = Math.floor(pick(8));
          if (gitStep === 0) git(root, 'add', '-A');
          if (gitStep === 1) git(root, 'commit', '-q', '--allow-empty', '-am', `step ${step}`);
          if (gitStep === 2) {
            const folder = folders[Math.floor(pick(folders.length))]!;
            const rules = IGNORE_RULES[Math.floor(pick(IGNORE_RULES.length))]!;
            writeFiles(root, { [join(folder, '.gitignore')]: rules });
          }
        });
      }
    });
  }

  it('watch a folder made again, or moved away and made again, as the new folder it is', async () => {
    for (const replace of ['remove', 'move'] as const) {
      const root = tempDir();
      gitRepo(root, { 'tracked.txt': 't' });
      writeFiles(root, { 'd/e/u.txt': 'v1' });
      const watch = workTreeWatch(root);
      let before = await snapshotWorkTree(root, { watch });
      if (replace === 'remove') rmSync(join(root, 'd'), { recursive: true });
      else renameSync(join(root, 'd'), join(root, 'moved'));
      writeFiles(root, { 'd/e/u.txt': 'v2' });
      let after = await snapshotWorkTree(root, { watch });
      expect(pathChanges(before, after).map((c) => c.path)).toContain('d/e/u.txt');
      // The old folder's watch went with it: this write is seen by the new one's.
      for (const text of ['v3', 'v4']) {
        writeFiles(root, { 'd/e/u.txt': text });
        before = after;
        after = await snapshotWorkTree(root, { watch });
        expect(pathChanges(before, after), `${replace}, ${text}`).toEqual([
          { path: 'd/e/u.txt', change: 'modified' },
        ]);
      }
    }
  });
});
