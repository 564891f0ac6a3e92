// Worktree mode at the scale of a real project: a git repository of 20,000
// small files (200 folders x 100 files, one commit), measured two ways.
//
// Per task: what one task costs the workspace, on the library itself (dist/):
// open a worktree for it (workspace.open: the last task's worktree, reused,
// once its release is done), write one file there, and land it (site.land:
// commit, then fast-forward the checkout; the worktree is released beside
// it), timed separately, in sequence, after two warm-up tasks (the first
// checks out a new worktree). `git status --porcelain` in the same checkout,
// timed after each task, is the yardstick: what a person already waits for
// in that repository.
//
// A whole run: a 200-task DAG in 10 layers run as a user runs it, `bearing run
// --concurrency 8 --isolation worktree` in a fresh copy of the repository.
// Every task is a shell task that sleeps a seeded-random time (4-12 s) and
// writes its own file, so no two tasks conflict; a task of layer k depends on
// 1-3 tasks of layer k-1. The wall time of the process is compared with the
// lower bound max(critical path, work / concurrency) (target: at most 1.10x)
// and with a zero-overhead greedy scheduler on the same DAG, which shows how
// much of the gap is the DAG's shape and how much is Bearing. The run is
// checked: exit 0, every task completed, one commit per task, every file
// there, no worktree left.
//
// Run after `npm run build`:
//   node bench/worktrees.js [--files 20000] [--per-task 20] [--tasks 200]
//     [--layers 10] [--concurrency 8] [--min-s 4] [--max-s 12]
//     [--skip-per-task] [--skip-dag] [--keep]
// Quick check: --files 2000 --tasks 40 --min-s 1 --max-s 2
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadProject } from '../dist/tasks/load.js';
import { chooseWorkspace } from '../dist/workspace/choose.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BEARING = join(ROOT, 'bin', 'bearing.js');
const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '20000' },
    'per-task': { type: 'string', default: '20' },
    tasks: { type: 'string', default: '200' },
    layers: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '8' },
    'min-s': { type: 'string', default: '4' },
    'max-s': { type: 'string', default: '12' },
    'skip-per-task': { type: 'boolean', default: false },
    'skip-dag': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const FILES = Number(values.files);
const PER_TASK = Number(values['per-task']);
const WARM_UP = 2;
const TASKS = Number(values.tasks);
const LAYERS = Number(values.layers);
const CONCURRENCY = Number(values.concurrency);
const MIN_S = Number(values['min-s']);
const MAX_S = Number(values['max-s']);
const FILES_PER_FOLDER = 100;
const SEED = 42;
const TARGET_RATIO = 1.1;
// Only for the repository's own commits: Bearing has a fallback identity of its own.
const IDENTITY = ['-c', 'user.name=Bench', '-c', 'user.email=bench@localhost'];

/** Deterministic numbers in [0, 1), so every run measures the same repository and DAG. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function git(cwd, args) {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

const pad = (n, width) => String(n).padStart(width, '0');
const ms = (x) => `${x.toFixed(1)} ms`;
const seconds = (x) => `${x.toFixed(1)} s`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

function fail(message) {
  console.log(`FAIL: ${message}`);
  process.exitCode = 1;
}

/**
 * The project every measurement starts from: FILES text files of a few
 * hundred bytes in folders of 100, committed at once (writing with fs and one
 * `git add -A` is far faster than anything per file), then packed as a
 * cloned repository would be.
 */
function buildRepository(dir) {
  const random = rng(SEED);
  const words = ['alpha', 'beta', 'gamma', 'delta', 'parse', 'render', 'store', 'fetch', 'queue'];
  const folders = Math.ceil(FILES / FILES_PER_FOLDER);
  const width = String(folders).length;
  for (let f = 0; f < folders; f++) {
    const folder = join(dir, 'src', `module-${pad(f, width)}`);
    mkdirSync(folder, { recursive: true });
    for (let i = 0; i < FILES_PER_FOLDER && f * FILES_PER_FOLDER + i < FILES; i++) {
      const lines = [`// module ${f}, file ${i}`];
      for (let l = 0; l < 8; l++) {
        const word = words[Math.floor(random() * words.length)];
        lines.push(`export const ${word}${l} = ${Math.floor(random() * 1e6)}; // ${word} step`);
      }
      writeFileSync(join(folder, `file-${pad(i, 2)}.js`), `${lines.join('\n')}\n`);
    }
  }
  git(dir, ['-c', 'init.defaultBranch=main', 'init', '-q']);
  git(dir, ['add', '-A']);
  git(dir, [...IDENTITY, 'commit', '-q', '-m', `${FILES} files`]);
  // -d also deletes the loose objects the pack now holds.
  git(dir, ['repack', '-a', '-d', '-q']);
}

