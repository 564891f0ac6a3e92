import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { runProject } from '../../src/run/runner.js';

const ROOT = join(import.meta.dirname, '..', '..');
let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('reads a claude result line longer than 1 MiB (a long final message) as a success', async () => {
  dir = mkdtempSync(join(tmpdir(), 'bearing-long-line-'));
  mkdirSync(join(dir, 'bearing', 'tasks'), { recursive: true });
  writeFileSync(
    join(dir, 'bearing', 'tasks', 't.yaml'),
    'id: talk\nexpect_changes: false\nprompt: talk at length\n',
  );
  const script = join(dir, 'script.json');
  const summary = `${'word '.repeat(400_000)}done`; // about 2 MB on one JSON line
  writeFileSync(script, JSON.stringify([{ match: 'talk', outcome: 'success', summary }]));
  const end = await runProject({
    root: dir,
    displayBase: dir,
    env: {
      PATH: [
        join(ROOT, 'tests', 'fixtures', 'bin'),
        dirname(process.execPath),
        '/usr/bin',
        '/bin',
      ].join(':'),
      HOME: dir,
      BEARING_FAKE_SCRIPT: script,
    },
    signal: new AbortController().signal,
    onEvent: () => {},
    killGraceMs: 500,
  });
  const state = JSON.parse(readFileSync(join(dir, 'bearing', '.state', 'state.json'), 'utf8'));
  expect(state.tasks.talk.failure).toBeUndefined();
  expect(end.kind).toBe('done');
  expect(state.tasks.talk.status).toBe('completed');
  expect(state.tasks.talk.summary.endsWith('done')).toBe(true);
});
