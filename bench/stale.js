// What working out stale tasks costs (core/stale.ts): `bearing status`,
// `summary` and every step of a run after an edit refresh it over the whole
// plan. Measured in process on a finished plan of --tasks tasks (each
// depending on the two before it, with a prompt and summary of realistic
// size), every task fingerprinted: unchanged, and after an edit to the first
// task's prompt that makes every task stale. The machine is shared and noisy,
// so each round also measures, interleaved, the floor any edit detection
// pays: one sha256 of each task's settings and one of each summary. Medians
// of --rounds, and the ratio to the floor, whose target is 2×.
//
//   npm run build && node bench/stale.js [--tasks 20000] [--rounds 9]
import { parseArgs } from 'node:util';
import { fingerprintOf } from '../dist/core/fingerprint.js';
import { refreshStale } from '../dist/core/stale.js';
import { digest } from '../dist/state/digest.js';
import { normalizeRun } from '../dist/tasks/normalize.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '9' },
  },
});
const N = Number(values.tasks);
const ROUNDS = Number(values.rounds);
const TARGET_RATIO = 2;
const now = new Date('2026-01-01T00:00:00Z');

function task(i, prompt) {
  return {
    id: `t${i}`,
    name: `t${i}`,
    cli: 'claude',
    model: 'sonnet',
    timeoutMs: 1_800_000,
    idleTimeoutMs: 600_000,
    permissionMode: 'auto',
    sandbox: 'workspace-write',
    focus: [`src/t${i}.ts`],
    skip: ['node_modules'],
    dependsOn: i === 0 ? [] : i === 1 ? ['t0'] : [`t${i - 1}`, `t${i - 2}`],
    checkpoint: 'auto',
    onFailure: 'retry',
    retries: 1,
    retryMode: 'auto',
    expectChanges: true,
    verify: 'npm test',
    prompt: prompt ?? `Task ${i}: ${'implement the thing carefully. '.repeat(30)}`,
    source: { file: 'bearing/tasks/t.yaml', line: i + 1, col: 1 },
  };
}

const plan = {
  tasks: Array.from({ length: N }, (_, i) => task(i)),
  agents: {},
  run: normalizeRun(undefined),
};
function finished() {
  const state = { version: 1, tasks: {} };
  for (const t of plan.tasks) {
    state.tasks[t.id] = {
      id: t.id,
      status: 'completed',
      attempts: [{ attempt: 1, startedAt: now.toISOString(), outcome: 'completed' }],
      summary: `Did ${t.id}. ${'Changed the files and checked them. '.repeat(20)}`,
      filesChanged: [`src/${t.id}.ts`, `tests/${t.id}.test.ts`],
      costUsd: 0.1,
      usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
      turns: 1,
      durationMs: 1,
      updatedAt: now.toISOString(),
      fingerprint: fingerprintOf(t, state, digest),
    };
  }
  return state;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The floor: one hash of each task's settings and one of each recorded summary. */
function floor(state) {
  for (const t of plan.tasks) {
    digest(JSON.stringify(t));
    digest(state.tasks[t.id].summary);
  }
}

const edited = { ...plan, tasks: [task(0, 'Task 0, edited.'), ...plan.tasks.slice(1)] };
const cases = [
  { label: 'unchanged', plan, times: [], stale: 0 },
  { label: 'first task edited (all stale)', plan: edited, times: [], stale: 0 },
];
const floorTimes = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const c of cases) {
    const state = finished();
    const t0 = performance.now();
    c.stale = refreshStale(c.plan, state, digest, now, { adopt: true }).stale.length;
    c.times.push(performance.now() - t0);
  }
  const state = finished();
  const t0 = performance.now();
  floor(state);
  floorTimes.push(performance.now() - t0);
}
const base = median(floorTimes);
console.log(
  `${'floor (2 sha256 per task)'.padEnd(32)} ${base.toFixed(1).padStart(8)} ms median of ${ROUNDS}`,
);
for (const c of cases) {
  const ms = median(c.times);
  const ratio = ms / base;
  console.log(
    `${c.label.padEnd(32)} ${ms.toFixed(1).padStart(8)} ms (${c.stale} stale of ${N}): ${ratio.toFixed(2)}× the floor, target ${TARGET_RATIO}×: ${ratio <= TARGET_RATIO ? 'met' : 'MISSED'}`,
  );
}
