// Queue mode's makespan with 1, 2 and 3 workers, against the bound.
//
// A DAG of shell tasks in layers (each task of layer k depends on 1-2 of layer
// k-1), each sleeping a seeded-random time and writing its own file, run as a
// user runs it: a redis-server of its own, a bare git repository as the
// remote, `bearing worker --cli shell` processes (one agent at a time each)
// and `bearing run --queue`, on this one machine. For each number of workers
// the wall time of the coordinator is compared with the lower bound
// max(critical path, work / workers): the ratio is what the queue, git's
// fetches and pushes, and the landing add. The run is checked: exit 0, every
// task completed, one commit per task on main.
//
// Run after `npm run build` (redis-server on PATH):
//   node bench/queue.js [--tasks 24] [--layers 4] [--min-s 2] [--max-s 4] [--workers 1,2,3]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BEARING = join(ROOT, 'bin', 'bearing.js');
const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '24' },
    layers: { type: 'string', default: '4' },
    'min-s': { type: 'string', default: '2' },
    'max-s': { type: 'string', default: '4' },
    workers: { type: 'string', default: '1,2,3' },
  },
});
const TASKS = Number(values.tasks);
const LAYERS = Number(values.layers);
const MIN_S = Number(values['min-s']);
const MAX_S = Number(values['max-s']);
const WORKER_COUNTS = values.workers.split(',').map(Number);

/** A seeded random number generator (mulberry32): the same DAG every time. */
function rng(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeDag() {
  const random = rng(42);
  const perLayer = Math.ceil(TASKS / LAYERS);
  const tasks = [];
  for (let i = 0; i < TASKS; i++) {
    const layer = Math.floor(i / perLayer);
    const seconds = Math.round((MIN_S + random() * (MAX_S - MIN_S)) * 10) / 10;
    const prev = tasks.filter((t) => t.layer === layer - 1);
    const deps = new Set();
    const want = prev.length === 0 ? 0 : 1 + Math.floor(random() * 2);
    while (deps.size < Math.min(want, prev.length)) {
      deps.add(prev[Math.floor(random() * prev.length)].id);
    }
    tasks.push({ id: `t${String(i).padStart(3, '0')}`, layer, seconds, deps: [...deps] });
  }
  return tasks;
}

function bound(tasks, workers) {
  const finish = new Map();
  for (const t of tasks) {
    const start = Math.max(0, ...t.deps.map((d) => finish.get(d)));
    finish.set(t.id, start + t.seconds);
  }
  const critical = Math.max(...finish.values());
  const work = tasks.reduce((s, t) => s + t.seconds, 0);
  return { critical, work, bound: Math.max(critical, work / workers) };
}

function git(cwd, ...args) {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function project(dir, tasks) {
  mkdirSync(join(dir, 'bearing', 'tasks'), { recursive: true });
  const yaml = {
    tasks: tasks.map((t) => ({
      id: t.id,
      cli: 'shell',
      run: `sleep ${t.seconds} && echo ${t.id} > ${t.id}.txt`,
      ...(t.deps.length > 0 ? { depends_on: t.deps } : {}),
    })),
  };
  writeFileSync(join(dir, 'bearing', 'tasks', 'dag.yaml'), JSON.stringify(yaml, null, 2));
  writeFileSync(join(dir, '.gitignore'), 'bearing/.state/\n');
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, '-c', 'user.name=bench', '-c', 'user.email=bench@localhost', 'commit', '-qm', 'fixture');
  git(dir, 'clone', '-q', '--bare', dir, `${dir}.git`);
  git(dir, 'remote', 'add', 'origin', `${dir}.git`);
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function startRedis(port, dir) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) resolve(child);
    });
    child.on('error', reject);
  });
}

function run(args, cwd) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BEARING, ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.stdout.resume();
    child.on('close', (code) => resolve({ code, ms: performance.now() - started, err }));
  });
}

const tasks = makeDag();
const base = mkdtempSync(join(tmpdir(), 'bearing-bench-queue-'));
const port = await freePort();
const redis = await startRedis(port, base);
const url = `redis://127.0.0.1:${port}`;
console.log(
  `queue mode: ${TASKS} shell tasks in ${LAYERS} layers, ${MIN_S}-${MAX_S} s each, one redis-server, workers on this machine`,
);
try {
  for (const n of WORKER_COUNTS) {
    spawnSync('redis-cli', ['-p', String(port), 'flushall']);
    const dir = join(base, `p${n}`);
    project(dir, tasks);
    const workers = [];
    for (let i = 0; i < n; i++) {
      const w = spawn(
        process.execPath,
        [
          BEARING,
          'worker',
          '--queue',
          url,
          '--cli',
          'shell',
          '--cache',
          join(base, `cache${n}-${i}`),
        ],
        { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      await new Promise((resolve) =>
        w.stderr.on('data', (d) => String(d).includes('serving') && resolve()),
      );
      workers.push(w);
    }
    const result = await run(['run', '--queue', url], dir);
    for (const w of workers) w.kill('SIGTERM');
    const commits = git(dir, 'log', '--format=%s', 'main').split('\n').length - 1;
    const ok = result.code === 0 && commits === TASKS;
    const b = bound(tasks, n);
    console.log(
      `${n} worker${n === 1 ? ' ' : 's'}: makespan ${(result.ms / 1000).toFixed(1)} s, bound ${b.bound.toFixed(1)} s (critical path ${b.critical.toFixed(1)} s, work ${b.work.toFixed(1)} s / ${n}), ratio ${(result.ms / 1000 / b.bound).toFixed(2)}x${ok ? '' : `  CHECK FAILED: exit ${result.code}, ${commits} commits\n${result.err}`}`,
    );
  }
} finally {
  redis.kill('SIGKILL');
  rmSync(base, { recursive: true, force: true });
}
