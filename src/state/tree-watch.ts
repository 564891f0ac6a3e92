/**
 * Which paths under a folder something wrote to since we last asked, on the
 * kernel's word: one inotify watch per folder (Node's `fs.watch`, not
 * recursive), so that a snapshot of a large tree looks at those paths instead
 * of every file (src/state/changes.ts).
 *
 * A watch is only worth anything if it can vouch for having seen everything:
 *
 * - Events arrive asynchronously. `take()` first writes a file in a folder of
 *   its own, also watched, and waits for that event: all of a process's
 *   watches share one inotify queue (libuv keeps one per event loop), which
 *   is first in, first out, so every write made before (the agent's, which
 *   ended before we asked) has been delivered by then.
 * - The kernel's queue holds `max_queued_events`; past that, events are
 *   dropped, and nothing of that reaches Node. A queue that overflowed held
 *   that many events, all read before the fence's: when half as many arrive
 *   between two takes, the watch does not vouch.
 * - A folder's watch follows the folder, not its path, and ends when the
 *   folder goes: a folder's own name in its parent's events means its watch
 *   (and those below it) must be made again. The caller does that (`unwatch`,
 *   then `watch`), since only it knows what it wants watched.
 *
 * When it cannot vouch (a watch could not be made, an error, too many events,
 * the fence not back in time), `take()` says so and the caller looks at
 * everything, as without a watch. A folder that cannot be watched (the limit
 * of watches) or a fence not back in 5 s closes it for good. Only on Linux:
 * elsewhere `fs.watch` of a folder is not inotify and this ordering is not
 * promised.
 *
 * chokidar, which `bearing watch` uses, reports after a stat of its own per
 * event, throttled: nothing there tells when every write up to a moment is in.
 */
import { type FSWatcher, readFileSync, rmSync, unlinkSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ownTempDir } from './own-temp-dir.js';

/** How long the fence's event may take before the watch is judged broken. */
const FENCE_TIMEOUT_MS = 5000;
/** The kernel's default, when /proc does not say. */
const DEFAULT_QUEUE = 16_384;

/** The paths written since the last take: a path counts as written if it or a folder above it was named. */
export class WrittenPaths {
  constructor(readonly named: ReadonlySet<string>) {}

  /** Whether `path` ('/'-separated, relative) or a folder it is in was named in an event. */
  touches(path: string): boolean {
    if (this.named.size === 0) return false;
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      if (this.named.has(path.slice(0, slash))) return true;
    }
    return this.named.has(path);
  }
}

export class TreeWatch {
  readonly #root: string;
  /** Watched folders, relative ('' is the root). */
  readonly #folders = new Map<string, FSWatcher>();
  #named = new Set<string>();
  #events = 0;
  /** Elsewhere than on Linux it is closed from the start: it never vouches. */
  #closed = process.platform !== 'linux';
  /** Whether the watch can vouch for what it saw since the last take. */
  #vouches = !this.#closed;
  #fence: Fence | undefined;
  readonly #maxEvents: number;

  /** `maxEvents`: past this many between takes it does not vouch (default: half the kernel's queue). */
  constructor(root: string, { maxEvents = Math.floor(queueLength() / 2) } = {}) {
    this.#root = root;
    this.#maxEvents = maxEvents;
  }

  /** False once closed, or once a folder could not be watched (a limit reached), or off Linux: it never vouches. */
  get open(): boolean {
    return !this.#closed;
  }

  isWatched(folder: string): boolean {
    return this.#folders.has(folder);
  }

