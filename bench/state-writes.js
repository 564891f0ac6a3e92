// What recording a run costs as the plan grows: the orchestration overhead
// per task, the bytes written to the state files (bearing/.state/state.json
// and journal.jsonl) per transition, and the bytes written to status.md,
// for plans of 10 and 10,000 tasks side by side.
//
// The plan is independent tasks at concurrency 1. A dependency chain (as in
// bench/overhead.js) would also measure PRIOR hand-off, whose prompt lists
// every earlier ancestor, and that grows with the plan for reasons that are
// not the state's; independent tasks keep every prompt the same size, and one
// agent at a time makes the gap between one agent's exit and the next one's
// start Bearing's own time. The agent stamps its start and end (as in
// overhead.js); the writes are counted by a preload that wraps node:fs
// (bench/support/count-writes.mjs).
//
// A task is three transitions of the state: started (before the spawn),
// spawned (its process group), ended.
//
// Run after `npm run build`:
//   node bench/state-writes.js [--sizes 10,10000]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const SIZES = arg('--sizes', '10,10000').split(',').map(Number);
const TRANSITIONS_PER_TASK = 3;
const OVERHEAD_GROWTH_TARGET = 1.3;
/** Bytes per transition "do not depend on the number of tasks": within this factor. */
const BYTES_GROWTH_TARGET = 1.3;

function writeProject(dir, n) {
  mkdirSync(join(dir, 'bearing', 'tasks'), { recursive: true });
  writeFileSync(
    join(dir, 'bearing', 'config.yaml'),
    [
      'run:',
      '  concurrency: 1',
      'agents:',
      '  stamp:',
      '    command: sh',
      `    args: ["-c", "date +%s%N >> stamps; echo done; date +%s%N >> stamps", "stamp", "{prompt}"]`,
      '    output: text',
      '',
    ].join('\n'),
  );
  const lines = ['defaults:', '  cli: stamp', 'tasks:'];
  for (let i = 0; i < n; i++) {
    lines.push(`  - id: t${String(i).padStart(5, '0')}`);
    lines.push(`    prompt: Task ${i}. Change nothing; say done.`);
  }
  writeFileSync(join(dir, 'bearing', 'tasks', 'many.yaml'), `${lines.join('\n')}\n`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
};
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** A small plan is run again until this many gaps are measured: nine make a noisy median. */
const MIN_GAPS = 100;

/** One run of a plan of n tasks: the gaps between agents, and the bytes written. */
function runOnce(n) {
  const dir = mkdtempSync(join(tmpdir(), 'bearing-state-writes-'));
  try {
    writeProject(dir, n);
    const writes = join(dir, 'writes.json');
    const started = performance.now();
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        pathToFileURL(join(ROOT, 'bench', 'support', 'count-writes.mjs')).href,
        join(ROOT, 'bin', 'bearing.js'),
        'run',
        dir,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', BEARING_BENCH_WRITES: writes },
        maxBuffer: 256 * 1024 * 1024,
      },
    );
    const wall = performance.now() - started;
    if (run.status !== 0) {
      console.log(
        `${n} tasks: run failed (exit ${run.status}): ${run.stderr.trim().split('\n')[0]}`,
      );
      return undefined;
    }
    const stamps = readFileSync(join(dir, 'stamps'), 'utf8').trim().split('\n').map(BigInt);
    const gaps = [];
    for (let i = 1; i + 1 < stamps.length; i += 2) {
      gaps.push(Number(stamps[i + 1] - stamps[i]) / 1e6);
    }
    const counted = JSON.parse(readFileSync(writes, 'utf8'));
    const statusSize = readFileSync(join(dir, 'bearing', 'status.md')).length;
    return { gaps, counted, statusSize, wall };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [];
for (const n of SIZES) {
  const runs = [];
  do {
    const one = runOnce(n);
    if (!one) break;
    runs.push(one);
  } while (runs.reduce((sum, r) => sum + r.gaps.length, 0) < MIN_GAPS);
  if (runs.length === 0) continue;
  const gaps = runs.flatMap((r) => r.gaps);
  // The bytes of one run (they are the same every time).
  const { counted, statusSize } = runs[0];
  const wall = runs.reduce((sum, r) => sum + r.wall, 0) / runs.length;
  const perTransition = counted.state / (n * TRANSITIONS_PER_TASK);
  const r = { n, median: median(gaps), perTransition, status: counted.status };
  results.push(r);
  console.log(
    `${n} tasks${runs.length > 1 ? ` (${runs.length} runs)` : ''}: overhead per task median ${r.median.toFixed(1)} ms, p90 ${pct(gaps, 0.9).toFixed(1)} ms (n=${gaps.length}); ` +
      `state: ${mb(counted.state)} in ${counted.stateWrites} writes, ${perTransition.toFixed(0)} bytes per transition; ` +
      `status.md: ${mb(counted.status)} in ${counted.statusWrites} writes (${kb(counted.status / n)} per task, final file ${kb(statusSize)}); ` +
      `whole run ${(wall / 1000).toFixed(1)} s`,
  );
}
if (results.length >= 2) {
  const [a, b] = [results[0], results.at(-1)];
  const growth = b.median / a.median;
  const bytesGrowth = b.perTransition / a.perTransition;
  console.log(
    `overhead per task, ${b.n} vs ${a.n} tasks: ${growth.toFixed(2)}x (target under ${OVERHEAD_GROWTH_TARGET}x) ${growth < OVERHEAD_GROWTH_TARGET ? 'ok' : 'MISSED'}`,
  );
  console.log(
    `state bytes per transition, ${b.n} vs ${a.n} tasks: ${bytesGrowth.toFixed(2)}x (target: independent of the plan, under ${BYTES_GROWTH_TARGET}x) ${bytesGrowth < BYTES_GROWTH_TARGET ? 'ok' : 'MISSED'}`,
  );
  console.log(
    `status.md bytes per task, ${b.n} vs ${a.n} tasks: ${(b.status / b.n / (a.status / a.n)).toFixed(2)}x (target: proportional to what changed, under ${BYTES_GROWTH_TARGET}x)`,
  );
}