/** A fresh copy of the base repository with this plan in bearing/, committed as a user would. */
function project(base, dir, taskLines) {
  cpSync(base, dir, { recursive: true });
  mkdirSync(join(dir, 'bearing', 'tasks'), { recursive: true });
  writeFileSync(
    join(dir, 'bearing', 'config.yaml'),
    [
      'defaults:',
      '  cli: shell',
      // A failure must end the run and show, not be retried into the timings.
      '  on_failure: stop',
      'run:',
      '  isolation: worktree',
      `  concurrency: ${CONCURRENCY}`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'bearing', 'tasks', 'bench.yaml'), `tasks:\n${taskLines.join('\n')}\n`);
  git(dir, ['add', 'bearing']);
  git(dir, [...IDENTITY, 'commit', '-q', '-m', 'plan']);
  // On disk, as a user's repository is: the copy's 20,000 new files would
  // otherwise be written back while the run checks its first worktrees out,
  // and the disk's time for that would count as Bearing's.
  spawnSync('sync');
}

/** `sh -c` command of a task: wait, then write its own file. */
const taskCommand = (id, sleepS) =>
  `${sleepS > 0 ? `sleep ${sleepS} && ` : ''}mkdir -p out && echo ${id} > out/${id}.txt`;

async function perTask(base, dir) {
  const ids = Array.from({ length: WARM_UP + PER_TASK }, (_, i) => `p${pad(i, 3)}`);
  project(
    base,
    dir,
    ids.flatMap((id) => [`  - id: ${id}`, `    run: ${taskCommand(id, 0)}`]),
  );
  const { plan, diagnostics } = await loadProject(dir);
  if (!plan) return fail(`the per-task plan does not load: ${diagnostics[0]?.message}`);
  const choice = await chooseWorkspace(dir, plan.run, 1, 'worktree');
  if (!choice.ok) return fail(`no worktree workspace: ${choice.message}`);
  const { workspace } = choice;

  const open = [];
  const land = [];
  const status = [];
  for (const [i, task] of plan.tasks.entries()) {
    const t0 = performance.now();
    const site = await workspace.open({ task, attempt: 1, othersRunning: () => false });
    const t1 = performance.now();
    // What the task's agent would have done: one new file.
    mkdirSync(join(site.cwd, 'out'), { recursive: true });
    writeFileSync(join(site.cwd, 'out', `${task.id}.txt`), `${task.id}\n`);
    const t2 = performance.now();
    const landing = await site.land(`${task.id}: bench\n\nBearing-Task: ${task.id}\n`, () => {});
    const t3 = performance.now();
    if (landing.kind !== 'landed') return fail(`${task.id} did not land: ${landing.kind}`);
    const statusRun = spawnSync('git', ['status', '--porcelain'], { cwd: dir });
    const t4 = performance.now();
    if (statusRun.status !== 0) return fail('git status failed');
    if (i < WARM_UP) continue;
    open.push(t1 - t0);
    land.push(t3 - t2);
    status.push(t4 - t3);
  }
  await workspace.close();
  if (!existsSync(join(dir, 'out', `${ids.at(-1)}.txt`))) {
    return fail('the last task landed but its file is not in the checkout');
  }

  const row = (name, xs) =>
    console.log(`per task, ${name}: median ${ms(median(xs))}, max ${ms(Math.max(...xs))}`);
  console.log(`per task, ${FILES} files, ${PER_TASK} tasks in sequence after ${WARM_UP} warm-up:`);
  row('open (worktree ready, reused)', open);
  row('land (commit + fast-forward)', land);
  const openLand = open.map((x, i) => x + land[i]);
  const gitStatus = median(status);
  console.log(
    `per task, open + land: median ${ms(median(openLand))} = ${(median(openLand) / gitStatus).toFixed(1)}x git status --porcelain (median ${ms(gitStatus)}) (target: none; git status is the reference)`,
  );
}