  /**
   * Watch `folder` (relative, '' the root), before reading it: whatever is
   * written there afterwards shows up in the next take. If it cannot be
   * watched (the limit of watches reached), the watch closes for good:
   * trying again at every snapshot would cost as much as walking.
   */
  watch(folder: string): void {
    if (!this.#vouches || this.#folders.has(folder)) return;
    try {
      const watcher = watch(
        folder === '' ? this.#root : `${this.#root}/${folder}`,
        { persistent: false },
        (_event, name) => this.#onEvent(folder, name),
      );
      watcher.on('error', () => this.#break());
      this.#folders.set(folder, watcher);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Gone already: its parent's watch named it, and the next take says so.
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      this.close();
    }
  }

  /** Stop watching `folder` and every folder under it (it went, or is another folder now). */
  unwatch(folder: string): void {
    const prefix = `${folder}/`;
    for (const [rel, watcher] of this.#folders) {
      if (rel === folder || folder === '' || rel.startsWith(prefix)) {
        watcher.close();
        this.#folders.delete(rel);
      }
    }
  }

  /**
   * Waits until every event up to now has arrived, then hands over what was
   * written since the last take; undefined when the watch cannot vouch for
   * it. Either way the next take counts from here.
   */
  async take(): Promise<WrittenPaths | undefined> {
    if (this.#vouches && !(await this.#fenceNow())) this.#break();
    const written = this.#vouches ? new WrittenPaths(this.#named) : undefined;
    this.#named = new Set();
    this.#events = 0;
    return written;
  }

  /**
   * Forget every folder and what was seen, after a take that could not
   * vouch: the caller starts over, watching each folder as it walks it.
   */
  reset(): void {
    this.unwatch('');
    this.#named = new Set();
    this.#events = 0;
    this.#vouches = !this.#closed;
  }

  close(): void {
    this.#closed = true;
    this.#break();
    this.unwatch('');
    this.#fence?.close();
    this.#fence = undefined;
  }

  #onEvent(folder: string, name: string | Buffer | null): void {
    if (!this.#vouches) return;
    // Past this many, the kernel's queue may have overflowed and dropped some.
    if (++this.#events > this.#maxEvents) {
      this.#break();
      return;
    }
    // No name: an event of the folder itself; its parent's watch names it too.
    if (name === null) return;
    const file = typeof name === 'string' ? name : name.toString('utf8');
    this.#named.add(folder === '' ? file : `${folder}/${file}`);
  }

  #break(): void {
    this.#vouches = false;
    this.#named = new Set();
  }

  async #fenceNow(): Promise<boolean> {
    let pass: FencePass = 'failed';
    try {
      this.#fence ??= new Fence();
      pass = await this.#fence.pass();
    } catch {
      // no temp folder to make one in
    }
    if (pass === 'arrived') return true;
    this.#fence?.close();
    this.#fence = undefined;
    // A fence that never came back will not next time either: waiting for it
    // at every snapshot would cost more than looking at every file.
    if (pass === 'late') this.close();
    return false;
  }
}

/** How a fence went: its event came, or not in time, or it could not be written. */
type FencePass = 'arrived' | 'late' | 'failed';

/**
 * A folder of our own (`bearing-fence-<pid>-XXXXXX` in the temp folder),
 * watched on the same inotify queue as the tree: a file made there comes
 * back as an event after every event queued before it.
 */
class Fence {
  readonly #dir = ownTempDir('bearing-fence-');
  /** Fence files written, by name -> settles their pass. */
  readonly #waiting = new Map<string, (pass: FencePass) => void>();
  readonly #watcher: FSWatcher;
  #count = 0;

  constructor() {
    this.#watcher = watch(this.#dir, { persistent: false }, (_event, name) => {
      const settle = typeof name === 'string' ? this.#waiting.get(name) : undefined;
      settle?.('arrived');
    });
    this.#watcher.on('error', () => {
      for (const settle of this.#waiting.values()) settle('failed');
    });
  }

  /** Writes a fence file and settles when its event is in, or not in time. */
  pass(): Promise<FencePass> {
    const name = `${++this.#count}`;
    const file = join(this.#dir, name);
    return new Promise<FencePass>((resolvePass) => {
      const settle = (pass: FencePass): void => {
        clearTimeout(timer);
        this.#waiting.delete(name);
        unlinkQuietly(file);
        resolvePass(pass);
      };
      // Not unref'd: while a take waits, the process stays up for the answer.
      const timer = setTimeout(() => settle('late'), FENCE_TIMEOUT_MS);
      this.#waiting.set(name, settle);
      try {
        writeFileSync(file, '');
      } catch {
        settle('failed'); // the folder is gone (a cleaner of the temp folder): a new fence next time
      }
    });
  }

  close(): void {
    for (const settle of this.#waiting.values()) settle('failed');
    this.#watcher.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}

function queueLength(): number {
  try {
    const n = Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8').trim());
    return Number.isFinite(n) && n > 0 ? n : DEFAULT_QUEUE;
  } catch {
    return DEFAULT_QUEUE;
  }
}
