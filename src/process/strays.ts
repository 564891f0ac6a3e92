/**
 * Ends the agents of an earlier Bearing that was killed (kill -9, the OOM
 * killer, a closed terminal) before it could end them itself: detached
 * children outlive their parent, and without this the next run starts a
 * second agent on the same task while the first still edits the tree.
 *
 * The runner records for each attempt, before it can do any work, a random
 * token put in the agent's environment and, right after the spawn, the
 * process group id and its leader's start time. From those alone we decide
 * what is still ours, and we never signal a pid we cannot tie to a record:
 *
 * - a group whose leader is alive with the recorded start time is ours;
 * - a group whose leader is gone but that still has live members is ours too:
 *   a pid is never reused while it is some group's id, so those members are
 *   what is left of the recorded group;
 * - a leader pid now held by a process with another start time is someone
 *   else's, and so is its group: left alone;
 * - on Linux, a process whose environment carries a recorded token is ours
 *   wherever it is: that catches those that left the group with setsid.
 *
 * All of it is ended at once, SIGTERM then SIGKILL after one shared grace
 * period, so recovery takes at most that long however many groups there are.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { isZombieState, processIsRunning, processStartTime, readProcStat } from './proc-stat.js';
import { groupHasLiveMembers, terminateGroup } from './process-group.js';

/** The environment variable that marks every process of one attempt (inherited by its children). */
export const ATTEMPT_TOKEN_ENV = 'BEARING_ATTEMPT_TOKEN';

/** A token for one attempt: random, so no other process carries it by chance. */
export function newAttemptToken(): string {
  return randomBytes(16).toString('hex');
}

/** What the runner recorded of one attempt; every field may be missing (Bearing died mid-record). */
export interface AttemptProcessRecord {
  /** The process group id: the agent's pid, as it leads its own group. */
  pgid?: number;
  /** processStartTime(pgid) right after the spawn. */
  startTime?: string;
  /** The attempt's ATTEMPT_TOKEN_ENV value. */
  token?: string;
}

export interface StrayProcessesEnded {
  /** Groups and escaped processes that were running and have been ended. */
  ended: number;
  /** The recorded groups that were still ours and running. */
  groups: number[];
  /** Processes outside those groups found by their token (left with setsid, say). */
  escaped: number[];
}

/** How often we look whether what we signalled is gone. */
const POLL_MS = 50;

/**
 * Ends whatever of the recorded attempts is still running and verifiably
 * ours (see the file comment). Resolves once all of it is gone, at most
 * about `graceMs` after the SIGTERM, the SIGKILL included.
 */
export async function endStrayProcesses(
  records: readonly AttemptProcessRecord[],
  graceMs: number,
): Promise<StrayProcessesEnded> {
  const groups = [
    ...new Set(records.flatMap((r) => (isGroupStillOurs(r) ? [r.pgid as number] : []))),
  ];
  const tokens = new Set(records.flatMap((r) => (r.token ? [r.token] : [])));
  const escaped = findTokenCarriers(tokens).filter((p) => !groups.includes(p.pgrp));
  await Promise.all([
    ...groups.map((pgid) => terminateGroup(pgid, graceMs, POLL_MS)),
    ...escaped.map((p) => terminateProcess(p.pid, p.startTime, graceMs)),
  ]);
  const escapedPids = escaped.map((p) => p.pid);
  return { ended: groups.length + escapedPids.length, groups, escaped: escapedPids };
}

/** Ours, by the rules of the file comment, and something in it still runs. */
function isGroupStillOurs(record: AttemptProcessRecord): boolean {
  const { pgid, startTime } = record;
  // 0 and 1 would make kill(-pgid) mean "our own group" or "everyone".
  if (pgid === undefined || !Number.isInteger(pgid) || pgid <= 1) return false;
  if (pgid === process.pid || pgid === readProcStat(process.pid)?.pgrp) return false;
  const leader = leaderState(pgid);
  switch (leader) {
    case 'gone':
      return groupHasLiveMembers(pgid);
    case 'unknown':
      return false; // no way to tell it from a stranger that got the pid
    default:
      return startTime !== undefined && leader.startTime === startTime && groupHasLiveMembers(pgid);
  }
}

/** The process that now has the leader's pid, if any, and whether we can tell who it is. */
function leaderState(pid: number): 'gone' | 'unknown' | { startTime: string } {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
  }
  const startTime = processStartTime(pid);
  return startTime === undefined ? 'unknown' : { startTime };
}

interface TokenCarrier {
  pid: number;
  pgrp: number;
  startTime: string;
}

/**
 * Running processes whose environment holds one of the tokens (Linux; none
 * elsewhere). Never ourselves nor one of our ancestors: a Bearing started
 * from inside an agent inherits that agent's token.
 */
function findTokenCarriers(tokens: ReadonlySet<string>): TokenCarrier[] {
  if (tokens.size === 0 || process.platform !== 'linux') return [];
  const wanted = new Set([...tokens].map((t) => `${ATTEMPT_TOKEN_ENV}=${t}`));
  const spared = ancestorsAndSelf();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const carriers: TokenCarrier[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 1 || spared.has(pid)) continue;
    let environ: string;
    try {
      // Readable for our own user's processes (and all of them as root).
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue; // another user's, or exited while we looked
    }
    if (!environ.split('\0').some((variable) => wanted.has(variable))) continue;
    const stat = readProcStat(pid);
    if (stat === undefined || isZombieState(stat.state)) continue;
    carriers.push({ pid, pgrp: stat.pgrp, startTime: stat.startTime });
  }
  return carriers;
}

function ancestorsAndSelf(): Set<number> {
  const pids = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !pids.has(pid)) {
    pids.add(pid);
    const stat = readProcStat(pid);
    if (stat === undefined) break;
    pid = stat.ppid;
  }
  return pids;
}

/**
 * SIGTERM one process, SIGKILL it after `graceMs` if it still runs. Each
 * signal goes only while the pid still has the start time we saw, so a pid
 * freed and reused meanwhile is never hit.
 */
async function terminateProcess(pid: number, startTime: string, graceMs: number): Promise<void> {
  const stillIt = () => processIsRunning(pid) && processStartTime(pid) === startTime;
  if (!signalIf(stillIt, pid, 'SIGTERM')) return;
  const deadline = performance.now() + graceMs;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    await delay(Math.min(POLL_MS, left));
    if (!stillIt()) return;
  }
  signalIf(stillIt, pid, 'SIGKILL');
}

function signalIf(check: () => boolean, pid: number, signal: NodeJS.Signals): boolean {
  if (!check()) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false; // gone between the check and the kill
  }
}
