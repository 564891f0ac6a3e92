/**
 * Keeps the run's view of the task files current. Re-reading before every
 * decision must be cheap at thousands of tasks, so files are re-parsed only
 * when their names, sizes or mtimes change; chokidar wakes the run loop when
 * a person or the planner edits a file, so new tasks start without waiting
 * for a running one to finish. An invalid edit is reported once and the last
 * valid plan stays in force.
 *
 * A task that disappears from the files is not believed at once: `git stash`,
 * a branch switch or an editor's save-by-rename take files away for a moment
 * and put them back. Acting on that would end the run with planned tasks
 * never run, so a removal is held (the current plan stays in force) until it
 * has lasted `removalConfirmMs`; if the tasks come back first, nothing was
 * removed. Additions and edits that remove nothing apply at once.
 */
import { mkdirSync, statSync } from 'node:fs';
import { type FSWatcher, watch } from 'chokidar';
import { type Clock, systemClock } from '../core/clock.js';
import type { Diagnostic } from '../core/diagnostic.js';
import { formatDiagnostic } from '../core/diagnostic.js';
import type { Plan } from '../core/task.js';
import { Inbox } from '../state/inbox.js';
import { configFile, planCacheFile, tasksDir } from '../state/paths.js';
import { type LoadResult, listTaskFilesSync, loadProjectToKeep } from '../tasks/load.js';

export type Reload =
  | { kind: 'same' }
  | { kind: 'changed'; plan: Plan; added: string[]; removed: string[] }
  | { kind: 'invalid'; diagnostics: Diagnostic[] }
  /**
   * Tasks of the current plan are missing from the files; the current plan
   * stays in force until `until` (epoch ms). Reported once per change of the
   * missing set, like `invalid`; `removalPendingUntil()` says whether a
   * removal is still unconfirmed.
   */
  | { kind: 'unsure'; missing: string[]; until: number };

export interface PlanWatcherOptions {
  /** How long a task must stay missing from the files before its removal is acted on. */
  removalConfirmMs?: number;
  /** Injected so tests can step time. */
  now?: Clock;
}

/**
 * Long enough for a `git stash pop`, a branch switch or a rename-and-back by
 * hand, short enough that a deliberate removal shows up promptly.
 */
