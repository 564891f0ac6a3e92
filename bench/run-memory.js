// Peak memory of a whole `bearing run` while 4 agents each print 50 MB at once:
// the fake `claude` from tests/fixtures/bin streams valid stream-json events
// (printBytes), Bearing parses every line, keeps the raw output under
// bearing/.state/runs/ and must not buffer it. For each shape of output:
//
//   short  16 KiB lines
//   long   10 MiB lines (printLineBytes)
//   final  16 KiB lines, then a 20 MB final message: an assistant line and a
//          result line of 20 MB each; the recorded summary must end as it does
//
// (bench/memory.js has 50 MB without a newline, which the fake does not print.)
// Peak RSS is the kernel's high-water mark of the bearing process (VmHWM),
// read by sampling /proc/<pid>/status. Target: under 150 MB. Run after
// `npm run build`:
//   node bench/run-memory.js [--agents 4] [--mb 50] [--runs 3]
//     [--shapes short,long,final] [--root path/to/another/build]
// --root runs another build's bin/bearing.js (with its dist/ beside it), e.g.
// the previous commit's, to measure before and after on the same machine.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '4' },
    mb: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
    shapes: { type: 'string', default: 'short,long,final' },
    root: { type: 'string', default: ROOT },
  },
});
const agents = Number(values.agents);
const MB = 1024 * 1024;
const bytes = Number(values.mb) * MB;
const TARGET_MB = 150;
const FINAL_BYTES = 20 * MB;
const ENDING = 'and that is all.';

const SHAPES = {
  short: { printBytes: bytes },
  long: { printBytes: bytes, printLineBytes: 10 * MB },
  final: {
    printBytes: bytes - 2 * FINAL_BYTES,
    summary: `${'s'.repeat(FINAL_BYTES - ENDING.length)}${ENDING}`,
  },
};

function hwmKb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function once(shape) {
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
      JSON.stringify([{ match: 'talk', outcome: 'success', summary: 'talked', ...shape }]),
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
      [
        join(resolve(values.root), 'bin', 'bearing.js'),
        'run',
        dir,
        '--concurrency',
        String(agents),
      ],
      { env, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    let peak = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, hwmKb(child.pid));
    }, 10);
    const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
    clearInterval(timer);
    const seconds = (performance.now() - started) / 1000;
    let logged = 0;
    let summariesKept = 0;
    const state = JSON.parse(readFileSync(join(dir, 'bearing', '.state', 'state.json'), 'utf8'));
    for (let i = 0; i < agents; i++) {
      logged += statSync(
        join(dir, 'bearing', '.state', 'runs', `talk-${i}`, '1', 'stdout.log'),
      ).size;
      if (state.tasks[`talk-${i}`]?.summary?.endsWith(shape.summary?.slice(-100) ?? 'talked')) {
        summariesKept += 1;
      }
    }
    return { code, peakMb: peak / 1024, seconds, loggedMb: logged / MB, summariesKept };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`bearing run, ${agents} agents x ${values.mb} MB at once (${values.root})`);
let failed = false;
for (const name of values.shapes.split(',')) {
  const results = [];
  for (let r = 0; r < Number(values.runs); r++) results.push(await once(SHAPES[name]));
  const exited = results.find((r) => r.code !== 0);
  const peaks = results.map((r) => r.peakMb).sort((a, b) => a - b);
  const median = peaks[Math.floor(peaks.length / 2)];
  const lost = results.reduce((n, r) => n + agents - r.summariesKept, 0);
  const ok = median < TARGET_MB && lost === 0 && exited === undefined;
  failed ||= !ok;
  console.log(
    `  ${name.padEnd(6)} peak RSS median ${median.toFixed(0).padStart(4)} MB (runs: ${results
      .map((r) => `${r.peakMb.toFixed(0)} MB/${r.seconds.toFixed(1)} s`)
      .join(', ')}; logged ${results[0].loggedMb.toFixed(0)} MB per run)` +
      `${exited ? `, bearing run exited ${exited.code}` : ''}` +
      `${lost > 0 ? `, ${lost} summaries not recorded` : ''} target < ${TARGET_MB} MB: ${ok ? 'met' : 'NOT MET'}`,
  );
}
if (failed) process.exitCode = 1;
