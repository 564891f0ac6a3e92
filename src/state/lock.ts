/**
 * One `bearing run` per project. Two runs would start the same task twice and
 * overwrite each other's state, so `.state/lock` is created exclusively and
 * names its holder. A lock left behind by a crash or kill -9 is recognised
 * (holder gone, or its pid reused by another process) and taken over, with a
 * claim protocol so that of several processes taking over the same stale lock
 * at once, exactly one wins.
 *
 * A file can be deleted under a live run (`git clean -fdX` removes all of
 * `.state`), so on Linux the run also binds an abstract-namespace Unix socket
 * named after the project: no file system operation can reach it, and the
 * kernel frees it when the process dies, kill -9 included. Binding it is the
 * mutual exclusion on this host; the file says who holds the lock (for
 * `bearing status`, for people, for other hosts on a shared directory), and a
 * keeper puts it back when it disappears. Other platforms have the file alone.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { type Clock, systemClock } from '../core/clock.js';
import { err, ok, type Result } from '../core/result.js';
import { processStartTime } from '../process/proc-stat.js';
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
  /** Unknown when a run holds the host lock but its lock file is missing or does not name it. */
  pid?: number;
  hostname: string;
  startedAt?: string;
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

/**
 * What `Lock.ensure()` found: the file is ours (`ok`), it was gone and is back
 * (`recreated`), or another lock is there and the run must stop (`lost`).
 */
export type LockCheck = 'ok' | 'recreated' | 'lost';

export interface Lock {
  readonly info: LockInfo;
  readonly path: string;
  /**
   * Put the lock file back (same content, exclusive create) if it is gone,
   * so status readers see the run again. An I/O error while doing so (a full
   * disk) is `ok` while the host lock still excludes other runs and `lost`
   * without one, since nothing would stop a second run then. Never throws.
   */
  ensure(): LockCheck;
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
  /** The lock's start time, and the age of a damaged lock file. */
  now?: Clock;
  /** Bind the host lock (acquireRunLock only); default: on Linux, the only platform with abstract sockets. */
  hostLock?: boolean;
  /** How often the keeper calls ensure() until release; 0: no keeper. */
  keeperIntervalMs?: number;
  /** How long an unparseable lock file must stay unchanged before it is judged abandoned. */
  unreadableGraceMs?: number;
}

/**
 * A lock file that cannot be parsed is judged abandoned once it has stayed
 * unchanged this long. Lock files are linked into place whole, so a garbled
 * one is damage, except on file systems without hard links (where a reader
 * may catch the O_EXCL fallback between create and write) or a lock written
 * by hand.
 */
const UNREADABLE_GRACE_MS = 5000;
/** Waits for a garbled lock file that changed each time: it is being written, not abandoned. */
const MAX_UNREADABLE_CHANGES = 3;
const MAX_ROUNDS = 200;
const MAX_CLAIM_GENERATIONS = 50;
const KEEPER_INTERVAL_MS = 500;
/**
 * A run that holds the host lock writes its file right after binding: wait
 * this long for the file to name it (and for the keeper of a run whose file
 * was deleted) before refusing without a pid.
 */
const HOLDER_FILE_WAIT_MS = 1000;
const HOST_LOCK_RETRY_MS = 20;

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
  processStart: processStartTime,
};

/**
 * Take the project's run lock, or say who holds it: the host lock (Linux),
 * then the lock file. A run that holds the host lock holds the project on
 * this host whatever its file says; when the host lock is free, no run on
 * this host holds the project, so a garbled lock file is taken over at once.
 */
