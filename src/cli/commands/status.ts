import type { Command } from 'commander';
import { formatDiagnostic } from '../../core/diagnostic.js';
import { renderStatusMarkdown, renderSummary, statusJson } from '../../core/status-report.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { PROJECT_DIR_HELP, projectRootOrReport } from '../project-dir.js';

export function registerStatus(program: Command, ctx: CommandContext): void {
  const show = (kind: 'status' | 'summary') => async (dir: string, opts: { json?: boolean }) => {
    const root = projectRootOrReport(ctx, kind, dir);
    if (root === undefined) return;
    const { readSnapshot } = await import('../../run/snapshot.js');
    const snap = await readSnapshot(root, ctx.cwd, ctx.env);
    if (!snap.ok) {
      ctx.output.err(`bearing ${kind}: ${snap.message}`);
      ctx.setExitCode(EXIT.failed);
      return;
    }
    const s = snap.value;
    const input = {
      plan: s.plan,
      state: s.state,
      next: s.next,
      now: new Date(),
      running: s.running,
      gate: s.gate,
    };
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
      const text = kind === 'status' ? renderStatusMarkdown(input) : renderSummary(input);
      ctx.output.out(text.replace(/\n$/, ''));
    }
    if (s.diagnostics.length > 0) ctx.setExitCode(EXIT.invalid);
  };
  program
    .command('status')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      'Show the full status: progress, cost, tokens, what happens next, and per task its state, summary, files changed and error (what bearing/status.md holds, computed now).',
    )
    .option('--json', 'print the status as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ bearing status\n  $ bearing status --json | jq ".tasks[] | select(.status == \\"failed\\")"',
    )
    .action(show('status'));
  program
    .command('summary')
    .argument('[dir]', PROJECT_DIR_HELP, '.')
    .description(
      'One screen for the planner: progress, cost, what happens next, and one line per task.',
    )
    .option('--json', 'print the status as JSON')
    .addHelpText('after', '\nExamples:\n  $ bearing summary')
    .action(show('summary'));
}
