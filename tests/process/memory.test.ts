/**
 * Memory stays bounded whatever the child prints. Measured in a separate node
 * process (the vitest worker's RSS is too noisy to mean anything): src/process
 * is compiled with the project's tsc into a temp dir, and a harness there runs
 * children and reports its own peak RSS: the kernel's high-water mark (reset
 * after a warm-up, on Linux), so a spike inside synchronous code counts too,
 * else RSS sampled every 10 ms.
 */
import { execFileSync } from 'node:child_process';
import { statSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, NODE, writeScript } from './support.js';

const repo = resolve(import.meta.dirname, '../..');
let dir: string;
let cleanup: () => void;

beforeAll(() => {
  ({ dir, cleanup } = makeTempDir());
  execFileSync(
    NODE,
    [
      join(repo, 'node_modules/typescript/bin/tsc'),
      '--ignoreConfig',
      '--outDir',
      dir,
      '--rootDir',
      join(repo, 'src/process'),
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2023',
      '--types',
      'node',
      '--skipLibCheck',
      join(repo, 'src/process/run-process.ts'),
    ],
    { cwd: repo, stdio: 'pipe' },
  );
  // So the compiled module finds execa.
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
});

afterAll(() => cleanup());

const MB = 1024 * 1024;

/** Reports the harness's peak RSS from `measure()` on: see the header. */
const PEAK = `
  import { readFileSync, writeFileSync } from 'node:fs';
  export function measure() {
    let resettable = false;
    try {
      writeFileSync('/proc/self/clear_refs', '5');
      resettable = true;
    } catch {}
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
    return () => {
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      const hwm = resettable && /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
      if (hwm) peak = Math.max(peak, Number(hwm[1]) * 1024);
      return { baseline, peak };
    };
  }
`;

describe('runProcess memory', () => {
  it('streams 50 MB through files and onLine with bounded RSS', () => {
    writeScript(dir, 'peak.mjs', PEAK);
    writeScript(
      dir,
      'loud.mjs',
      `
      const total = Number(process.argv[2]);
      const line = 'L'.repeat(1023) + '\\n';
      const chunk = line.repeat(64);
      let written = 0;
      const write = () => {
        while (written < total) {
          written += chunk.length;
          if (!process.stdout.write(chunk)) return process.stdout.once('drain', write);
        }
      };
      write();
      `,
    );
    writeScript(
      dir,
      'harness.mjs',
      `
      import { runProcess } from './run-process.js';
      import { measure } from './peak.mjs';
      const [bytes, outFile] = process.argv.slice(2);
      const base = { file: process.execPath, cwd: process.cwd(), env: {} };
      // Warm up: load modules and compile the hot paths before the baseline.
      await runProcess({ ...base, args: ['loud.mjs', String(1024 * 1024)], onLine: () => {} });
      const done = measure();
      let lines = 0;
      const outcome = await runProcess({
        ...base,
        args: ['loud.mjs', bytes],
        stdoutFile: outFile,
        stderrFile: outFile + '.err',
        onLine: () => { lines++; },
      });
      console.log(JSON.stringify({ kind: outcome.kind, lines, ...done() }));
      `,
    );
    const outFile = join(dir, 'out.log');
    const report = JSON.parse(
      execFileSync(NODE, ['harness.mjs', String(50 * MB), outFile], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 120_000,
      }),
    ) as { kind: string; lines: number; baseline: number; peak: number };

    expect(report.kind).toBe('exited');
    expect(statSync(outFile).size).toBe(50 * MB);
    expect(report.lines).toBe(50 * 1024);
    // Buffering the output would cost at least 50 MB (as strings, 100 MB).
    const growthMb = (report.peak - report.baseline) / MB;
    expect(growthMb, `RSS grew by ${growthMb.toFixed(1)} MB`).toBeLessThan(30);
  });

  it('four children printing 10 MiB lines and a 20 MB last line at once: bounded RSS, every byte read', () => {
    writeScript(dir, 'peak.mjs', PEAK);
    writeScript(
      dir,
      'long.mjs',
      `
      const write = (text) => new Promise((resolve) => process.stdout.write(text, resolve));
      const line = 'x'.repeat(10 * 1024 * 1024);
      for (let i = 0; i < 3; i++) await write(line + '\\n');
      await write('y'.repeat(20 * 1024 * 1024 - 3) + 'END\\n');
      `,
    );
    writeScript(
      dir,
      'harness.mjs',
      `
      import { runProcess } from './run-process.js';
      import { measure } from './peak.mjs';
      const base = { file: process.execPath, cwd: process.cwd(), env: {}, maxLineBytes: 64 * 1024 * 1024 };
      const read = () => {
        const seen = { lines: 0, bytes: 0, end: '' };
        const count = (text) => { seen.bytes += text.length; seen.end = (seen.end + text).slice(-3); };
        return {
          seen,
          onLine: (line) => { seen.lines++; count(line); },
          onLongLine: (line) => { seen.lines++; for (const piece of line.pieces()) count(piece); },
        };
      };
      // Warm up: load modules and compile the hot paths before the baseline.
      const warm = read();
      await runProcess({ ...base, args: ['long.mjs'], stdoutFile: 'warm.log', ...warm });
      const done = measure();
      const readers = [0, 1, 2, 3].map(read);
      const outcomes = await Promise.all(readers.map((r, i) =>
        runProcess({ ...base, args: ['long.mjs'], stdoutFile: 'out' + i + '.log', ...r })));
      console.log(JSON.stringify({
        kinds: outcomes.map((o) => o.kind), seen: readers.map((r) => r.seen), ...done(),
      }));
      `,
    );
    const report = JSON.parse(
      execFileSync(NODE, ['harness.mjs'], { cwd: dir, encoding: 'utf8', timeout: 120_000 }),
    ) as {
      kinds: string[];
      seen: Array<{ lines: number; bytes: number; end: string }>;
      baseline: number;
      peak: number;
    };

    expect(report.kinds).toEqual(['exited', 'exited', 'exited', 'exited']);
    for (const seen of report.seen) expect(seen).toEqual({ lines: 4, bytes: 50 * MB, end: 'END' });
    // About 25 MB measured. Handed over as whole strings (no onLongLine), the
    // same lines grew it by about 80 MB; held in memory while they arrive, more.
    const growthMb = (report.peak - report.baseline) / MB;
    expect(growthMb, `RSS grew by ${growthMb.toFixed(1)} MB`).toBeLessThan(50);
  });
});
