/**
 * Runs one external program (an agent CLI, a `verify` gate) and says precisely
 * how it ended: exited with a code, killed by someone else's signal, timed out
 * (wall clock or no output), aborted by us, ended by us once the caller had
 * its result, or never started. The only module
 * that imports execa.
 *
 * Division of labour with execa 9: execa spawns (no shell, stdin from
 * /dev/null or a file, exactly the given environment, its own process group via
 * `detached`) and does not buffer (`buffer: false`). Termination is ours:
 * execa 9's `cancelSignal`, `timeout` and `forceKillAfterDelay` signal only
 * the CLI's pid, never its children (group kill, `killDescendants`, arrived in
 * execa 10, which needs Node 22). Line splitting is ours too: execa's `lines`
 * keeps a whole line in memory however long it is, and its `{file}` targets
 * report a missing log directory as ENOENT, the same code as a missing CLI.
 */
import { closeSync, openSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter, type LongLine } from './line-splitter.js';
import { type OutputFile, openOutputFiles } from './output-file.js';
import { processIsRunning } from './proc-stat.js';
import { terminateGroup, trackGroup, untrackGroup } from './process-group.js';
import { TailBuffer } from './tail-buffer.js';

/** Which pipe a line came from: adapters parse stdout; stderr carries CLI warnings. */
export type OutputStream = 'stdout' | 'stderr';

/** What to run and how to watch it. Timeouts of 0 or less (or absent) are off. */
export interface RunProcessOptions {
  file: string;
  args: readonly string[];
  cwd: string;
  /** The child's whole environment: process.env is not merged in (the caller decides what agents see). */
  env: Record<string, string | undefined>;
  /** Our cancellation (Ctrl-C): the group is terminated and the outcome is `aborted`. */
  signal?: AbortSignal;
  /**
   * The caller aborts this once it has the program's final result (claude's
   * `result` event) and has waited as long as it means to: a program still
   * running then is ended like on a timeout (the whole group) and the outcome
   * is `finished`. A program that had already exited keeps its own outcome.
   */
  finishedSignal?: AbortSignal;
  /** Wall-clock limit, counted from the spawn. */
  timeoutMs?: number;
  /** Limit on silence: no byte on stdout or stderr for this long. */
  idleTimeoutMs?: number;
  /**
   * The child's stdin is this file (a regular file, so it reads to EOF and
   * can seek and stat it), e.g. a prompt too long for one argument. Absent:
   * /dev/null.
   */
  stdinFile?: string;
  /** Raw stdout bytes are appended here as they arrive, however long the lines. */
  stdoutFile?: string;
  /** Raw stderr bytes; may be the same path as stdoutFile (one stream, arrival order kept). */
  stderrFile?: string;
  /**
   * Cap for each log file: past it the file keeps the head and the tail and
   * one line saying what was dropped (see output-file.ts). onLine still sees
   * every line. 0 or less (or absent): no cap.
   */
  maxLogBytes?: number;
  /**
   * Each complete line of either stream, without its newline, cut at
   * `maxLineBytes`; those over 1 MiB go to onLongLine when it is given.
   */
  onLine?: (line: string, stream: OutputStream) => void;
  onSpawn?: (pid: number) => void;
  /** Between SIGTERM to the group and SIGKILL to what is left. Default 5000. */
  killGraceMs?: number;
  /** Cap for one line handed to onLine or onLongLine (the file keeps everything). Default 1 MiB. */
  maxLineBytes?: number;
  /**
   * A line over 1 MiB of a stream that has a log file: it waited in a spill
   * file beside that log, not in memory, and is read from there in pieces
   * (see line-splitter.ts). Absent: such lines go to onLine, whole.
   */
  onLongLine?: (line: LongLine, stream: OutputStream) => void;
}

interface OutcomeCommon {
  durationMs: number;
  pid?: number;
  /** The last ~4 KB of stderr, for error messages. */
  stderrTail: string;
  /** Bytes the log cap (maxLogBytes) left out of the log files; absent when none. */
  logDroppedBytes?: number;
}

/**
 * How the run ended. Each kind means something different to the user (and to
 * retry policy), so they are never folded together: `signaled` is someone
 * else's kill, `aborted` is ours, `timeout` is a limit we enforced.
 */