/** TASKS tasks in LAYERS layers; a task of layer k > 0 depends on 1-3 tasks of layer k-1. */
function makeDag() {
  const random = rng(SEED);
  const layers = Array.from({ length: LAYERS }, () => []);
  const tasks = [];
  for (let i = 0; i < TASKS; i++) {
    const layer = Math.floor((i * LAYERS) / TASKS);
    // Whole hundredths, so the seconds `sleep` is given are exactly the ones summed here.
    const durationS = Math.round((MIN_S + random() * (MAX_S - MIN_S)) * 100) / 100;
    const below = layer > 0 ? layers[layer - 1] : [];
    const deps = new Set();
    const count = Math.min(below.length, 1 + Math.floor(random() * 3));
    while (deps.size < count) deps.add(below[Math.floor(random() * below.length)].id);
    const task = { id: `t${pad(i, 3)}`, layer, durationS, deps: [...deps] };
    layers[layer].push(task);
    tasks.push(task);
  }
  return tasks;
}

function criticalPath(tasks) {
  const finish = new Map();
  for (const t of tasks) {
    finish.set(t.id, t.durationS + Math.max(0, ...t.deps.map((d) => finish.get(d))));
  }
  return Math.max(...finish.values());
}

/**
 * Makespan of an ideal list scheduler: no overhead at all; whenever a slot is
 * free it starts the ready tasks in declaration order, as Bearing does.
 */
function idealMakespan(tasks, slots) {
  const finished = new Set();
  const pending = [...tasks];
  let running = [];
  let now = 0;
  while (pending.length > 0 || running.length > 0) {
    for (let i = 0; i < pending.length && running.length < slots; ) {
      const t = pending[i];
      if (t.deps.every((d) => finished.has(d))) {
        running.push({ id: t.id, end: now + t.durationS });
        pending.splice(i, 1);
      } else i++;
    }
    now = Math.min(...running.map((r) => r.end));
    for (const r of running) if (r.end === now) finished.add(r.id);
    running = running.filter((r) => r.end !== now);
  }
  return now;
}

async function dag(base, dir) {
  const tasks = makeDag();
  project(
    base,
    dir,
    tasks.flatMap((t) => [
      `  - id: ${t.id}`,
      ...(t.deps.length > 0 ? [`    depends_on: [${t.deps.join(', ')}]`] : []),
      `    run: ${taskCommand(t.id, t.durationS)}`,
    ]),
  );
  const planCommit = git(dir, ['rev-parse', 'HEAD']);
  const work = tasks.reduce((sum, t) => sum + t.durationS, 0);
  const cp = criticalPath(tasks);
  const bound = Math.max(cp, work / CONCURRENCY);
  const ideal = idealMakespan(tasks, CONCURRENCY);

  // The run's output goes to a file beside the project, shown if the run fails.
  const logPath = `${dir}.log`;
  const log = openSync(logPath, 'w');
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [BEARING, 'run', dir, '--concurrency', String(CONCURRENCY), '--isolation', 'worktree'],
    { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', log, log] },
  );
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  const makespan = (performance.now() - started) / 1000;
  closeSync(log);

  console.log(
    `DAG: ${TASKS} tasks in ${LAYERS} layers, ${MIN_S}-${MAX_S} s each, ${FILES} files, concurrency ${CONCURRENCY}: work ${seconds(work)}, critical path ${seconds(cp)}, bound max(CP, work/${CONCURRENCY}) ${seconds(bound)}, ideal scheduler ${seconds(ideal)} (${(ideal / bound).toFixed(2)}x bound)`,
  );
  console.log(
    `DAG makespan: ${seconds(makespan)} = ${(makespan / bound).toFixed(2)}x bound (target: <= ${TARGET_RATIO.toFixed(2)}x), ${(makespan / ideal).toFixed(2)}x ideal scheduler`,
  );
  console.log(
    `DAG overhead per task: ${(((makespan - ideal) * CONCURRENCY) / TASKS).toFixed(2)} s ((makespan - ideal) x ${CONCURRENCY} / ${TASKS})`,
  );
  checkRun(dir, tasks, code, planCommit, logPath);
  idlePlaces(dir, tasks);
}

/**
 * Where the gap to the ideal scheduler goes: agents' places left idle while a
 * task was ready (its dependencies landed), from the attempts' records
 * (started before the spawn; ended at the agent's end plus its landing). The
 * first wave (the first CONCURRENCY agents: with a first layer that wide,
 * each after a new checkout of the whole tree, one at a time) is shown
 * apart: on a shared machine it swings with the disk's write-back far more
 * than the rest does from run to run.
 */
