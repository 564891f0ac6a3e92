/**
 * Folders in the temp folder that belong to one process, for what a run
 * keeps outside the project while it lasts (the watch's fence, the copy of
 * the index its git status writes). Each is named `<prefix><pid>-XXXXXX`:
 * a process killed with -9 removes nothing, so whoever makes the next folder
 * of that kind removes those of processes that are gone.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processIsRunning } from '../process/proc-stat.js';

/** A new folder `<prefix><pid>-XXXXXX`, after removing those of `prefix` whose process is gone. */
export function ownTempDir(prefix: string): string {
  const temp = tmpdir();
  for (const name of readdirSync(temp)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (pid > 0 && !processIsRunning(pid))
      rmSync(join(temp, name), { recursive: true, force: true });
  }
  return mkdtempSync(join(temp, `${prefix}${process.pid}-`));
}
