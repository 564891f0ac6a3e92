/**
 * Running one attempt's agent and reading its verdict: spawn it, stream its
 * output to its parser, end what it left behind, and run the `verify` gate
 * where it worked. The same code runs here (`bearing run`, `run/attempt.ts`)
 * and on a worker (`bearing worker`, `queue/worker.ts`), so an attempt on
 * another machine has exactly the adapters, timeouts, limits and log caps of
 * a local one. What it needs comes in two parts: `AgentJob`, plain data that
 * can travel through the queue (no credentials: the agent's environment is
 * the machine's own), and `AgentPlace`, what only the machine running it has.
 */
import { join } from 'node:path';
import { adapterFor } from '../agents/registry.js';
import {
  type AgentInvocation,
  type AgentRunResult,
  MAX_AGENT_LINE_BYTES,
  type OutputParser,
  type OutputSignal,
  type ParserOptions,
} from '../agents/types.js';
import type { LiveProgress } from '../core/progress.js';
import { ZERO_USAGE } from '../core/state.js';
import type { CustomAgent, Task } from '../core/task.js';
import { formatBytes } from '../process/output-file.js';
import {
  DEFAULT_KILL_GRACE_MS,
  type OutputStream,
  type ProcessOutcome,
  runProcess,
} from '../process/run-process.js';
import { runShellCommand } from '../process/shell-command.js';
import { ATTEMPT_TOKEN_ENV, endStrayProcesses } from '../process/strays.js';

/** Everything that decides how the agent runs, as plain data. */
export interface AgentJob {
  task: Task;
  /** The custom agent's definition when `task.cli` names one. */
  agent?: CustomAgent;
  attempt: number;
  /** The attempt's token, in the agent's environment (BEARING_ATTEMPT_TOKEN). */
  token: string;
  /** Empty for shell tasks. */
  prompt: string;
  invocation: AgentInvocation;
  parserOptions?: ParserOptions;
  /** run.max_log_size, in bytes; 0: none. */
  maxLogBytes: number;
  /** How long the agent may linger after its final result. */
  resultGraceMs: number;
  killGraceMs?: number;
}

/** Where the agent runs, and what only that machine has. */
export interface AgentPlace {
  /** The directory the agent and its gate run in. */
  cwd: string;
  /** The attempt's log directory: prompt.txt is read from it, stdout.log, stderr.log and verify.log written to it. */
  dir: string;
  /** The environment the agent gets (Bearing's variables are added). */
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** Why `signal` was aborted, for the attempt's record. */
  abortMessage: () => string;
  /** The agent's process exists (its group leader's pid). */
  onSpawn?: (pid: number) => void;
  /** Its events changed what the agent has done so far (turns, tool, tokens, cost). */
  onProgress?: (progress: LiveProgress) => void;
}

/** How the agent's run went: its verdict after the gate, and what Bearing measured. */
export interface AgentRun {
  result: AgentRunResult;
  durationMs: number;
  exitCode?: number;
  /** Bearing's own notes (the log was capped, strays were ended); the parser's are on `result`. */
  notes: string[];
}

