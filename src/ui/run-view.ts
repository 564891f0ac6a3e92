/**
 * How a run looks in the terminal: one line per event, plus on a TTY a live
 * line showing what runs, for how long, and the cost so far. With --json,
 * one JSON object per event (for scripts and the planner).
 *
 * The run loop ticks every second so the live line can count up. A tick is a
 * clock, not an event: it never reaches --json (a 6-hour usage-limit wait
 * would be 21,600 lines of it), and without a terminal it becomes a line
 * only after a minute in which nothing else was printed.
 */
import { attemptCost, costText, roundUsd } from '../core/cost.js';
import { formatDiagnostic } from '../core/diagnostic.js';
import { adviseFailure, describeFailure, formatMs } from '../core/failure.js';
import { type LiveProgress, totalTokens } from '../core/progress.js';
import type { RunTotals, TaskSpend } from '../core/run-totals.js';
import { progressText, thousands, tokensJson } from '../core/status-report.js';
import type { RunEvent } from '../run/events.js';
import type { Output } from './output.js';

/** How long a run writing to a file or pipe stays silent before it says what is still running. */
const HEARTBEAT_MS = 60_000;

export interface RunViewOptions {
  json: boolean;
  /** Epoch ms; injected so tests can step time. */
  now?: () => number;
}

/**
 * Renders each event; `note` prints a message from outside the run loop (a
 * signal arrived) on a line of its own, clearing the live line first.
 */
export type RunView = ((e: RunEvent) => void) & { note(text: string): void };

