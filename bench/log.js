// `bearing log` on a large claude attempt: 20,000 tool calls and messages
// (~20 MB of stream-json), then a `result` line of 40 MB (claude puts the
// agent's whole final message on one line). The transcript reads it through
// the run's LineSplitter, so its peak memory must not grow with the line:
// target under 120 MB peak RSS. Its time is shown against `log --raw` (a
// plain copy of the same bytes) and `node -e 0`, measured interleaved in the
// same rounds on this shared machine; every figure is a median.
//
//   npm run build && node bench/log.js [--rounds 5] [--events 20000] [--result-mb 40]
//
// Peak RSS is GNU time's %M (the child's maximum resident set, in KB).
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'bearing.js');
const REFERENCE = join(ROOT, 'tests', 'fixtures', 'reference', 'claude-success.stream.jsonl');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    events: { type: 'string', default: '20000' },
    'result-mb': { type: 'string', default: '40' },
  },
});
const ROUNDS = Number(values.rounds);
const EVENTS = Number(values.events);
const RESULT_BYTES = Number(values['result-mb']) * 1024 * 1024;
const TARGET_PEAK_MB = 120;

// The reference's own events, repeated: init, then text / tool_use / tool_result, then a result.
const [init, text, toolUse, toolResult, , result] = readFileSync(REFERENCE, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));

const project = mkdtempSync(join(tmpdir(), 'bearing-bench-log-'));
mkdirSync(join(project, 'bearing', 'tasks'), { recursive: true });
writeFileSync(join(project, 'bearing', 'tasks', 't.yaml'), 'id: t\nprompt: hi\n');
const dir = join(project, 'bearing', '.state', 'runs', 't', '1');
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, 'meta.json'),
  JSON.stringify({ task: 't', attempt: 1, cli: 'claude', output: 'claude' }),
);
const fd = openSync(join(dir, 'stdout.log'), 'w');
writeSync(fd, `${JSON.stringify(init)}\n`);
for (let i = 0; i < EVENTS / 3; i++) {
  const use = structuredClone(toolUse);
  use.message.content[0].input.file_path = `/home/user/project/src/file-${i}.js`;
  writeSync(fd, `${JSON.stringify(text)}\n${JSON.stringify(use)}\n${JSON.stringify(toolResult)}\n`);
}
const big = { ...result, result: `${'final words '.repeat(RESULT_BYTES / 12)}end.` };
writeSync(fd, `${JSON.stringify(big)}\n`);
closeSync(fd);
const logBytes = statSync(join(dir, 'stdout.log')).size;

/**
 * Wall ms and peak RSS (MB) of one process, its stdout to /dev/null (so
 * the bench's own reading of 50 MB is not measured); throws when it fails.
 */
function measure(argv) {
  const devNull = openSync('/dev/null', 'w');
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...argv], {
    cwd: project,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', devNull, 'pipe'],
  });
  const ms = performance.now() - started;
  closeSync(devNull);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  const kb = Number(r.stderr.trim().split('\n').at(-1));
  return { ms, mb: kb / 1024 };
}

const cases = {
  'node -e 0': [process.execPath, '-e', '0'],
  'log --raw': [process.execPath, BIN, 'log', 't', '--raw'],
  'log (transcript)': [process.execPath, BIN, 'log', 't'],
};
const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, argv] of Object.entries(cases)) results[name].push(measure(argv));
}
const transcriptLines = spawnSync(process.execPath, cases['log (transcript)'].slice(1), {
  cwd: project,
  encoding: 'utf8',
  maxBuffer: 256 * 1024 * 1024,
}).stdout.split('\n').length;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

console.log(
  `stdout.log: ${(logBytes / 1024 / 1024).toFixed(1)} MB, ${EVENTS} events + a ${values['result-mb']} MB result line; transcript: ${transcriptLines} lines; ${ROUNDS} rounds`,
);
const raw = median(results['log --raw'].map((m) => m.ms));
for (const [name, ms] of Object.entries(results)) {
  const t = median(ms.map((m) => m.ms));
  const mb = median(ms.map((m) => m.mb));
  console.log(
    `${name.padEnd(18)} ${t.toFixed(0).padStart(6)} ms  (${(t / raw).toFixed(2)}x raw)  peak ${mb.toFixed(0).padStart(4)} MB`,
  );
}
const peak = median(results['log (transcript)'].map((m) => m.mb));
console.log(
  `target: transcript peak under ${TARGET_PEAK_MB} MB: ${peak < TARGET_PEAK_MB ? 'met' : 'MISSED'} (${peak.toFixed(0)} MB)`,
);
rmSync(project, { recursive: true, force: true });
