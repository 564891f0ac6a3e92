/**
 * Limits and value rules the zod schema cannot express without defaults or
 * refinements. The validator and the generated JSON Schema both read them
 * here, so an editor flags exactly what `bearing validate` rejects.
 */
import { isAbsolute, normalize, relative, sep } from 'node:path';

/**
 * Task files (and config.yaml) above this size are refused unread. A
 * generated plan takes about 470 bytes a task, so 8 MiB holds a
 * 10,000-task plan in one file with room to spare (about 17,000 tasks);
 * bigger plans belong in several files. The cap bounds what one file can
 * cost: the densest YAML (a list of one-character items) needs about 200
 * MiB of memory per MiB while it is parsed, so a file at the cap stays
 * under 2 GB, where twice that would exhaust Node's default heap on many
 * machines.
 */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Collections (block or flow) nested deeper than this are refused while
 * parsing: deeply nested input makes the YAML library slow and memory-hungry,
 * and no task file needs more than a few levels.
 */
export const MAX_NESTING = 64;

/** YAML alias expansions allowed per file (the `yaml` package's guard against "billion laughs"). */
export const MAX_ALIAS_COUNT = 100;

/** Node timers fire at once for delays above 2^31-1 ms, so longer durations are refused. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * Longest task prompt for a custom agent that takes the prompt as an argument.
 * Linux refuses one argument over 128 KiB (E2BIG); the runner adds the PRIOR
 * context of dependencies to the prompt, so this leaves room for it.
 */
export const MAX_ARGUMENT_PROMPT_BYTES = 100 * 1024;

/** A lower bound on a numeric key. */
export interface NumberRule {
  /** Smallest allowed value. */
  min: number;
  /** When true, `min` itself is not allowed. */
  exclusive: boolean;
}

/** Lower bounds of numeric keys, by key name (the names are unique across the schema). */
export const NUMBER_RULES: Readonly<Record<string, NumberRule>> = {
  budget_usd: { min: 0, exclusive: true },
  max_turns: { min: 1, exclusive: false },
  retries: { min: 0, exclusive: false },
  concurrency: { min: 1, exclusive: false },
  context_limit: { min: 500, exclusive: false },
};

/** `undefined` when the value passes, else what was expected, for a message. */
export function checkNumberRule(rule: NumberRule, value: number): string | undefined {
  if (rule.exclusive ? value > rule.min : value >= rule.min) return undefined;
  if (rule.exclusive) return `a number greater than ${rule.min}`;
  return rule.min === 0 ? '0 or more' : `at least ${rule.min}`;
}

/** What a task id may look like, as the start of an "expected ..., got ..." message. */
export const TASK_ID_RULE =
  'expected an id of lowercase letters, digits, ".", "_" and "-" that starts with a letter or digit (ids become file names)';

/**
 * Models that plainly belong to the other vendor's CLI. A Claude model that
 * reaches a codex task through `defaults:` (or the reverse) would only fail
 * once the agent runs and has spent time; caught here instead. Deliberately
 * narrow: only names no provider setup of that CLI would accept.
 */
export function foreignModel(cli: string, model: string): string | undefined {
  if (cli === 'codex' && (/^(opus|sonnet|haiku|fable)$/i.test(model) || /^claude-/i.test(model))) {
    return `"${model}" is a Claude model; codex takes OpenAI models (e.g. gpt-5.2-codex), or leave model unset for its default`;
  }
  if (cli === 'claude' && /^(gpt-|o[1-9]\b|codex-)/i.test(model)) {
    return `"${model}" is an OpenAI model; claude takes Claude models (opus, sonnet, haiku, or a full claude-... name)`;
  }
  return undefined;
}

/** `rel` (from `relative()` or `normalize()`) climbs out of where it started. */
function climbsOut(rel: string): boolean {
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}

/**
 * Why a focus path is refused, or undefined. The agent is told to read these
 * files first: one outside the project (`../../etc/passwd`, `/home/me/.ssh`)
 * points it at files no task should need. Judged on the text, as the agent
 * will read it; `skip` is not checked, since a path outside that the agent
 * must not touch does no harm. Without `projectDir`, no absolute path can be
 * shown to be inside, so all are refused.
 */
export function focusOutside(path: string, projectDir: string | undefined): string | undefined {
  const outside = isAbsolute(path)
    ? projectDir === undefined || climbsOut(relative(projectDir, path))
    : climbsOut(normalize(path));
  return outside
    ? `"${path}" is outside the project; focus paths are relative to the project root`
    : undefined;
}

/**
 * A focus path as the agent gets it: an absolute path inside the project is
 * made relative to its root (where the agent runs), so the prompt does not
 * depend on where the checkout is; others are kept as written.
 */
export function focusRelative(path: string, projectDir: string | undefined): string {
  if (!isAbsolute(path) || projectDir === undefined) return path;
  return relative(projectDir, path) || '.';
}
