// What a task changed, in place: the cost per task of the snapshot of the
// tree after it (src/state/changes.ts; the one before is the last task's),
// against what each way must do at least:
//
//   with git     `git status --porcelain -z --untracked-files=all` in a
//                repository of --files tracked files and --untracked more
//                (also printed, not a target: the same status with git's
//                untracked cache, on a copy of the index, as a run's
//                snapshots take it: src/state/status-index.ts)
//   without git  `find <dir>` over a tree of --files files, and
//                `find <dir> -printf '%s %T@ %p\0'` (a stat of every file,
//                which the snapshot needs too: size and modification time)
//
// A run keeps a watch over the folder across its snapshots (on Linux): the
// first snapshot sets it up, which is printed apart, as a run pays it once.
// Before each round an "agent" edits 5 tracked files and adds 2; then the
// reference command and the snapshot (and --baseline's, another build) run in
// a rotating order, so the shared, noisy machine weighs on all alike. Prints
// medians and the median of the per-round ratios. Target: within 1.2x of
// `git status` with git, and of `find` without it. Run after `npm run build`:
//   node bench/changes.js [--files 20000] [--untracked 5000] [--rounds 15]
//     [--baseline path/to/another/dist]
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '20000' },
    untracked: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '15' },
    baseline: { type: 'string' },
  },
});
const FILES = Number(values.files);
const UNTRACKED = Number(values.untracked);
const ROUNDS = Number(values.rounds);
const TARGET = 1.2;

const load = async (dist) => import(pathToFileURL(join(resolve(dist), 'state', 'changes.js')).href);
const builds = [['snapshot', await load(join(ROOT, 'dist'))]];
if (values.baseline) builds.push(['baseline', await load(values.baseline)]);

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  // As Bearing runs git: a status takes no index lock and writes no index.
  GIT_OPTIONAL_LOCKS: '0',
};

/** 20 folders of 50 folders of files, like a source tree. */
function writeTree(dir, prefix, count) {
  for (let i = 0; i < count; i++) {
    const folder = join(dir, prefix, `d${i % 20}`, `m${Math.floor(i / 20) % 50}`);
    if (i < 1000) mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `f${i}.ts`), `export const v${i} = ${i};\n`);
  }
}

const trackedPath = (i) => join('src', `d${i % 20}`, `m${Math.floor(i / 20) % 50}`, `f${i}.ts`);

/** Runs a command to its end, its output read and dropped, as a snapshot reads git's. */
function timeCommand(file, args, cwd, env = {}) {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(file, args, {
      cwd,
      env: { ...GIT_ENV, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', () => {});
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolvePromise(performance.now() - started)
        : reject(new Error(`${file} exited ${code}`)),
    );
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Rounds of: the agent's edits, then each measure once, in a rotating order.
 * `measures`: name -> async () => ms. Returns name -> list of ms.
 */
async function rounds(measures, edit) {
  const times = Object.fromEntries(Object.keys(measures).map((name) => [name, []]));
  const names = Object.keys(measures);
  for (let round = -2; round < ROUNDS; round++) {
    edit(round);
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round + names.length * 3) % names.length];
      const ms = await measures[name]();
      // Two warm-up rounds: the file cache, git's own, and each build's.
      if (round >= 0) times[name].push(ms);
    }
  }
  return times;
}

/** An agent's work: 5 tracked files edited, 2 files added. */
function agentEdits(dir) {
  return (round) => {
    for (let j = 0; j < 5; j++) {
      const i = (round + 2) * 5 + j;
      writeFileSync(join(dir, trackedPath(i)), `export const v${i} = ${round};\n`);
    }
    writeFileSync(join(dir, 'src', `added-${round + 2}-a.ts`), `${round}\n`);
    writeFileSync(join(dir, 'src', `added-${round + 2}-b.ts`), `${round}\n`);
  };
}

/**
 * The snapshot after a task, as a run takes it: one snapshot, compared with
 * the last, through a watch kept across them (in builds that have one).
 */
