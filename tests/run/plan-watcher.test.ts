/**
 * PlanWatcher against real files in a temp dir: a task file that vanishes for
 * a moment (git stash, a branch switch) must not be taken for a removal.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/core/task.js';
import { PlanWatcher } from '../../src/run/plan-watcher.js';
import { planCacheFile, stateDir } from '../../src/state/paths.js';
import { loadProject, loadProjectCached } from '../../src/tasks/load.js';
import { useFixtures } from '../helpers/fixtures.js';

const fixtures = useFixtures();

const TASKS = {
  'bearing/tasks/a.yaml': 'tasks:\n  - id: a\n    cli: shell\n    run: "true"\n',
  'bearing/tasks/b.yaml':
    'tasks:\n  - id: b\n    cli: shell\n    run: "true"\n  - id: c\n    cli: shell\n    run: "true"\n',
};

/** A watcher on a fresh project whose clock the test steps by hand. */
async function watched(confirmMs = 5000) {
  const fx = await fixtures.create(TASKS);
  let now = 1_000_000;
  const watcher = new PlanWatcher(fx.dir, fx.dir, {
    removalConfirmMs: confirmMs,
    now: () => new Date(now),
  });
  const first = await watcher.load();
  expect(first.plan?.tasks.map((t) => t.id)).toEqual(['a', 'b', 'c']);
  return {
    fx,
    watcher,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

describe('PlanWatcher: removals are confirmed before they count', () => {
  it('keeps the plan when a task file is moved away and put back', async () => {
    const { fx, watcher, advance } = await watched();
    try {
      const file = fx.path('bearing/tasks/b.yaml');
      renameSync(file, `${file}.away`);
      const gone = await watcher.reloadIfChanged();
      expect(gone).toEqual({ kind: 'unsure', missing: ['b', 'c'], until: 1_000_000 + 5000 });
      expect(watcher.removalPendingUntil()).toBe(1_000_000 + 5000);
      // Asking again while nothing changed says nothing new and removes nothing.
      advance(2000);
      expect(await watcher.reloadIfChanged()).toEqual({ kind: 'same' });

      renameSync(`${file}.away`, file);
      const back = await watcher.reloadIfChanged();
      expect(back.kind === 'changed' ? back.removed : back).toEqual([]);
      expect(watcher.removalPendingUntil()).toBeUndefined();
      // Long after, nothing is removed either.
      advance(60_000);
      expect(await watcher.reloadIfChanged()).toEqual({ kind: 'same' });
    } finally {
      await watcher.close();
    }
  });

  it('acts on a removal once it has lasted the confirm time', async () => {
    const { fx, watcher, advance } = await watched();
    try {
      rmSync(fx.path('bearing/tasks/b.yaml'));
      expect((await watcher.reloadIfChanged()).kind).toBe('unsure');
      advance(4999);
      expect(await watcher.reloadIfChanged()).toEqual({ kind: 'same' });
      expect(watcher.removalPendingUntil()).toBe(1_000_000 + 5000);
      advance(1);
      const confirmed = await watcher.reloadIfChanged();
      expect(confirmed).toMatchObject({ kind: 'changed', added: [], removed: ['b', 'c'] });
      expect(confirmed.kind === 'changed' && confirmed.plan.tasks.map((t) => t.id)).toEqual(['a']);
      expect(watcher.removalPendingUntil()).toBeUndefined();
    } finally {
      await watcher.close();
    }
  });

  it('counts the confirm time from when the last missing task went missing', async () => {
    const { fx, watcher, advance } = await watched();
    try {
      rmSync(fx.path('bearing/tasks/b.yaml'));
      expect((await watcher.reloadIfChanged()).kind).toBe('unsure');
      advance(3000);
      rmSync(fx.path('bearing/tasks/a.yaml'));
      expect(await watcher.reloadIfChanged()).toEqual({
        kind: 'unsure',
        missing: ['a', 'b', 'c'],
        until: 1_000_000 + 3000 + 5000,
      });
      advance(2000);
      expect(await watcher.reloadIfChanged()).toEqual({ kind: 'same' });
      advance(3000);
      expect(await watcher.reloadIfChanged()).toMatchObject({
        kind: 'changed',
        removed: ['a', 'b', 'c'],
      });
    } finally {
      await watcher.close();
    }
  });

  it('applies additions and edits that remove nothing at once', async () => {
    const { fx, watcher } = await watched();
    try {
      await fx.write({ 'bearing/tasks/d.yaml': 'id: d\ncli: shell\nrun: "true"\n' });
      expect(await watcher.reloadIfChanged()).toMatchObject({
        kind: 'changed',
        added: ['d'],
        removed: [],
      });
      expect(watcher.removalPendingUntil()).toBeUndefined();
    } finally {
      await watcher.close();
    }
  });

  it('wakes the run when a pending removal falls due, with no other event', async () => {
    const fx = await fixtures.create(TASKS);
    const watcher = new PlanWatcher(fx.dir, fx.dir, { removalConfirmMs: 50 });
    try {
      await watcher.load();
      rmSync(fx.path('bearing/tasks/b.yaml'));
      expect((await watcher.reloadIfChanged()).kind).toBe('unsure');
      // As the run loop does: wait, reload. A timer that fires a millisecond
      // early by the wall clock gets one wake more (the next test).
      let reload: Awaited<ReturnType<PlanWatcher['reloadIfChanged']>>;
      do {
        await watcher.nextWake();
        reload = await watcher.reloadIfChanged();
      } while (reload.kind === 'same');
      expect(reload).toMatchObject({ kind: 'changed', removed: ['b', 'c'] });
    } finally {
      await watcher.close();
    }
  });

  it('wakes the run again when its timer fired before the clock says the removal is due', async () => {
    const fx = await fixtures.create(TASKS);
    let now = 1_000_000;
    const watcher = new PlanWatcher(fx.dir, fx.dir, {
      removalConfirmMs: 50,
      now: () => new Date(now),
    });
    try {
      await watcher.load();
      rmSync(fx.path('bearing/tasks/b.yaml'));
      expect((await watcher.reloadIfChanged()).kind).toBe('unsure');
      // The timer fires, but the wall clock is a millisecond short of due.
      now += 49;
      await watcher.nextWake();
      expect(await watcher.reloadIfChanged()).toEqual({ kind: 'same' });
      now += 1;
      await watcher.nextWake();
      expect(await watcher.reloadIfChanged()).toMatchObject({
        kind: 'changed',
        removed: ['b', 'c'],
      });
    } finally {
      await watcher.close();
    }
  });
});

describe('PlanWatcher.close', () => {
  const ROOT = join(import.meta.dirname, '..', '..');
  const PROBE = join(ROOT, 'tests', 'fixtures', 'probes', 'watcher-close.mjs');

  /** Runs the probe in its own process, where the only timers are the watcher's. */
  function probe(project: string, saveDir: string): Promise<{ timers: number }> {
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [PROBE, join(ROOT, 'dist'), project, saveDir],
        { timeout: 20_000 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`${error.message}\n${stderr}`));
          else resolve(JSON.parse(stdout) as { timers: number });
        },
      );
    });
  }

  // chokidar 5 forgets its throttle timers on close() without clearing them
  // (a directory re-read is throttled for 1 s), and a save in the last moment
  // before a run ended kept the process alive that long. One probe catches
  // the moment only sometimes, so several run side by side.
  it('leaves no timer that keeps the process alive, after saves right before close', async () => {
    const runs = await Promise.all(
      ['bearing/.state', 'bearing/tasks'].flatMap((saveDir) =>
        Array.from({ length: 4 }, async () => {
          const fx = await fixtures.create();
          return { saveDir, ...(await probe(fx.dir, saveDir)) };
        }),
      ),
    );
    expect(runs.filter((r) => r.timers > 0)).toEqual([]);
  });
});

