import { formatDiagnostic } from '../../core/diagnostic.js';
import { didYouMean } from '../../core/suggest.js';
import type { PromptFormat } from '../../core/task.js';
import { preparePrompt } from '../../run/prepare.js';
import { loadState } from '../../state/store.js';
import { loadProject } from '../../tasks/load.js';
import { PROMPT_FORMATS } from '../../tasks/values.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { projectRootOrReport } from '../project-dir.js';

export interface PromptOptions {
  format?: string;
  json?: boolean;
}

export async function prompt(
  ctx: CommandContext,
  id: string,
  dir: string,
  opts: PromptOptions,
): Promise<void> {
  if (opts.format !== undefined && !(PROMPT_FORMATS as readonly string[]).includes(opts.format)) {
    ctx.output.err(
      `bearing prompt: --format: expected one of ${PROMPT_FORMATS.join(', ')}, got "${opts.format}"${didYouMean(opts.format, PROMPT_FORMATS)}`,
    );
    ctx.setExitCode(EXIT.invalid);
    return;
  }
  const root = projectRootOrReport(ctx, 'prompt', dir);
  if (root === undefined) return;
  const loaded = await loadProject(root, { displayBase: ctx.cwd });
  if (!loaded.plan) {
    for (const d of loaded.diagnostics) ctx.output.err(formatDiagnostic(d));
    ctx.setExitCode(EXIT.invalid);
    return;
  }
  const plan = loaded.plan;
  const task = plan.tasks.find((t) => t.id === id);
  if (!task) {
    ctx.output.err(
      `bearing prompt: no task "${id}"${didYouMean(
        id,
        plan.tasks.map((t) => t.id),
      )}; run \`bearing validate\` to list them`,
    );
    ctx.setExitCode(EXIT.invalid);
    return;
  }
  const state = loadState(root);
  if (!state.ok) {
    ctx.output.err(`bearing prompt: ${state.error.message}`);
    ctx.setExitCode(EXIT.failed);
    return;
  }
  if (task.cli === 'shell') {
    const text = `${task.id} is a shell task: it runs \`sh -c ${JSON.stringify(task.run ?? '')}\` in the project and receives no prompt.`;
    ctx.output.out(
      opts.json ? JSON.stringify({ id, cli: 'shell', run: task.run, prompt: null }, null, 2) : text,
    );
    return;
  }
  const format = (opts.format as PromptFormat | undefined) ?? plan.run.promptFormat;
  const next = preparePrompt(plan, state.value, task, format);
  const text = next.prompt;
  if (opts.json) {
    ctx.output.out(
      JSON.stringify(
        {
          id,
          cli: task.cli,
          attempt: next.attempt,
          resume_session_id: next.resumeSessionId ?? null,
          retry: next.retryWhy ?? null,
          format,
          prompt: text,
        },
        null,
        2,
      ),
    );
    return;
  }
  // Exactly the text, nothing added: it can be piped or diffed. Whether a
  // retry resumes or starts fresh goes to stderr, beside it.
  if (next.retryWhy) ctx.output.err(`Attempt ${next.attempt} ${next.retryWhy}.`);
  ctx.output.out(text.replace(/\n$/, ''));
}
