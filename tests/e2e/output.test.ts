/**
 * Output through the real bin: an agent printing ~50 MB completes with bounded
 * memory and its log kept whole; `bearing log`, `status --json`, `summary` and
 * `watch` read what the run recorded.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Project, tasksYaml, useRig } from './rig.js';

useRig();

const TIME = '/usr/bin/time';
const MB = 1024 * 1024;

describe('large output', () => {
  it('a fake printing ~50 MB completes, the log keeps it all, and bearing stays under 150 MB RSS', async () => {
    const p = await Project.create(
      { 'bearing/tasks/t.yaml': tasksYaml([{ id: 'chatty', prompt: '[[chatty]]' }]) },
      {
        scenarios: [
          { match: '[[chatty]]', printBytes: 50 * MB, summary: 'Printed a lot, then this.' },
        ],
      },
    );
    const useTime = existsSync(TIME);
    const run = p.start(['run'], {
      timeoutMs: 80_000,
      ...(useTime ? { prefix: [TIME, '-f', 'BEARING_MAX_RSS_KB=%M'] } : {}),
    });
    // Fallback without GNU time: sample the bearing process's high-water mark.
    let sampledKb = 0;
    const sampler = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${run.pid}/status`, 'utf8'));
        if (m) sampledKb = Math.max(sampledKb, Number(m[1]));
      } catch {
        // Exited.
      }
    }, 50);
    const r = await run.done;
    clearInterval(sampler);
    expect(r.code).toBe(0);
    const rec = p.task('chatty');
    expect(rec.status).toBe('completed');
    expect(rec.summary).toBe('Printed a lot, then this.');
    const log = join(p.attemptDir('chatty', 1), 'stdout.log');
    expect(statSync(log).size).toBeGreaterThanOrEqual(50 * MB);

    const peakKb = useTime ? Number(/BEARING_MAX_RSS_KB=(\d+)/.exec(r.stderr)?.[1]) : sampledKb;
    expect(peakKb).toBeGreaterThan(10_000);
    expect(peakKb).toBeLessThan(150 * 1024);
  }, 90_000);
});

describe('a long final result', () => {
  it('a 20 MB final message (one assistant and one result line) is read whole: the summary is its end', async () => {
    const ending = 'and that is the end of a very long report.';
    const summary = `${'All of it, line after line.\n'.repeat(Math.ceil((20 * MB) / 28))}${ending}`;
    const p = await Project.create(
      { 'bearing/tasks/t.yaml': tasksYaml([{ id: 'report', prompt: '[[report]]' }]) },
      { scenarios: [{ match: '[[report]]', summary, costUsd: 0.5 }] },
    );
    const r = await p.run(['run'], { timeoutMs: 80_000 });
    expect(r.code).toBe(0);
    const rec = p.task('report');
    expect(rec.status).toBe('completed');
    expect(rec.summary?.endsWith(`line after line.\n${ending}`)).toBe(true);
    expect(rec.costUsd).toBe(0.5);
    const log = join(p.attemptDir('report', 1), 'stdout.log');
    expect(statSync(log).size).toBeGreaterThan(40 * MB);
  }, 90_000);
});

describe('reading commands', () => {
  it('`bearing log`, `status --json` and `summary` reflect what was recorded', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'build', name: 'Build it', prompt: '[[build]]' },
          { id: 'broken', retries: 0, prompt: '[[broken]]' },
          { id: 'blocked', depends_on: ['broken'], prompt: '[[blocked]]' },
        ]),
      },
      {
        scenarios: [
          {
            match: '[[build]]',
            summary: 'Built.',
            costUsd: 0.5,
            writeFiles: { 'src/app.js': 'app\n' },
          },
          { match: '[[broken]]', outcome: 'max-turns', costUsd: 0 },
        ],
      },
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(1);

    // log --raw: the output exactly as the agent printed it; the header goes to stderr.
    const log = await p.run(['log', 'build', '--raw']);
    expect(log.code).toBe(0);
    const rawFile = join(p.attemptDir('build', 1), 'stdout.log');
    expect(log.stdout).toBe(readFileSync(rawFile, 'utf8'));
    expect(log.stdout.split('\n')[0]).toContain('"type":"system","subtype":"init"');
    expect(log.stderr).toBe(`# build, attempt 1 of 1: ${rawFile}\n`);
    // log: the same as a transcript, with the same header.
    const transcript = await p.run(['log', 'build']);
    expect(transcript.stderr).toBe(`# build, attempt 1 of 1: ${rawFile}\n`);
    expect(transcript.stdout).toContain('→ Write src/app.js\nBuilt.\n✓ result: success · $0.5000');
    const prompt = await p.run(['log', 'build', '--prompt']);
    expect(prompt.stdout).toBe(p.promptOf('build', 1));
    const stderrLog = await p.run(['log', 'broken', '--stderr']);
    expect(stderrLog.code).toBe(0);
    expect(stderrLog.stdout).toBe(
      readFileSync(join(p.attemptDir('broken', 1), 'stderr.log'), 'utf8'),
    );
    const json = JSON.parse((await p.run(['log', 'broken', '--json'])).stdout);
    expect(json).toMatchObject({ id: 'broken', attempt: 1, attempts: [1] });
    expect(json.result.failure).toMatchObject({ reason: 'max-turns' });
    // The prompt went on stdin: it is in prompt.txt, not in the arguments.
    expect(json.meta.promptOnStdin).toBe(true);
    expect(json.meta.args).not.toContain(p.promptOf('broken', 1));
    const never = await p.run(['log', 'blocked']);
    expect(never.code).toBe(1);
    expect(never.stderr).toMatch(/^bearing log: blocked has not run yet/);

    // status --json
    const status = await p.run(['status', '--json']);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s.run_active).toBe(false);
    expect(s.progress).toEqual({
      total: 3,
      completed: 1,
      failed: 1,
      running: 0,
      interrupted: 0,
      awaiting_review: 0,
      skipped: 0,
      queued: 1,
      needs_review: 0,
      stale: 0,
    });
    expect(s.cost).toEqual({ usd: 0.5, estimated: false, unknown_for: [] });
    const byId = Object.fromEntries(s.tasks.map((t: { id: string }) => [t.id, t]));
    expect(byId.build).toMatchObject({
      name: 'Build it',
      status: 'completed',
      cost_usd: 0.5,
      turns: 2,
      summary: 'Built.',
      files_changed: ['src/app.js'],
      error: null,
    });
    expect(byId.broken).toMatchObject({
      status: 'failed',
      cli: 'claude',
      error: { reason: 'max-turns' },
    });
    expect(byId.blocked).toMatchObject({ status: 'queued', blocked_by: 'broken', ready: false });
    expect(s.next).toMatch(/^Failed: `broken` .*Blocked by it: blocked\.$/);

    // summary
    const summary = await p.run(['summary']);
    expect(summary.code).toBe(0);
    const lines = summary.stdout.split('\n');
    expect(lines[0]).toBe('Bearing: 1/3 completed, 1 failed, 1 queued');
    expect(lines[1]).toBe('Cost: $0.5000');
    expect(summary.stdout).toMatch(
      /^\[completed\] build — Build it · \$0\.5000 · \d+ms · 1 file$/m,
    );
    expect(summary.stdout).toMatch(/^\[failed\] +broken · turn limit reached/m);
    expect(summary.stdout).toMatch(/^\[queued\] +blocked · blocked: broken failed$/m);

    // status (text) is what status.md holds, computed now.
    const text = await p.run(['status']);
    expect(text.stdout).toContain('## build — Build it');
    expect(text.stdout).toContain('- Progress: 1/3 completed, 1 failed, 1 queued');
  });

  it('`bearing watch` prints the state changes of a run and exits when it ends', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'one', prompt: '[[one]]' },
          { id: 'two', depends_on: ['one'], retries: 0, prompt: '[[two]]' },
        ]),
      },
      {
        scenarios: [
          { match: '[[one]]', delayMs: 2000 },
          { match: '[[two]]', delayMs: 2000, outcome: 'max-turns', costUsd: 0.01 },
        ],
      },
    );
    const watch = p.start(['watch']);
    await watch.waitForOutput(/no run is active; waiting for one/);
    const run = p.start(['run']);
    const r = await run.done;
    expect(r.code).toBe(1);
    const w = await watch.done;
    expect(w.code).toBe(0);
    const lines = w.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^\d\d:\d\d:\d\d /, ''));
    expect(lines[0]).toBe('no run is active; waiting for one (Ctrl-C to stop)');
    expect(lines[1]).toMatch(new RegExp(`^run active \\(pid ${run.pid}, since `));
    // Live progress lines come as the run saves them (at most once a second):
    // how many depends on timing. tests/e2e/progress.test.ts covers them.
    const changes = lines.slice(2, -2).filter((l) => !/^\w+: \d+ turns? · /.test(l));
    expect(changes).toEqual([
      'one: queued -> running',
      'one: running -> completed ($0.0234)',
      'two: queued -> running',
      'two: running -> failed ($0.0100) [max-turns]',
    ]);
    expect(lines.at(-2)).toBe('run ended');
    expect(lines.at(-1)).toMatch(/^Failed: `two` \(turn limit reached/);
  });

  it('`bearing watch` also ends after a run too quick to be seen while it held the lock', async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([{ id: 'quick', cli: 'shell', run: 'echo hi' }]),
    });
    const watch = p.start(['watch', '--json'], { timeoutMs: 20_000 });
    await watch.waitForOutput(/"type":"waiting"/);
    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    const w = await watch.done;
    expect(w.code).toBe(0);
    const events = w.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { type: string; id?: string; from?: string; to?: string; next?: string },
      );
    expect(events.filter((e) => e.type === 'run-active')).toHaveLength(1);
    const changes = events.filter((e) => e.type === 'change' && e.id === 'quick');
    expect(changes.at(-1)?.to).toBe('completed');
    // A task the state has no record of yet is queued, as every other command says.
    expect(changes[0]).toMatchObject({ from: 'queued' });
    expect(events.at(-1)).toEqual({
      type: 'run-ended',
      next: 'All 1 task done. Add tasks to bearing/tasks/ and run `bearing run` to continue.',
    });
  });

  it('`bearing log` of a shell task shows what it printed on stdout and on stderr', async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([
        {
          id: 'check',
          cli: 'shell',
          retries: 0,
          run: 'echo checking; echo "2 tests failed" >&2; exit 1',
        },
        { id: 'quiet', cli: 'shell', run: 'echo "only stderr" >&2' },
      ]),
    });
    const r = await p.run(['run']);
    expect(r.code).toBe(1);
    const dir = p.attemptDir('check', 1);
    const log = await p.run(['log', 'check']);
    expect(log.code).toBe(0);
    expect(log.stdout).toBe('checking\n2 tests failed\n');
    expect(log.stderr).toBe(
      `# check, attempt 1 of 1: ${join(dir, 'stdout.log')}\n# stderr: ${join(dir, 'stderr.log')}\n`,
    );
    // A task that printed only on stderr is not shown as an empty log.
    const quiet = await p.run(['log', 'quiet']);
    expect(quiet.stdout).toBe('only stderr\n');
    expect(quiet.stderr).toContain('stdout.log (empty)');
    // The flags still pick one file.
    expect((await p.run(['log', 'check', '--stderr'])).stdout).toBe('2 tests failed\n');
  });
});

describe('the end of a run', () => {
  it("ends with this run's cost, tokens and wall time, in text and in the run-end event", async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([{ id: 'one', prompt: '[[one]]' }]),
    });
    expect((await p.run(['run'])).code).toBe(0);
    // The second run does one more task: its totals leave out what the first run spent.
    p.write('bearing/tasks/u.yaml', tasksYaml([{ id: 'two', prompt: '[[two]]' }]));
    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    expect(p.statusLine('Cost')).toBe('$0.0468');
    const lines = r.stdout.trimEnd().split('\n');
    const totals = lines.filter((l) => l.includes('this run took'));
    expect(totals).toHaveLength(1);
    expect(totals[0]).toMatch(
      /^\d\d:\d\d:\d\d this run took \d+(ms|s) · \$0\.0234 · tokens 240 input, 80 output, 20,480 cache read, 4,096 cache write$/,
    );
    // Then what to do next, as before.
    expect(lines.at(-1)).toMatch(/^All 2 tasks done/);

    p.write('bearing/tasks/v.yaml', tasksYaml([{ id: 'three', prompt: '[[three]]' }]));
    const json = await p.run(['run', '--json']);
    const end = JSON.parse(json.stdout.trimEnd().split('\n').at(-1)!);
    expect(end).toMatchObject({
      type: 'run-end',
      cost_usd: 0.023424,
      cost_unknown_for: [],
      tokens: { input: 240, output: 80, cache_read: 20480, cache_write: 4096 },
      attempts: 1,
    });
    expect(end.wall_ms).toBeGreaterThanOrEqual(0);
    expect(end.next).toMatch(/^All 3 tasks done/);
  });
});
