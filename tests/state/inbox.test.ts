import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Inbox } from '../../src/state/inbox.js';
import { useTempDirs } from './support.js';

const tempDir = useTempDirs();

describe('Inbox', () => {
  it('dates requests by its clock and hands them out oldest first, once', () => {
    const root = tempDir();
    new Inbox(root, () => new Date('2026-05-01T10:00:02.000Z')).put('retry', 'b');
    new Inbox(root, () => new Date('2026-05-01T10:00:01.000Z')).put('approve', 'a');
    const inbox = new Inbox(root);
    expect(inbox.waiting()).toBe(true);
    expect(inbox.take()).toEqual([
      { action: 'approve', id: 'a', requestedAt: '2026-05-01T10:00:01.000Z' },
      { action: 'retry', id: 'b', requestedAt: '2026-05-01T10:00:02.000Z' },
    ]);
    expect(inbox.waiting()).toBe(false);
    expect(inbox.take()).toEqual([]);
  });

  it('drops a file that is not a request', () => {
    const root = tempDir();
    const inbox = new Inbox(root);
    inbox.put('approve', 'a');
    writeFileSync(join(inbox.dir, '0-other.json'), '{"action": "delete", "id": "a"}\n');
    expect(inbox.take().map((r) => r.id)).toEqual(['a']);
    expect(inbox.waiting()).toBe(false);
  });
});
