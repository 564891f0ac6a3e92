import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emptyState, type RunState, ZERO_USAGE } from '../../src/core/state.js';
import { journalFile, stateDir, stateFile } from '../../src/state/paths.js';
import { loadState, saveState } from '../../src/state/store.js';
import { useTempDirs } from './support.js';

const tempDir = useTempDirs();
const now = () => new Date('2026-02-03T04:05:06.789Z');

function sample(): RunState {
  return {
    version: 1,
    tasks: {
      'db-schema': {
        id: 'db-schema',
        status: 'failed',
        attempts: [
          {
            attempt: 1,
            startedAt: '2026-01-01T00:00:00.000Z',
            endedAt: '2026-01-01T00:01:00.000Z',
            durationMs: 60_000,
            outcome: 'failed',
            failure: { reason: 'verify-failed', command: 'npm test', exitCode: 1, output: 'boom' },
            costUsd: 0.5,
            usage: { ...ZERO_USAGE, inputTokens: 10 },
          },
        ],
        costUsd: 0.5,
        usage: { ...ZERO_USAGE, inputTokens: 10 },
        turns: 3,
        durationMs: 60_000,
        failure: { reason: 'verify-failed', command: 'npm test', exitCode: 1, output: 'boom' },
        updatedAt: '2026-01-01T00:01:00.000Z',
      },
    },
    lastRun: { startedAt: '2026-01-01T00:00:00.000Z', pid: 42 },
  };
}

function writeRaw(project: string, text: string): void {
  mkdirSync(stateDir(project), { recursive: true });
  writeFileSync(stateFile(project), text);
}

describe('loadState / saveState', () => {
  it('starts empty when nothing has run', () => {
    expect(loadState(tempDir())).toEqual({ ok: true, value: emptyState() });
  });

  it('round-trips a state through an atomic save, leaving a snapshot and an empty journal', () => {
    const project = tempDir();
    saveState(project, sample(), 7);
    expect(loadState(project)).toEqual({ ok: true, value: sample() });
    expect(readdirSync(stateDir(project)).sort()).toEqual(['journal.jsonl', 'state.json']);
    // One compact line, ending in a newline, naming the last journal entry it holds.
    expect(readFileSync(stateFile(project), 'utf8')).toMatch(
      /^\{"version":1,[^\n]*,"journalSeq":7\}\n$/,
    );
    // The journal's first line: the snapshot it continues, and the sha256 of its bytes.
    const sha = createHash('sha256')
      .update(readFileSync(stateFile(project)))
      .digest('hex');
    expect(readFileSync(journalFile(project), 'utf8')).toBe(`{"base":7,"stateSha256":"${sha}"}\n`);
  });

  it('keeps fields it does not know (written by a newer minor version) through load and save', () => {
    const project = tempDir();
    const withExtra = { ...sample(), futureField: { a: 1 } };
    writeRaw(project, JSON.stringify(withExtra));
    const loaded = loadState(project);
    if (!loaded.ok) throw new Error(loaded.error.message);
    saveState(project, loaded.value, 0);
    expect(JSON.parse(readFileSync(stateFile(project), 'utf8'))).toEqual({
      ...withExtra,
      journalSeq: 0,
    });
    expect(loadState(project)).toEqual({ ok: true, value: withExtra });
  });

  it('reports broken JSON with the file and the parse error, and keeps a copy once', () => {
    const project = tempDir();
    const broken = '{"version": 1, "tasks": {"a": ';
    writeRaw(project, broken);
    const first = loadState(project, { now });
    expect(first.ok).toBe(false);
    if (first.ok) return;
    const copy = `${stateFile(project)}.corrupt-20260203T040506-789Z`;
    expect(first.error).toMatchObject({
      reason: 'corrupt',
      file: stateFile(project),
      preservedAs: copy,
    });
    expect(first.error.message).toContain(`${stateFile(project)}: not valid JSON (`);
    expect(first.error.message).toContain(`A copy was kept at ${copy}.`);
    expect(readFileSync(copy, 'utf8')).toBe(broken);
    expect(readFileSync(stateFile(project), 'utf8')).toBe(broken);

    // Loading again (every `bearing status`) does not pile up copies.
    const second = loadState(project, { now: () => new Date('2026-02-03T05:00:00.000Z') });
    expect(second.ok || second.error.preservedAs).toBe(copy);
    expect(readdirSync(stateDir(project)).sort()).toEqual([
      'state.json',
      'state.json.corrupt-20260203T040506-789Z',
    ]);
  });

  it('keeps a second copy when the damaged content changes', () => {
    const project = tempDir();
    writeRaw(project, '');
    loadState(project, { now });
    writeRaw(project, 'nonsense');
    const r = loadState(project, { now });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.error.preservedAs).toBe(`${stateFile(project)}.corrupt-20260203T040506-789Z-2`);
    expect(readdirSync(stateDir(project))).toHaveLength(3);
  });

  it('names every field of the wrong shape, by path', () => {
    const project = tempDir();
    const bad = sample() as unknown as { tasks: Record<string, Record<string, unknown>> };
    bad.tasks['db-schema']!.status = 'exploded';
    bad.tasks['db-schema']!.turns = -1;
    (bad.tasks['db-schema']!.attempts as Record<string, unknown>[])[0]!.failure = {
      reason: 'gremlins',
    };
    writeRaw(project, JSON.stringify(bad));
    const r = loadState(project, { now });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.reason).toBe('invalid');
    expect(r.error.message).toContain(`${stateFile(project)}: not a Bearing run state: `);
    expect(r.error.message).toContain('tasks.db-schema.status: ');
    expect(r.error.message).toContain('tasks.db-schema.turns: ');
    expect(r.error.message).toContain('tasks.db-schema.attempts[0].failure.reason: ');
    expect(r.error.preservedAs).toBeDefined();
  });

  it('checks a state.json edited since the run saved it, and not one read back as written', () => {
    const project = tempDir();
    saveState(project, sample(), 7);
    const edited = readFileSync(stateFile(project), 'utf8').replace(
      '"status":"failed"',
      '"status":"exploded"',
    );
    writeFileSync(stateFile(project), edited);
    // The journal's sha256 is of the bytes the run wrote: these are checked.
    const r = loadState(project, { now });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain('tasks.db-schema.status: ');
    // A journal that vouches for these very bytes, as for a run's own: not checked again.
    const sha = createHash('sha256').update(edited).digest('hex');
    writeFileSync(journalFile(project), `{"base":7,"stateSha256":"${sha}"}\n`);
    expect(loadState(project, { now }).ok).toBe(true);
  });

  it('rejects a task stored under another id', () => {
    const project = tempDir();
    const s = sample();
    s.tasks.other = { ...s.tasks['db-schema']! };
    writeRaw(project, JSON.stringify(s));
    const r = loadState(project, { now });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain('tasks.other.id: expected "other"');
  });

  it('asks for an upgrade rather than calling a newer state corrupt', () => {
    const project = tempDir();
    writeRaw(project, JSON.stringify({ version: 2, tasks: {} }));
    const r = loadState(project, { now });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.reason).toBe('unsupported-version');
    expect(r.error.message).toContain('upgrade bearing');
    expect(readdirSync(stateDir(project))).toEqual(['state.json']);
  });

  it('reports an unreadable state file as a value', () => {
    const project = tempDir();
    mkdirSync(stateFile(project), { recursive: true }); // a directory where the file should be
    const r = loadState(project);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.reason).toBe('unreadable');
  });
});
