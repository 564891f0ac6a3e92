/**
 * Small node child scripts in temp dirs, and process-liveness checks that
 * treat zombies as dead (PID 1 does not reap orphans in every container).
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export const NODE = process.execPath;

export function makeTempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'bearing-process-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes an ESM script; returns its path. */
export function writeScript(dir: string, name: string, source: string, mode = 0o644): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  chmodSync(file, mode);
  return file;
}

/**
 * Source for a grandchild that ignores SIGTERM, publishes its pid atomically
 * in argv[2] and stays alive until SIGKILL.
 */
export const STUBBORN_GRANDCHILD = `
import { renameSync, writeFileSync } from 'node:fs';
process.on('SIGTERM', () => {});
writeFileSync(process.argv[2] + '.tmp', String(process.pid));
renameSync(process.argv[2] + '.tmp', process.argv[2]);
setInterval(() => {}, 1000);
`;

/** Source snippet: resolves once the file exists (the grandchild is set up). */
export const WAIT_FOR_FILE = `
import { existsSync } from 'node:fs';
const waitForFile = async (file) => {
  while (!existsSync(file)) await new Promise((r) => setTimeout(r, 20));
};
`;

export function readPid(file: string): number {
  return Number(readFileSync(file, 'utf8'));
}

/** Alive = signalable and not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Polls briefly: a SIGKILLed process may take a moment to be gone. */
export async function waitForDeath(pid: number, withinMs = 3000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await delay(20);
  }
  return !isAlive(pid);
}

/** Best-effort cleanup after a failed assertion, so a broken test leaves nothing running. */
export function killQuietly(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** Kills every pid published in a `*.pid` file of `dir`: grandchildren of a failed test. */
export function killRecordedPids(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.pid')) continue;
    const pid = readPid(join(dir, name));
    if (Number.isInteger(pid) && pid > 0) killQuietly(pid);
  }
}
