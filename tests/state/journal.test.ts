/**
 * The state's journal (state/journal.ts) read back by store.ts: what a run
 * saved is exactly what every reader loads, a save costs the same bytes
 * whatever the plan's size, and no crash (a line cut at any byte, a kill -9
 * at any moment, a compaction cut between its two writes) loses a save that
 * finished or turns the state into an error.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { putRecord, type RunState, type TaskRecord, ZERO_USAGE } from '../../src/core/state.js';
import { StateJournal } from '../../src/state/journal.js';
import { journalFile, stateDir, stateFile } from '../../src/state/paths.js';
import { loadState, readState } from '../../src/state/store.js';
import { bundle, nodeChild, useTempDirs, waitFor, withNatives } from './support.js';

const tempDir = useTempDirs();
const now = () => new Date('2026-02-03T04:05:06.789Z');

function record(id: string, status: TaskRecord['status'] = 'queued'): TaskRecord {
  return {
    id,
    status,
    attempts: [],
    costUsd: 0,
    usage: ZERO_USAGE,
    turns: 0,
    durationMs: 0,
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

function stateOf(n: number): RunState {
  const tasks: Record<string, TaskRecord> = {};
  for (let i = 0; i < n; i++) {
    const id = `t${String(i).padStart(5, '0')}`;
    tasks[id] = record(id, 'completed');
  }
  return { version: 1, tasks, lastRun: { startedAt: '2026-01-01T00:00:00.000Z', pid: 42 } };
}

function load(project: string): RunState {
  const loaded = loadState(project, { now });
  if (!loaded.ok) throw new Error(loaded.error.message);
  return loaded.value;
}

const journalText = (project: string) => readFileSync(journalFile(project), 'utf8');

/** A run's worth of saves: after each, the state as it was then. */
function saveSequence(project: string): RunState[] {
  const state = stateOf(3);
  const journal = new StateJournal(project, 0);
  const seen: RunState[] = [];
  const save = (touched: string[] = []) => {
    journal.save(state, new Set(touched));
    seen.push(structuredClone(state));
  };
  try {
    save();
    // A record replaced, as the transitions do.
    putRecord(state, 't00000', { ...record('t00000', 'running'), attempts: [] });
    save();
    // A running record changed in place, named by nobody.
    state.tasks.t00000!.attempts.push({
      attempt: 1,
      startedAt: '2026-01-01T00:00:01.000Z',
      outcome: 'running',
      process: { token: 'tok', pgid: 1234 },
    });
    save();
    // A finished record changed in place, named by the caller (a review action).
    state.tasks.t00001!.status = 'queued';
    state.tasks.t00001!.retryFrom = 0;
    save(['t00001']);
    // A new task, and the last run's waits.
    putRecord(state, 'fresh', record('fresh', 'failed'));
    state.lastRun!.waits = [
      { cli: 'claude', kind: 'limit', until: '2026-01-01T05:00:00.000Z', message: 'limit' },
    ];
    save();
    // Nothing changed: nothing is written.
    save();
  } finally {
    journal.close();
  }
  return seen;
}

