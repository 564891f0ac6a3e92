/**
 * Memory bench: the bench process's peak RSS while 4 children each print
 * 50 MB of JSON lines at once through runProcess (log files + onLine parsing).
 * Output must not be buffered, so the peak should not depend on how much the
 * agents print. Target: under 150 MB.
 *
 *   npm run build && node bench/memory.js [--agents 4] [--mb 50] [--runs 3]
 *
 * Imports the built dist/, not src/. The lead will extend this to a full
 * `bearing run` with fake agents.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runProcess } from '../dist/process/run-process.js';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '4' },
    mb: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
  },
});
const agents = Number(values.agents);
const bytesPerAgent = Number(values.mb) * 1024 * 1024;
const runs = Number(values.runs);
const MB = 1024 * 1024;

// A fake agent: ~1 KiB stream-json-like lines, written as fast as the pipe takes them.
const LOUD_AGENT = `
const total = Number(process.argv[2]);
const pad = 'x'.repeat(960);
let written = 0;
let n = 0;
const write = () => {
  while (written < total) {
    let chunk = '';
    while (chunk.length < 65536 && written + chunk.length < total) {
      chunk += JSON.stringify({ type: 'assistant', n: n++, text: pad }) + '\\n';
    }
    written += chunk.length;
    if (!process.stdout.write(chunk)) return process.stdout.once('drain', write);
  }
};
write();
`;

const dir = mkdtempSync(join(tmpdir(), 'bearing-bench-memory-'));
const agentScript = join(dir, 'loud-agent.mjs');
writeFileSync(agentScript, LOUD_AGENT);

async function runOnce(run) {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: agents }, async (_, i) => {
      const stdoutFile = join(dir, `run${run}-agent${i}.stdout.log`);
      const stderrFile = join(dir, `run${run}-agent${i}.stderr.log`);
      let lines = 0;
      let lastN = -1;
      const outcome = await runProcess({
        file: process.execPath,
        args: [agentScript, String(bytesPerAgent)],
        cwd: dir,
        env: {},
        stdoutFile,
        stderrFile,
        onLine: (line, stream) => {
          if (stream !== 'stdout') return;
          lines += 1;
          lastN = JSON.parse(line).n;
        },
      });
      const size = statSync(stdoutFile).size;
      rmSync(stdoutFile);
      rmSync(stderrFile);
      return { outcome, lines, lastN, size };
    }),
  );
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const seconds = (performance.now() - started) / 1000;
  for (const r of results) {
    if (r.outcome.kind !== 'exited' || r.outcome.exitCode !== 0) {
      throw new Error(`agent failed: ${JSON.stringify(r.outcome)}`);
    }
    if (r.lines !== r.lastN + 1) throw new Error(`lost lines: ${r.lines} vs ${r.lastN + 1}`);
  }
  const totalMb = results.reduce((sum, r) => sum + r.size, 0) / MB;
  return { peakMb: peak / MB, seconds, totalMb };
}

try {
  const samples = [];
  for (let run = 0; run < runs; run++) {
    const { peakMb, seconds, totalMb } = await runOnce(run);
    samples.push(peakMb);
    console.log(
      `run ${run + 1}: peak RSS ${peakMb.toFixed(0)} MB, ${totalMb.toFixed(0)} MB streamed in ${seconds.toFixed(1)} s`,
    );
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    `peak RSS with ${agents} x ${values.mb} MB agents: median ${median.toFixed(0)} MB ` +
      `(runs: ${samples.map((s) => s.toFixed(0)).join(', ')} MB; maxRSS ${maxRssMb.toFixed(0)} MB; target < 150 MB)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