function snapshotMeasure(changes, dir, kind) {
  let last;
  const watch = changes.WorkTreeWatch ? new changes.WorkTreeWatch(dir) : undefined;
  watches.push(watch);
  const measure = async () => {
    const started = performance.now();
    const snapshot = await changes.snapshotWorkTree(dir, { watch });
    if (last) changes.changedFiles(last, snapshot);
    const ms = performance.now() - started;
    if (snapshot.kind !== kind)
      throw new Error(`expected a ${kind} snapshot, got ${snapshot.kind}`);
    last = snapshot;
    measure.first ??= ms;
    return ms;
  };
  return measure;
}

function report(times, reference, label, measures) {
  const lines = [];
  for (const name of Object.keys(times)) {
    lines.push(`    ${name.padEnd(14)} median ${median(times[name]).toFixed(1).padStart(7)} ms`);
  }
  for (const [name] of builds) {
    // Paid once per run: with a watch, it is set up folder by folder then.
    lines.push(`    ${name}: the run's first snapshot took ${measures[name].first.toFixed(1)} ms`);
  }
  for (const [name] of builds) {
    const ratios = times[name].map((ms, i) => ms / times[reference][i]);
    const ratio = median(ratios);
    lines.push(
      `    ${name} / ${reference}: ${ratio.toFixed(2)}x (median of per-round ratios)` +
        (name === 'snapshot'
          ? `  target <= ${TARGET}x ${label}: ${ratio <= TARGET ? 'met' : 'NOT MET'}`
          : ''),
    );
  }
  return lines;
}

const watches = [];
const base = mkdtempSync(join(tmpdir(), 'bearing-bench-changes-'));
try {
  // --- with git ---
  const repo = join(base, 'git');
  writeTree(repo, 'src', FILES);
  spawnSync('git', ['init', '-q'], { cwd: repo, env: GIT_ENV });
  spawnSync('git', ['add', '-A'], { cwd: repo, env: GIT_ENV });
  spawnSync('git', ['commit', '-q', '-m', 'tree'], { cwd: repo, env: GIT_ENV });
  writeTree(repo, 'untracked', UNTRACKED);
  // The copy of the index, for git status with its untracked cache.
  const cachedIndex = join(base, 'status-index');
  copyFileSync(join(repo, '.git', 'index'), cachedIndex);
  const gitMeasures = {
    'git status': () =>
      timeCommand('git', ['status', '--porcelain', '-z', '--untracked-files=all'], repo),
    'cached status': () =>
      timeCommand(
        'git',
        [
          '-c',
          'core.untrackedCache=true',
          '-c',
          'status.showUntrackedFiles=all',
          'status',
          '--porcelain',
          '-z',
          '--untracked-files=all',
        ],
        repo,
        { GIT_INDEX_FILE: cachedIndex, GIT_OPTIONAL_LOCKS: '1' },
      ),
  };
  for (const [name, changes] of builds) gitMeasures[name] = snapshotMeasure(changes, repo, 'git');
  const gitTimes = await rounds(gitMeasures, agentEdits(repo));

  // --- without git ---
  const tree = join(base, 'files');
  writeTree(tree, 'src', FILES);
  const fileMeasures = {
    find: () => timeCommand('find', [tree], tree),
    'find -printf': () => timeCommand('find', [tree, '-printf', '%s %T@ %p\\0'], tree),
  };
  for (const [name, changes] of builds)
    fileMeasures[name] = snapshotMeasure(changes, tree, 'files');
  const fileTimes = await rounds(fileMeasures, agentEdits(tree));

  console.log(`changed files in place, ${ROUNDS} rounds of 5 edits + 2 new files`);
  console.log(`  with git: ${FILES} tracked files, ${UNTRACKED} untracked`);
  for (const line of report(gitTimes, 'git status', '(with git)', gitMeasures)) console.log(line);
  const cached = median(gitTimes.snapshot.map((ms, i) => ms / gitTimes['cached status'][i]));
  console.log(`    snapshot / cached status: ${cached.toFixed(2)}x`);
  console.log(`  without git: ${FILES} files`);
  for (const line of report(fileTimes, 'find', '(without git)', fileMeasures)) console.log(line);
  const printf = median(fileTimes.snapshot.map((ms, i) => ms / fileTimes['find -printf'][i]));
  console.log(`    snapshot / find -printf: ${printf.toFixed(2)}x`);
} finally {
  for (const watch of watches) watch?.close();
  rmSync(base, { recursive: true, force: true });
}
