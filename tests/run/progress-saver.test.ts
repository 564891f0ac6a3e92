/**
 * The running attempts' progress is saved at most once a second, whatever
 * the number of events, and a burst never goes unsaved.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunEvent } from '../../src/run/events.js';
import { ProgressSaver } from '../../src/run/progress-saver.js';

const progress: RunEvent = {
  type: 'progress',
  id: 'a',
  attempt: 1,
  progress: {
    turns: 1,
    usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
  },
};

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ProgressSaver', () => {
  it('saves a burst of events once, at once when nothing was saved lately, then at most once a second', () => {
    let saves = 0;
    const saver = new ProgressSaver(
      () => saves++,
      1000,
      () => Date.now(),
    );
    for (let i = 0; i < 50; i++) saver.onEvent(progress);
    vi.advanceTimersByTime(0);
    expect(saves).toBe(1);
    // Events keep coming for 3.5 s: one save per second, not one per event.
    for (let t = 0; t < 3500; t += 10) {
      saver.onEvent(progress);
      vi.advanceTimersByTime(10);
    }
    expect(saves).toBe(4);
    // The last events are saved too, a second after the save before them.
    vi.advanceTimersByTime(1000);
    expect(saves).toBe(5);
    vi.advanceTimersByTime(5000);
    expect(saves).toBe(5);
  });

  it('ignores other events, and saves nothing once closed', () => {
    let saves = 0;
    const saver = new ProgressSaver(
      () => saves++,
      1000,
      () => Date.now(),
    );
    saver.onEvent({ type: 'note', message: 'x' });
    saver.onEvent(progress);
    saver.close();
    saver.onEvent(progress);
    vi.advanceTimersByTime(5000);
    expect(saves).toBe(0);
  });
});
