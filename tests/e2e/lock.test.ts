/**
 * The run lock through the real bin: `git clean -fdX` (or any deletion of
 * bearing/.state) during a run must not let a second run in to run every
 * task again beside the first.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Project, taskYaml, tempDir, useRig, waitFor } from './rig.js';

useRig();

describe('the lock when bearing/.state is deleted during a run', () => {
  it.runIf(process.platform === 'linux')(
    'a second `bearing run` exits 4 with a message, the lock file is back, and the first run completes with exit 0',
    async () => {
      // The task works until the test says so: however slow the machine, the
      // second run meets the first one still at work.
      const gate = tempDir();
      const p = await Project.create(
        {
          'bearing/tasks/t.yaml': taskYaml({
            id: 'slow',
            cli: 'shell',
            run: 'echo ran >> runs.txt; while [ ! -f "$GATE/go" ]; do sleep 0.05; done',
          }),
        },
        { env: { GATE: gate } },
      );
      const first = p.start(['run']);
      await first.waitForOutput(/▶ slow started/);
      // The task is at work (its output files are open) when `git clean -fdX` strikes.
      await waitFor(() => existsSync(p.path('runs.txt')), 'the task to be running');
      // As `git clean` would, until the folder is gone: the run may write a file
      // into it (status, its lock put back) while it is being emptied (ENOTEMPTY).
      for (;;) {
        try {
          rmSync(p.path('bearing/.state'), { recursive: true, force: true });
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY') throw e;
        }
      }

      const second = await p.run(['run']);
      expect(second.code).toBe(4);
      expect(second.stdout).toBe('');
      // Whether the first run's keeper has put its file back by then decides if the pid is named.
      expect(second.stderr).toMatch(
        new RegExp(
          `^bearing run: another bearing run is active in this project( \\(pid ${first.pid}, since [^)]+\\)|, though its lock file \\S+ is missing \\(deleted while the run was going\\?\\)); .*Follow it with \`bearing watch\`\\.\\n$`,
        ),
      );
      // The keeper looks every 500 ms; a loaded machine may delay it by seconds.
      await waitFor(() => p.lockExists(), 'the lock file to be back');
      expect(JSON.parse(readFileSync(p.path('bearing/.state/lock'), 'utf8'))).toMatchObject({
        pid: first.pid,
      });

      writeFileSync(join(gate, 'go'), '');
      const r = await first.done;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(p.task('slow').status).toBe('completed');
      expect(readFileSync(p.path('runs.txt'), 'utf8')).toBe('ran\n');
      expect(p.lockExists()).toBe(false);
    },
    // Three bearing processes one after another: generous on a loaded machine.
    60_000,
  );
});

describe('the locked-run message', () => {
  it('a lock held from another host: one sentence end, not two', async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': taskYaml({ id: 'a', cli: 'shell', run: 'true' }),
    });
    mkdirSync(p.path('bearing/.state'), { recursive: true });
    writeFileSync(
      p.path('bearing/.state/lock'),
      JSON.stringify({
        pid: 4242,
        hostname: 'build-box-7',
        startedAt: '2026-01-01T00:00:00.000Z',
        token: 'planted',
      }),
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('a bearing run on host "build-box-7" holds');
    expect(r.stderr).not.toContain('..');
    expect(r.stderr).toMatch(/delete that file\. Follow it with `bearing watch`\.\n$/);
  });
});