function idlePlaces(dir, tasks) {
  const state = JSON.parse(readFileSync(join(dir, 'bearing', '.state', 'state.json'), 'utf8'));
  const spans = new Map();
  for (const t of tasks) {
    const a = state.tasks[t.id]?.attempts.at(-1);
    if (!a?.endedAt) return;
    const start = Date.parse(a.startedAt);
    spans.set(t.id, { start, agentEnd: start + a.durationMs, landed: Date.parse(a.endedAt) });
  }
  const all = [...spans.values()];
  const t0 = Math.min(...all.map((s) => s.start));
  const end = Math.max(...all.map((s) => s.landed));
  const firstWave = all
    .map((s) => s.start)
    .sort((a, b) => a - b)
    .slice(0, CONCURRENCY);
  const waveEnd = firstWave.at(-1);
  const idle = { wave: 0, after: 0 };
  const STEP = 10;
  for (let t = t0; t < end; t += STEP) {
    let busy = 0;
    for (const s of all) if (s.start <= t && t < s.agentEnd) busy++;
    if (busy >= CONCURRENCY) continue;
    let ready = 0;
    for (const task of tasks) {
      const s = spans.get(task.id);
      if (s.start > t && task.deps.every((d) => spans.get(d).landed <= t)) ready++;
    }
    const waiting = Math.min(CONCURRENCY - busy, ready) * STEP;
    if (t <= waveEnd) idle.wave += waiting;
    else idle.after += waiting;
  }
  console.log(
    `DAG first wave: the first ${CONCURRENCY} agents started at ${firstWave.map((s) => ((s - t0) / 1000).toFixed(1)).join(', ')} s`,
  );
  console.log(
    `DAG places idle while a task was ready: ${seconds(idle.wave / 1000)} in the first wave, ${seconds(idle.after / 1000)} after it (${(idle.after / (tasks.length - CONCURRENCY)).toFixed(0)} ms per later task)`,
  );
}

/** Whether the run did all it should have: every task once, landed, and nothing left behind. */
function checkRun(dir, tasks, code, planCommit, logPath) {
  const failures = [];
  if (code !== 0) failures.push(`bearing run exited ${code}`);
  const status = spawnSync(process.execPath, [BEARING, 'status', dir, '--json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (status.status === 0) {
    const report = JSON.parse(status.stdout);
    const { completed, total } = report.progress;
    if (completed !== tasks.length || total !== tasks.length) {
      failures.push(`${completed} of ${total} tasks completed, ${tasks.length} expected`);
    }
    const reruns = report.tasks.filter((t) => t.attempts > 1).map((t) => t.id);
    if (reruns.length > 0) console.log(`note: ran more than once: ${reruns.join(', ')}`);
  } else {
    failures.push(`bearing status --json exited ${status.status}`);
  }
  const commits = Number(git(dir, ['rev-list', '--count', `${planCommit}..HEAD`]));
  if (commits !== tasks.length)
    failures.push(`${commits} commits landed, ${tasks.length} expected`);
  const missing = tasks.filter((t) => !existsSync(join(dir, 'out', `${t.id}.txt`)));
  if (missing.length > 0) {
    failures.push(`${missing.length} out files missing (${missing.slice(0, 5).map((t) => t.id)})`);
  }
  const worktrees = git(dir, ['worktree', 'list', '--porcelain'])
    .split('\n')
    .filter((l) => l.startsWith('worktree '));
  if (worktrees.length !== 1) failures.push(`${worktrees.length - 1} worktrees left after the run`);

  if (failures.length === 0) {
    console.log(
      `DAG checks: exit 0, ${tasks.length}/${tasks.length} completed, ${commits} commits landed, all out files present, no worktree left`,
    );
    return;
  }
  for (const f of failures) fail(`DAG: ${f}`);
  const tail = readFileSync(logPath, 'utf8').trim().split('\n').slice(-15).join('\n');
  console.log(`last lines of bearing run:\n${tail}`);
}

const scratch = mkdtempSync(join(tmpdir(), 'bearing-bench-worktrees-'));
try {
  const base = join(scratch, 'base');
  const built = performance.now();
  buildRepository(base);
  console.log(
    `repository: ${FILES} files built and committed in ${seconds((performance.now() - built) / 1000)} (${scratch})`,
  );
  if (!values['skip-per-task']) await perTask(base, join(scratch, 'per-task'));
  if (!values['skip-dag']) await dag(base, join(scratch, 'dag'));
} finally {
  if (values.keep) console.log(`kept: ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
