/**
 * A large plan's bearing/status/<id>.md, one per task (core/status-report.ts
 * says when a plan is large). Each is written when its task's section
 * changes, so a run writes what changed, not the plan: a section the last
 * render reused is the same string, and is not written again. The first
 * write of a process reads what is there instead, and removes the files of
 * tasks no longer planned; a plan that shrinks to a single status.md loses
 * the folder.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { statusTasksDir, taskStatusFile } from './paths.js';

export class TaskStatusFiles {
  readonly #root: string;
  /** What each file holds as this process last wrote it; undefined before its first write. */
  #written: Map<string, string> | undefined;

  constructor(root: string) {
    this.#root = root;
  }

  /**
   * Bring the files in line with `sections` (undefined: status.md holds
   * every task). Returns the bytes written; throws what the file system throws.
   */
  write(sections: ReadonlyMap<string, string> | undefined): number {
    const dir = statusTasksDir(this.#root);
    if (!sections) {
      if (this.#written?.size !== 0) rmSync(dir, { recursive: true, force: true });
      this.#written = new Map();
      return 0;
    }
    if (!this.#written) {
      mkdirSync(dir, { recursive: true });
      this.#written = this.#onDisk(dir, sections);
    }
    let bytes = 0;
    for (const [id, text] of sections) {
      if (this.#written.get(id) === text) continue;
      writeFileAtomic(taskStatusFile(this.#root, id), text, { fsync: false });
      this.#written.set(id, text);
      bytes += Buffer.byteLength(text);
    }
    if (this.#written.size > sections.size) {
      for (const id of this.#written.keys()) {
        if (sections.has(id)) continue;
        rmSync(taskStatusFile(this.#root, id), { force: true });
        this.#written.delete(id);
      }
    }
    return bytes;
  }

  /**
   * What the files hold now, as a process that has written none finds them
   * (an earlier run's, a review's): those of tasks no longer planned are
   * removed, and those already right are not written again.
   */
  #onDisk(dir: string, sections: ReadonlyMap<string, string>): Map<string, string> {
    const found = new Map<string, string>();
    for (const name of readdirSync(dir)) {
      // A temporary file a killed process left mid-write.
      if (name.startsWith('.') && name.endsWith('.tmp')) rmSync(join(dir, name), { force: true });
      if (!name.endsWith('.md')) continue;
      const id = name.slice(0, -3);
      const text = sections.get(id);
      if (text === undefined) rmSync(join(dir, name), { force: true });
      else if (readFileSync(join(dir, name), 'utf8') === text) found.set(id, text);
    }
    return found;
  }
}