export type ProcessOutcome = OutcomeCommon &
  (
    | { kind: 'exited'; exitCode: number }
    | { kind: 'signaled'; signal: string }
    | { kind: 'timeout'; which: 'wall' | 'idle'; afterMs: number }
    | { kind: 'aborted' }
    /** The caller had the final result; we ended a process that did not exit (finishedSignal). */
    | { kind: 'finished' }
    | { kind: 'spawn-error'; code?: string; message: string }
  );

export type ProcessOutcomeKind = ProcessOutcome['kind'];

/** Long enough for a CLI to save its session on SIGTERM, short enough for Ctrl-C to feel prompt. */
export const DEFAULT_KILL_GRACE_MS = 5000;
const STDERR_TAIL_BYTES = 4096;
/**
 * Once the group is gone, how long the pipes may stay open. Only a process
 * that left the group (setsid) can still hold them; we stop reading rather
 * than wait for it forever.
 */
const PIPE_DRAIN_MS = 2000;
/** setTimeout fires at once for delays above 2^31-1 ms (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Spawns the program and resolves when it and every process of its group
 * have ended and the output files are flushed. Child failures are outcomes;
 * the promise rejects only for our own faults: a log file that cannot be
 * opened or written, or an exception thrown by onLine/onSpawn (the child is
 * killed first).
 */
export function runProcess(options: RunProcessOptions): Promise<ProcessOutcome> {
  return new ProcessRun(options).run();
}

/** Why we are ending the child. The first reason wins. */
type KillCause =
  | { kind: 'aborted' }
  | { kind: 'timeout'; which: 'wall' | 'idle'; afterMs: number }
  /** The caller has the result and no more use for the process. */
  | { kind: 'finished' }
  /** Our own fault (a callback threw, a log write failed): kill, then reject. */
  | { kind: 'failed' };

/**
 * The leader's life (wireit's script-child-process.ts is the model):
 * - starting: spawn requested, not confirmed; a stop is remembered and carried
 *   out once the pid exists (there is nothing to signal before).
 * - running: timers armed.
 * - killing: the group got SIGTERM, SIGKILL follows after the grace period;
 *   further stops (a second Ctrl-C, a timer) change nothing.
 * - done: the leader has exited (or never started). The rest of the group is
 *   then terminated as orphans, whatever the outcome.
 */
type ProcessPhase =
  | { name: 'starting'; pending: KillCause | undefined }
  | { name: 'running' }
  | { name: 'killing'; reason: KillCause }
  | { name: 'done' };

type LeaderExit = { code: number | null; signal: NodeJS.Signals | null };

type Subprocess = ReturnType<typeof spawnChild>;

function spawnChild(options: RunProcessOptions, stdinFd: number | undefined) {
  return execa(options.file, [...options.args], {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    shell: false,
    // Never a pipe: agent CLIs wait (claude) or hang (codex) while stdin is an
    // open pipe. A file descriptor is handed to spawn() as it is, not piped by
    // execa (its types list only the fds 3 to 9; at run time any fd passes).
    stdin: stdinFd === undefined ? 'ignore' : (stdinFd as 3),
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    encoding: 'buffer',
    // setsid(): the child leads a new process group, so one kill(-pid) reaches
    // everything it starts, and the terminal's Ctrl-C goes to us, not to it.
    detached: true,
    // execa's own exit cleanup ignores detached children; see trackGroup().
    cleanup: false,
    forceKillAfterDelay: false,
    reject: false,
    verbose: 'none',
  });
}

class ProcessRun {
  readonly #options: RunProcessOptions;
  readonly #startedAt = performance.now();
  readonly #killGraceMs: number;
  readonly #stderrTail = new TailBuffer(STDERR_TAIL_BYTES);
  #phase: ProcessPhase = { name: 'starting', pending: undefined };
  #pid: number | undefined;
  #termination: Promise<unknown> | undefined;
  #wallTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #failed = false;
  #failure: unknown;
  #outputFiles: OutputFile[] = [];

  constructor(options: RunProcessOptions) {
    this.#options = options;
    this.#killGraceMs = Math.max(0, options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
  }

