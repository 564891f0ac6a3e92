/**
 * One `bearing run` per project. Two runs would start the same task twice and
 * overwrite each other's state, so `.state/lock` is created exclusively and
 * names its holder. A lock left behind by a crash or kill -9 is recognised
 * (holder gone, or its pid reused by another process) and taken over, with a
 * claim protocol so that of several processes taking over the same stale lock
 * at once, exactly one wins.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import { lockFile, stateDir } from './paths.js';

/** What the lock file holds. */
export interface LockInfo {
  pid: number;
  hostname: string;
  /** ISO time the run took the lock. */
  startedAt: string;
  /**
   * Start time of the holder process (Linux: field 22 of /proc/<pid>/stat),
   * so a dead holder whose pid was reused is not mistaken for a live one.
   */
  processStart?: string;
  /** Makes every lock unique, so a takeover removes exactly the stale lock it judged. */
  token: string;
}

/** Another run holds the lock: who, and what the person can do. */
export interface LockHeld {
  reason: 'held';
  pid: number;
  hostname: string;
  startedAt: string;
  /** False when the holder runs on another machine (a shared or network directory). */
  sameHost: boolean;
  path: string;
  message: string;
}

/** The lock could not be created or read at all (read-only project, permissions). */
export interface LockFailed {
  reason: 'io';
  path: string;
  message: string;
}

export type LockError = LockHeld | LockFailed;

export interface Lock {
  readonly info: LockInfo;
  readonly path: string;
  /**
   * Remove the lock if it is still ours (a takeover after a misjudgement must
   * not be undone by the old holder). Synchronous, for exit paths. Returns
   * whether it removed it.
   */
  release(): boolean;
}

/** For `bearing status`: is a run active? */
export type LockStatus =
  | { state: 'free' }
  | { state: 'held'; holder: LockInfo; sameHost: boolean }
  | { state: 'stale'; holder?: LockInfo; why: string }
  /** Unreadable, or unparseable and recent (being written, or damaged moments ago). */
  | { state: 'unknown'; why: string };

/** How the lock learns about processes; injectable so tests can stage pid reuse or other hosts. */
export interface ProcessProbe {
  pid: number;
  hostname: string;
  /** Whether a process with this pid exists (on this host). */
  isAlive(pid: number): boolean;
  /** An opaque start time for the pid, or undefined where the platform cannot tell. */
  processStart(pid: number): string | undefined;
}

export interface LockOptions {
  probe?: ProcessProbe;
  now?: () => Date;
}

/** A lock file that cannot be parsed is only judged abandoned after this long (it may be mid-write). */
const UNREADABLE_GRACE_MS = 5000;
const MAX_ROUNDS = 200;
const MAX_CLAIM_GENERATIONS = 50;

export const realProbe: ProcessProbe = {
  pid: process.pid,
  hostname: osHostname(),
  isAlive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      // EPERM: it exists but belongs to someone else. Anything but ESRCH: assume alive.
      return (e as NodeJS.ErrnoException).code !== 'ESRCH';
    }
  },
  processStart(pid) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return fields[19];
    } catch {
      return undefined;
    }
  },
};

/** Take the project's run lock, or say who holds it. */
export function acquireLock(
  projectDir: string,
  options: LockOptions = {},
): Result<Lock, LockError> {
  const probe = options.probe ?? realProbe;
  const now = options.now ?? (() => new Date());
  const path = lockFile(projectDir);
  try {
    mkdirSync(stateDir(projectDir), { recursive: true });
  } catch (e) {
    return err(ioFailure(path, 'cannot create the state directory', e));
  }
  const processStart = probe.processStart(probe.pid);
  const info: LockInfo = {
    pid: probe.pid,
    hostname: probe.hostname,
    startedAt: now().toISOString(),
    ...(processStart !== undefined ? { processStart } : {}),
    token: randomBytes(8).toString('hex'),
  };
  const content = `${JSON.stringify(info)}\n`;

  try {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (createExclusive(path, content)) {
        return ok({ info, path, release: () => releaseIfOurs(path, content) });
      }
      const seen = readLockFile(path);
      if (!seen) continue; // removed in between: try again
      const verdict = judge(seen, probe);
      if (verdict.kind === 'held') return err(heldError(path, verdict.holder, verdict.sameHost));
      if (verdict.kind === 'unsure' || !takeOver(path, seen.raw, content, probe)) {
        sleepSync(5 + Math.floor(Math.random() * 20));
      }
    }
  } catch (e) {
    return err(ioFailure(path, 'cannot create the lock', e));
  }
  return err({
    reason: 'io',
    path,
    message: `${path}: could not take the run lock after ${MAX_ROUNDS} tries (another process keeps changing it); if no bearing run is active, delete it`,
  });
}

/** Whether a run holds the lock right now; never changes anything. */
export function readLock(projectDir: string, probe: ProcessProbe = realProbe): LockStatus {
  let seen: SeenLock | undefined;
  try {
    seen = readLockFile(lockFile(projectDir));
  } catch (e) {
    return { state: 'unknown', why: `cannot read the lock (${(e as NodeJS.ErrnoException).code})` };
  }
  if (!seen) return { state: 'free' };
  const verdict = judge(seen, probe);
  switch (verdict.kind) {
    case 'held':
      return { state: 'held', holder: verdict.holder, sameHost: verdict.sameHost };
    case 'stale':
      return {
        state: 'stale',
        why: verdict.why,
        ...(verdict.holder ? { holder: verdict.holder } : {}),
      };
    case 'unsure':
      return { state: 'unknown', why: verdict.why };
  }
}

