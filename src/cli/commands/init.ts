import { fileInTheWay, initProject } from '../../run/init.js';
import { findProjectRoot } from '../../state/project.js';
import { displayPath } from '../../tasks/files.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { resolveProjectDir } from '../project-dir.js';

export interface InitOptions {
  json?: boolean;
  /** False with --no-start. */
  start?: boolean;
}

export async function init(ctx: CommandContext, dir: string, opts: InitOptions): Promise<void> {
  const root = resolveProjectDir(ctx, dir);
  // Inside a project already (up to the git repository's root): say so
  // rather than nest a second bearing/, which would hide the first from
  // every command run below it.
  const around = findProjectRoot(root);
  if (around.kind === 'found' && around.root !== root) {
    if (opts.json) {
      ctx.output.out(
        JSON.stringify({ root: around.root, created: [], updated: [], kept: [] }, null, 2),
      );
      return;
    }
    ctx.output.out(
      `${displayPath(around.root, ctx.cwd)} is already a Bearing project (its bearing/ is set up); nothing changed. Every bearing command finds it from here.`,
    );
    return;
  }
  const blocker = fileInTheWay(root);
  if (blocker !== undefined) {
    ctx.output.err(
      `bearing init: cannot create bearing/ in ${root}: ${blocker} is a file, not a folder`,
    );
    ctx.setExitCode(EXIT.failed);
    return;
  }
  let result: ReturnType<typeof initProject>;
  try {
    result = initProject(root);
  } catch (error) {
    ctx.output.err(`bearing init: cannot create bearing/ in ${root}: ${(error as Error).message}`);
    ctx.setExitCode(EXIT.failed);
    return;
  }
  if (opts.json) {
    ctx.output.out(JSON.stringify(result, null, 2));
    return;
  }
  const { color } = ctx.output;
  if (result.created.length > 0) {
    ctx.output.out(`Initialised bearing/ in ${root}`);
  } else if (result.updated.length > 0) {
    ctx.output.out(`bearing/ already set up in ${root}; brought its schema copy up to date.`);
  } else {
    ctx.output.out(`bearing/ already set up in ${root}; nothing changed.`);
  }
  for (const f of result.created) ctx.output.out(`  ${color.green('created')} ${f}`);
  for (const f of result.updated) ctx.output.out(`  ${color.green('updated')} ${f}`);
  for (const f of result.kept) ctx.output.out(`  ${color.dim('kept')}    ${f}`);
  ctx.output.out('');
  ctx.output.out('Next: write tasks in bearing/tasks/ (see the example), then:');
  ctx.output.out('  bearing validate   check them');
  ctx.output.out('  bearing run        run them; results go to bearing/status.md');
  // At a terminal, offer the planner (bearing start); the answer defaults to No.
  if (opts.start !== false && process.stdin.isTTY && process.stdout.isTTY) {
    const start = await import('./start.js');
    const answers = start.stdinAnswers(ctx);
    let answer: string | undefined;
    ctx.output.out('');
    try {
      answer = await answers.ask('Start a planner session now (bearing start)? [y/N] ');
    } finally {
      answers.close();
    }
    if (/^\s*y(es)?\s*$/i.test(answer ?? '')) await start.runStart(ctx, root, {});
  }
}
