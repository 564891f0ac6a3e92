// Orchestration overhead per task: the time from one agent's exit to the next
// agent's start, with agents that exit at once, for plans of 10 and 1,000
// tasks. Each plan is a dependency chain (the worst case for PRIOR hand-off:
// every task has every earlier one as an ancestor). The agent is a custom
// agent (`sh -c`) that stamps its own start and end with `date +%s%N`, so the
// gap between one task's end stamp and the next task's start stamp is what
// Bearing spends: reaping the process, parsing, measuring changed files,
// saving state.json and status.md, re-reading task files, scheduling,
// assembling the prompt and spawning. Target: the median grows less than
// 1.3x from 10 to 10,000 tasks (`--sizes 10,10000`, about ten minutes).
// Run after `npm run build`:
//   node bench/overhead.js [--sizes 10,1000] [--git]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const SIZES = arg('--sizes', '10,1000').split(',').map(Number);
const GIT = process.argv.includes('--git');
const GROWTH_TARGET = 1.3;

function writeProject(dir, n) {
  mkdirSync(join(dir, 'bearing', 'tasks'), { recursive: true });
  writeFileSync(
    join(dir, 'bearing', 'config.yaml'),
    [
      'agents:',
      '  stamp:',
      '    command: sh',
      // $1 is the prompt; the agent ignores it and stamps start and end.
      `    args: ["-c", "date +%s%N >> stamps; echo done; date +%s%N >> stamps", "stamp", "{prompt}"]`,
      '    output: text',
      '',
    ].join('\n'),
  );
  const lines = ['defaults:', '  cli: stamp', 'tasks:'];
  for (let i = 0; i < n; i++) {
    lines.push(`  - id: t${String(i).padStart(4, '0')}`);
    if (i > 0) lines.push(`    depends_on: [t${String(i - 1).padStart(4, '0')}]`);
    lines.push(`    prompt: Step ${i} of the chain. Change nothing; say done.`);
  }
  writeFileSync(join(dir, 'bearing', 'tasks', 'chain.yaml'), `${lines.join('\n')}\n`);
  if (GIT) {
    spawnSync('git', ['init', '-q'], { cwd: dir });
    spawnSync(
      'git',
      ['-c', 'user.email=b@b', '-c', 'user.name=b', 'commit', '-q', '--allow-empty', '-m', 'init'],
      {
        cwd: dir,
      },
    );
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
};

/** One run of an n-task chain: the gaps between tasks (ms) and the run's wall time, or why it failed. */
function runChain(n) {
  const dir = mkdtempSync(join(tmpdir(), 'bearing-overhead-'));
  try {
    writeProject(dir, n);
    const started = performance.now();
    const run = spawnSync(process.execPath, [join(ROOT, 'bin', 'bearing.js'), 'run', dir], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const wall = performance.now() - started;
    if (run.status !== 0) {
      return { error: `run failed (exit ${run.status}): ${run.stderr.trim().split('\n')[0]}` };
    }
    const stamps = readFileSync(join(dir, 'stamps'), 'utf8').trim().split('\n').map(BigInt);
    const gaps = [];
    for (let i = 1; i + 1 < stamps.length; i += 2)
      gaps.push(Number(stamps[i + 1] - stamps[i]) / 1e6);
    return { gaps, wall };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A small plan is run again until it gives MIN_GAPS gaps: nine from one
// 10-task run swing by a third between runs on a shared machine. Its runs
// are made half before the larger plans and half after them, so a machine
// that grows busier or quieter over the ten minutes weighs on both ends.
const MIN_GAPS = 100;
const plans = SIZES.map((n) => ({ n, gaps: [], halves: [], wall: 0, runs: 0, error: undefined }));
for (const until of [MIN_GAPS / 2, MIN_GAPS]) {
  for (const plan of plans) {
    const from = plan.gaps.length;
    while (plan.gaps.length < until && plan.error === undefined) {
      const run = runChain(plan.n);
      if ('error' in run) plan.error = run.error;
      else {
        plan.gaps.push(...run.gaps);
        plan.wall += run.wall;
        plan.runs++;
      }
      if (plan.n < 2) break;
    }
    if (plan.gaps.length > from) plan.halves.push(plan.gaps.slice(from));
  }
}
const results = [];
for (const { n, gaps, halves, wall, runs, error } of plans) {
  if (error !== undefined) {
    console.log(`${n} tasks: ${error}`);
    continue;
  }
  const m = median(gaps);
  results.push({ n, median: m });
  const split =
    halves.length === 2
      ? `; before / after the larger plans: ${halves.map((h) => median(h).toFixed(1)).join(' / ')} ms`
      : '';
  console.log(
    `overhead per task, ${n} tasks${GIT ? ' (git repo)' : ''}: median ${m.toFixed(1)} ms, p90 ${pct(gaps, 0.9).toFixed(1)} ms, max ${Math.max(...gaps).toFixed(1)} ms (n=${gaps.length}, ${runs} run${runs === 1 ? '' : 's'}${split}); run wall time ${(wall / runs / 1000).toFixed(1)} s`,
  );
}
if (results.length >= 2) {
  const [a, b] = [results[0], results.at(-1)];
  const growth = b.median / a.median;
  console.log(
    `growth: median at ${b.n} tasks / median at ${a.n} tasks = ${growth.toFixed(2)} (tasks grew ${b.n / a.n}x)  target < ${GROWTH_TARGET}x from 10 to 10,000 tasks: ${growth < GROWTH_TARGET ? 'met' : 'NOT met'}`,
  );
}