interface SeenLock {
  raw: string;
  info?: LockInfo;
  mtimeMs: number;
}

type Verdict =
  | { kind: 'held'; holder: LockInfo; sameHost: boolean }
  | { kind: 'stale'; holder?: LockInfo; why: string }
  /** Unparseable but young: possibly being written by a live process. */
  | { kind: 'unsure'; why: string };

function judge(seen: SeenLock, probe: ProcessProbe): Verdict {
  const holder = seen.info;
  if (!holder) {
    return Date.now() - seen.mtimeMs > UNREADABLE_GRACE_MS
      ? { kind: 'stale', why: 'the lock file is unreadable and old' }
      : { kind: 'unsure', why: 'the lock file is being written or is damaged' };
  }
  if (holder.hostname !== probe.hostname) return { kind: 'held', holder, sameHost: false };
  if (!probe.isAlive(holder.pid)) {
    return { kind: 'stale', holder, why: `process ${holder.pid} is gone` };
  }
  if (holder.processStart !== undefined) {
    const current = probe.processStart(holder.pid);
    if (current !== undefined && current !== holder.processStart) {
      return { kind: 'stale', holder, why: `pid ${holder.pid} now belongs to another process` };
    }
  }
  return { kind: 'held', holder, sameHost: true };
}

/**
 * Remove the stale lock whose content is `staleRaw`, unless another live
 * process is already doing so. Claims are files named after the stale lock's
 * content (unique per lock, thanks to the token) and created exclusively, so
 * one live process at a time may remove that lock; a claim left by a process
 * that died mid-takeover is skipped by moving to the next generation. The
 * stale lock is removed before the claim is, and can never reappear, so a
 * late claimant always finds it gone and removes nothing.
 * Returns false when someone else holds the claim (wait, then look again).
 */
function takeOver(path: string, staleRaw: string, content: string, probe: ProcessProbe): boolean {
  const id = createHash('sha1').update(staleRaw).digest('hex').slice(0, 16);
  const prefix = `${basename(path)}.takeover-${id}-`;
  for (let generation = 0; generation < MAX_CLAIM_GENERATIONS; generation++) {
    const claim = join(dirname(path), `${prefix}${generation}`);
    if (!createExclusive(claim, content)) {
      const seen = readLockFile(claim);
      if (!seen) return false; // released just now: the lock was dealt with; look again
      const verdict = judge(seen, probe);
      if (verdict.kind !== 'stale') return false;
      continue; // its claimant died: the next generation decides
    }
    try {
      if (readLockFile(path)?.raw === staleRaw) unlinkQuiet(path);
    } finally {
      // Claims only (not other processes' temp files, which share the prefix).
      for (const name of readdirSync(dirname(path))) {
        if (name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length))) {
          unlinkQuiet(join(dirname(path), name));
        }
      }
    }
    return true;
  }
  return false;
}

/**
 * Create `path` with `content` only if it does not exist, never visible half
 * written: the content goes to a private temp file that is hard-linked into
 * place (link fails if the name exists). File systems without hard links fall
 * back to O_EXCL, where a reader may briefly see an empty file (judged 'unsure').
 */
function createExclusive(path: string, content: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { flag: 'wx' });
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw e;
  } finally {
    unlinkQuiet(tmp);
  }
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeFileSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readLockFile(path: string): SeenLock | undefined {
  let raw: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const info = parseLockInfo(raw);
  return info ? { raw, info, mtimeMs } : { raw, mtimeMs };
}

function parseLockInfo(raw: string): LockInfo | undefined {
  try {
    const v = JSON.parse(raw) as Partial<LockInfo> | null;
    if (
      v &&
      typeof v.pid === 'number' &&
      Number.isSafeInteger(v.pid) &&
      v.pid > 0 &&
      typeof v.hostname === 'string' &&
      typeof v.startedAt === 'string' &&
      typeof v.token === 'string' &&
      (v.processStart === undefined || typeof v.processStart === 'string')
    ) {
      return v as LockInfo;
    }
  } catch {
    // Damaged: judged by age.
  }
  return undefined;
}

function releaseIfOurs(path: string, content: string): boolean {
  try {
    if (readFileSync(path, 'utf8') !== content) return false;
  } catch {
    return false;
  }
  return unlinkQuiet(path);
}

function unlinkQuiet(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

function heldError(path: string, holder: LockInfo, sameHost: boolean): LockHeld {
  const message = sameHost
    ? `another bearing run is active in this project (pid ${holder.pid}, since ${holder.startedAt}); wait for it to finish or stop it (Ctrl-C in its terminal, or kill ${holder.pid}). A lock left by a crash is taken over automatically.`
    : `a bearing run on host "${holder.hostname}" holds ${path} (pid ${holder.pid}, since ${holder.startedAt}); Bearing cannot check processes on another machine, so if no run is active there, delete that file.`;
  return {
    reason: 'held',
    pid: holder.pid,
    hostname: holder.hostname,
    startedAt: holder.startedAt,
    sameHost,
    path,
    message,
  };
}

function ioFailure(path: string, what: string, e: unknown): LockFailed {
  const code = (e as NodeJS.ErrnoException).code;
  return {
    reason: 'io',
    path,
    message: `${path}: ${what} (${code ?? (e as Error).message}); check that the project directory is writable`,
  };
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}