describe('PlanWatcher: the plan is kept for the reading commands', () => {
  it('once the run holds the lock (start), and again after each valid edit', async () => {
    const { fx, watcher } = await watched();
    const cacheFile = planCacheFile(fx.dir);
    const keptIds = () =>
      (JSON.parse(readFileSync(cacheFile, 'utf8')) as { plan: Plan }).plan.tasks.map((t) => t.id);
    try {
      // Loaded before the lock is taken: nothing is written yet.
      mkdirSync(stateDir(fx.dir), { recursive: true });
      expect(existsSync(cacheFile)).toBe(false);
      await watcher.start();
      expect(keptIds()).toEqual(['a', 'b', 'c']);
      expect(await loadProjectCached(fx.dir, { displayBase: fx.dir, cacheFile })).toEqual(
        await loadProject(fx.dir, { displayBase: fx.dir }),
      );

      writeFileSync(fx.path('bearing/tasks/d.yaml'), 'id: d\ncli: shell\nrun: "true"\n');
      expect((await watcher.reloadIfChanged()).kind).toBe('changed');
      expect(keptIds()).toEqual(['a', 'b', 'c', 'd']);

      // An edit that does not validate leaves the last valid plan kept.
      writeFileSync(fx.path('bearing/tasks/e.yaml'), 'id: e\ncli: shell\n');
      expect((await watcher.reloadIfChanged()).kind).toBe('invalid');
      expect(keptIds()).toEqual(['a', 'b', 'c', 'd']);
    } finally {
      await watcher.close();
    }
  });
});