export async function runAgent(job: AgentJob, place: AgentPlace): Promise<AgentRun> {
  const { task, invocation } = job;
  const { signal, dir } = place;
  const adapter = adapterFor(task, job.agent ? { [task.cli]: job.agent } : {});
  // Paths in the live progress are shown relative to where the agent works.
  const parser = adapter.createParser({ ...job.parserOptions, cwd: place.cwd });
  let progress = parser.progress;
  // The agent said its last word (or something no waiting can mend): end it
  // if it does not exit by itself.
  const finished = new AbortController();
  let lingerTimer: NodeJS.Timeout | undefined;
  /** Hands a line to the parser; what it says may end the agent early. */
  const heard = (stream: OutputStream, read: () => OutputSignal | undefined): void => {
    // A shell step's errors are on stderr: its output is both streams, as in a terminal.
    if (stream !== 'stdout' && task.cli !== 'shell') return;
    const said = read();
    if (parser.progress !== progress && parser.progress) {
      progress = parser.progress;
      place.onProgress?.(progress);
    }
    if (said === 'fatal') finished.abort();
    else if (said === 'final' && lingerTimer === undefined) {
      lingerTimer = setTimeout(() => finished.abort(), job.resultGraceMs);
    }
  };
  const outcome = await runProcess({
    file: invocation.file,
    args: invocation.args,
    cwd: place.cwd,
    env: {
      ...place.env,
      ...invocation.env,
      BEARING_TASK_ID: task.id,
      BEARING_ATTEMPT: String(job.attempt),
      [ATTEMPT_TOKEN_ENV]: job.token,
    },
    ...(invocation.promptOnStdin ? { stdinFile: join(dir, 'prompt.txt') } : {}),
    signal,
    finishedSignal: finished.signal,
    timeoutMs: task.timeoutMs,
    idleTimeoutMs: task.idleTimeoutMs,
    stdoutFile: join(dir, 'stdout.log'),
    stderrFile: join(dir, 'stderr.log'),
    maxLogBytes: job.maxLogBytes,
    maxLineBytes: MAX_AGENT_LINE_BYTES,
    ...(place.onSpawn ? { onSpawn: place.onSpawn } : {}),
    onLine: (line, stream) => heard(stream, () => parser.push(line)),
    onLongLine: (line, stream) => heard(stream, () => parser.pushPieces(line.pieces())),
    ...(job.killGraceMs !== undefined ? { killGraceMs: job.killGraceMs } : {}),
  });
  clearTimeout(lingerTimer);

  const notes: string[] = [];
  // The group is gone; what left it (setsid) still carries the token. Ending it
  // costs one look through /proc (about a millisecond), and an agent's daemon
  // left behind would otherwise run, and write, for as long as it likes.
  const escaped = await endStrayProcesses(
    [{ token: job.token }],
    job.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
  );
  if (escaped.escaped.length > 0) {
    notes.push(
      `ended ${escaped.escaped.length} process${escaped.escaped.length === 1 ? '' : 'es'} the agent had left running outside its process group`,
    );
  }
  let result = resultFromOutcome(outcome, place.abortMessage(), parser, invocation.file);
  if (outcome.logDroppedBytes) {
    notes.push(
      `the raw log was capped at run.max_log_size: ${formatBytes(outcome.logDroppedBytes)} of output in the middle were dropped`,
    );
  }
  if (result.status === 'completed' && task.verify && !signal.aborted) {
    result = await runGate(task, task.verify, place, result);
  }
  return {
    result,
    durationMs: outcome.durationMs,
    ...(outcome.kind === 'exited' ? { exitCode: outcome.exitCode } : {}),
    notes,
  };
}

/** The `verify` gate, where the agent worked, after the agent reported success. */
async function runGate(
  task: Task,
  command: string,
  place: AgentPlace,
  result: AgentRunResult,
): Promise<AgentRunResult> {
  const gate = await runShellCommand(command, {
    cwd: place.cwd,
    env: { ...place.env, BEARING_TASK_ID: task.id },
    signal: place.signal,
    timeoutMs: task.timeoutMs,
    outputFile: join(place.dir, 'verify.log'),
  });
  if (gate.outcome.kind === 'aborted') {
    return {
      ...result,
      status: 'failed',
      failure: { reason: 'interrupted', message: 'verify was interrupted' },
    };
  }
  if (gate.outcome.kind === 'exited' && gate.outcome.exitCode === 0) return result;
  return {
    ...result,
    status: 'failed',
    failure: {
      reason: 'verify-failed',
      command,
      exitCode: gate.outcome.kind === 'exited' ? gate.outcome.exitCode : -1,
      output: gate.output,
    },
  };
}

function resultFromOutcome(
  outcome: ProcessOutcome,
  abortMessage: string,
  parser: OutputParser,
  file: string,
): AgentRunResult {
  switch (outcome.kind) {
    case 'exited':
      return withStderr(parser.finish({ exitCode: outcome.exitCode }), outcome.stderrTail);
    case 'finished':
      // We ended it after its final word: that word is the result.
      return parser.finish({ endedByUs: true });
    case 'signaled': {
      const parsed = parser.finish({ signal: outcome.signal });
      return { ...parsed, status: 'failed', failure: { reason: 'signal', signal: outcome.signal } };
    }
    case 'timeout': {
      const parsed = parser.finish({});
      return {
        ...parsed,
        status: 'failed',
        failure: { reason: 'agent-timeout', kind: outcome.which, afterMs: outcome.afterMs },
      };
    }
    case 'aborted': {
      const parsed = parser.finish({});
      return {
        ...parsed,
        status: 'failed',
        failure: { reason: 'interrupted', message: abortMessage },
      };
    }
    case 'spawn-error':
      return {
        summary: '',
        usage: ZERO_USAGE,
        status: 'failed',
        failure: { reason: 'spawn-error', command: file, message: outcome.message },
      };
  }
}

/**
 * An agent that exits non-zero without a structured error (a crash, a bad
 * flag) says why on stderr, which the parser never sees: quote its end.
 */
function withStderr(result: AgentRunResult, stderrTail: string): AgentRunResult {
  const f = result.failure;
  if (f?.reason !== 'agent-exit' && f?.reason !== 'unparseable-output') return result;
  const lines = stderrTail
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const tail = lines.slice(-5).join(' | ').slice(-1000);
  if (!tail) return result;
  return { ...result, failure: { ...f, message: `${f.message}; stderr: ${tail}` } };
}
