/**
 * Free space where the project lives. A run that fills the disk cannot save
 * what its agents did, so it refuses to start tasks before that happens.
 */
import { statfsSync } from 'node:fs';

/** Bytes available to unprivileged users on the file system holding `path`, or undefined if unknown. */
export function freeDiskBytes(path: string): number | undefined {
  try {
    const s = statfsSync(path);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}
