/**
 * A copy of the git index for a run's `git status` alone. Our status may not
 * write the person's index (it runs with GIT_OPTIONAL_LOCKS=0, so that an
 * agent's own git commands never meet our index.lock), so git keeps nothing
 * from one of our statuses to the next and lists every folder for untracked
 * files each time. A copy of our own git may write: the stats it refreshed,
 * and its untracked cache (core.untrackedCache), with which a status lists
 * again only the folders whose stat changed (it trusts a folder's
 * modification time to change when an entry is added or removed, as for any
 * repository with the cache on). The copy is made again whenever the index
 * changes (an agent's `git add` or commit).
 *
 * Only for a status of the whole work tree (git's untracked cache is not
 * used for part of it), and not with submodules: git passes
 * GIT_OPTIONAL_LOCKS on to the status it runs in each of them, which would
 * then write their index.
 */
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GitError, gitOk } from '../process/git.js';
import { ownTempDir } from './own-temp-dir.js';

/**
 * The untracked cache, also for `-uall` (git uses it only when the mode
 * asked for is the configured one), and a whole index written: a split one
 * would put its shared part in the repository.
 */
const CACHE_CONFIG = [
  '-c',
  'core.untrackedCache=true',
  '-c',
  'status.showUntrackedFiles=all',
  '-c',
  'core.splitIndex=false',
];

export class StatusIndex {
  #dir: string | undefined;
  /** The stamp of the index the copy was made from. */
  #copiedFrom: string | undefined;
  /** Once a status through the copy failed, or once closed, statuses read the index itself. */
  #off = false;
  /** A status is reading the copy: closing removes it only after that ends. */
  #reading = false;

  /**
   * `git status <args>` in `cwd`, through the copy of `index` (whose stamp
   * is `stamp`), made again first if the index changed since; undefined
   * when the copy cannot be used (then read the index itself).
   */
  async status(
    cwd: string,
    args: string[],
    index: string,
    stamp: string,
  ): Promise<Buffer | undefined> {
    const copy = this.#off ? undefined : this.#copyOf(index, stamp);
    if (copy === undefined) return undefined;
    this.#reading = true;
    try {
      return await gitOk(cwd, [...CACHE_CONFIG, 'status', ...args], {
        env: { GIT_INDEX_FILE: copy, GIT_OPTIONAL_LOCKS: '1' },
      });
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      this.close();
      return undefined;
    } finally {
      this.#reading = false;
      // Closed meanwhile: removed now that git has read it (gone before, it
      // would have been read as an empty index).
      if (this.#off) this.#drop();
    }
  }

  close(): void {
    this.#off = true;
    if (!this.#reading) this.#drop();
  }

  #drop(): void {
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
    this.#copiedFrom = undefined;
  }

  #copyOf(index: string, stamp: string): string | undefined {
    try {
      if (this.#dir === undefined || !existsSync(this.#dir)) {
        this.#dir = ownTempDir('bearing-index-');
        this.#copiedFrom = undefined;
      }
      const copy = join(this.#dir, 'index');
      // Gone (a cleaner of the temp folder), git would take it for an empty
      // index and call every tracked file untracked: made again.
      if (this.#copiedFrom !== stamp || !existsSync(copy)) {
        this.#copiedFrom = undefined;
        copyFileSync(index, copy);
        this.#copiedFrom = stamp;
      }
      return copy;
    } catch {
      this.#drop(); // no temp folder to make it in
      return undefined;
    }
  }
}