export const REMOVAL_CONFIRM_MS = 5000;

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
  /** When each task id missing from the files was first seen missing. */
  #missingSince = new Map<string, number>();
  /** The plan the files describe while a removal is unconfirmed. */
  #pending: Plan | undefined;
  #pendingKey = '';
  #confirmTimer: NodeJS.Timeout | undefined;
  readonly #confirmMs: number;
  readonly #now: Clock;
  /** Watched, and polled, for requests: they wake the run like an edit. */
  readonly #inbox: Inbox;
  /** Writes the last valid plan for the reading commands, until it has been written. */
  #keep: ((cacheFile: string) => void) | undefined;
  /** The run holds the lock (start() was called): it may write `.state/`. */
  #holding = false;

  constructor(
    private readonly root: string,
    private readonly displayBase: string,
    options: PlanWatcherOptions = {},
  ) {
    this.#confirmMs = options.removalConfirmMs ?? REMOVAL_CONFIRM_MS;
    this.#now = options.now ?? systemClock;
    this.#inbox = new Inbox(root);
  }

  async load(): Promise<LoadResult> {
    this.#fingerprint = this.fingerprint();
    const result = await this.#loadFiles();
    this.#plan = result.plan;
    return result;
  }

  /** Load the files; a valid plan is kept for `bearing status` once the run holds the lock. */
  async #loadFiles(): Promise<LoadResult> {
    const { result, keep } = await loadProjectToKeep(this.root, { displayBase: this.displayBase });
    if (keep) {
      this.#keep = keep;
      if (this.#holding) this.#keepPlan();
    }
    return result;
  }

  #keepPlan(): void {
    this.#keep?.(planCacheFile(this.root));
    this.#keep = undefined;
  }

  /**
   * Watch task files, config.yaml and the request inbox; failures to watch
   * only cost latency. Called once the run holds the lock: from here on each
   * valid plan is kept for the reading commands, the one loaded first too.
   */
  async start(): Promise<void> {
    this.#holding = true;
    this.#keepPlan();
    try {
      // chokidar watches a missing path through its parent: without the inbox,
      // that is `.state`, and every state save would make it re-read the folder.
      mkdirSync(this.#inbox.dir, { recursive: true });
      this.#watcher = watch([tasksDir(this.root), configFile(this.root), this.#inbox.dir], {
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
      if (this.fingerprint() !== this.#fingerprint || this.#inbox.waiting()) this.wake();
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
    if (fingerprint === this.#fingerprint) {
      // The files are as they were when the removal was first seen: it is
      // confirmed once it has lasted long enough.
      if (this.#pending) {
        const until = this.#confirmAt();
        if (this.#ms() >= until) return this.#apply(this.#pending);
        // A timer may fire a millisecond before the wall clock says it is
        // due: without a new one, nothing would wake the run to confirm it.
        if (!this.#confirmTimer) this.#armConfirm(until);
      }
      return { kind: 'same' };
    }
    this.#fingerprint = fingerprint;
    const result = await this.#loadFiles();
    if (!result.plan) {
      // The last valid plan stays in force; what the files said before no longer holds.
      this.#clearPending();
      const key = result.diagnostics.map(formatDiagnostic).join('\n');
      if (key === this.#lastInvalid) return { kind: 'same' };
      this.#lastInvalid = key;
      return { kind: 'invalid', diagnostics: result.diagnostics };
    }
    this.#lastInvalid = '';
    const after = new Set(result.plan.tasks.map((t) => t.id));
    const missing = (this.#plan?.tasks ?? []).map((t) => t.id).filter((id) => !after.has(id));
    if (missing.length === 0) return this.#apply(result.plan);

    const now = this.#ms();
    for (const id of [...this.#missingSince.keys()]) {
      if (!missing.includes(id)) this.#missingSince.delete(id);
    }
    for (const id of missing) if (!this.#missingSince.has(id)) this.#missingSince.set(id, now);
    this.#pending = result.plan;
    const until = this.#confirmAt();
    if (now >= until) return this.#apply(result.plan);
    this.#armConfirm(until);
    const key = missing.join('\n');
    if (key === this.#pendingKey) return { kind: 'same' };
    this.#pendingKey = key;
    return { kind: 'unsure', missing, until };
  }

  /**
   * Epoch ms at which an unconfirmed removal will be acted on, or undefined
   * when none is pending. Until then the run should neither end nor start
   * tasks: the files may be half-way through a branch switch. The watcher
   * wakes the run itself at that time.
   */
  removalPendingUntil(): number | undefined {
    return this.#pending ? this.#confirmAt() : undefined;
  }

  /** The latest moment any missing task was first seen missing, plus the confirm delay. */
  #confirmAt(): number {
    return Math.max(...this.#missingSince.values()) + this.#confirmMs;
  }

  #apply(plan: Plan): Reload {
    const before = new Set(this.#plan?.tasks.map((t) => t.id));
    const after = new Set(plan.tasks.map((t) => t.id));
    this.#plan = plan;
    this.#clearPending();
    return {
      kind: 'changed',
      plan,
      added: [...after].filter((id) => !before.has(id)),
      removed: [...before].filter((id) => !after.has(id)),
    };
  }

  #clearPending(): void {
    this.#pending = undefined;
    this.#pendingKey = '';
    this.#missingSince.clear();
    if (this.#confirmTimer) clearTimeout(this.#confirmTimer);
    this.#confirmTimer = undefined;
  }

  /** Wake the run when the removal is due, so it is confirmed even if nothing else happens. */
  #armConfirm(until: number): void {
    if (this.#confirmTimer) clearTimeout(this.#confirmTimer);
    this.#confirmTimer = setTimeout(
      () => {
        this.#confirmTimer = undefined;
        this.wake();
      },
      Math.max(0, until - this.#ms()),
    );
  }

  #ms(): number {
    return this.#now().getTime();
  }

  async close(): Promise<void> {
    if (this.#debounce) clearTimeout(this.#debounce);
    if (this.#confirmTimer) clearTimeout(this.#confirmTimer);
    clearInterval(this.#poll);
    if (this.#watcher) clearThrottles(this.#watcher);
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

/**
 * chokidar 5.0's close() empties its table of throttles without clearing
 * their timers. A folder re-read is throttled for 1 s, so a save made just
 * before a run ended kept the process alive for a second after its last
 * task. Clearing them first leaves close() nothing to forget; close() then
 * sets `closed` in the same tick, so no new throttle starts in between.
 */
function clearThrottles(watcher: FSWatcher): void {
  for (const byPath of watcher._throttled.values()) {
    for (const throttle of byPath.values()) clearTimeout(throttle.timeoutObject);
  }
}
