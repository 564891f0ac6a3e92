/**
 * Free space on the file system that holds the project. A full disk does not
 * fail loudly where it starts: a log write or a state save fails in the middle
 * of a run. The runner checks this before it starts a task (run.min_free_space)
 * and says so plainly instead.
 */
import { statfsSync } from 'node:fs';

/**
 * Bytes an unprivileged process can still write under `path` (statfs:
 * bavail * bsize, which leaves out the blocks reserved for root), or
 * undefined when the file system cannot tell (a missing path, no statfs).
 */
export function freeDiskBytes(path: string): number | undefined {
  try {
    const stats = statfsSync(path);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}
