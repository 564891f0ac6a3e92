import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { emptyState } from '../../src/core/state.js';
import type { StatusFiles } from '../../src/core/status-report.js';
import { RunRecorder } from '../../src/run/recorder.js';
import { statusFile } from '../../src/state/paths.js';
import { useFixtures } from '../helpers/fixtures.js';

const fixtures = useFixtures();

/** A recorder in a new project whose status is `render`'s and whose clock is `clock` (ms). */
async function recorderWith(render: () => StatusFiles, clock: () => number) {
  const fx = await fixtures.create({ 'bearing/config.yaml': '' });
  const recorder = new RunRecorder({
    root: fx.dir,
    state: () => emptyState(),
    seq: 0,
    live: () => [],
    renderStatus: render,
    onFailure: () => {},
    now: () => new Date(clock()),
  });
  return { recorder, status: () => readFileSync(statusFile(fx.dir), 'utf8') };
}

it('spaces status.md writes by its clock, not the wall clock', async () => {
  let t = Date.parse('2026-05-01T10:00:00Z');
  const { recorder, status } = await recorderWith(
    () => ({ main: `at ${t}\n` }),
    () => t,
  );
  try {
    recorder.save();
    recorder.flushStatus();
    const first = status();
    expect(first).toBe(`at ${t}\n`);

    t += 50;
    recorder.save();
    recorder.flushStatus();
    expect(status()).toBe(first); // 50 ms after the last write: left for later

    t += 200;
    recorder.save();
    recorder.flushStatus();
    expect(status()).toBe(`at ${t}\n`); // 250 ms after it: written at once
  } finally {
    recorder.close();
  }
});

it('spaces status.md writes by their size, and writes at once when forced (the run ends)', async () => {
  let t = Date.parse('2026-05-01T10:00:00Z');
  // A plan of some 1,000 tasks: 256 KB of status.md.
  const render = () => ({ main: `at ${t}\n${'x'.repeat(256 * 1024)}\n` });
  const { recorder, status } = await recorderWith(render, () => t);
  try {
    recorder.save();
    recorder.flushStatus();
    const first = status();
    expect(first).toBe(render().main);

    t += 1_000;
    recorder.save();
    recorder.flushStatus();
    expect(status()).toBe(first); // 1 s after a 256 KB write: left for later

    t += 1_300;
    recorder.save();
    recorder.flushStatus();
    expect(status()).toBe(render().main); // 2.3 s after it (200 ms + 1 s per 128 KB): written

    t += 10;
    recorder.save();
    recorder.flushStatus(true);
    expect(status()).toBe(render().main); // the final save: at once
  } finally {
    recorder.close();
  }
});

it('spaces status.md writes by the time the last one took: 19 times as long, so status takes a twentieth of the run', async () => {
  let t = Date.parse('2026-05-01T10:00:00Z');
  // A large plan: little is written, but finding what changed takes 100 ms.
  const render = () => {
    t += 100;
    return { main: `at ${t}\n` };
  };
  const { recorder, status } = await recorderWith(render, () => t);
  try {
    recorder.save();
    recorder.flushStatus();
    const first = status();

    t += 1_700; // 1.8 s after the last write started: 1.9 s are due
    recorder.save();
    recorder.flushStatus();
    expect(status()).toBe(first);

    t += 150; // 1.95 s after it: written
    recorder.save();
    recorder.flushStatus();
    expect(status()).not.toBe(first);
  } finally {
    recorder.close();
  }
});