  /**
   * Everything up to the spawn is synchronous: a stop requested right after
   * runProcess() returns finds the run in `starting`, never half set up.
   */
  async run(): Promise<ProcessOutcome> {
    const { signal } = this.#options;
    if (signal?.aborted) {
      this.#phase = { name: 'done' };
      return this.#outcome({ kind: 'aborted' });
    }
    const cwdProblem = checkCwd(this.#options.cwd);
    if (cwdProblem !== undefined) {
      this.#phase = { name: 'done' };
      return this.#outcome(cwdProblem);
    }
    const { files, all: outputFiles } = openOutputFiles(
      [this.#options.stdoutFile, this.#options.stderrFile],
      this.#options.maxLogBytes,
    );
    this.#outputFiles = outputFiles;
    for (const file of outputFiles) file.onError((error) => this.#fail(error));

    let child: Subprocess;
    let stdinFd: number | undefined;
    try {
      // Our file (the runner wrote it): one that cannot be opened is our fault, not the child's.
      if (this.#options.stdinFile !== undefined) stdinFd = openSync(this.#options.stdinFile, 'r');
      child = spawnChild(this.#options, stdinFd);
    } catch (error) {
      await closeAll(outputFiles);
      throw error;
    } finally {
      // spawn() returns after the exec (or its failure): the child holds its own copy by now.
      if (stdinFd !== undefined) closeSync(stdinFd);
    }
    const onAbort = () => this.#stop({ kind: 'aborted' });
    const onFinished = () => this.#stop({ kind: 'finished' });
    const { finishedSignal } = this.#options;
    signal?.addEventListener('abort', onAbort, { once: true });
    if (finishedSignal?.aborted) onFinished();
    else finishedSignal?.addEventListener('abort', onFinished, { once: true });
    try {
      return await this.#supervise(child, files[0], files[1], outputFiles);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      finishedSignal?.removeEventListener('abort', onFinished);
      this.#clearTimers();
    }
  }

  async #supervise(
    child: Subprocess,
    stdoutFile: OutputFile | undefined,
    stderrFile: OutputFile | undefined,
    outputFiles: OutputFile[],
  ): Promise<ProcessOutcome> {
    // Listeners go on before the first tick: 'spawn', 'error' and 'exit' are
    // emitted later, and execa resumes unread pipes after a setImmediate.
    const spawned = new Promise<{ ok: true } | { ok: false; error: NodeJS.ErrnoException }>(
      (resolve) => {
        child.once('spawn', () => resolve({ ok: true }));
        child.once('error', (error) => resolve({ ok: false, error }));
        // When spawn() itself throws (E2BIG, ETXTBSY: Node throws for every
        // code but a few it reports as 'error'), execa 9 hands back a
        // stand-in child that emits neither event, and settles its promise
        // with the failure instead. For a child that did start, the promise
        // settles only after 'spawn', so this never overrides it.
        child.then(
          (result) => {
            if (result.failed) resolve({ ok: false, error: earlySpawnError(result) });
          },
          (error: unknown) => resolve({ ok: false, error: asErrno(error) }),
        );
      },
    );
    child.on('error', () => {}); // post-spawn errors (a failed kill) are not fatal
    const exited = new Promise<LeaderExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const stdout = child.stdout as Readable | null;
    const stderr = child.stderr as Readable | null;
    const pipesClosed = Promise.all([
      this.#pump(stdout, 'stdout', stdoutFile),
      this.#pump(stderr, 'stderr', stderrFile),
    ]);

    const spawn = await spawned;
    if (!spawn.ok) {
      // A stop requested meanwhile changes nothing: nothing ran, and why it
      // could not run is the more useful fact.
      this.#phase = { name: 'done' };
      stdout?.destroy();
      stderr?.destroy();
      await closeAll(outputFiles, (error) => this.#fail(error));
      this.#throwIfFailed();
      return this.#outcome(describeSpawnError(this.#options.file, spawn.error));
    }

    const pid = child.pid!;
    this.#pid = pid;
    trackGroup(pid);
    const pending = this.#phase.name === 'starting' ? this.#phase.pending : undefined;
    this.#phase = { name: 'running' };
    this.#armTimers();
    this.#callOnSpawn(pid); // even when a stop is pending: the pid existed, callers may record it
    if (pending !== undefined) this.#stop(pending);

    const exit = await exited;
    const phase = this.#phase as ProcessPhase;
    const reason = phase.name === 'killing' ? phase.reason : undefined;
    this.#phase = { name: 'done' };
    this.#clearTimers();

    // Orphans: a CLI that exits while its MCP server or a background tool is
    // still running must not leave them behind. Same path as a kill: SIGTERM
    // to the group, SIGKILL after the grace period; free when the group is empty.
    await this.#terminate(pid);
    untrackGroup(pid);
    await this.#drainPipes(pipesClosed, [stdout, stderr]);
    await closeAll(outputFiles, (error) => this.#fail(error));
    this.#throwIfFailed();
    return this.#outcome(classify(exit, reason));
  }

  /** Reads one pipe: log file, stderr tail, lines, idle watchdog. Resolves when the pipe closes. */
  #pump(source: Readable | null, name: OutputStream, file: OutputFile | undefined): Promise<void> {
    if (source === null) return Promise.resolve();
    const { onLine, onLongLine } = this.#options;
    const lines =
      onLine === undefined
        ? undefined
        : new LineSplitter(
            this.#options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
            (line) => this.#callback(() => onLine(line, name)),
            file === undefined
              ? undefined
              : {
                  path: `${file.path}.${name}-line`,
                  emit: (line) =>
                    this.#callback(() =>
                      onLongLine ? onLongLine(line, name) : onLine(line.text(), name),
                    ),
                },
          );
    let splitting = lines !== undefined;
    source.on('data', (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      this.#idleTimer?.refresh();
      file?.write(bytes, source);
      if (name === 'stderr') this.#stderrTail.push(bytes);
      if (!splitting) return;
      try {
        lines!.push(bytes);
      } catch (error) {
        // The spill file failed (a full disk, like a log that cannot be written): our fault.
        splitting = false;
        this.#fail(error);
      }
    });
    source.on('error', () => {}); // a read error ends the pipe; the exit status says the rest
    return new Promise<void>((resolve) => {
      source.once('close', () => {
        try {
          lines?.end(); // even after a failure: it closes the spill file
        } catch (error) {
          this.#fail(error);
        }
        resolve();
      });
    });
  }

  /** Hands a line over; an exception thrown by the caller's callback is our fault. */
  #callback(call: () => void): void {
    if (this.#failed) return;
    try {
      call();
    } catch (error) {
      this.#fail(error);
    }
  }

  #callOnSpawn(pid: number): void {
    try {
      this.#options.onSpawn?.(pid);
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Our own fault: remember the first error, end the child, reject once it is gone. */
  #fail(error: unknown): void {
    if (!this.#failed) {
      this.#failed = true;
      this.#failure = error;
    }
    this.#stop({ kind: 'failed' });
  }

  #throwIfFailed(): void {
    if (this.#failed) throw this.#failure;
  }

  #stop(reason: KillCause): void {
    const phase = this.#phase;
    switch (phase.name) {
      case 'starting':
        // No pid yet: remember it, act on 'spawn'.
        this.#phase = { name: 'starting', pending: phase.pending ?? reason };
        return;
      case 'running':
        // Exited by itself, its exit not yet seen (a zombie): that is how it
        // ended, and the orphan sweep after the exit ends the rest of the group.
        if (reason.kind === 'finished' && !processIsRunning(this.#pid!)) return;
        this.#phase = { name: 'killing', reason };
        this.#clearTimers();
        void this.#terminate(this.#pid!);
        return;
      case 'killing':
      case 'done':
        return;
    }
  }

  /** Memoised: the kill and the post-exit orphan sweep share one SIGTERM and one grace period. */
  #terminate(pid: number): Promise<unknown> {
    this.#termination ??= terminateGroup(pid, this.#killGraceMs);
    return this.#termination;
  }

  async #drainPipes(closed: Promise<unknown>, pipes: Array<Readable | null>): Promise<void> {
    const timer = new AbortController();
    const drained = await Promise.race([
      closed.then(() => true),
      delay(PIPE_DRAIN_MS, false, { signal: timer.signal }).catch(() => false),
    ]);
    timer.abort();
    if (drained) return;
    for (const pipe of pipes) pipe?.destroy();
    await closed;
  }

  #armTimers(): void {
    const { timeoutMs, idleTimeoutMs } = this.#options;
    if (timeoutMs !== undefined && timeoutMs > 0) {
      this.#wallTimer = setTimeout(
        () => this.#stop({ kind: 'timeout', which: 'wall', afterMs: timeoutMs }),
        Math.min(timeoutMs, MAX_TIMER_MS),
      );
    }
    if (idleTimeoutMs !== undefined && idleTimeoutMs > 0) {
      this.#idleTimer = setTimeout(
        () => this.#stop({ kind: 'timeout', which: 'idle', afterMs: idleTimeoutMs }),
        Math.min(idleTimeoutMs, MAX_TIMER_MS),
      );
    }
  }