export async function acquireRunLock(
  projectDir: string,
  options: LockOptions = {},
): Promise<Result<Lock, LockError>> {
  const probe = options.probe ?? realProbe;
  const path = lockFile(projectDir);
  const prepared = prepare(projectDir, path);
  if (!prepared.ok) return prepared;
  let server: Server | undefined;
  if (options.hostLock ?? process.platform === 'linux') {
    const name = socketName(prepared.value);
    // A real wait, timed by the monotonic timer: an injected clock must not stretch it.
    const deadline = performance.now() + HOLDER_FILE_WAIT_MS;
    for (;;) {
      const bound = await bindHostLock(name);
      if (bound.kind === 'bound') {
        server = bound.server;
        break;
      }
      // Abstract sockets unavailable here (a sandbox): the file lock alone, as elsewhere.
      if (bound.kind === 'unavailable') break;
      let verdict: Verdict | undefined;
      try {
        const seen = readLockFile(path);
        verdict = seen ? judge(seen, probe, options) : undefined;
      } catch (e) {
        verdict = {
          kind: 'unsure',
          why: `it cannot be read: ${(e as NodeJS.ErrnoException).code}`,
        };
      }
      if (verdict?.kind === 'held' && verdict.sameHost) {
        return err(heldError(path, verdict.holder, true));
      }
      if (performance.now() > deadline) return err(heldWithoutFile(path, probe, verdict));
      await delay(HOST_LOCK_RETRY_MS);
    }
  }
  const taken = takeFileLock(path, options, server !== undefined);
  if (!taken.ok) {
    server?.close();
    return taken;
  }
  return ok(
    holdLock(
      prepared.value,
      path,
      taken.value,
      server,
      options.keeperIntervalMs ?? KEEPER_INTERVAL_MS,
    ),
  );
}

/**
 * The name of the project's host lock: an abstract-namespace socket (the
 * leading NUL), so it has no file to delete, named after the project's real
 * path so that every way of spelling the project finds the same lock.
 */
export function hostLockName(projectDir: string): string {
  return socketName(realpathSync(projectDir));
}

function socketName(realProjectDir: string): string {
  return `\0bearing-lock-${createHash('sha256').update(realProjectDir).digest('hex').slice(0, 32)}`;
}

/** The state directory exists; returns the project's real path. */
function prepare(projectDir: string, path: string): Result<string, LockFailed> {
  try {
    mkdirSync(stateDir(projectDir), { recursive: true });
    return ok(realpathSync(projectDir));
  } catch (e) {
    return err(ioFailure(path, 'cannot create the state directory', e));
  }
}

type Bound =
  | { kind: 'bound'; server: Server }
  | { kind: 'in-use' }
  | { kind: 'unavailable'; code: string | undefined };

function bindHostLock(name: string): Promise<Bound> {
  return new Promise((resolve) => {
    // Nothing is served: a connection (someone checking) is closed at once.
    const server = createServer((socket) => socket.destroy());
    server.once('error', (e: NodeJS.ErrnoException) => {
      resolve(e.code === 'EADDRINUSE' ? { kind: 'in-use' } : { kind: 'unavailable', code: e.code });
    });
    server.listen({ path: name }, () => {
      server.removeAllListeners('error');
      // Errors on a listening server (none are expected) must not crash the run.
      server.on('error', () => {});
      // The lock must not keep a finished run alive.
      server.unref();
      resolve({ kind: 'bound', server });
    });
  });
}

