/**
 * `bearing log`: one attempt's record. By default what the agent did, as a
 * transcript (messages, tool calls, failed calls, the result) read from its
 * stdout by its adapter's own reader; a text agent's or shell task's output
 * as printed. `--raw` and the file flags print the recorded bytes;
 * `--follow` reads on while the attempt runs.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeFailure } from '../../core/failure.js';
import type { RunState } from '../../core/state.js';
import { didYouMean } from '../../core/suggest.js';
import {
  attemptEnds,
  type ReadOptions,
  readAttemptMeta,
  readText,
  readTranscript,
  recordedAttempt,
} from '../../run/attempt-log.js';
import { runsDir, taskRunsDir } from '../../state/paths.js';
import { loadState } from '../../state/store.js';
import { TASK_ID_PATTERN } from '../../tasks/values.js';
import { renderTranscriptEntry } from '../../ui/transcript-view.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { projectRootOrReport } from '../project-dir.js';

type Part = 'stdout' | 'stderr' | 'prompt' | 'verify';
const FILES: Record<Part, string> = {
  stdout: 'stdout.log',
  stderr: 'stderr.log',
  prompt: 'prompt.txt',
  verify: 'verify.log',
};

export interface LogOptions {
  attempt?: string;
  stderr?: boolean;
  prompt?: boolean;
  verify?: boolean;
  raw?: boolean;
  follow?: boolean;
  json?: boolean;
}

/** The attempt `log` shows, once chosen. */
interface Chosen {
  root: string;
  id: string;
  attempt: number;
  attempts: number[];
  dir: string;
}

export async function log(
  ctx: CommandContext,
  id: string,
  dir: string,
  opts: LogOptions,
): Promise<void> {
  const chosen = chooseAttempt(ctx, id, dir, opts);
  if (chosen === undefined) return;
  if (opts.json) {
    printJson(ctx, chosen);
    return;
  }
  const { root, attempt } = chosen;
  const follow: ReadOptions = opts.follow ? { until: attemptEnds(root, id, attempt) } : {};
  const only: Part | undefined = opts.prompt
    ? 'prompt'
    : opts.stderr
      ? 'stderr'
      : opts.verify
        ? 'verify'
        : undefined;
  const meta = readAttemptMeta(chosen.dir);
  // An agent's stdout is its event stream and its stderr is noise; a shell
  // task's output is both (a failing check often prints only on stderr).
  const parts: Part[] = only ? [only] : meta.cli === 'shell' ? ['stdout', 'stderr'] : ['stdout'];
  const first = join(chosen.dir, FILES[parts[0]!]);
  // Following, a file may be written later (the gate's log, or stdout before the spawn).
  if (!existsSync(first) && !opts.follow) {
    ctx.output.err(`bearing log: attempt ${attempt} of ${id} has no ${parts[0]} (${first})`);
    ctx.setExitCode(EXIT.failed);
    return;
  }
  // Text output (a shell task, a text agent) is its own transcript; without a recorded format, the bytes.
  const transcript = only || opts.raw || meta.output === 'text' ? undefined : meta.output;
  let endsWithNewline = true;
  if (transcript === undefined) {
    endsWithNewline = await printFiles(ctx, chosen, parts, follow);
  } else {
    header(ctx, chosen, first);
    await readTranscript(
      first,
      transcript,
      whereItRan(readState(root), chosen),
      (entry) => {
        for (const line of renderTranscriptEntry(entry, ctx.output.color)) ctx.output.out(line);
      },
      follow,
    );
  }
  if (only || opts.raw) return;
  // How it ended, as recorded once the attempt was over.
  const record = recordedAttempt(readState(root), id, attempt);
  const failure = record?.failure;
  // Bearing's verdict after the agent's own: it covers what the output cannot show (a gate, a timeout).
  if (failure !== undefined && transcript !== undefined) {
    ctx.output.out(ctx.output.color.red(`✗ ${record?.outcome}: ${describeFailure(failure)}`));
  }
  if (failure?.reason === 'verify-failed') {
    if (!endsWithNewline) ctx.output.raw('\n');
    await printFiles(ctx, chosen, ['verify'], {}, 'verify');
  }
}