export function runView(output: Output, options: RunViewOptions): RunView {
  const now = options.now ?? Date.now;
  if (options.json) {
    return Object.assign(
      (e: RunEvent) => {
        // Progress comes with every agent event; scripts read it from `bearing status --json` or `watch --json`.
        if (e.type !== 'tick' && e.type !== 'progress') output.out(JSON.stringify(eventJson(e)));
      },
      { note: (text: string) => output.err(text) },
    );
  }
  const { color } = output;
  /** Lines of the live block on the screen now (TTY): the run's line, then one per running task. */
  let live = 0;
  let lastLine = now();
  /** What each running task's agent has done so far, for its line of the live block. */
  const progress = new Map<string, LiveProgress>();
  const clearLive = (): void => {
    if (live > 0 && output.isTTY) output.raw(`\r\x1b[2K${'\x1b[1A\x1b[2K'.repeat(live - 1)}`);
    live = 0;
  };
  const line = (text: string): void => {
    clearLive();
    lastLine = now();
    output.out(`${color.dim(clock(lastLine))} ${text}`);
  };
  const note = (text: string): void => {
    // The terminal echoed ^C where the cursor was, at the end of the live line
    // or of an empty one: clear that line so neither stays on the screen.
    if (output.isTTY) {
      clearLive();
      output.raw('\r\x1b[2K');
      output.err(text);
    } else {
      output.err(`\n${text}`);
    }
  };
  const view = (e: RunEvent): void => {
    switch (e.type) {
      case 'run-start':
        line(
          `${e.pending} of ${e.tasks} task${e.tasks === 1 ? '' : 's'} to run (concurrency ${e.concurrency}${e.landsOn ? `, each in its own worktree, landing on ${e.landsOn}` : ''}); results in bearing/status.md`,
        );
        break;
      case 'note':
        line(color.dim(e.message));
        break;
      case 'recovered':
        line(
          color.yellow(
            `recovered after a crash or kill: ${e.ids.join(', ')} will run again (the interrupted attempt is kept in the log)${strayText(e.ended)}`,
          ),
        );
        break;
      case 'plan-changed':
        if (e.added.length || e.removed.length) {
          line(
            `task files changed${e.added.length ? `; added ${e.added.join(', ')}` : ''}${e.removed.length ? `; removed ${e.removed.join(', ')}` : ''}`,
          );
        } else {
          line('task files changed; using the new version');
        }
        break;
      case 'stale':
        for (const t of e.tasks) {
          line(`${color.yellow('↺')} ${color.bold(t.id)} is stale and runs again: ${t.message}`);
        }
        break;
      case 'plan-invalid':
        line(
          color.yellow(
            'task files were edited and are now invalid; still using the last valid version:',
          ),
        );
        for (const d of e.diagnostics) output.err(`  ${formatDiagnostic(d)}`);
        break;
      case 'plan-unsure':
        line(
          color.yellow(
            `task files no longer define ${e.missing.join(', ')}; if they are still gone at ${clock(e.until)} they count as removed (a branch switch or \`git stash\` may put them back). Starting nothing until then.`,
          ),
        );
        break;
      case 'missing-cli':
        line(
          color.red(
            `${e.task} needs \`${e.command}\` (${e.cli}), which is not installed: ${e.installHint}. Skipping it for now.`,
          ),
        );
        break;
      case 'request':
        line(`${e.action} ${e.id}: ${e.message}`);
        break;
      case 'task-start': {
        const t = e.task;
        if (e.landing) {
          line(`${color.cyan('▶')} ${color.bold(t.id)}: landing the work of attempt ${e.attempt}`);
          break;
        }
        const agent = t.cli === 'shell' ? 'shell' : [t.cli, t.model].filter(Boolean).join(' ');
        line(
          `${color.cyan('▶')} ${color.bold(t.id)} started (${agent}${e.attempt > 1 ? `, attempt ${e.attempt}` : ''}${e.resume ? ', resuming session' : ''})`,
        );
        break;
      }
      case 'progress':
        progress.set(e.id, e.progress);
        break;
      case 'task-end': {
        progress.delete(e.task.id);
        const a = e.attempt;
        const facts = [
          a.durationMs !== undefined ? formatMs(a.durationMs) : undefined,
          a.costUsd !== undefined ? costText(attemptCost(a)) : undefined,
          a.turns !== undefined ? `${a.turns} turn${a.turns === 1 ? '' : 's'}` : undefined,
          e.record.filesChanged && e.outcome === 'completed'
            ? `${e.record.filesChanged.length} file${e.record.filesChanged.length === 1 ? '' : 's'} changed`
            : undefined,
        ]
          .filter(Boolean)
          .join(' · ');
        const id = color.bold(e.task.id);
        const why = e.failure ? describeFailure(e.failure) : '';
        switch (e.outcome) {
          case 'completed':
            line(
              `${color.green('✔')} ${id} completed${facts ? ` (${facts})` : ''}${e.record.flagged ? color.yellow(' [flagged for review]') : ''}`,
            );
            break;
          case 'needs-review':
            line(
              `${color.yellow('?')} ${id} needs review: ${why}; its dependents wait (\`bearing log ${e.task.id}\`, then \`bearing approve ${e.task.id}\` or \`bearing retry ${e.task.id}\`)`,
            );
            break;
          case 'awaiting-review': {
            const review = `\`bearing approve ${e.task.id}\` or \`bearing retry ${e.task.id}\``;
            // Whether to approve a failed gate is judged from the gate's output.
            line(
              e.failure?.reason === 'verify-failed'
                ? `${color.yellow('⏸')} ${id} failed: ${why}; awaits review: read the gate's output (\`bearing log ${e.task.id} --verify\`), then ${review}`
                : `${color.yellow('⏸')} ${id} ${e.failure ? `failed: ${why}; ` : 'done; '}awaits review (${review})`,
            );
            break;
          }
          case 'retrying':
            line(
              `${color.yellow('↻')} ${id} failed: ${why}; retrying${facts ? ` (${facts})` : ''}`,
            );
            break;
          case 'skipped':
            line(
              `${color.yellow('↷')} ${id} failed: ${why}; skipped (on_failure: skip), dependents go on`,
            );
            break;
          case 'requeued':
            line(`${color.yellow('⏸')} ${id} ${why}; it stays queued`);
            break;
          case 'interrupted':
            line(
              `${color.yellow('■')} ${id} interrupted; it runs again on the next \`bearing run\``,
            );
            break;
          case 'failed': {
            const advice = e.failure ? adviseFailure(e.failure).replaceAll('<id>', e.task.id) : '';
            line(
              `${color.red('✖')} ${id} failed: ${why}${facts ? ` (${facts})` : ''}${advice ? `. ${capitalise(advice)}` : ''}`,
            );
            break;
          }
        }
        break;
      }
      case 'tick': {
        if (e.running.length === 0) return;
        const at = now();
        const running = e.running.map((r) => `${r.id} ${formatMs(at - r.startedAt)}`).join(', ');
        const cost = costText({ ...e.cost, unknown: false });
        const text = `${color.cyan('…')} running ${running} · ${cost} so far · ${e.done}/${e.total} done`;
        if (output.isTTY) {
          // One line per running task whose agent reports progress, cut to the
          // width: a wrapped line would not be cleared by the next redraw.
          const width = Math.max(20, (output.columns ?? 120) - 1);
          const tasks = e.running.flatMap((r) => {
            const p = progress.get(r.id);
            return p
              ? [clip(`  ${r.id} ${formatMs(at - r.startedAt)} · ${progressText(p)}`, width)]
              : [];
          });
          clearLive();
          output.raw([text, ...tasks].join('\n'));
          live = 1 + tasks.length;
        } else if (at - lastLine >= HEARTBEAT_MS) {
          // A log file gets a line after a quiet minute, so an unattended run shows it is alive.
          line(text);
        }
        break;
      }
      case 'waiting':
        line(
          color.yellow(
            `${e.kind === 'outage' ? `the ${e.cli} API is unavailable` : `${e.cli} hit a usage or rate limit`} (${e.message}); its tasks wait until ${new Date(e.until).toTimeString().slice(0, 8)}, then the run goes on (Ctrl-C to stop)`,
          ),
        );
        break;
      case 'stopping':
        line(color.yellow(`stopping: ${e.reason}`));
        break;
      case 'run-end':
        line(`this run took ${totalsText(e.totals)}`);
        for (const l of perTaskLines(e.totals.tasks)) output.out(l);
        output.out('');
        for (const l of e.next.split('\n')) output.out(l);
        break;
    }
  };
  return Object.assign(view, { note });
}

