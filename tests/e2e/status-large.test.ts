/**
 * A plan too large for one status file: status.md shows what needs
 * attention and the latest hand-offs, every task's section is in
 * bearing/status/<id>.md, kept current by the run and by `bearing retry`,
 * and a plan that shrinks back goes back to one file.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STATUS_INLINE_TASKS } from '../../src/core/status-report.js';
import { Project, tasksYaml, useRig } from './rig.js';

useRig();

describe('the status of a large plan', () => {
  it('is status.md of what needs attention, and a file per task', async () => {
    const n = STATUS_INLINE_TASKS + 5;
    const ids = Array.from({ length: n }, (_, i) => `t${String(i).padStart(3, '0')}`);
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml(
          ids.map((id, i) => ({
            id,
            cli: 'shell',
            run: i === 7 ? 'echo broken; exit 3' : `echo ${id}`,
            retries: 0,
          })),
        ),
      },
      { git: false },
    );
    const run = await p.run(['run', '--concurrency', '8']);
    expect(run.code).not.toBe(0);
    const md = p.statusMd();
    expect(md).toContain(`This plan has ${n} tasks, too many for one file`);
    const shown = [...md.matchAll(/^## (\S+)/gm)].map((m) => m[1]);
    // The failed task, then the ten completed last.
    expect(shown[0]).toBe('Tasks');
    expect(shown[1]).toBe('t007');
    expect(shown).toHaveLength(12);
    expect(p.statusSection('t007')).toContain('- State: [failed]');

    const dir = p.path('bearing/status');
    expect(readdirSync(dir).sort()).toEqual(ids.map((id) => `${id}.md`));
    const file = (id: string) => readFileSync(p.path('bearing/status', `${id}.md`), 'utf8');
    expect(file('t007')).toContain('- State: [failed]');
    expect(file('t007')).toContain('broken');
    expect(file('t000')).toContain('- State: [completed]');

    // `bearing retry` queues it again: its file says so at once.
    expect((await p.run(['retry', 't007'])).code).toBe(0);
    expect(file('t007')).toContain('- State: [queued]');
    expect(p.statusMd()).not.toMatch(/^## t007/m);

    // Back to a plan one file holds: every section is in status.md, and the folder goes.
    p.write('bearing/tasks/t.yaml', tasksYaml([{ id: 'one', cli: 'shell', run: 'echo one' }]));
    expect((await p.run(['run'])).code).toBe(0);
    expect(existsSync(dir)).toBe(false);
    expect(p.statusSection('one')).toContain('- State: [completed]');
  });
});
