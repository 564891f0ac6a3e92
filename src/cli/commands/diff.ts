/**
 * `bearing diff`: what one attempt of a task changed. In worktree mode its
 * commit, as git shows it; in place the files it changed, as they are now
 * against git's HEAD (a run keeps which files a task changed, not what they
 * held before it: src/run/task-diff.ts).
 */
import { describeFailure } from '../../core/failure.js';
import type { AttemptRecord } from '../../core/state.js';
import { didYouMean } from '../../core/suggest.js';
import { type FileNow, recordedChanges, type TaskDiff, taskDiff } from '../../run/task-diff.js';
import { attemptDir } from '../../state/paths.js';
import { loadState } from '../../state/store.js';
import { TASK_ID_PATTERN } from '../../tasks/values.js';
import { type Colors, PLAIN } from '../../ui/output.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { projectRootOrReport } from '../project-dir.js';

export interface DiffOptions {
  attempt?: string;
  json?: boolean;
}

export async function diff(
  ctx: CommandContext,
  id: string,
  dir: string,
  opts: DiffOptions,
): Promise<void> {
  const root = projectRootOrReport(ctx, 'diff', dir);
  if (root === undefined) return;
  const fail = (message: string, code: 1 | 2 | 6): void => {
    ctx.output.err(`bearing diff: ${message}`);
    ctx.setExitCode(code === 1 ? EXIT.failed : code === 2 ? EXIT.invalid : EXIT.io);
  };
  if (!TASK_ID_PATTERN.test(id)) return fail(`"${id}" is not a task id`, 2);
  const state = loadState(root);
  if (!state.ok) return fail(state.error.message, 6);
  const record = state.value.tasks[id];
  const attempts = record?.attempts ?? [];
  if (attempts.length === 0) {
    return fail(`${id} has not run yet${didYouMean(id, Object.keys(state.value.tasks))}`, 1);
  }
  const wanted = opts.attempt === undefined ? undefined : Number(opts.attempt);
  const attempt: AttemptRecord | undefined =
    wanted === undefined ? attempts.at(-1) : attempts.find((a) => a.attempt === wanted);
  if (attempt === undefined) {
    const all = attempts.map((a) => a.attempt).join(', ');
    return fail(`${id} has no attempt ${opts.attempt}; it has ${all}`, 2);
  }
  const dirOfAttempt = attemptDir(root, id, attempt.attempt);
  // The completing attempt's files are also on the task; an attempt killed with its run has none.
  const recorded =
    recordedChanges(dirOfAttempt) ??
    (attempt === attempts.at(-1) && record?.status === 'completed' && record.filesChanged
      ? { files: record.filesChanged }
      : undefined);
  const color = ctx.output.color;
  const shown = await taskDiff(root, attempt, recorded, color !== PLAIN);
  const which = `${id}, attempt ${attempt.attempt} of ${attempts.length}`;
  if (opts.json) {
    ctx.output.out(JSON.stringify(diffJson(id, attempt.attempt, shown), null, 2));
    if (shown.kind === 'running' || shown.kind === 'unavailable') ctx.setExitCode(EXIT.failed);
    return;
  }
  switch (shown.kind) {
    case 'running':
      return fail(
        `${which} is still running; what it changed is known when it ends (\`bearing log ${id} -f\` follows it)`,
        1,
      );
    case 'unavailable':
      return fail(`${which}: ${shown.why}`, 1);
    case 'nothing': {
      const why = attempt.failure
        ? ` (${attempt.outcome}: ${describeFailure(attempt.failure)})`
        : '';
      ctx.output.err(`# ${which} changed no files${why}`);
      return;
    }
    case 'commit':
      ctx.output.err(
        `# ${which}: ${shown.landed ? 'landed as' : `not landed, kept on branch ${shown.branch} as`} commit ${shown.commit.slice(0, 12)}`,
      );
      ctx.output.raw(shown.show.toString('utf8'));
      return;
    case 'files':
      ctx.output.err(
        shown.git
          ? `# ${which} ran in the project folder. Bearing records which files a task added, modified or removed, not their contents before it ran: the diff is each file as it is now against git HEAD, with any change made since.`
          : `# ${which} ran in the project folder, without git: Bearing records which files a task added, modified or removed, not their contents, so only the list is shown.`,
      );
      for (const file of shown.files) ctx.output.out(fileLine(file, color));
      if (shown.patch.length > 0) {
        ctx.output.out('');
        ctx.output.raw(shown.patch.toString('utf8'));
      }
      return;
  }
}

/** A file's state now, as the list's word when the run did not record what the attempt did. */
const NOW_WORDS: Record<FileNow['now'], string> = {
  added: 'added',
  removed: 'removed',
  modified: 'modified',
  unchanged: 'unchanged',
  present: 'changed',
  absent: 'gone',
};

/** The same, after what the attempt did, when now tells another story. */
const NOW_PHRASES: Record<FileNow['now'], string> = {
  added: 'not in HEAD',
  removed: 'gone',
  modified: 'different from HEAD',
  unchanged: 'as in HEAD',
  present: 'there',
  absent: 'gone',
};

/** What the attempt did agrees with what is there now. */
const AGREES: Record<NonNullable<FileNow['change']>, FileNow['now'][]> = {
  added: ['added', 'present'],
  removed: ['removed', 'absent'],
  modified: ['modified', 'present'],
};

/** `<what it did> <path>`, and what is there now when that differs. */
function fileLine(file: FileNow, color: Colors): string {
  const did = file.change;
  const word = (did ?? NOW_WORDS[file.now]).padEnd(9);
  const kind = did ?? file.now;
  const styled =
    kind === 'added'
      ? color.green(word)
      : kind === 'removed'
        ? color.red(word)
        : kind === 'unchanged'
          ? color.dim(word)
          : color.yellow(word);
  const now =
    did === undefined || AGREES[did].includes(file.now)
      ? ''
      : color.dim(` (now ${NOW_PHRASES[file.now]})`);
  return `${styled} ${file.path}${now}`;
}

function diffJson(id: string, attempt: number, shown: TaskDiff): Record<string, unknown> {
  const base = { id, attempt, kind: shown.kind };
  switch (shown.kind) {
    case 'commit':
      return {
        ...base,
        commit: shown.commit,
        landed: shown.landed,
        branch: shown.branch,
        files: shown.files,
      };
    case 'files':
      return { ...base, git: shown.git, files: shown.files };
    case 'unavailable':
      return { ...base, why: shown.why };
    default:
      return base;
  }
}
