/**
 * The run's spend cap (run.max_cost_usd, `--max-cost`) with the fake claude,
 * whose events carry usage as the real CLI's do: a task that could pass the
 * cap does not start, an agent whose live spend passes it is stopped, and
 * either way the run ends with exit code 7, saying why and what to do, and
 * the next run goes on.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { Project, tasksYaml, useRig } from './rig.js';

useRig();

describe('the spend cap', () => {
  it('starts no task whose budget could pass it; the next run, with room, starts it', async () => {
    const p = await Project.create({
      'bearing/config.yaml': 'run:\n  max_cost_usd: 1\n',
      'bearing/tasks/t.yaml': tasksYaml([
        { id: 'first', prompt: '[[first]]', budget_usd: 1, expect_changes: false },
        { id: 'second', prompt: '[[second]]', budget_usd: 1, expect_changes: false },
      ]),
    });
    const capped = await p.run(['run']);
    expect(capped.code).toBe(EXIT.costCap);
    expect(p.task('first').status).toBe('completed');
    // Never started: no attempt (no record at all), so queued for the next run.
    expect(p.state().tasks.second).toBeUndefined();
    expect(p.callsFor('[[second]]')).toEqual([]);
    expect(capped.stdout + capped.stderr).toContain(
      'Stopped: the run spent $0.0234 of its spend cap of $1.00 (run.max_cost_usd or --max-cost), and starting `second` (counted as its budget_usd, $1.00) could pass it, so it was not started. Raise the cap, or start `bearing run` again to spend up to the cap once more.',
    );
    // A new run has its own cap; --max-cost overrides config.yaml.
    const next = await p.run(['run', '--max-cost', '2']);
    expect(next.code).toBe(0);
    expect(p.task('second').status).toBe('completed');
  });

  it('stops a running agent once its live spend passes the cap, and the next run resumes it', async () => {
    const releaseDir = mkdtempSync(join(tmpdir(), 'bearing-cap-'));
    onTestFinished(() => rmSync(releaseDir, { recursive: true, force: true }));
    const release = join(releaseDir, 'release');
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'big', prompt: '[[big]]', expect_changes: false },
          { id: 'after', prompt: '[[after]]', depends_on: ['big'], expect_changes: false },
        ]),
      },
      // Its events so far cost more than the cap (claude's list prices on
      // its usage); it waits for a file before its result.
      {
        scenarios: [{ match: '[[big]]', writeFiles: { 'a.txt': 'a' }, releaseFile: release }],
      },
    );
    const capped = await p.run(['run', '--max-cost', '0.000001']);
    expect(capped.code).toBe(EXIT.costCap);
    const big = p.task('big');
    expect(big.status).toBe('interrupted');
    expect(big.attempts).toHaveLength(1);
    expect(p.state().tasks.after).toBeUndefined();
    expect(capped.stdout + capped.stderr).toMatch(
      /Stopped: the run spent ~\$0\.\d{4}, past its spend cap of \$0\.0000 \(run\.max_cost_usd or --max-cost\), so its running agents were stopped; their attempts are resumed next run\./,
    );
    expect(p.statusMd()).toContain('past its spend cap');
    // The next run, with room, resumes the stopped session and goes on.
    writeFileSync(release, '');
    expect((await p.run(['run', '--max-cost', '5'])).code).toBe(0);
    expect(p.task('big').attempts.map((a) => a.outcome)).toEqual(['interrupted', 'completed']);
    expect(big.attempts[0]!.sessionId).toMatch(/\S/);
    expect(p.task('big').attempts[1]!.sessionId).toBe(big.attempts[0]!.sessionId);
    expect(p.task('after').status).toBe('completed');
  });

  it("counts a codex attempt, which reports no cost, at Bearing's estimate from its tokens", async () => {
    const codex = { cli: 'codex', sandbox: 'workspace-write', expect_changes: false };
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([
        { id: 'one', prompt: '[[one]]', ...codex },
        { id: 'two', prompt: '[[two]]', depends_on: ['one'], ...codex },
      ]),
    });
    // Each codex turn reports 3,000 input tokens (2,048 cached) and 84
    // output: at gpt-5-codex's list price (codex's default model), $0.0023.
    const capped = await p.run(['run', '--max-cost', '0.004']);
    expect(capped.code).toBe(EXIT.costCap);
    expect(p.task('one').status).toBe('completed');
    expect(p.state().tasks.two).toBeUndefined();
    expect(capped.stdout + capped.stderr).toContain(
      "Stopped: the run spent ~$0.0023 of its spend cap of $0.0040 (run.max_cost_usd or --max-cost), and starting `two` (counted as its CLI's average over the last 1 attempt, ~$0.0023) could pass it",
    );
  });

  it("records a codex attempt's estimate as its cost, marked as an estimate wherever a cost is shown", async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([
        {
          id: 'cx',
          prompt: '[[cx]]',
          cli: 'codex',
          sandbox: 'workspace-write',
          expect_changes: false,
        },
        { id: 'sh', cli: 'shell', run: 'true', depends_on: ['cx'] },
      ]),
    });
    const run = await p.run(['run']);
    expect(run.code).toBe(0);
    // 952 uncached input tokens at $1.25/M, 2,048 cached at $0.125/M, 84 output at $10/M.
    const usd = (952 * 1.25 + 2048 * 0.125 + 84 * 10) / 1e6;
    const cx = p.task('cx');
    expect(cx.attempts[0]).toMatchObject({ costEstimated: true });
    expect(cx.attempts[0]!.costUsd).toBeCloseTo(usd, 9);
    expect(cx.costUsd).toBeCloseTo(usd, 9);
    // The end of the run: the total and the task's line.
    expect(run.stdout).toMatch(/this run took \S+ · ~\$0\.0023 · tokens/);
    expect(run.stdout).toMatch(/^ {2}cx +~\$0\.0023 · 1 attempt/m);
    expect(p.statusMd()).toContain('- Cost: ~$0.0023 (~: estimated from tokens)');
    expect(p.statusMd()).toContain('- Spent: ~$0.0023, 1 turn, ');
    const json = JSON.parse((await p.run(['status', '--json'])).stdout) as {
      cost: { usd: number; estimated: boolean; unknown_for: string[] };
      tasks: { id: string; cost_usd: number; cost_estimated: boolean; cost_unknown: boolean }[];
    };
    expect(json.cost).toEqual({
      usd: Math.round(usd * 1e6) / 1e6,
      estimated: true,
      unknown_for: [],
    });
    expect(json.tasks.map((t) => [t.id, t.cost_estimated, t.cost_unknown])).toEqual([
      ['cx', true, false],
      ['sh', false, false],
    ]);
    const summary = (await p.run(['summary'])).stdout;
    expect(summary).toContain('Cost: ~$0.0023 (~: estimated from tokens)');
    expect(summary).toMatch(/Last run: took \S+, ~\$0\.0023, 2 attempts/);
    expect(summary).toContain('by task: cx ~$0.0023, sh $0.0000');
  });
});
