/**
 * Requests (`bearing approve`, `bearing retry`) made while another process
 * runs the project. Writing state.json from two processes would lose an
 * update, so the command drops a request file and the run applies it at its
 * next decision; a run that starts later applies any left over.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { stateDir } from './paths.js';

export interface InboxRequest {
  action: 'approve' | 'retry';
  id: string;
  requestedAt: string;
}

/** Where requests wait; the run watches it. */
export function inboxDir(root: string): string {
  return join(stateDir(root), 'inbox');
}

/** Whether a request is waiting, without consuming it (for the run's poll). */
export function hasRequests(root: string): boolean {
  try {
    return readdirSync(inboxDir(root)).some((n) => n.endsWith('.json'));
  } catch {
    return false;
  }
}

export function writeRequest(root: string, request: InboxRequest): void {
  const dir = inboxDir(root);
  mkdirSync(dir, { recursive: true });
  const name = `${Date.now().toString().padStart(15, '0')}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.json`;
  writeFileAtomic(join(dir, name), `${JSON.stringify(request)}\n`);
}

/** Every pending request, oldest first; each is removed once read. Unreadable ones are dropped. */
export function readInbox(root: string): InboxRequest[] {
  const dir = inboxDir(root);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  names.sort();
  const out: InboxRequest[] = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<InboxRequest>;
      if (
        (parsed.action === 'approve' || parsed.action === 'retry') &&
        typeof parsed.id === 'string'
      ) {
        out.push({
          action: parsed.action,
          id: parsed.id,
          requestedAt: String(parsed.requestedAt ?? ''),
        });
      }
    } catch {
      // A half-written request cannot exist (atomic write); anything else is not ours.
    }
    rmSync(path, { force: true });
  }
  return out;
}
