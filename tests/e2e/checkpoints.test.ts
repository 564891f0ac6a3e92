/**
 * Checkpoints through the real bin: notify flags and goes on; pause stops the
 * run after the task until `bearing approve`, which works both between runs
 * and, through the inbox, while a run is active.
 */
import { describe, expect, it } from 'vitest';
import { Project, tasksYaml, useRig, waitFor } from './rig.js';

useRig();

describe('checkpoints', () => {
  it('notify: the task is flagged in status.md and the run goes on', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'look', checkpoint: 'notify', prompt: '[[look]]' },
          { id: 'then', depends_on: ['look'], prompt: '[[then]]' },
        ]),
      },
      { scenarios: [{ match: '[[look]]', summary: 'Please double-check the migration.' }] },
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✔ look completed \(.*\) \[flagged for review\]/);
    expect(p.task('look')).toMatchObject({ status: 'completed', flagged: true });
    expect(p.task('then').status).toBe('completed');
    expect(p.statusSection('look')).toContain(
      '- Flagged for review (checkpoint: notify); the run went on',
    );
    expect(p.statusSection('then')).not.toContain('Flagged');
    const summary = await p.run(['summary']);
    expect(summary.stdout).toMatch(/\[completed\] look · \$0\.0234 · \d+ms · 0 files · flagged/);
  });

  it('pause: exit 3, dependents wait; `bearing approve <id>` unblocks them', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'design', checkpoint: 'pause', prompt: '[[design]]' },
          { id: 'build', depends_on: ['design'], prompt: '[[build]]' },
          { id: 'other', prompt: '[[other]]' },
        ]),
      },
      {
        scenarios: [
          {
            match: '[[design]]',
            summary: 'Design in DESIGN.md.',
            writeFiles: { 'DESIGN.md': 'd' },
          },
        ],
      },
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/⏸ design done; awaits review \(`bearing approve design`/);
    expect(p.task('design').status).toBe('awaiting-review');
    // Nothing started after the pause, dependent or not.
    expect(p.calls()).toHaveLength(1);
    expect(p.statusLine('Next')).toBe(
      'Paused after `design`, which awaits review. Read its section in bearing/status.md (or `bearing status`), then `bearing approve design` (or `bearing retry design`) and `bearing run`.',
    );
    // The terminal has no sections below: the run's last line says where to read it.
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(p.statusLine('Next'));
    expect(p.statusSection('build')).toContain(
      '- State: [queued]; blocked: `design` awaits review',
    );
    expect(p.statusLine('Progress')).toBe('0/3 completed, 1 awaiting review, 2 queued');

    // A run now does not start the dependent, and still says why.
    const blocked = await p.run(['run']);
    expect(blocked.code).toBe(3);
    expect(p.callsFor('[[build]]')).toHaveLength(0);
    expect(p.task('other').status).toBe('completed');

    const approve = await p.run(['approve', 'design']);
    expect(approve.code).toBe(0);
    expect(approve.stdout).toBe(
      'design approved; its dependents can run\nRun `bearing run` to continue.\n',
    );
    expect(p.task('design').status).toBe('completed');
    expect(p.statusSection('build')).toContain('- State: [queued]; ready to run');

    const after = await p.run(['run']);
    expect(after.code).toBe(0);
    expect(p.task('build').status).toBe('completed');
    expect(p.promptOf('build', 1)).toContain(
      '"summary":"Design in DESIGN.md.","files_changed":["DESIGN.md"]',
    );
    expect(p.callsFor('[[design]]')).toHaveLength(1);
  });

  it('approve while a run is active goes through the inbox, and the run goes on with the dependents', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'gate', checkpoint: 'pause', prompt: '[[gate]]' },
          { id: 'slow', prompt: '[[slow]]' },
          { id: 'dependent', depends_on: ['gate'], prompt: '[[dependent]]' },
        ]),
      },
      {
        scenarios: [
          { match: '[[gate]]', summary: 'gate done' },
          { match: '[[slow]]', delayMs: 6000, summary: 'slow done' },
        ],
      },
    );
    const run = p.start(['run', '--concurrency', '2']);
    await run.waitForOutput(/⏸ gate done; awaits review/);
    expect(p.task('slow').status).toBe('running');

    const approve = await p.run(['approve', 'gate']);
    expect(approve.code).toBe(0);
    expect(approve.stdout).toBe(
      `a run is active (pid ${run.pid}); it will approve gate at its next step\n`,
    );
    await run.waitForOutput(/approve gate: gate approved; its dependents can run/);
    // Applied at once (the run watches its inbox), not when the slow task ended.
    await run.waitForOutput(/▶ dependent started/);
    expect(p.task('slow').status).toBe('running');
    const r = await run.done;
    // The approval came in time: the dependent ran in the same run.
    expect(p.task('gate').status).toBe('completed');
    expect(p.callsFor('[[dependent]]')).toHaveLength(1);
    expect(p.task('dependent').status).toBe('completed');
    expect(r.code).toBe(0);
    expect(p.statusLine('Next')).toMatch(/^All 3 tasks done\./);
    await waitFor(() => !p.lockExists(), 'the lock to be released');
  });
});
