// Reading commands at scale: `bearing status` and `bearing summary` on a
// finished 1,000-task project, and startup (`bearing --help`), each as a
// whole process, as a person runs them. The machine is shared and noisy, so
// the floor (`node -e 0`) is measured interleaved with them in the same
// rounds, and every figure is a median. The targets were set on a quiet
// machine where the floor was 64 ms; each is also shown as a multiple of the
// floor, which is what stays comparable when the machine is busy. Each round
// runs the cases in a rotated order.
//
//   npm run build && node bench/reading.js [--rounds 15] [--baseline <bin/bearing.js>] [--keep]
//
// --baseline measures another build (e.g. a checkout of main) in the same
// rounds, for a before/after in one run.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { planCacheFile } from '../dist/state/paths.js';
import { loadProjectToKeep } from '../dist/tasks/load.js';
import { writeFinishedState, writePlan } from './plan.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    tasks: { type: 'string', default: '1000' },
    baseline: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(values.rounds);
const TASKS = Number(values.tasks);
/** Where the targets were set: `node -e 0` took this long on a quiet machine. */
const QUIET_FLOOR_MS = 64;

const builds = [{ label: 'this build', bin: join(ROOT, 'bin', 'bearing.js') }];
if (values.baseline) builds.push({ label: 'baseline', bin: resolve(values.baseline) });

const top = mkdtempSync(join(tmpdir(), 'bearing-bench-reading-'));
/** A finished project, and a copy whose task files change before every read. */
const [dir, edited] = ['finished', 'edited'].map((name) => join(top, name));
let stateBytes = 0;
for (const d of [dir, edited]) {
  writePlan(d, { tasks: TASKS, files: 10 });
  stateBytes = writeFinishedState(d, { tasks: TASKS }).bytes;
  // What the run that finished the project leaves besides the state: the plan it checked.
  const { keep } = await loadProjectToKeep(d);
  keep?.(planCacheFile(d));
}
const lastFile = join(edited, 'bearing', 'tasks', '009.yaml');
let edits = 0;

/** One process, timed from spawn to exit; throws when it fails. */
function time(argv, expectCode = 0) {
  const started = performance.now();
  const child = spawnSync(process.execPath, argv, {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - started;
  if (child.status !== expectCode) {
    throw new Error(`${argv.join(' ')}: exit ${child.status}\n${child.stderr.slice(0, 2000)}`);
  }
  return ms;
}

const cases = [{ label: 'node -e 0 (floor)', run: () => time(['-e', '0']) }];
for (const b of builds) {
  const tag = builds.length > 1 ? ` [${b.label}]` : '';
  cases.push(
    { label: `--help${tag}`, target: 120, run: () => time([b.bin, '--help']) },
    { label: `status${tag}`, target: 150, run: () => time([b.bin, 'status', dir]) },
    { label: `summary${tag}`, target: 150, run: () => time([b.bin, 'summary', dir]) },
    {
      // The task files changed since the run: every read loads them in full.
      label: `summary after a task file edit${tag}`,
      run: () => {
        appendFileSync(lastFile, `# edit ${++edits}\n`);
        return time([b.bin, 'summary', edited]);
      },
    },
  );
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  // One untimed pass: disk caches warm, and whatever a first read leaves behind exists.
  for (const c of cases) c.run();
  const samples = cases.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    // Each round starts one case further on: no case always follows the same
    // one (the full load after an edit, say), so what one leaves behind on a
    // shared machine weighs on all alike.
    for (let k = 0; k < cases.length; k++) {
      const i = (k + r) % cases.length;
      samples[i].push(cases[i].run());
    }
  }
  const floor = median(samples[0]);
  console.log(
    `reading commands, ${TASKS} finished tasks (state.json ${(stateBytes / 1024).toFixed(0)} KiB), medians of ${ROUNDS} interleaved rounds:`,
  );
  cases.forEach((c, i) => {
    const m = median(samples[i]);
    const ratio = m / floor;
    let verdict = '';
    if (c.target !== undefined) {
      const allowed = c.target / QUIET_FLOOR_MS;
      verdict = `  target < ${c.target} ms (${allowed.toFixed(2)}x the floor): ${ratio <= allowed ? 'met' : 'NOT met'}`;
    }
    const rel = i === 0 ? '' : ` = ${ratio.toFixed(2)}x the floor`;
    console.log(`  ${c.label.padEnd(44)} ${m.toFixed(0).padStart(6)} ms${rel}${verdict}`);
  });
} finally {
  if (values.keep) console.log(`  kept ${top}`);
  else rmSync(top, { recursive: true, force: true });
}
