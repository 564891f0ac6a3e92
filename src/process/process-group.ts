/**
 * Process-group signalling. Agent CLIs start their own children (MCP servers,
 * bash tools); killing only the CLI's pid leaves those running for hours. Every
 * child we spawn leads its own process group (spawned detached), so one
 * `kill(-pgid)` reaches all of them, except processes that deliberately leave
 * the group (setsid/setpgid): nothing short of cgroups reaches those.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/** Sends `signal` to every process in the group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nobody left. EPERM: a member changed user; nothing we can do about it.
  }
}

/**
 * Whether any process of the group is still running. Zombies do not count:
 * where PID 1 does not reap orphans (containers, microVMs) a dead grandchild
 * stays a zombie in the group forever, and `kill(-pgid, 0)` still succeeds.
 */
export function groupHasLiveMembers(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  return linuxGroupHasLiveMember(pgid) ?? true;
}

/**
 * Whether one process is still running: signalable and, on Linux, not a
 * zombie (exited, waiting to be reaped by its parent).
 */
export function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  const fields = readStatFields(pid);
  if (fields === undefined) return false; // reaped while we looked
  return fields[0] !== 'Z' && fields[0] !== 'X';
}

/**
 * /proc/<pid>/stat from field 3 (state) on: "pid (comm) state ppid pgrp ...",
 * where comm may contain spaces and parentheses. Undefined when unreadable.
 */
function readStatFields(pid: number | string): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Scans /proc for a non-zombie member of the group; undefined when /proc is unreadable. */
function linuxGroupHasLiveMember(pgid: number): boolean | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    const first = entry.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    const fields = readStatFields(entry);
    if (fields === undefined) continue; // exited while we were looking
    const state = fields[0];
    if (Number(fields[2]) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

/**
 * SIGTERM the group, wait up to `graceMs` for it to empty, then SIGKILL what
 * is left. Returns at once when the group is already empty (the common case
 * after a clean exit), so it is cheap to call after every run.
 */
export async function terminateGroup(
  pgid: number,
  graceMs: number,
  pollMs = 50,
): Promise<'empty' | 'killed'> {
  if (!groupHasLiveMembers(pgid)) return 'empty';
  signalGroup(pgid, 'SIGTERM');
  const deadline = performance.now() + graceMs;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    await delay(Math.min(pollMs, left));
    if (!groupHasLiveMembers(pgid)) return 'empty';
  }
  signalGroup(pgid, 'SIGKILL');
  return 'killed';
}

const liveGroups = new Set<number>();

function killLiveGroups(): void {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
}

/**
 * Last resort for a Bearing that exits without ending its runs (a crash, a
 * stray process.exit): detached children are not killed with their parent,
 * so SIGKILL every group still tracked when the process exits. The listener
 * is only installed while a group is tracked.
 */
export function trackGroup(pgid: number): void {
  if (liveGroups.size === 0) process.on('exit', killLiveGroups);
  liveGroups.add(pgid);
}

/** The group has been terminated or is empty: nothing to clean up at exit. */
export function untrackGroup(pgid: number): void {
  if (!liveGroups.delete(pgid)) return;
  if (liveGroups.size === 0) process.off('exit', killLiveGroups);
}