describe('the state journal', () => {
  it('reads back exactly the state of each save, appending to the journal after the first', () => {
    const project = tempDir();
    const state = stateOf(3);
    const journal = new StateJournal(project, 0);
    try {
      journal.save(state, new Set());
      expect(load(project)).toEqual(state);
      const snapshot = readFileSync(stateFile(project));
      const lines = () => journalText(project).split('\n').length;
      const before = lines();
      putRecord(state, 't00002', record('t00002', 'failed'));
      journal.save(state, new Set());
      state.tasks.t00002!.status = 'queued';
      journal.save(state, new Set(['t00002']));
      expect(load(project)).toEqual(state);
      expect(lines()).toBe(before + 2);
      // The snapshot was not touched by the appends.
      expect(readFileSync(stateFile(project))).toEqual(snapshot);
    } finally {
      journal.close();
    }
  });

  it('records in-place changes of running and named tasks, new tasks and the last run', () => {
    const project = tempDir();
    const seen = saveSequence(project);
    expect(load(project)).toEqual(seen.at(-1));
    // The save with nothing changed wrote no line: one line per save that changed something.
    expect(journalText(project).trimEnd().split('\n')).toHaveLength(1 + seen.length - 2);
  });

  it('appends the same bytes for a transition whether the plan has 10 or 10,000 tasks', () => {
    const appended: number[] = [];
    for (const n of [10, 10_000]) {
      const project = tempDir();
      const state = stateOf(n);
      const journal = new StateJournal(project, 0);
      try {
        journal.save(state, new Set());
        const snapshotBefore = statSync(stateFile(project)).size;
        const journalBefore = statSync(journalFile(project)).size;
        putRecord(state, 't00003', { ...record('t00003', 'running'), attempts: [] });
        journal.save(state, new Set());
        expect(statSync(stateFile(project)).size).toBe(snapshotBefore);
        appended.push(statSync(journalFile(project)).size - journalBefore);
        expect(load(project)).toEqual(state);
      } finally {
        journal.close();
      }
    }
    expect(appended[0]).toBeGreaterThan(0);
    expect(appended[1]).toBe(appended[0]);
  });

  it('ignores a last line cut at any byte, and never loses an earlier line', () => {
    const project = tempDir();
    const seen = saveSequence(project);
    const full = readFileSync(journalFile(project));
    const lastStart = full.lastIndexOf(0x0a, full.length - 2) + 1;
    // The last line is the save that added `fresh`; the one before it is the review.
    const before = seen.at(-3)!;
    for (let cut = lastStart; cut < full.length; cut++) {
      writeFileSync(journalFile(project), full.subarray(0, cut));
      expect(load(project), `cut at byte ${cut}`).toEqual(before);
    }
    writeFileSync(journalFile(project), full);
    expect(load(project)).toEqual(seen.at(-1));
    // Nothing was reported as damaged.
    expect(readdirSync(stateDir(project)).sort()).toEqual(['journal.jsonl', 'state.json']);
  });

  it('a new writer after a cut line starts from a snapshot, so its lines never join the cut one', () => {
    const project = tempDir();
    saveSequence(project);
    const full = readFileSync(journalFile(project));
    writeFileSync(journalFile(project), full.subarray(0, full.length - 7));
    const loaded = readState(project);
    if (!loaded.ok) throw new Error(loaded.error.message);
    const { state, seq } = loaded.value;
    const journal = new StateJournal(project, seq);
    try {
      journal.save(state, new Set());
      putRecord(state, 't00002', record('t00002', 'running'));
      journal.save(state, new Set());
      expect(load(project)).toEqual(state);
      expect(journalText(project).endsWith('\n')).toBe(true);
    } finally {
      journal.close();
    }
  });

  it('reports a damaged whole line by file and line, keeps a copy, and leaves the journal alone', () => {
    const project = tempDir();
    saveSequence(project);
    const lines = journalText(project).split('\n');
    lines[2] = `#${lines[2]!.slice(1)}`;
    const damaged = lines.join('\n');
    writeFileSync(journalFile(project), damaged);
    const r = loadState(project, { now });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.reason).toBe('corrupt');
    expect(r.error.message).toContain(`${journalFile(project)}: line 3: not valid JSON (`);
    expect(r.error.message).toContain('delete it to go back to the state as of the last snapshot');
    expect(readFileSync(r.error.preservedAs!, 'utf8')).toBe(damaged);
    expect(journalText(project)).toBe(damaged);
  });

  it('names a line of the wrong shape by its path', () => {
    const project = tempDir();
    saveSequence(project);
    const text = journalText(project).replace('"status":"queued"', '"status":"exploded"');
    writeFileSync(journalFile(project), text);
    const r = loadState(project, { now });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.reason).toBe('invalid');
      expect(r.error.message).toMatch(
        /journal\.jsonl: line \d+: not a Bearing run state: tasks\.t00001\.status: expected one of/,
      );
    }
  });

  it('skips entries a snapshot already holds: a compaction cut between its two writes', () => {
    const project = tempDir();
    const seen = saveSequence(project);
    const oldJournal = readFileSync(journalFile(project));
    const state = structuredClone(seen.at(-1)!);
    // The writer's seq continues the journal it found.
    const loaded = readState(project);
    if (!loaded.ok) throw new Error(loaded.error.message);
    const writer = new StateJournal(project, loaded.value.seq);
    try {
      // The snapshot holds a newer t00000 than any line of the old journal.
      putRecord(state, 't00000', record('t00000', 'completed'));
      writer.compact(state);
      // A crash before the new journal replaced the old one leaves the old one.
      writeFileSync(journalFile(project), oldJournal);
      expect(load(project)).toEqual(state);
    } finally {
      writer.close();
    }
  });

  it('reports a journal that continues a newer snapshot than the one there', () => {
    const project = tempDir();
    saveSequence(project);
    const snapshot = JSON.parse(readFileSync(stateFile(project), 'utf8'));
    writeFileSync(stateFile(project), JSON.stringify({ ...snapshot, journalSeq: 0 }));
    const text = journalText(project).replace(/^\{"base":\d+,/, '{"base":1,');
    writeFileSync(
      journalFile(project),
      text.replace(/"seq":(\d+)/g, (_, n) => `"seq":${Number(n) + 1}`),
    );
    const r = loadState(project, { now });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain('line 1: continues a newer');
  });

  it('writes the whole state again after .state/ was deleted', () => {
    const project = tempDir();
    const state = stateOf(3);
    const journal = new StateJournal(project, 0);
    try {
      journal.save(state, new Set());
      rmSync(stateDir(project), { recursive: true });
      putRecord(state, 't00001', record('t00001', 'failed'));
      journal.save(state, new Set());
      expect(load(project)).toEqual(state);
    } finally {
      journal.close();
    }
  });

  it('is told of every record the run replaces: src/ writes records only through putRecord', () => {
    const src = join(import.meta.dirname, '..', '..', 'src');
    const writes: string[] = [];
    for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      readFileSync(join(src, file), 'utf8')
        .split('\n')
        .forEach((line) => {
          // `x.tasks[id] = ...`, `x.tasks.id = ...`: a record put behind the journal's back.
          if (/\.tasks(\[[^\]]+\]|\.\w+)\s*=[^=]/.test(line))
            writes.push(`${file}: ${line.trim()}`);
        });
    }
    // putRecord's own write.
    expect(writes).toEqual(['core/state.ts: state.tasks[id] = stored;']);
  });

  it('saves a removed record as a new snapshot', () => {
    const project = tempDir();
    const state = stateOf(3);
    const journal = new StateJournal(project, 0);
    try {
      journal.save(state, new Set());
      delete state.tasks.t00001;
      putRecord(state, 'other', record('other'));
      journal.save(state, new Set(['t00001']));
      expect(load(project)).toEqual(state);
      expect(journalText(project)).toMatch(/^\{"base":\d+,"stateSha256":"[0-9a-f]{64}"\}\n$/);
    } finally {
      journal.close();
    }
  });
});

