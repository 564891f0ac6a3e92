/**
 * What `bearing ui` reads from the project: the view (the same snapshot and
 * status JSON `bearing status --json` prints, through `dashboardView`), one
 * task's detail (the prompt as sent, its attempts), and the tail of a running
 * attempt's output. Reading only: the dashboard writes through `review()`.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { type DashboardView, dashboardView } from '../core/dashboard-view.js';
import { formatDiagnostic } from '../core/diagnostic.js';
import { describeFailure } from '../core/failure.js';
import { statusJson } from '../core/status-report.js';
import type { OutputFormat } from '../core/task.js';
import { attemptFiles } from '../state/paths.js';
import { readAttemptMeta } from './attempt-log.js';
import { preparePrompt } from './prepare.js';
import { type ProjectSnapshot, readSnapshot, statusInput } from './snapshot.js';

export type Read<T> = { ok: true; value: T } | { ok: false; message: string };

export async function readDashboard(
  root: string,
  displayBase: string,
  env: NodeJS.ProcessEnv,
): Promise<Read<{ view: DashboardView; snapshot: ProjectSnapshot }>> {
  const snap = await readSnapshot(root, displayBase, env);
  if (!snap.ok) return snap;
  const s = snap.value;
  const status = statusJson(statusInput(s, new Date()));
  const held = s.lock.state === 'held' ? s.lock.holder : undefined;
  const view = dashboardView({
    status,
    state: s.state,
    project: basename(root),
    run: {
      active: s.gate.kind === 'active',
      ...(held ? { pid: held.pid, since: held.startedAt } : {}),
    },
    diagnostics: s.diagnostics.map(formatDiagnostic),
  });
  return { ok: true, value: { view, snapshot: s } };
}

export interface TaskDetail {
  id: string;
  /**
   * The prompt: as the latest attempt received it (`sent`), or as the next
   * attempt would (`next`, what `bearing prompt` prints); `none` for a shell
   * task or while the task files do not load (`note` says which).
   */
  prompt: { source: 'sent' | 'next' | 'none'; attempt: number | null; text: string | null };
  note: string | null;
  attempts: AttemptDetail[];
}

export interface AttemptDetail {
  attempt: number;
  outcome: string;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  costUsd: number | null;
  /** costUsd is Bearing's estimate from the tokens (codex). */
  costEstimated: boolean;
  turns: number | null;
  summary: string | null;
  error: string | null;
  notes: string[];
}

export function taskDetail(
  root: string,
  snapshot: ProjectSnapshot,
  id: string,
): TaskDetail | undefined {
  const task = snapshot.plan.tasks.find((t) => t.id === id);
  const record = snapshot.state.tasks[id];
  if (!task && !record) return undefined;
  const attempts = (record?.attempts ?? []).map(
    (a): AttemptDetail => ({
      attempt: a.attempt,
      outcome: a.outcome,
      startedAt: a.startedAt,
      endedAt: a.endedAt ?? null,
      durationMs: a.durationMs ?? null,
      costUsd: a.costUsd ?? null,
      costEstimated: a.costEstimated === true,
      turns: a.turns ?? null,
      summary: a.summary ?? null,
      error: a.failure ? describeFailure(a.failure) : null,
      notes: a.notes ?? [],
    }),
  );
  const base = { id, attempts };
  if (task?.cli === 'shell') {
    return {
      ...base,
      prompt: { source: 'none', attempt: null, text: null },
      note: `a shell task: it runs \`sh -c ${JSON.stringify(task.run ?? '')}\` and receives no prompt`,
    };
  }
  const last = record?.attempts.at(-1);
  if (last) {
    const text = readText(attemptFiles(root, id, last.attempt).prompt);
    if (text !== undefined) {
      return {
        ...base,
        prompt: { source: 'sent', attempt: last.attempt, text },
        note: null,
      };
    }
  }
  if (!task || snapshot.diagnostics.length > 0) {
    return {
      ...base,
      prompt: { source: 'none', attempt: null, text: null },
      note: 'the task files have problems (`bearing validate` lists them): no prompt until they load',
    };
  }
  const next = preparePrompt(snapshot.plan, snapshot.state, task, snapshot.plan.run.promptFormat);
  return {
    ...base,
    prompt: { source: 'next', attempt: next.attempt, text: next.prompt },
    note: null,
  };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The output file of a task's latest attempt, to follow while it runs. */
export function latestOutput(
  snapshot: ProjectSnapshot,
  root: string,
  id: string,
): LatestOutput | undefined {
  const last = snapshot.state.tasks[id]?.attempts.at(-1);
  if (!last) return undefined;
  const files = attemptFiles(root, id, last.attempt);
  return {
    attempt: last.attempt,
    path: files.stdoutLog,
    format: readAttemptMeta(files.dir).output,
    cwd: last.worktree?.path ?? root,
  };
}

export interface LatestOutput {
  attempt: number;
  /** Its stdout.log. */
  path: string;
  /** How its output reads (meta.json); undefined when not recorded: shown as printed. */
  format: OutputFormat | undefined;
  /** Where the agent ran: paths under it are shown relative. */
  cwd: string;
}

/** How much of an output file a newly opened tail shows. */
export const TAIL_START_BYTES = 64 * 1024;
/** How much one read of a growing file passes on at most. */
const TAIL_READ_BYTES = 256 * 1024;

/**
 * Follows a file that only grows (an attempt's stdout.log): the first read
 * gives its last TAIL_START_BYTES from a line start, each later one what was
 * appended since. The agent's bytes are cut anywhere, so a UTF-8 character
 * split across reads is held back until it is whole.
 */
export class FileTail {
  readonly path: string;
  #offset: number | undefined;
  readonly #decoder = new TextDecoder('utf-8');

  constructor(path: string) {
    this.path = path;
  }

  /** New text since the last read ('' when nothing was added or the file is not there yet). */
  read(): string {
    let size: number;
    try {
      size = statSync(this.path).size;
    } catch {
      return '';
    }
    let start = this.#offset;
    let skipToLine = false;
    if (start === undefined) {
      start = Math.max(0, size - TAIL_START_BYTES);
      skipToLine = start > 0;
    }
    if (size <= start) return '';
    const length = Math.min(size - start, TAIL_READ_BYTES);
    const buffer = Buffer.alloc(length);
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return '';
    }
    let got: number;
    try {
      got = readSync(fd, buffer, 0, length, start);
    } finally {
      closeSync(fd);
    }
    this.#offset = start + got;
    let text = this.#decoder.decode(buffer.subarray(0, got), { stream: true });
    if (skipToLine) {
      const newline = text.indexOf('\n');
      text = newline < 0 ? '' : text.slice(newline + 1);
    }
    return text;
  }
}
