import { relative, sep } from 'node:path';
import { formatDiagnostic } from '../../core/diagnostic.js';
import type { Plan } from '../../core/task.js';
import { staleSchemaCopies } from '../../run/init.js';
import { loadProject } from '../../tasks/load.js';
import { VERSION } from '../../version.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { projectRootOrReport } from '../project-dir.js';

export interface ValidateOptions {
  json?: boolean;
}

export async function validate(
  ctx: CommandContext,
  dir: string,
  opts: ValidateOptions,
): Promise<void> {
  const root = projectRootOrReport(ctx, 'validate', dir);
  if (root === undefined) return;
  const result = await loadProject(root, { displayBase: ctx.cwd });
  // Reported, never rewritten here: validate only reads.
  const notes = staleSchemaCopies(root).map((file) => staleNote(ctx, root, file));
  if (opts.json) {
    ctx.output.out(
      JSON.stringify(
        {
          valid: result.plan !== undefined,
          files: result.files,
          tasks: result.plan ? graphJson(result.plan) : [],
          diagnostics: result.diagnostics,
          notes,
        },
        null,
        2,
      ),
    );
    if (!result.plan) ctx.setExitCode(EXIT.invalid);
    return;
  }
  const printNotes = () => {
    for (const note of notes) ctx.output.err(`note: ${note}`);
  };
  if (!result.plan) {
    for (const d of result.diagnostics) ctx.output.err(formatDiagnostic(d));
    const files = new Set(result.diagnostics.map((d) => d.file)).size;
    const n = result.diagnostics.length;
    ctx.output.err(
      `\n${n} problem${n === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}.`,
    );
    printNotes();
    ctx.setExitCode(EXIT.invalid);
    return;
  }
  const plan = result.plan;
  const nFiles = result.files.length;
  ctx.output.out(
    `${plan.tasks.length} task${plan.tasks.length === 1 ? '' : 's'} in ${nFiles} file${nFiles === 1 ? '' : 's'}, valid. In dependency order:`,
  );
  // One write: at 20,000 tasks a write per line took a tenth of the command's time.
  ctx.output.out(graphLines(plan).join('\n'));
  printNotes();
}

/** What an out-of-date schema copy means, and the command (run from here) that updates it. */
function staleNote(ctx: CommandContext, root: string, file: string): string {
  const here = relative(ctx.cwd, root);
  const init =
    here === ''
      ? 'bearing init'
      : `bearing init ${here.includes(' ') ? JSON.stringify(here) : here}`;
  return `${relative(ctx.cwd, file).split(sep).join('/')} is not the schema of this Bearing (${VERSION}), so editors check against another one; \`${init}\` updates it`;
}

/** A shell task has no model, even when a `defaults:` model reaches it. */
function modelOf(t: Plan['tasks'][number]): string | undefined {
  return t.cli === 'shell' ? undefined : t.model;
}

function agentLabel(t: Plan['tasks'][number]): string {
  const model = modelOf(t);
  return model ? `${t.cli} ${model}` : t.cli;
}

/** Aligned columns: id, name, agent, dependencies. */
export function graphLines(plan: Plan): string[] {
  const rows = plan.tasks.map((t) => [
    t.id,
    t.name === t.id ? '' : t.name,
    agentLabel(t),
    t.dependsOn.length ? `<- ${t.dependsOn.join(', ')}` : '',
  ]);
  const widths = [0, 1, 2].map((i) => Math.min(40, Math.max(...rows.map((r) => r[i]!.length))));
  // A column empty in every row (no task has a name) takes no room.
  const shown = [0, 1, 2, 3].filter((i) => i === 3 || widths[i]! > 0);
  return rows.map((r) =>
    `  ${shown.map((i) => (i < 3 ? r[i]!.padEnd(widths[i]!) : r[i]!)).join('  ')}`.trimEnd(),
  );
}

function graphJson(plan: Plan) {
  return plan.tasks.map((t) => ({
    id: t.id,
    name: t.name,
    cli: t.cli,
    model: modelOf(t) ?? null,
    depends_on: t.dependsOn,
    file: t.source.file,
    line: t.source.line,
  }));
}
