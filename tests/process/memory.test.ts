/**
 * Memory stays bounded whatever the child prints. Measured in a separate node
 * process (the vitest worker's RSS is too noisy to mean anything): src/process
 * is compiled with the project's tsc into a temp dir, and a harness there runs
 * a child printing 50 MB and samples its own RSS every 10 ms.
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

describe('runProcess memory', () => {
  it('streams 50 MB through files and onLine with bounded RSS', () => {
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
      const [bytes, outFile] = process.argv.slice(2);
      const base = { file: process.execPath, cwd: process.cwd(), env: {} };
      // Warm up: load modules and compile the hot paths before the baseline.
      await runProcess({ ...base, args: ['loud.mjs', String(1024 * 1024)], onLine: () => {} });
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
      let lines = 0;
      const outcome = await runProcess({
        ...base,
        args: ['loud.mjs', bytes],
        stdoutFile: outFile,
        stderrFile: outFile + '.err',
        onLine: () => { lines++; },
      });
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      console.log(JSON.stringify({ kind: outcome.kind, lines, baseline, peak }));
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
});
