/**
 * Running git: the one place Bearing starts git, always without a shell and
 * with an argument array. Git's own output is read in the C locale, so the
 * messages Bearing parses do not depend on the user's language.
 */
import { spawn } from 'node:child_process';

export interface GitRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface GitOptions {
  /**
   * Written to git's stdin, then closed. A promise lets git start (and read
   * its config, find the repository) while the caller still works out what
   * to write; it must settle, or git waits for it.
   */
  input?: string | Promise<string>;
  /** Added to the environment (after GIT_OPTIONAL_LOCKS and LC_ALL). */
  env?: NodeJS.ProcessEnv;
}

/** Run git; never throws for a non-zero exit, rejects if git cannot start. */
export function runGit(cwd: string, args: string[], options: GitOptions = {}): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd,
      // No index.lock taken by status, so an agent's own git commands never collide with ours.
      env: { ...process.env, GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const out: Buffer[] = [];
    const errs: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => errs.push(d));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(errs).toString('utf8') }),
    );
    child.stdin.on('error', () => undefined); // git may exit before reading all input
    Promise.resolve(options.input ?? '').then(
      (input) => child.stdin.end(input),
      () => child.stdin.end(),
    );
  });
}

/** A git command that exited non-zero where Bearing needed it to succeed. */
export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} exited with ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`);
  }
}

/** Run git and return its stdout; a non-zero exit is a GitError. */
export async function gitOk(
  cwd: string,
  args: string[],
  options: GitOptions = {},
): Promise<Buffer> {
  const r = await runGit(cwd, args, options);
  if (r.code !== 0) throw new GitError(args, r.code, r.stderr);
  return r.stdout;
}

/** git's NUL-separated output as strings. */
export function splitZ(buf: Buffer): string[] {
  const parts = buf.toString('utf8').split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}
