/**
 * Requests (`bearing approve`, `bearing retry`) made while another process
 * runs the project. Writing state.json from two processes would lose an
 * update, so the command drops a request file and the run applies it at its
 * next decision; a run that starts later applies any left over.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Clock, systemClock } from '../core/clock.js';
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

/**
 * One project's inbox: the commands put requests in, the run takes them out
 * at the start of each step of its loop.
 */
export class Inbox {
  readonly dir: string;
  readonly #now: Clock;

  /** `now` dates the requests put in; their names sort by it. */
  constructor(root: string, now: Clock = systemClock) {
    this.dir = inboxDir(root);
    this.#now = now;
  }

  /** Whether a request is waiting, without consuming it (for the run's poll). */
  waiting(): boolean {
    try {
      return readdirSync(this.dir).some((n) => n.endsWith('.json'));
    } catch {
      return false;
    }
  }

  put(action: InboxRequest['action'], id: string): void {
    mkdirSync(this.dir, { recursive: true });
    const at = this.#now();
    const request: InboxRequest = { action, id, requestedAt: at.toISOString() };
    const name = `${at.getTime().toString().padStart(15, '0')}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.json`;
    writeFileAtomic(join(this.dir, name), `${JSON.stringify(request)}\n`);
  }

  /** Every pending request, oldest first; each is removed once read. Unreadable ones are dropped. */
  take(): InboxRequest[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    names.sort();
    const out: InboxRequest[] = [];
    for (const name of names) {
      const request = readRequest(join(this.dir, name));
      if (request) out.push(request);
    }
    return out;
  }
}

/** The request in `path`, which is removed; undefined when it is not one. */
function readRequest(path: string): InboxRequest | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<InboxRequest>;
    if (
      (parsed.action === 'approve' || parsed.action === 'retry') &&
      typeof parsed.id === 'string'
    ) {
      return {
        action: parsed.action,
        id: parsed.id,
        requestedAt: String(parsed.requestedAt ?? ''),
      };
    }
  } catch {
    // A half-written request cannot exist (atomic write); anything else is not ours.
  } finally {
    rmSync(path, { force: true });
  }
  return undefined;
}
