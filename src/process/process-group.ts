/**
 * Process-group signalling. Agent CLIs start their own children (MCP servers,
 * bash tools); killing only the CLI's pid leaves those running for hours. Every
 * child we spawn leads its own process group (spawned detached), so one
 * `kill(-pgid)` reaches all of them, except processes that deliberately leave
 * the group (setsid/setpgid): nothing short of cgroups reaches those.
 */
import { readdirSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { isZombieState, readProcStat } from './proc-stat.js';

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
    const stat = readProcStat(entry);
    if (stat === undefined) continue; // exited while we were looking
    if (stat.pgrp === pgid && !isZombieState(stat.state)) return true;
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
