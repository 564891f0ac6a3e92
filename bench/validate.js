// Validation speed at scale, against the floor of parsing the same YAML.
// Plans as a planner writes them (bench/plan.js: about 470 bytes a task,
// multi-line prompts, 1-3 dependencies, file and config defaults) of 5,000
// and 20,000 tasks, spread over many files and in as few as the size cap
// allows. For each, in the same interleaved rounds:
//   - the floor: the `yaml` package's parse() of every file (read included);
//   - loadProject in this process (everything `bearing validate` checks);
//   - both again as whole processes: `bearing validate`, and a node process
//     that only imports yaml and parses the files.
// Medians of wall time, and of CPU time (this process's, or the child's from
// /proc on Linux), which a busy machine disturbs less. The target is
// validation within 1.5x its floor at any size.
//
//   npm run build && node bench/validate.js [--rounds 5] [--baseline <checkout>] [--keep]
//
// --baseline measures another built checkout (e.g. main) in the same rounds,
// for a before/after in one run; layouts over its size cap are skipped for it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { MAX_FILE_BYTES } from '../dist/tasks/rules.js';
import { writePlan } from './plan.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    baseline: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(values.rounds);
const TARGET_RATIO = 1.5;

/** The builds measured: this checkout, and --baseline. */
const BUILDS = [{ label: '', root: ROOT }];
if (values.baseline) BUILDS.push({ label: ' [baseline]', root: resolve(values.baseline) });
for (const build of BUILDS) {
  const dist = pathToFileURL(join(build.root, 'dist', 'tasks'));
  build.loadProject = (await import(`${dist.href}/load.js`)).loadProject;
  build.cap = (await import(`${dist.href}/rules.js`)).MAX_FILE_BYTES;
}

const LAYOUTS = [
  { tasks: 5000, files: 50 },
  // One file: over the old 1 MiB cap.
  { tasks: 5000, files: 1 },
  { tasks: 20_000, files: 200 },
  // 20,000 tasks do not fit one file under the cap: two of about 4.7 MiB.
  { tasks: 20_000, files: 2 },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const size = (bytes) =>
  bytes < 1024 * 1024
    ? `${(bytes / 1024).toFixed(0)} KiB`
    : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** CPU milliseconds used so far by this process. */
function ownCpu() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** CPU milliseconds used by the children waited for so far (Linux), else undefined. */
function childrenCpu() {
  try {
    // Fields after the command name: cutime and cstime are the 14th and 15th, in ticks of 10 ms.
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return undefined;
  }
}

/** Wall and CPU milliseconds of `fn`. */
async function timed(fn) {
  const [wall, cpu] = [performance.now(), ownCpu()];
  await fn();
  return { wall: performance.now() - wall, cpu: ownCpu() - cpu };
}

/** A whole process, wall and CPU; throws unless it exits 0. */
function timedProcess(argv) {
  const [wall, cpu] = [performance.now(), childrenCpu()];
  const child = spawnSync(process.execPath, argv, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = performance.now() - wall;
  if (child.status !== 0) {
    const why = (child.stderr || child.stdout || `exit ${child.status}`).trim().split('\n')[0];
    throw new Error(`${argv.slice(0, 2).join(' ')}: ${why}`);
  }
  const after = childrenCpu();
  return { wall: ms, cpu: cpu === undefined || after === undefined ? Number.NaN : after - cpu };
}

/** The floor as a process: node, import yaml, read and parse every file. */
const FLOOR_SCRIPT = `
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
for (const file of JSON.parse(process.argv[1])) parse(readFileSync(file, 'utf8'));
`;

async function measure({ tasks, files }) {
  const dir = mkdtempSync(join(tmpdir(), 'bearing-bench-validate-'));
  try {
    const { bytes, paths } = writePlan(dir, { tasks, files });
    const largest = Math.max(...paths.map((p) => readFileSync(p).length));
    if (largest > MAX_FILE_BYTES) throw new Error(`a file of ${size(largest)} is over the cap`);
    const floor = [];
    const floorProcess = [];
    const builds = BUILDS.filter((b) => largest <= b.cap).map((b) => ({ ...b, load: [], run: [] }));
    for (let r = 0; r < ROUNDS; r++) {
      floor.push(
        await timed(() => {
          for (const p of paths) parse(readFileSync(p, 'utf8'));
        }),
      );
      floorProcess.push(
        timedProcess(['--input-type=module', '-e', FLOOR_SCRIPT, JSON.stringify(paths)]),
      );
      for (const build of builds) {
        build.load.push(
          await timed(async () => {
            const result = await build.loadProject(dir, { displayBase: dir });
            if (result.plan?.tasks.length !== tasks) {
              throw new Error(`the plan is invalid: ${JSON.stringify(result.diagnostics[0])}`);
            }
          }),
        );
        build.run.push(timedProcess([join(build.root, 'bin', 'bearing.js'), 'validate', dir]));
      }
    }
    const layout = files === 1 ? 'one file' : `${files} files`;
    console.log(
      `validate ${tasks.toLocaleString('en')} tasks, ${layout} (${size(bytes)} of YAML, largest file ${size(largest)}):`,
    );
    for (const build of builds) {
      for (const [label, samples, base] of [
        [`in this process${build.label}`, build.load, floor],
        [`bearing validate${build.label}`, build.run, floorProcess],
      ]) {
        for (const kind of ['wall', 'cpu']) {
          const ms = median(samples.map((s) => s[kind]));
          const floorMs = median(base.map((s) => s[kind]));
          if (Number.isNaN(ms)) continue;
          const ratio = ms / floorMs;
          console.log(
            `  ${label.padEnd(30)} ${kind.padEnd(4)} ${ms.toFixed(0).padStart(6)} ms, parse floor ${floorMs.toFixed(0).padStart(6)} ms: ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'})`,
          );
        }
      }
    }
    for (const build of BUILDS.filter((b) => largest > b.cap)) {
      console.log(`  ${build.label.trim()} not measured: its cap is ${size(build.cap)}`);
    }
  } finally {
    // --keep leaves the generated projects for profiling: node --cpu-prof bin/bearing.js validate DIR
    if (values.keep) console.log(`  kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`medians of ${ROUNDS} interleaved rounds`);
for (const layout of LAYOUTS) await measure(layout);