/** What recovery ended of a killed run's agents, for the `recovered` line. */
function strayText({ groups, escaped }: { groups: number; escaped: number }): string {
  if (groups + escaped === 0) return '';
  const parts = [
    groups > 0 ? `${groups} agent process group${groups === 1 ? '' : 's'}` : '',
    escaped > 0
      ? `${escaped} process${escaped === 1 ? '' : 'es'} that had left ${groups === 1 ? 'it' : 'them'}`
      : '',
  ].filter(Boolean);
  return `; first ended what the killed run had left running: ${parts.join(' and ')}`;
}

/** Tasks listed by cost at the end of a run; the rest are counted (`bearing status` has each). */
const MAX_TASK_SPEND_LINES = 10;

/** What each task of the run cost, costliest first, one aligned line each. */
function perTaskLines(tasks: TaskSpend[]): string[] {
  const shown = tasks.slice(0, MAX_TASK_SPEND_LINES);
  const width = Math.max(0, ...shown.map((t) => t.id.length));
  const lines = shown.map((t) => {
    return `  ${t.id.padEnd(width)}  ${costText(t.cost)} · ${t.attempts} attempt${t.attempts === 1 ? '' : 's'} · ${formatMs(t.durationMs)} · ${thousands(totalTokens(t.usage))} tokens`;
  });
  const more = tasks.length - shown.length;
  if (more > 0) lines.push(`  ... and ${more} more (\`bearing status\` has each task's cost)`);
  return lines;
}

function totalsText(t: RunTotals): string {
  const u = t.usage;
  const unknown = t.costUnknownFor.length
    ? ` (plus unknown for ${t.costUnknownFor.join(', ')})`
    : '';
  return `${formatMs(t.wallMs)} · ${costText({ ...t.cost, unknown: false })}${unknown} · tokens ${thousands(u.inputTokens)} input, ${thousands(u.outputTokens)} output, ${thousands(u.cacheReadTokens)} cache read, ${thousands(u.cacheWriteTokens)} cache write`;
}

function clip(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

/** Advice is written to follow "To go on:"; after a full stop it starts a sentence. */
function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function clock(at: number): string {
  return new Date(at).toTimeString().slice(0, 8);
}

function eventJson(e: RunEvent): Record<string, unknown> {
  switch (e.type) {
    case 'task-start':
      return {
        type: e.type,
        id: e.task.id,
        cli: e.task.cli,
        model: e.task.model ?? null,
        attempt: e.attempt,
        resume: e.resume,
        landing: e.landing ?? false,
      };
    case 'task-end':
      return {
        type: e.type,
        id: e.task.id,
        outcome: e.outcome,
        attempt: e.attempt,
        ...(e.failure ? { failure: e.failure, error: describeFailure(e.failure) } : {}),
        files_changed: e.record.filesChanged ?? [],
      };
    case 'plan-invalid':
      return { type: e.type, diagnostics: e.diagnostics.map(formatDiagnostic) };
    case 'run-end': {
      const { totals: t } = e;
      // Named as in `bearing status --json`.
      return {
        type: e.type,
        next: e.next,
        cost_usd: roundUsd(t.cost.usd),
        cost_estimated: t.cost.estimated,
        cost_unknown_for: t.costUnknownFor,
        tokens: tokensJson(t.usage),
        attempts: t.attempts,
        wall_ms: t.wallMs,
        tasks: t.tasks.map((task) => ({
          id: task.id,
          cost_usd: roundUsd(task.cost.usd),
          cost_estimated: task.cost.estimated,
          cost_unknown: task.cost.unknown,
          tokens: tokensJson(task.usage),
          attempts: task.attempts,
          duration_ms: task.durationMs,
        })),
      };
    }
    default:
      return { ...e };
  }
}
