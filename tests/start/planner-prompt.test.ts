/**
 * The planner's instructions teach the task-file format exactly as the
 * validator checks it: every schema key with its built-in default, no key the
 * schema lacks (in the reference tables, in the YAML examples, or mentioned
 * inline), only commands that exist, and both CLIs' prompts built on the
 * same shared source.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { NOT_WORK_KEYS, workFields } from '../../src/core/fingerprint.js';
import { makeTask } from '../../src/core/test-support.js';
import {
  COMMAND_MARKER,
  PLANNER_CLIS,
  type PlannerCli,
  plannerInstructions,
  plannerPromptFiles,
  REFERENCE_MARKER,
} from '../../src/run/planner-prompt.js';
import { analyseProject } from '../../src/tasks/project.js';
import {
  BUILTIN_DEFAULTS,
  configFileSchema,
  customAgentSchema,
  RETRY_MODES,
  runSettingsSchema,
  taskFileSchema,
  taskOnlyShape,
  taskSettingsShape,
  UNSET_MEANING,
} from '../../src/tasks/schema.js';
import { BIN } from './support.js';

const instructions = (cli: PlannerCli) => plannerInstructions(cli, { bearingCommand: 'bearing' });

const TASK_KEYS = [...Object.keys(taskOnlyShape), ...Object.keys(taskSettingsShape)];
const AGENT_KEYS = Object.keys(customAgentSchema.shape);
const RUN_KEYS = Object.keys(runSettingsSchema.shape);
const ALL_KEYS = new Set([
  ...TASK_KEYS,
  ...AGENT_KEYS,
  ...RUN_KEYS,
  ...Object.keys(taskFileSchema.shape),
  ...Object.keys(configFileSchema.shape),
]);
/** Names the prompts mention that are other programs' settings, not Bearing keys. */
const NOT_BEARING_KEYS = new Set([
  'run_in_background',
  'developer_instructions',
  'model_reasoning_effort',
]);

/** Reference rows (`| \`key\` | type | default | meaning |`) under each `###` heading. */
function tableRows(text: string): Map<string, { key: string; cells: string[] }[]> {
  const sections = new Map<string, { key: string; cells: string[] }[]>();
  let heading = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) heading = '';
    if (line.startsWith('### ')) heading = line.slice(4).trim();
    const m = /^\| `([^`]+)` \|(.*)\|$/.exec(line);
    if (!m || !heading) continue;
    const cells = (m[2] ?? '').split(/(?<!\\)\|/).map((c) => c.trim());
    const rows = sections.get(heading) ?? [];
    rows.push({ key: m[1] as string, cells });
    sections.set(heading, rows);
  }
  return sections;
}

/** The default cell the reference must show for `value`. */
function expectedDefault(key: string, value: unknown): string {
  if (value === undefined) {
    const unset = (UNSET_MEANING as Record<string, string | undefined>)[key];
    return unset ? `(${unset})` : '';
  }
  if (Array.isArray(value)) return value.length ? `\`${JSON.stringify(value)}\`` : '`[]`';
  return `\`${String(value)}\``;
}

