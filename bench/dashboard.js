// `bearing ui`: how long a change recorded in state.json takes to reach an
// open page (the `view` event on /api/events), for plans of 10 and 1,000
// tasks, against a target of 500 ms. The time covers the file watcher, its
// 100 ms debounce, reading the project as `bearing status --json` does,
// building the view and sending it. Each round rewrites state.json with one
// task more or fewer completed (as the run would, atomically), so every
// round changes the view. Measured twice: with the plan a run keeps in
// plan-cache.json (as in any project that has run: the task files are not
// parsed again), and without it. Also: the sizes of the view and the page.
// Run after `npm run build`:
//   node bench/dashboard.js [--sizes 10,1000] [--rounds 15]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const SIZES = arg('--sizes', '10,1000').split(',').map(Number);
const ROUNDS = Number(arg('--rounds', '15'));
const TARGET_MS = 500;

const id = (i) => `t${String(i).padStart(4, '0')}`;

function writeProject(dir, n) {
  mkdirSync(join(dir, 'bearing', 'tasks'), { recursive: true });
  const lines = ['defaults:', '  cli: shell', 'tasks:'];
  for (let i = 0; i < n; i++) {
    lines.push(`  - id: ${id(i)}`, '    run: "true"');
    if (i > 0) lines.push(`    depends_on: [${id(Math.floor((i - 1) / 2))}]`);
  }
  writeFileSync(join(dir, 'bearing', 'tasks', 'tree.yaml'), `${lines.join('\n')}\n`);
  mkdirSync(join(dir, 'bearing', '.state'), { recursive: true });
}

/** state.json with the first `done` tasks completed, written as the run writes it. */
function writeState(dir, done) {
  const tasks = {};
  for (let i = 0; i < done; i++) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    tasks[id(i)] = {
      id: id(i),
      status: 'completed',
      attempts: [{ attempt: 1, startedAt: at, endedAt: at, outcome: 'completed', summary: 'ok' }],
      summary: 'ok',
      filesChanged: [],
      costUsd: 0.01,
      usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
      turns: 1,
      durationMs: 10,
      updatedAt: at,
    };
  }
  const file = join(dir, 'bearing', '.state', 'state.json');
  writeFileSync(`${file}.tmp`, JSON.stringify({ version: 1, tasks }));
  renameSync(`${file}.tmp`, file);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

async function measure(n, kept) {
  const dir = mkdtempSync(join(tmpdir(), 'bearing-bench-ui-'));
  writeProject(dir, n);
  writeState(dir, 0);
  if (kept) {
    const { loadProjectToKeep } = await import('../dist/tasks/load.js');
    const { planCacheFile } = await import('../dist/state/paths.js');
    (await loadProjectToKeep(dir)).keep?.(planCacheFile(dir));
  }
  const ui = spawn(process.execPath, [join(ROOT, 'bin', 'bearing.js'), 'ui'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = new URL(
      await new Promise((resolve) => {
        let text = '';
        ui.stdout.on('data', (d) => {
          text += d;
          const m = /(http:\S+)/.exec(text);
          if (m) resolve(m[1]);
        });
      }),
    );
    const token = url.searchParams.get('token');
    let onView = () => {};
    let viewBytes = 0;
    const events = request(`${url.origin}/api/events`, { headers: { 'x-bearing-token': token } });
    events.on('response', (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (message.startsWith('event: view')) {
            viewBytes = message.length;
            onView();
          }
          end = buffer.indexOf('\n\n');
        }
      });
    });
    events.end();
    const nextView = () => new Promise((resolve) => (onView = resolve));
    await nextView();
    const times = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await delay(250);
      const seen = nextView();
      const start = performance.now();
      // round % n differs from the round before: every write changes the view.
      writeState(dir, round % n);
      await seen;
      times.push(performance.now() - start);
    }
    events.destroy();
    return { n, median: median(times), p90: p90(times), viewBytes };
  } finally {
    ui.kill('SIGINT');
    await new Promise((resolve) => ui.on('close', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

const sizeOf = (path) => statSync(path).size;
const dagre = join(
  dirname(createRequire(import.meta.url).resolve('@dagrejs/dagre/package.json')),
  'dist',
  'dagre.esm.js',
);
const page = ['index.html', 'app.js', 'style.css'].map((f) => sizeOf(join(ROOT, 'web', f)));
console.log(
  `page: ${page.reduce((a, b) => a + b, 0)} bytes of our own + ${sizeOf(dagre)} bytes of dagre`,
);
for (const kept of [true, false]) {
  for (const n of SIZES) {
    const r = await measure(n, kept);
    const verdict = r.median <= TARGET_MS ? 'ok' : 'OVER';
    console.log(
      `${String(n).padStart(5)} tasks, plan ${kept ? 'kept by a run' : 'parsed each time'}: state.json written -> view at the page: median ${r.median.toFixed(0)} ms, p90 ${r.p90.toFixed(0)} ms (target ${TARGET_MS} ms, ${(r.median / TARGET_MS).toFixed(2)}x: ${verdict}); view ${r.viewBytes} bytes`,
    );
  }
}