/** Create the lock file, or take over a stale one; returns the content written. */
function takeFileLock(
  path: string,
  options: LockOptions,
  hostLockHeld: boolean,
): Result<{ info: LockInfo; content: string }, LockError> {
  const probe = options.probe ?? realProbe;
  const now = options.now ?? systemClock;
  const graceMs = options.unreadableGraceMs ?? UNREADABLE_GRACE_MS;
  const processStart = probe.processStart(probe.pid);
  const info: LockInfo = {
    pid: probe.pid,
    hostname: probe.hostname,
    startedAt: now().toISOString(),
    ...(processStart !== undefined ? { processStart } : {}),
    token: randomBytes(8).toString('hex'),
  };
  const content = `${JSON.stringify(info)}\n`;

  const judging: JudgeOptions = { ...options, hostLockHeld };
  // The unparseable file last waited for, and how often it changed during the wait.
  let waitedFor: string | undefined;
  let changes = 0;
  try {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (createExclusive(path, content)) return ok({ info, content });
      const seen = readLockFile(path);
      if (!seen) continue; // removed in between: try again
      const verdict = judge(seen, probe, judging);
      if (verdict.kind === 'held') return err(heldError(path, verdict.holder, verdict.sameHost));
      if (verdict.kind === 'unsure') {
        const key = `${seen.mtimeMs}:${seen.raw}`;
        if (waitedFor !== undefined && waitedFor !== key && ++changes >= MAX_UNREADABLE_CHANGES) {
          return err({
            reason: 'io',
            path,
            message: `${path}: could not take the run lock: the file cannot be read as a lock and another process keeps changing it; if no bearing run is active, delete it`,
          });
        }
        waitedFor = key;
        // Once, until it has been unchanged for the grace period; then judge again.
        const left = seen.mtimeMs + graceMs - now().getTime();
        sleepSync(Math.min(graceMs, Math.max(0, left)) + 10);
        continue;
      }
      if (!takeOver(path, seen.raw, content, probe, judging)) {
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

/** The held lock: ensure, the keeper that calls it, and release. */
function holdLock(
  projectDir: string,
  path: string,
  taken: { info: LockInfo; content: string },
  server: Server | undefined,
  keeperIntervalMs: number,
): Lock {
  const { info, content } = taken;
  let released = false;
  const ensure = (): LockCheck => {
    if (released) return 'lost';
    try {
      if (readFileSync(path, 'utf8') === content) return 'ok';
      return 'lost';
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return server ? 'ok' : 'lost';
    }
    try {
      mkdirSync(stateDir(projectDir), { recursive: true });
      if (createExclusive(path, content)) return 'recreated';
      return readFileSync(path, 'utf8') === content ? 'ok' : 'lost';
    } catch {
      return server ? 'ok' : 'lost';
    }
  };
  const keeper = keeperIntervalMs > 0 ? setInterval(ensure, keeperIntervalMs).unref() : undefined;
  return {
    info,
    path,
    ensure,
    release: () => {
      released = true;
      clearInterval(keeper);
      // File first: a run that finds the host lock busy waits for it, and finds it free next.
      const removed = releaseIfOurs(path, content);
      server?.close();
      return removed;
    },
  };
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
  const verdict = judge(seen, probe, {});
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

interface JudgeOptions {
  unreadableGraceMs?: number;
  /** What the age of a damaged lock file is measured against. */
  now?: Clock;
  /** We hold the host lock: no other run on this host holds the project. */
  hostLockHeld?: boolean;
}

function judge(seen: SeenLock, probe: ProcessProbe, options: JudgeOptions): Verdict {
  const holder = seen.info;
  if (!holder) {
    if (options.hostLockHeld) {
      return { kind: 'stale', why: 'the lock file is damaged and no run holds this project' };
    }
    const age = (options.now ?? systemClock)().getTime() - seen.mtimeMs;
    return age > (options.unreadableGraceMs ?? UNREADABLE_GRACE_MS)
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
function takeOver(
  path: string,
  staleRaw: string,
  content: string,
  probe: ProcessProbe,
  options: JudgeOptions,
): boolean {
  const id = createHash('sha1').update(staleRaw).digest('hex').slice(0, 16);
  const prefix = `${basename(path)}.takeover-${id}-`;
  for (let generation = 0; generation < MAX_CLAIM_GENERATIONS; generation++) {
    const claim = join(dirname(path), `${prefix}${generation}`);
    if (!createExclusive(claim, content)) {
      const seen = readLockFile(claim);
      if (!seen) return false; // released just now: the lock was dealt with; look again
      // A claim is always written whole (linked into place), so it is never judged 'unsure' here.
      const verdict = judge(seen, probe, options);
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
    ? `another bearing run is active in this project (pid ${holder.pid}, since ${holder.startedAt}); wait for it to finish or stop it (Ctrl-C in its terminal, or kill ${holder.pid}). A lock left by a crash is taken over automatically`
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

/** The host lock is taken, but the lock file does not say by whom. */
function heldWithoutFile(
  path: string,
  probe: ProcessProbe,
  verdict: Verdict | undefined,
): LockHeld {
  const file =
    verdict === undefined
      ? `its lock file ${path} is missing (deleted while the run was going?)`
      : `its lock file ${path} does not name it (${
          verdict.kind === 'held'
            ? `it names pid ${verdict.holder.pid} on host "${verdict.holder.hostname}"`
            : verdict.why
        })`;
  return {
    reason: 'held',
    hostname: probe.hostname,
    sameHost: true,
    path,
    message: `another bearing run is active in this project, though ${file}; wait for it to finish or stop it (Ctrl-C in its terminal)`,
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

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}
