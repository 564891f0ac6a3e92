/**
 * What Linux's /proc says about one process: its state, group and start time.
 * The start time is what tells a process apart from a later one that got the
 * same pid, so a recorded pid (a lock holder, an earlier run's agent) is only
 * trusted while it still names the same process. Elsewhere these return
 * undefined and callers fall back to what kill(pid, 0) can tell.
 */
import { readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat we read, by their 1-based number in proc(5). */
export interface ProcStat {
  /** Field 3: R, S, D, Z (zombie), X (dead), ... */
  state: string;
  /** Field 4. */
  ppid: number;
  /** Field 5: the process group id. */
  pgrp: number;
  /** Field 22: clock ticks since boot, as written; opaque, compared for equality only. */
  startTime: string;
}

/** Undefined when there is no such process, or no /proc to read. */
export function readProcStat(pid: number | string): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses,
  // so the fields resume after the last ')'. Index 0 is field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = fields[19];
  if (fields[0] === undefined || startTime === undefined) return undefined;
  return { state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]), startTime };
}

/**
 * An opaque start time for the pid (Linux: field 22 of /proc/<pid>/stat), or
 * undefined where the process does not exist or the platform cannot tell.
 */
export function processStartTime(pid: number): string | undefined {
  return readProcStat(pid)?.startTime;
}

/** Exited and waiting to be reaped: it runs nothing and holds nothing but its pid. */
export function isZombieState(state: string): boolean {
  return state === 'Z' || state === 'X';
}

/**
 * Whether one process is still running: signalable and, on Linux, not a
 * zombie.
 */
export function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  const stat = readProcStat(pid);
  return stat !== undefined && !isZombieState(stat.state); // undefined: reaped while we looked
}
