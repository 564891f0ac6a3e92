/**
 * Writes that a crash, kill -9 or power cut cannot leave half done: the data
 * goes to a temporary file in the same directory, is flushed, and is renamed
 * over the target (rename is atomic within a file system), then the directory
 * itself is flushed so the rename survives a power cut. Readers see the old
 * file or the new one, never a mix.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /**
   * Flush file and directory to disk (default true). Without it the write is
   * still atomic against a crash of Bearing, but not against a power cut; for
   * files that are regenerated anyway (status.md) that is cheaper.
   */
  fsync?: boolean;
}

let counter = 0;

/** Same directory as the target (rename cannot cross file systems), hidden, unique per call. */
function tempPathFor(path: string): string {
  counter = (counter + 1) % 1_000_000;
  const suffix = `${process.pid}.${counter}.${randomBytes(4).toString('hex')}`;
  return join(dirname(path), `.${basename(path)}.${suffix}.tmp`);
}

/** Some platforms (Windows) cannot open or flush a directory; the rename is still atomic there. */
function ignorableDirSyncError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EISDIR' || code === 'EPERM' || code === 'EINVAL' || code === 'EBADF';
}

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    if (!ignorableDirSyncError(e)) throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (e) {
    if (!ignorableDirSyncError(e)) throw e;
  } finally {
    await handle?.close();
  }
}

/**
 * Replace `path` with `data` atomically, synchronously: usable on the exit
 * path after SIGINT, where pending promises may never settle. Throws on IO
 * errors like fs.writeFileSync; the target is then unchanged.
 */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): void {
  const flush = options.fsync ?? true;
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx');
    writeFileSync(fd, data);
    if (flush) fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // Never created, or already renamed: nothing to clean up.
    }
    throw e;
  }
  if (flush) fsyncDirSync(dirname(path));
}

/** The same guarantee without blocking the event loop, for writes during a run. */
export async function writeFileAtomicAsync(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const flush = options.fsync ?? true;
  const tmp = tempPathFor(path);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(tmp, 'wx');
    await handle.writeFile(data);
    if (flush) await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (e) {
    await handle?.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  if (flush) await fsyncDir(dirname(path));
}