  #clearTimers(): void {
    clearTimeout(this.#wallTimer);
    clearTimeout(this.#idleTimer);
    this.#wallTimer = undefined;
    this.#idleTimer = undefined;
  }

  #outcome(result: DistributiveOmit<ProcessOutcome, keyof OutcomeCommon>): ProcessOutcome {
    const common: OutcomeCommon = {
      durationMs: Math.round(performance.now() - this.#startedAt),
      stderrTail: this.#stderrTail.toString(),
    };
    if (this.#pid !== undefined) common.pid = this.#pid;
    const dropped = this.#outputFiles.reduce((sum, file) => sum + file.droppedBytes, 0);
    if (dropped > 0) common.logDroppedBytes = dropped;
    return { ...result, ...common };
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function classify(
  exit: LeaderExit,
  reason: KillCause | undefined,
): DistributiveOmit<ProcessOutcome, keyof OutcomeCommon> {
  // Once we decided to end it, how it died (exit 143, SIGTERM, SIGKILL) is our doing.
  switch (reason?.kind) {
    case 'timeout':
      return { kind: 'timeout', which: reason.which, afterMs: reason.afterMs };
    case 'finished':
      return { kind: 'finished' };
    case 'aborted':
    case 'failed':
      return { kind: 'aborted' };
    case undefined:
      break;
  }
  if (exit.signal !== null) return { kind: 'signaled', signal: exit.signal };
  return { kind: 'exited', exitCode: exit.code ?? 1 };
}

/** execa's failed result for a spawn that threw carries Node's own error as `cause`. */
function earlySpawnError(result: { cause?: unknown; message?: string }): NodeJS.ErrnoException {
  return asErrno(result.cause ?? result);
}

function asErrno(error: unknown): NodeJS.ErrnoException {
  return error instanceof Error ? error : new Error(String(error));
}

function describeSpawnError(
  file: string,
  error: NodeJS.ErrnoException,
): { kind: 'spawn-error'; code?: string; message: string } {
  const code = error.code;
  const message = spawnErrorMessage(file, code) ?? error.message;
  return code === undefined
    ? { kind: 'spawn-error', message }
    : { kind: 'spawn-error', code, message };
}

/** The codes a user can act on, said in words; others keep Node's message. */
function spawnErrorMessage(file: string, code: string | undefined): string | undefined {
  switch (code) {
    case 'ENOENT':
      return `${file}: not found (ENOENT)`;
    case 'EACCES':
      return `${file}: permission denied, is it executable? (EACCES)`;
    case 'E2BIG':
      // Linux also caps one argument at 128 KiB, whatever the total: a long prompt hits that first.
      return 'argument list too long: the arguments and environment are over what the OS allows for one program (E2BIG)';
    case 'ETXTBSY':
      return `${file} is being written or replaced (ETXTBSY); try again`;
    default:
      return undefined;
  }
}

/** Node reports a missing cwd as `spawn <file> ENOENT`, which reads as "not installed". */
function checkCwd(
  cwd: string,
): { kind: 'spawn-error'; code?: string; message: string } | undefined {
  try {
    if (statSync(cwd).isDirectory()) return undefined;
    return {
      kind: 'spawn-error',
      code: 'ENOTDIR',
      message: `working directory is not a directory: ${cwd}`,
    };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'ENOENT';
    return {
      kind: 'spawn-error',
      code,
      message: `working directory is not accessible: ${cwd} (${code})`,
    };
  }
}

async function closeAll(files: OutputFile[], onError?: (error: unknown) => void): Promise<void> {
  for (const result of await Promise.allSettled(files.map((file) => file.close()))) {
    if (result.status === 'rejected') onError?.(result.reason);
  }
}