describe('records put', () => {
  it('share one hidden class per set of fields, however they were made; the running attempt is not copied', async () => {
    // Hidden classes are V8's, seen only with --allow-natives-syntax: a child
    // process runs transitions.ts's spreads as a run does, 200 times.
    const child = await withNatives(
      { state: 'src/core/state.ts', transitions: 'src/core/transitions.ts' },
      (modules) => `
const { putRecord } = await import(${JSON.stringify(modules.state)});
const { beginAttempt } = await import(${JSON.stringify(modules.transitions)});
const state = { version: 1, tasks: {} };
for (let i = 0; i < 200; i++) {
  const { record } = beginAttempt(undefined, 't' + i, { attempt: 1, token: 'x' }, new Date());
  const running = record.attempts[0];
  putRecord(state, 't' + i, record);
  if (state.tasks['t' + i].attempts[0] !== running) throw new Error('the running attempt was copied');
  // Ended, as finishAttempt ends it: a spread of the running one.
  const ended = { ...running, outcome: 'completed', endedAt: new Date().toISOString() };
  putRecord(state, 't' + i, { ...state.tasks['t' + i], status: 'completed', attempts: [ended] });
}
const records = Object.values(state.tasks);
const others = (list) => list.filter((r) => !sameMap(r, list[0])).length;
console.log(JSON.stringify({ records: others(records), attempts: others(records.map((r) => r.attempts[0])) }));
`,
    );
    expect(child.stderr).toBe('');
    // What the run keeps: every record, and every ended attempt, on one
    // hidden class. (The objects the spreads made are not: on Node 20, all
    // but a few have their own.)
    expect(JSON.parse(child.stdout)).toEqual({ records: 0, attempts: 0 });
  });
});

