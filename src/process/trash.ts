/**
 * Folders thrown away to be deleted by a process of their own. Deleting a
 * checkout of tens of thousands of files takes seconds of disk and CPU; a
 * folder renamed into the trash is gone from where it was at once, and its
 * files are deleted by an `rm` that outlives Bearing, so a run ends when its
 * last task does, not when its last worktree's files are gone.
 *
 * The trash is a folder of its own on the same file system (a rename cannot
 * cross file systems). Whatever is in it is garbage: a deletion that a
 * reboot cut short is finished by the next `Trash` made on it.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export class Trash {
  #swept = false;
  #names = 0;

  constructor(
    /** The trash folder; made when first used. */
    readonly dir: string,
  ) {}

  /**
   * Move `path` into the trash and start deleting it. False when it cannot
   * be moved (nothing is there, another file system, no permission): the
   * caller then deletes it in place.
   */
  throwAway(path: string): boolean {
    this.#sweep();
    const name = join(this.dir, `${process.pid}-${Date.now()}-${++this.#names}`);
    try {
      mkdirSync(this.dir, { recursive: true });
      renameSync(path, name);
    } catch {
      return false;
    }
    deleteDetached([name]);
    return true;
  }

  /** Once: what earlier runs left in the trash goes too. */
  #sweep(): void {
    if (this.#swept) return;
    this.#swept = true;
    let left: string[];
    try {
      left = readdirSync(this.dir);
    } catch {
      return;
    }
    // An `rm` still deleting one of these is harmless: both only delete.
    if (left.length > 0) deleteDetached(left.map((name) => join(this.dir, name)));
  }
}

/**
 * `rm -rf` in a process group of its own, never waited for: neither the
 * end of this process nor a Ctrl-C to its terminal stops it.
 */
function deleteDetached(paths: string[]): void {
  const child = spawn('rm', ['-rf', '--', ...paths], { detached: true, stdio: 'ignore' });
  // No rm (or no process left to start one): the next sweep retries.
  child.on('error', () => undefined);
  child.unref();
}