/** The attempt named by the options, or undefined after reporting why there is none. */
function chooseAttempt(
  ctx: CommandContext,
  id: string,
  dir: string,
  opts: LogOptions,
): Chosen | undefined {
  const root = projectRootOrReport(ctx, 'log', dir);
  if (root === undefined) return undefined;
  if (!TASK_ID_PATTERN.test(id)) {
    ctx.output.err(`bearing log: "${id}" is not a task id`);
    ctx.setExitCode(EXIT.invalid);
    return undefined;
  }
  const taskDir = taskRunsDir(root, id);
  const attempts = existsSync(taskDir)
    ? readdirSync(taskDir)
        .filter((n) => /^\d+$/.test(n))
        .map(Number)
        .sort((a, b) => a - b)
    : [];
  if (attempts.length === 0) {
    const others = existsSync(runsDir(root)) ? readdirSync(runsDir(root)) : [];
    ctx.output.err(`bearing log: ${id} has not run yet${didYouMean(id, others)}`);
    ctx.setExitCode(EXIT.failed);
    return undefined;
  }
  const attempt = opts.attempt === undefined ? attempts.at(-1)! : Number(opts.attempt);
  if (!attempts.includes(attempt)) {
    ctx.output.err(
      `bearing log: ${id} has no attempt ${opts.attempt}; it has ${attempts.join(', ')}`,
    );
    ctx.setExitCode(EXIT.invalid);
    return undefined;
  }
  return { root, id, attempt, attempts, dir: join(taskDir, String(attempt)) };
}

function printJson(ctx: CommandContext, chosen: Chosen): void {
  const read = (name: string): unknown => {
    try {
      return JSON.parse(readFileSync(join(chosen.dir, name), 'utf8'));
    } catch {
      return null;
    }
  };
  ctx.output.out(
    JSON.stringify(
      {
        id: chosen.id,
        attempt: chosen.attempt,
        attempts: chosen.attempts,
        dir: chosen.dir,
        files: Object.fromEntries(
          Object.entries(FILES)
            .map(([k, f]) => [k, join(chosen.dir, f)] as const)
            .filter(([, p]) => existsSync(p)),
        ),
        meta: read('meta.json'),
        result: read('result.json'),
      },
      null,
      2,
    ),
  );
}

/** The state, or undefined when it cannot be read (the log files are shown all the same). */
function readState(root: string): RunState | undefined {
  const state = loadState(root);
  return state.ok ? state.value : undefined;
}

/** The folder the agent ran in: its worktree, or the project. */
function whereItRan(state: RunState | undefined, chosen: Chosen): string {
  return recordedAttempt(state, chosen.id, chosen.attempt)?.worktree?.path ?? chosen.root;
}

/** `# <id>, attempt <n> of <all>: <file>`, on stderr, so stdout stays what the attempt printed. */
function header(ctx: CommandContext, chosen: Chosen, file: string, suffix = ''): void {
  ctx.output.err(
    `# ${chosen.id}, attempt ${chosen.attempt} of ${chosen.attempts.length}: ${file}${suffix}`,
  );
}

/**
 * The parts' bytes one after the other, exactly, each after a header on
 * stderr (the first names the attempt, unless `label` names it). Only the
 * first is followed: the others are read once it is over. Returns whether
 * what was printed ends a line.
 */
async function printFiles(
  ctx: CommandContext,
  chosen: Chosen,
  parts: Part[],
  follow: ReadOptions,
  label?: string,
): Promise<boolean> {
  let last = '\n';
  for (const [i, part] of parts.entries()) {
    const path = join(chosen.dir, FILES[part]);
    if (i > 0 && !existsSync(path)) continue;
    const empty = parts.length > 1 && existsSync(path) && statSync(path).size === 0;
    const suffix = empty ? ' (empty)' : '';
    if (!last.endsWith('\n')) ctx.output.raw('\n');
    if (i === 0 && label === undefined) header(ctx, chosen, path, suffix);
    else ctx.output.err(`# ${label ?? part}: ${path}${suffix}`);
    await readText(
      path,
      (text) => {
        ctx.output.raw(text);
        last = text;
      },
      i === 0 ? follow : {},
    );
  }
  return last.endsWith('\n');
}
