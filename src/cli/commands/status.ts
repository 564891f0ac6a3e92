/**
 * `bearing status` and `bearing summary`: the project read once (plan, state,
 * lock, what comes next) and shown in full, as status.md holds it, or on one
 * screen; either as JSON.
 */
import { formatDiagnostic } from '../../core/diagnostic.js';
import { renderStatusMarkdown, renderSummary, statusJson } from '../../core/status-report.js';
import { readSnapshot, statusInput } from '../../run/snapshot.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { projectRootOrReport } from '../project-dir.js';

export interface StatusOptions {
  json?: boolean;
}

export async function status(
  ctx: CommandContext,
  kind: 'status' | 'summary',
  dir: string,
  opts: StatusOptions,
): Promise<void> {
  const root = projectRootOrReport(ctx, kind, dir);
  if (root === undefined) return;
  const snap = await readSnapshot(root, ctx.cwd, ctx.env);
  if (!snap.ok) {
    ctx.output.err(`bearing ${kind}: ${snap.message}`);
    ctx.setExitCode(EXIT.failed);
    return;
  }
  const s = snap.value;
  const input = statusInput(s, new Date());
  if (opts.json) {
    ctx.output.out(
      JSON.stringify(
        {
          ...statusJson(input),
          run_active: s.lock.state === 'held',
          diagnostics: s.diagnostics.map(formatDiagnostic),
        },
        null,
        2,
      ),
    );
  } else {
    for (const d of s.diagnostics) ctx.output.err(formatDiagnostic(d));
    const text =
      kind === 'status' ? renderStatusMarkdown(input, { memo: false }) : renderSummary(input);
    // Both end in a newline, which out() adds back.
    ctx.output.out(text.endsWith('\n') ? text.slice(0, -1) : text);
  }
  if (s.diagnostics.length > 0) ctx.setExitCode(EXIT.invalid);
}
