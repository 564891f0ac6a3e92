// Realistic generated projects for the benchmarks: task files as a planner
// writes them (multi-line prompts, 1-3 dependencies on recent tasks, file and
// config defaults) and, for the reading commands, the state.json a finished
// run of that plan leaves (one attempt per task, a few retried, each with its
// session, usage, summary and changed files). Deterministic: every run of a
// benchmark measures the same bytes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveState } from '../dist/state/store.js';

const AREAS = ['db', 'api', 'ui', 'auth', 'jobs', 'docs'];

/** The id of task `i`. */
export const taskId = (i) => `${AREAS[i % AREAS.length]}-${String(i).padStart(5, '0')}`;

/** Deterministic pseudo-random numbers. */
function rng(seed) {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s % n;
  };
}

function taskYaml(i, random) {
  const deps = new Set();
  if (i > 0) {
    const count = 1 + random(3);
    for (let k = 0; k < count; k++) deps.add(taskId(Math.max(0, i - 1 - random(Math.min(i, 40)))));
  }
  const lines = [`  - id: ${taskId(i)}`];
  if (deps.size > 0) lines.push(`    depends_on: [${[...deps].join(', ')}]`);
  if (i % 7 === 0) lines.push('    model: opus');
  if (i % 11 === 0) lines.push('    timeout: 45m');
  if (i % 5 === 0) lines.push(`    focus: [src/${AREAS[i % AREAS.length]}/step-${i}.ts]`);
  const area = AREAS[i % AREAS.length];
  lines.push(
    '    prompt: |',
    `      Implement step ${i} of the ${area} module as plan.md says: read the`,
    `      interfaces the earlier ${area} steps left in src/${area}/ and extend them`,
    '      rather than adding a parallel path. Keep the change small and the public',
    '      API backwards compatible; update the docs comment of anything you touch.',
    '      Add a test next to the code that fails without the change, and run the',
    '      whole suite before you finish.',
  );
  return lines.join('\n');
}

/**
 * Write `bearing/config.yaml` and `tasks` tasks in `files` task files under
 * `dir`. Returns the bytes of task YAML written and the files' paths.
 */
export function writePlan(dir, { tasks, files }) {
  const random = rng(7);
  const tasksDir = join(dir, 'bearing', 'tasks');
  mkdirSync(tasksDir, { recursive: true });
  writeFileSync(
    join(dir, 'bearing', 'config.yaml'),
    'defaults:\n  cli: claude\n  model: sonnet\n  retries: 1\nrun:\n  concurrency: 4\n',
  );
  const perFile = Math.ceil(tasks / files);
  let bytes = 0;
  const paths = [];
  for (let f = 0; f < files; f++) {
    const body = [];
    for (let i = f * perFile; i < Math.min(tasks, (f + 1) * perFile); i++) {
      body.push(taskYaml(i, random));
    }
    const text = `defaults:\n  effort: high\n  timeout: 30m\ntasks:\n${body.join('\n')}\n`;
    bytes += Buffer.byteLength(text);
    const path = join(tasksDir, `${String(f).padStart(3, '0')}.yaml`);
    writeFileSync(path, text);
    paths.push(path);
  }
  return { bytes, paths };
}

const SUMMARY = (i) =>
  [
    `Implemented step ${i}: added the module and its test, wired it into the index.`,
    'Ran `npm test`: all tests pass. Left the migration for the next task, as plan.md says.',
    '',
    '- src/index.ts exports the new function',
    '- tests cover the empty and the error case',
  ].join('\n');

/**
 * The state a run that completed every task of writePlan's plan leaves
 * behind: its last save, a snapshot (state.json) and an empty journal.
 */
export function writeFinishedState(dir, { tasks }) {
  const random = rng(11);
  const start = Date.parse('2025-06-01T09:00:00.000Z');
  const records = {};
  let clock = start;
  for (let i = 0; i < tasks; i++) {
    const id = taskId(i);
    const attempts = [];
    const tries = i % 23 === 0 ? 2 : 1;
    let cost = 0;
    let duration = 0;
    let turns = 0;
    const usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
    for (let a = 1; a <= tries; a++) {
      const ms = 20_000 + random(200_000);
      const u = {
        inputTokens: 2_000 + random(30_000),
        outputTokens: 500 + random(8_000),
        cacheReadTokens: random(400_000),
        cacheWriteTokens: random(40_000),
      };
      const c = Math.round((0.05 + random(1000) / 1000) * 1e6) / 1e6;
      const t = 3 + random(30);
      const done = a === tries;
      attempts.push({
        attempt: a,
        startedAt: new Date(clock).toISOString(),
        endedAt: new Date(clock + ms).toISOString(),
        durationMs: ms,
        outcome: done ? 'completed' : 'failed',
        ...(done
          ? {}
          : {
              failure: {
                reason: 'verify-failed',
                command: 'npm test',
                exitCode: 1,
                output: 'FAIL tests/step.test.ts\n  expected 2, got 3\n',
              },
            }),
        costUsd: c,
        usage: u,
        turns: t,
        sessionId: `0b5e${String(i).padStart(4, '0')}-1c2d-4e5f-8a9b-${String(a).padStart(12, '0')}`,
        model: i % 7 === 0 ? 'claude-opus-4-5' : 'claude-sonnet-4-5',
        ...(done ? { summary: SUMMARY(i) } : {}),
        exitCode: 0,
        process: {
          token: `tok-${i}-${a}-${random(1e9).toString(36)}`,
          pgid: 10_000 + random(50_000),
          startTime: String(1_000_000 + random(9_000_000)),
        },
      });
      clock += ms;
      cost += c;
      duration += ms;
      turns += t;
      for (const k of Object.keys(usage)) usage[k] += u[k];
    }
    const files = Array.from(
      { length: 1 + random(5) },
      (_, k) => `src/${AREAS[i % AREAS.length]}/step-${i}-${k}.ts`,
    );
    records[id] = {
      id,
      status: 'completed',
      attempts,
      summary: SUMMARY(i),
      filesChanged: files,
      costUsd: cost,
      usage,
      turns,
      durationMs: duration,
      sessionId: attempts.at(-1).sessionId,
      retryFrom: tries,
      updatedAt: new Date(clock).toISOString(),
    };
  }
  const state = {
    version: 1,
    tasks: records,
    lastRun: {
      startedAt: new Date(start).toISOString(),
      endedAt: new Date(clock).toISOString(),
      pid: 4242,
      stopReason: 'Every task completed. Add tasks to bearing/tasks/ and run `bearing run` again.',
    },
  };
  return { bytes: saveState(dir, state, tasks).snapshotBytes };
}
