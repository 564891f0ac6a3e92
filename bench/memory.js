/**
 * Memory bench: the bench process's peak RSS while 4 children each print
 * 50 MB at once through runProcess (log files + every line parsed by the
 * real claude parser), for each shape of output:
 *
 *   short     1 KiB stream-json lines
 *   long      10 MiB lines (each agent has one in flight at every moment)
 *   final     1 KiB lines, then a 20 MB `result` line (the summary must arrive)
 *   unbroken  50 MB without a single newline
 *
 * Output must not be buffered, so the peak should depend neither on how much
 * the agents print nor on how they break it into lines. Target: under 150 MB
 * for every shape.
 *
 * The peak is the kernel's high-water mark (VmHWM, reset before each run via
 * /proc/self/clear_refs), so a spike inside synchronous code counts; where
 * that is not available, RSS sampled every 10 ms.
 *
 *   npm run build && node bench/memory.js [--agents 4] [--mb 50] [--runs 3]
 *     [--shapes short,long,final,unbroken] [--dist path/to/dist]
 *
 * Imports the built dist/ (or --dist: another build, e.g. the previous
 * commit's, to measure before and after on the same machine).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '4' },
    mb: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
    shapes: { type: 'string', default: 'short,long,final,unbroken' },
    dist: { type: 'string', default: join(ROOT, 'dist') },
  },
});
const agents = Number(values.agents);
const MB = 1024 * 1024;
const bytesPerAgent = Number(values.mb) * MB;
const runs = Number(values.runs);
const TARGET_MB = 150;
const FINAL_BYTES = 20 * MB;
const dist = pathToFileURL(resolve(values.dist)).href;
const { runProcess } = await import(`${dist}/process/run-process.js`);
const { ClaudeStreamParser } = await import(`${dist}/agents/claude.js`);
// The cap a run gives agents' lines, from the same build.
const { MAX_AGENT_LINE_BYTES } = await import(`${dist}/agents/types.js`);

/**
 * A fake agent printing stream-json as fast as the pipe takes it:
 * argv = total bytes, line bytes (0: no newline at all), final result bytes.
 */
const AGENT = `
const [total, lineBytes, finalBytes] = process.argv.slice(2).map(Number);
const event = (text) => JSON.stringify({ type: 'assistant', message: { content: [{ type: 'text', text }] } });
const empty = event('').length + 1;
const line = lineBytes > 0 ? event('x'.repeat(Math.max(0, lineBytes - empty))) + '\\n' : 'x'.repeat(1 << 20);
const result = finalBytes > 0
  ? JSON.stringify({ type: 'result', subtype: 'success', is_error: false, num_turns: 1,
      result: 'r'.repeat(finalBytes - 200) + ' END', total_cost_usd: 0.01, session_id: 's' }) + '\\n'
  : '';
// Short lines go out 64 KiB at a time, as a real CLI's buffered writes would.
const chunk = line.length < 65536 ? line.repeat(Math.floor(65536 / line.length)) : line;
const body = total - result.length;
let written = 0;
const write = () => {
  while (written < body) {
    written += chunk.length;
    if (!process.stdout.write(chunk)) return process.stdout.once('drain', write);
  }
  process.stdout.write(result);
};
write();
`;

const SHAPES = {
  short: { lineBytes: 1024, finalBytes: 0 },
  long: { lineBytes: 10 * MB, finalBytes: 0 },
  final: { lineBytes: 1024, finalBytes: FINAL_BYTES },
  unbroken: { lineBytes: 0, finalBytes: 0 },
};

/** Peak RSS since the last reset: the kernel's own mark when it can be reset, else sampled. */
function peakMeter() {
  let resettable = false;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    resettable = true;
  } catch {
    // Not Linux, or not allowed: sampling only.
  }
  let sampled = process.memoryUsage().rss;
  const timer = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage().rss);
  }, 10);
  return () => {
    clearInterval(timer);
    sampled = Math.max(sampled, process.memoryUsage().rss);
    if (!resettable) return sampled;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return Math.max(sampled, hwm ? Number(hwm[1]) * 1024 : 0);
  };
}

async function runOnce(dir, shapeName, run) {
  const shape = SHAPES[shapeName];
  const peak = peakMeter();
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: agents }, async (_, i) => {
      const stdoutFile = join(dir, `${shapeName}-${run}-agent${i}.stdout.log`);
      const stderrFile = join(dir, `${shapeName}-${run}-agent${i}.stderr.log`);
      const parser = new ClaudeStreamParser();
      let lines = 0;
      const outcome = await runProcess({
        file: process.execPath,
        args: [
          join(dir, 'agent.mjs'),
          String(bytesPerAgent),
          String(shape.lineBytes),
          String(shape.finalBytes),
        ],
        cwd: dir,
        env: {},
        stdoutFile,
        stderrFile,
        maxLineBytes: MAX_AGENT_LINE_BYTES,
        onLine: (line, stream) => {
          if (stream !== 'stdout') return;
          lines += 1;
          parser.push(line);
        },
        // As a run reads them: lines over 1 MiB from the spill file, in pieces (builds before it never call this).
        onLongLine: (line, stream) => {
          if (stream !== 'stdout') return;
          lines += 1;
          parser.pushPieces(line.pieces());
        },
      });
      const size = statSync(stdoutFile).size;
      rmSync(stdoutFile);
      rmSync(stderrFile);
      return { outcome, lines, size, result: parser.finish({ exitCode: 0 }) };
    }),
  );
  const peakBytes = peak();
  const seconds = (performance.now() - started) / 1000;
  for (const r of results) {
    if (r.outcome.kind !== 'exited' || r.outcome.exitCode !== 0) {
      throw new Error(`agent failed: ${JSON.stringify(r.outcome)}`);
    }
  }
  const totalMb = results.reduce((sum, r) => sum + r.size, 0) / MB;
  // Every agent's parser got the 20 MB result line whole (its summary ends as the line did).
  const gotResults = results.filter((r) => r.result.summary?.endsWith(' END')).length;
  return { peakMb: peakBytes / MB, seconds, totalMb, gotResults };
}

const dir = mkdtempSync(join(tmpdir(), 'bearing-bench-memory-'));
writeFileSync(join(dir, 'agent.mjs'), AGENT);
try {
  console.log(`runProcess memory, ${agents} agents x ${values.mb} MB at once (${values.dist})`);
  let failed = false;
  for (const shapeName of values.shapes.split(',')) {
    const samples = [];
    let seconds = 0;
    let lostResults = 0;
    for (let run = 0; run < runs; run++) {
      const r = await runOnce(dir, shapeName, run);
      samples.push(r.peakMb);
      seconds += r.seconds;
      if (SHAPES[shapeName].finalBytes > 0) lostResults += agents - r.gotResults;
    }
    const sorted = [...samples].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    const ok = median < TARGET_MB && lostResults === 0;
    failed ||= !ok;
    console.log(
      `  ${shapeName.padEnd(9)} peak RSS median ${median.toFixed(0).padStart(4)} MB ` +
        `(runs ${samples.map((s) => s.toFixed(0)).join(', ')} MB; ${(seconds / runs).toFixed(1)} s each)` +
        `${lostResults > 0 ? `, ${lostResults} final result line(s) not parsed` : ''} ` +
        `target < ${TARGET_MB} MB: ${ok ? 'met' : 'NOT MET'}`,
    );
  }
  if (failed) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
