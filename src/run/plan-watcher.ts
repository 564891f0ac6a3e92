/**
 * Keeps the run's view of the task files current. Re-reading before every
 * decision must be cheap at thousands of tasks, so files are re-parsed only
 * when their names, sizes or mtimes change; chokidar wakes the run loop when
 * a person or the planner edits a file, so new tasks start without waiting
 * for a running one to finish. An invalid edit is reported once and the last
 * valid plan stays in force.
 */
import { statSync } from 'node:fs';
import { type FSWatcher, watch } from 'chokidar';
import type { Diagnostic } from '../core/diagnostic.js';
import { formatDiagnostic } from '../core/diagnostic.js';
import type { Plan } from '../core/task.js';
import { hasRequests, inboxDir } from '../state/inbox.js';
import { configFile, tasksDir } from '../state/paths.js';
import { type LoadResult, listTaskFilesSync, loadProject } from '../tasks/load.js';

export type Reload =
  | { kind: 'same' }
  | { kind: 'changed'; plan: Plan; added: string[]; removed: string[] }
  | { kind: 'invalid'; diagnostics: Diagnostic[] };

const DEBOUNCE_MS = 100;
/**
 * chokidar misses edits made in the moment after 'ready' (its directory watches
 * are attached a little later) and on file systems without change events; a
 * cheap poll of the same fingerprint backs it up.
 */
const POLL_MS = 1000;

export class PlanWatcher {
  #fingerprint = '';
  #plan: Plan | undefined;
  #lastInvalid = '';
  #watcher: FSWatcher | undefined;
  #pendingWake = false;
  #resolveWake: (() => void) | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;

  constructor(
    private readonly root: string,
    private readonly displayBase: string,
  ) {}

  async load(): Promise<LoadResult> {
    this.#fingerprint = this.fingerprint();
    const result = await loadProject(this.root, { displayBase: this.displayBase });
    this.#plan = result.plan;
    return result;
  }

  /** Watch task files, config.yaml and the request inbox; failures to watch only cost latency. */
  async start(): Promise<void> {
    try {
      this.#watcher = watch([tasksDir(this.root), configFile(this.root), inboxDir(this.root)], {
        ignoreInitial: true,
        depth: 2,
      });
      this.#watcher.on('all', () => this.#debouncedWake());
      this.#watcher.on('error', () => {});
      await new Promise<void>((resolve) => {
        this.#watcher!.once('ready', () => resolve());
      });
    } catch {
      this.#watcher = undefined;
    }
    this.#poll = setInterval(() => {
      if (this.fingerprint() !== this.#fingerprint || hasRequests(this.root)) this.wake();
    }, POLL_MS);
    this.#poll.unref();
  }

  #debouncedWake(): void {
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.wake(), DEBOUNCE_MS);
  }

  wake(): void {
    const resolve = this.#resolveWake;
    if (resolve) {
      this.#resolveWake = undefined;
      resolve();
    } else {
      this.#pendingWake = true;
    }
  }

  /** Resolves at the next wake-up (a task ended, a file changed, Ctrl-C). */
  nextWake(): Promise<void> {
    if (this.#pendingWake) {
      this.#pendingWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolveWake = resolve;
    });
  }

  async reloadIfChanged(): Promise<Reload> {
    const fingerprint = this.fingerprint();
    if (fingerprint === this.#fingerprint) return { kind: 'same' };
    this.#fingerprint = fingerprint;
    const result = await loadProject(this.root, { displayBase: this.displayBase });
    if (!result.plan) {
      const key = result.diagnostics.map(formatDiagnostic).join('\n');
      if (key === this.#lastInvalid) return { kind: 'same' };
      this.#lastInvalid = key;
      return { kind: 'invalid', diagnostics: result.diagnostics };
    }
    this.#lastInvalid = '';
    const before = new Set(this.#plan?.tasks.map((t) => t.id));
    const after = new Set(result.plan.tasks.map((t) => t.id));
    this.#plan = result.plan;
    return {
      kind: 'changed',
      plan: result.plan,
      added: [...after].filter((id) => !before.has(id)),
      removed: [...before].filter((id) => !after.has(id)),
    };
  }

  async close(): Promise<void> {
    if (this.#debounce) clearTimeout(this.#debounce);
    clearInterval(this.#poll);
    await this.#watcher?.close();
  }

  /** Names, sizes and mtimes of everything the loader reads. */
  private fingerprint(): string {
    const parts: string[] = [];
    const add = (path: string): void => {
      try {
        const st = statSync(path);
        parts.push(`${path}:${st.size}:${st.mtimeMs}`);
      } catch {
        parts.push(`${path}:-`);
      }
    };
    add(configFile(this.root));
    // Exactly the files the loader reads, so an edit anywhere it looks is seen.
    const dir = tasksDir(this.root);
    parts.push(`dir:${dir}`);
    for (const file of listTaskFilesSync(dir)) add(file);
    return parts.join('\n');
  }
}