function yamlBlocks(text: string): string[] {
  return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

const bytes = (s: string) => ({ ok: true as const, value: new TextEncoder().encode(s) });

describe.each(PLANNER_CLIS)('the %s planner prompt', (cli) => {
  const text = instructions(cli);
  const sections = tableRows(text);

  it('documents every schema key, once, with its built-in default, and no other key', () => {
    const expected: [string, string[], Record<string, unknown>][] = [
      ['Task keys', TASK_KEYS, BUILTIN_DEFAULTS.task],
      ['`config.yaml` `agents.<name>`', AGENT_KEYS, BUILTIN_DEFAULTS.agent],
      ['`config.yaml` `run`', RUN_KEYS, BUILTIN_DEFAULTS.run],
    ];
    expect([...sections.keys()].sort()).toEqual(expected.map(([h]) => h).sort());
    for (const [heading, keys, defaults] of expected) {
      const rows = sections.get(heading) ?? [];
      expect(rows.map((r) => r.key).sort(), heading).toEqual([...keys].sort());
      for (const row of rows) {
        expect(row.cells[1], `${heading}: ${row.key}`).toBe(
          expectedDefault(row.key, defaults[row.key]),
        );
        expect(row.cells[2]?.length, `${heading}: ${row.key} has a meaning`).toBeGreaterThan(10);
      }
    }
  });

  it('has YAML examples that pass validation as they are written', () => {
    const blocks = yamlBlocks(text);
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const analysis = analyseProject({
        config: undefined,
        taskFiles: [{ display: 'bearing/tasks/example.yaml', content: bytes(block) }],
      });
      expect(analysis.diagnostics.map(formatDiagnostic), block).toEqual([]);
      expect(analysis.plan?.tasks.length).toBeGreaterThan(0);
    }
  });

  it('mentions no key the schema lacks', () => {
    // Inline `key: value` snippets, and snake_case names in backticks.
    const inline = [...text.matchAll(/`([a-z_$]+):(?: [^`]*)?`/g)].map((m) => m[1] as string);
    const snake = [...text.matchAll(/`[^`\n]*`/g)].flatMap((m) =>
      [...m[0].matchAll(/\b[a-z]+(?:_[a-z]+)+\b/g)].map((t) => t[0]),
    );
    const unknown = [...inline, ...snake].filter(
      (k) => !ALL_KEYS.has(k) && !NOT_BEARING_KEYS.has(k),
    );
    expect(unknown).toEqual([]);
    expect(inline.length + snake.length).toBeGreaterThan(10);
  });

  it('names only commands that exist, and teaches the ones the planner runs', () => {
    const help = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' }).stdout;
    const existing = new Set(
      [...help.matchAll(/^ {2}([a-z]+)\b/gm)]
        .map((m) => m[1] as string)
        .filter((c) => c !== 'help'),
    );
    expect(existing.has('start')).toBe(true);
    const named = new Set([...text.matchAll(/`bearing ([a-z]+)/g)].map((m) => m[1] as string));
    expect([...named].filter((c) => !existing.has(c))).toEqual([]);
    for (const command of [
      'validate',
      'run',
      'summary',
      'status',
      'prompt',
      'retry',
      'approve',
      'log',
    ]) {
      expect(named.has(command), command).toBe(true);
    }
  });

  it('teaches how to write, check, split and review tasks', () => {
    for (const phrase of [
      'Definition of done',
      '**focus**',
      '**skip**',
      '**verify**',
      'checkpoint: pause',
      '--concurrency N',
      'must not edit the same files',
      'run `bearing validate` after every change',
      'model: opus',
      'stay in force for the whole session',
    ]) {
      expect(text, phrase).toContain(phrase);
    }
    expect(text).not.toContain(REFERENCE_MARKER);
    expect(text).not.toContain(COMMAND_MARKER);
  });

  it('teaches the verified hand-off: expect_changes, needs-review, and what a summary is checked for', () => {
    expect(text).toContain('**expect_changes**');
    expect(text).toMatch(/changed no file is not completed but\s+`needs-review`/);
    expect(text).toMatch(/`expect_changes: false` on tasks that only\s+analyse/);
    expect(text).toContain('(shell tasks default to `false`)');
  });

  it('teaches stale tasks with exactly the keys that make a task stale, and those that do not', () => {
    const work = Object.keys(workFields(makeTask({ id: 'x' })));
    // Every task key is one or the other: a new key must be decided on.
    expect([...work, ...NOT_WORK_KEYS].sort()).toEqual([...TASK_KEYS].sort());
    const para = /Editing what shapes its work \(([^)]*)\) makes it \*\*stale\*\*/.exec(
      text.replace(/\s+/g, ' '),
    );
    expect(para?.[1]?.split(', ').map((k) => k.replace(/`/g, ''))).toEqual(work);
    const not = /do tasks whose (.*?) alone changed/.exec(text.replace(/\s+/g, ' '));
    expect(
      not?.[1]
        ?.split(/, | or /)
        .map((k) => k.replace(/`/g, ''))
        .sort(),
    ).toEqual(NOT_WORK_KEYS.filter((k) => k !== 'id').sort());
    expect(text).toContain('`bearing approve <id>` accepts its result as current');
    expect(text).toContain('runs it again and makes its dependents stale');
  });

  it('teaches every retry mode the schema has', () => {
    expect(text).toContain('`retry_mode` decides how a retry starts');
    for (const mode of RETRY_MODES) expect(text, mode).toContain(`\`${mode}\``);
    expect(text).toMatch(/after an\s+interruption .* resumes/s);
    expect(text).toMatch(/finished\s+wrong .* starts with the error appended/s);
  });
});

describe('the prompt sources', () => {
  it('share one source: both prompts are shared.md plus their own file', () => {
    const [claude, codex] = [instructions('claude'), instructions('codex')];
    const claudeOwn = readFileSync(plannerPromptFiles('claude')[1] as string, 'utf8').trim();
    const codexOwn = readFileSync(plannerPromptFiles('codex')[1] as string, 'utf8').trim();
    expect(claude.endsWith(`${claudeOwn}\n`)).toBe(true);
    expect(codex.endsWith(`${codexOwn}\n`)).toBe(true);
    expect(claude.slice(0, -claudeOwn.length - 1)).toBe(codex.slice(0, -codexOwn.length - 1));
  });

  it('hold no hand-copied reference: the tables come from the schema at run time', () => {
    for (const file of PLANNER_CLIS.flatMap(plannerPromptFiles)) {
      const source = readFileSync(file, 'utf8');
      expect(source, file).not.toMatch(/^\| `[a-z_]+` \|/m);
    }
    const shared = readFileSync(plannerPromptFiles('claude')[0] as string, 'utf8');
    expect(shared.split(REFERENCE_MARKER)).toHaveLength(2);
  });

  it('tell the planner how to run Bearing when `bearing` is not on PATH', () => {
    const text = plannerInstructions('codex', { bearingCommand: 'node /opt/b/bin/bearing.js' });
    expect(text).toContain(
      '`bearing` is not on PATH in this project: wherever these instructions say `bearing`, run `node /opt/b/bin/bearing.js` instead (for example `node /opt/b/bin/bearing.js validate`).',
    );
  });
});