describe('a record put with a field named __proto__ (only a hand-edited state.json has one)', () => {
  it('keeps it as a field, not as the prototype', () => {
    const text = JSON.stringify(record('a')).replace(/\}$/, ',"__proto__":{"status":"failed"}}');
    const state: RunState = { version: 1, tasks: {} };
    putRecord(state, 'a', JSON.parse(text) as TaskRecord);
    expect(Object.getPrototypeOf(state.tasks.a)).toBe(Object.prototype);
    expect(JSON.stringify(state.tasks.a)).toBe(text);
  });
});

describe('the state journal under kill -9', () => {
  let journalModule = '';
  let bundleDir = '';

  beforeAll(async () => {
    bundleDir = mkdtempSync(join(tmpdir(), 'bearing-bundle-'));
    journalModule = (await bundle(bundleDir, { journal: 'src/state/journal.ts' })).journal!;
    return () => rmSync(bundleDir, { recursive: true, force: true });
  });

  /**
   * A run that saves as fast as it can: each save changes 20 of 200 records,
   * named to the journal,
   * and counts in lastRun.pid, so the journal is compacted every few dozen
   * saves. It says which count each save that returned holds.
   */
  const WRITER = `
import { StateJournal } from ${JSON.stringify('MODULE')};
const [project, from] = process.argv.slice(1);
const tasks = {};
for (let i = 0; i < 200; i++) {
  const id = 't' + i;
  tasks[id] = { id, status: 'queued', attempts: [], costUsd: 0, turns: 0, durationMs: 0,
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    updatedAt: '2026-01-01T00:00:00.000Z', summary: 'x'.repeat(200) };
}
const state = { version: 1, tasks, lastRun: { startedAt: '2026-01-01T00:00:00.000Z', pid: Number(from) } };
const journal = new StateJournal(project, Number(process.argv[3] ?? 0));
for (let n = Number(from) + 1; ; n++) {
  const changed = new Set();
  for (let k = 0; k < 20; k++) {
    const id = 't' + ((n * 20 + k) % 200);
    state.tasks[id] = { ...state.tasks[id], turns: n };
    changed.add(id);
  }
  state.lastRun.pid = n;
  journal.save(state, changed);
  process.stdout.write(n + '\\n');
}
`;

  it('loses no save that returned, wherever the kill lands, and readers never see an error', async () => {
    const project = tempDir();
    let count = 0;
    let seq = 0;
    for (let round = 0; round < 4; round++) {
      const { child, lines, exited } = nodeChild(WRITER.replace('MODULE', journalModule), [
        project,
        String(count),
        String(seq),
      ]);
      await waitFor(() => lines.length > 30 + round * 40);
      // Readers meanwhile see whole, consistent states that only move forward.
      let last = count;
      for (let i = 0; i < 20; i++) {
        const read = load(project).lastRun!.pid;
        expect(read).toBeGreaterThanOrEqual(last);
        last = read;
      }
      const drained = new Promise((resolve) => child.stdout!.once('close', resolve));
      child.kill('SIGKILL');
      await exited;
      // Every count it wrote before it died (its stdout, a pipe, is written synchronously).
      await drained;
      const returned = Number(lines.at(-1));
      const loaded = readState(project, { now });
      if (!loaded.ok) throw new Error(loaded.error.message);
      const { state } = loaded.value;
      // Every save that returned is there; the one the kill cut may be too.
      expect(state.lastRun!.pid).toBeGreaterThanOrEqual(returned);
      expect(state.lastRun!.pid).toBeLessThanOrEqual(returned + 1);
      // Each record holds the count of the last save that changed it.
      const n = state.lastRun!.pid;
      for (let k = 0; k < 20; k++) {
        expect(state.tasks[`t${(n * 20 + k) % 200}`]!.turns).toBe(n);
      }
      count = n;
      seq = loaded.value.seq;
    }
    expect(readdirSync(stateDir(project)).filter((f) => f.includes('corrupt'))).toEqual([]);
  });
});
