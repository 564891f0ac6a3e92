// Validation speed at scale: 5,000 realistic tasks (multi-line prompts, 1-3
// dependencies on earlier tasks, file and config defaults), laid out as 50
// files x 100 tasks and as one file. Reports the median of several in-process
// loadProject runs (from dist/, so run `npm run build` first; `npm run bench`
// does both) and of full `bearing validate` subprocesses when that command works.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../dist/tasks/load.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TASKS = 5000;
const RUNS = 7;
const AREAS = ['db', 'api', 'ui', 'auth', 'jobs', 'docs'];

const id = (i) => `${AREAS[i % AREAS.length]}-${String(i).padStart(4, '0')}`;

/** Deterministic pseudo-random numbers, so every run measures the same plan. */
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
    for (let k = 0; k < count; k++) deps.add(id(Math.max(0, i - 1 - random(Math.min(i, 40)))));
  }
  const lines = [`  - id: ${id(i)}`];
  if (deps.size > 0) lines.push(`    depends_on: [${[...deps].join(', ')}]`);
  if (i % 7 === 0) lines.push('    model: opus');
  if (i % 11 === 0) lines.push('    timeout: 45m');
  lines.push(
    '    prompt: |',
    `      Implement step ${i} of the ${AREAS[i % AREAS.length]} module as plan.md says.`,
    '      Keep the change small; add a test.',
  );
  return lines.join('\n');
}

function writeProject(dir, filesCount) {
  const random = rng(7);
  const tasksDir = join(dir, 'bearing', 'tasks');
  mkdirSync(tasksDir, { recursive: true });
  writeFileSync(
    join(dir, 'bearing', 'config.yaml'),
    'defaults:\n  cli: claude\n  model: sonnet\n  retries: 1\nrun:\n  concurrency: 4\n',
  );
  const perFile = TASKS / filesCount;
  let bytes = 0;
  for (let f = 0; f < filesCount; f++) {
    const body = [];
    for (let i = f * perFile; i < (f + 1) * perFile; i++) body.push(taskYaml(i, random));
    const text = `defaults:\n  effort: high\n  timeout: 30m\ntasks:\n${body.join('\n')}\n`;
    bytes += text.length;
    writeFileSync(join(tasksDir, `${String(f).padStart(3, '0')}.yaml`), text);
  }
  return bytes;
}

function stats(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

const fmt = (label, s) =>
  `${label}: median ${s.median.toFixed(0)} ms (min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)}, n=${s.n})`;

async function inProcess(dir) {
  const times = [];
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    const result = await loadProject(dir, { displayBase: dir });
    times.push(performance.now() - started);
    if (!result.plan || result.plan.tasks.length !== TASKS) {
      throw new Error(
        `benchmark plan is invalid:\n${result.diagnostics
          .slice(0, 5)
          .map((d) => JSON.stringify(d))
          .join('\n')}`,
      );
    }
  }
  return stats(times);
}

function subprocess(dir) {
  const times = [];
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    const child = spawnSync(process.execPath, [join(ROOT, 'bin', 'bearing.js'), 'validate', dir], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    times.push(performance.now() - started);
    if (child.status !== 0) {
      const why = (child.stderr || child.stdout || `exit ${child.status}`).trim().split('\n')[0];
      return { error: why };
    }
  }
  return stats(times);
}

const layouts = [
  [50, `validate ${TASKS} tasks (50 files)`],
  [1, `validate ${TASKS} tasks (1 file)`],
];
for (const [filesCount, label] of layouts) {
  const dir = mkdtempSync(join(tmpdir(), 'bearing-bench-'));
  try {
    const bytes = writeProject(dir, filesCount);
    console.log(`${label}: ${(bytes / 1024).toFixed(0)} KiB of YAML`);
    console.log(fmt(`  in-process loadProject`, await inProcess(dir)));
    const sub = subprocess(dir);
    console.log(
      'error' in sub
        ? `  bearing validate subprocess: not measured (${sub.error})`
        : fmt('  bearing validate subprocess', sub),
    );
  } finally {
    // --keep leaves the generated projects for profiling: node --cpu-prof bin/bearing.js validate DIR
    if (process.argv.includes('--keep')) console.log(`  kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
