// Peak memory of a whole `bearing run` while 4 agents each print 50 MB at once:
// the fake `claude` from tests/fixtures/bin streams valid stream-json events
// (printBytes), Bearing parses every line, keeps the raw output under
// bearing/.state/runs/ and must not buffer it. Peak RSS is the kernel's
// high-water mark of the bearing process (VmHWM), read by sampling
// /proc/<pid>/status. Target: under 150 MB. Run after `npm run build`:
//   node bench/run-memory.js [--agents 4] [--mb 50] [--runs 3]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '4' },
    mb: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
  },
});
const agents = Number(values.agents);
const bytes = Number(values.mb) * 1024 * 1024;

function hwmKb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function once() {
  const dir = mkdtempSync(join(tmpdir(), 'bearing-run-memory-'));
  try {
    mkdirSync(join(dir, 'bearing', 'tasks'), { recursive: true });
    const tasks = ['tasks:'];
    for (let i = 0; i < agents; i++) {
      tasks.push(`  - id: talk-${i}`, '    cli: claude', `    prompt: "talk ${i}"`);
    }
    writeFileSync(join(dir, 'bearing', 'tasks', 'talk.yaml'), `${tasks.join('\n')}\n`);
    const script = join(dir, 'script.json');
    writeFileSync(
      script,
      JSON.stringify([{ match: 'talk', outcome: 'success', summary: 'talked', printBytes: bytes }]),
    );
    const env = {
      ...process.env,
      PATH: [join(ROOT, 'tests', 'fixtures', 'bin'), process.env.PATH].join(delimiter),
      BEARING_FAKE_SCRIPT: script,
      NO_COLOR: '1',
    };
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'bearing.js'), 'run', dir, '--concurrency', String(agents)],
      {
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    let peak = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, hwmKb(child.pid));
    }, 10);
    const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
    clearInterval(timer);
    const seconds = (performance.now() - started) / 1000;
    let logged = 0;
    for (let i = 0; i < agents; i++)
      logged += statSync(
        join(dir, 'bearing', '.state', 'runs', `talk-${i}`, '1', 'stdout.log'),
      ).size;
    return { code, peakMb: peak / 1024, seconds, loggedMb: logged / 1024 / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [];
for (let r = 0; r < Number(values.runs); r++) results.push(await once());
const failed = results.find((r) => r.code !== 0);
if (failed) {
  console.log(`bearing run exited ${failed.code}; memory not measured`);
  process.exit(1);
}
const peaks = results.map((r) => r.peakMb).sort((a, b) => a - b);
console.log(
  `bearing run, ${agents} agents x ${values.mb} MB at once: peak RSS median ${peaks[Math.floor(peaks.length / 2)].toFixed(0)} MB (runs: ${results
    .map((r) => `${r.peakMb.toFixed(0)} MB/${r.seconds.toFixed(1)} s`)
    .join(', ')}); logged ${results[0].loggedMb.toFixed(0)} MB of raw output per run`,
);
