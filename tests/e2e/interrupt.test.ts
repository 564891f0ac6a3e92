/**
 * Crash safety and signals through the real bin: kill -9 leaves the lock and a
 * task marked running, and the next run recovers; Ctrl-C (SIGINT) and SIGTERM
 * end every agent and its children, record the interruption, and exit 130.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BIN,
  childrenOf,
  isAlive,
  NODE,
  Project,
  readPidFile,
  tasksYaml,
  tempDir,
  trackGroupOf,
  useRig,
  waitFor,
} from './rig.js';

useRig();

describe('kill -9', () => {
  it('the next run takes over the stale lock, reports the interrupted task, runs it again, and never reruns completed work', async () => {
    const pidFile = join(tempDir(), 'grandchild.pid');
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'done-first', prompt: '[[done-first]]' },
          { id: 'hanger', depends_on: ['done-first'], prompt: '[[hanger]]' },
          { id: 'after', depends_on: ['hanger'], prompt: '[[after]]' },
        ]),
      },
      {
        scenarios: [
          { match: '[[done-first]]', summary: 'first', writeFiles: { 'first.txt': '1' } },
          {
            match: '[[hanger]]',
            summary: 'hanger finished on the second try',
            attempts: [{ hang: true, grandchildPidFile: pidFile }, {}],
          },
        ],
      },
    );
    const run = p.start(['run']);
    const grandchild = await readPidFile(pidFile);
    trackGroupOf(grandchild); // the orphaned agent, for cleanup
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.signal).toBe('SIGKILL');

    // What kill -9 leaves: the lock, and a task recorded as running.
    expect(p.lockExists()).toBe(true);
    expect(p.task('done-first').status).toBe('completed');
    expect(p.task('hanger').status).toBe('running');
    // Reading commands see no active run (the holder is gone), and show the
    // task as the next run will treat it: interrupted, ready to run again.
    const status = JSON.parse((await p.run(['status', '--json'])).stdout);
    expect(status.run_active).toBe(false);
    expect(status.tasks.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([
      ['done-first', 'completed'],
      ['hanger', 'interrupted'],
      ['after', 'queued'],
    ]);
    expect(status.next).toBe('Ready to run: `hanger`. Run `bearing run`.');
    const summary = await p.run(['summary']);
    expect(summary.stdout).toMatch(
      /^\[interrupted\] +hanger · interrupted: bearing stopped before/m,
    );
    expect(summary.stdout).not.toMatch(/All 3 tasks done/);

    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      /recovered after a crash or kill: hanger will run again \(the interrupted attempt is kept in the log\)/,
    );
    expect(r.stdout).toMatch(/▶ hanger started \(claude, attempt 2\)/);
    // Completed work is not run again; the interrupted task ran twice in all.
    expect(p.callsFor('[[done-first]]')).toHaveLength(1);
    expect(p.callsFor('[[hanger]]')).toHaveLength(2);
    expect(p.callsFor('[[after]]')).toHaveLength(1);
    const hanger = p.task('hanger');
    expect(hanger.status).toBe('completed');
    expect(hanger.attempts.map((a) => a.outcome)).toEqual(['interrupted', 'completed']);
    expect(hanger.attempts[0]!.failure).toMatchObject({ reason: 'interrupted' });
    expect(hanger.attempts[0]!.failure).toMatchObject({
      message: expect.stringMatching(
        /^bearing stopped before the attempt finished \(crash or kill\)/,
      ),
    });
    // A fresh prompt: an interruption is not the task's failure.
    expect(p.promptOf('hanger', 2)).toBe(p.promptOf('hanger', 1));
    expect(p.task('done-first').attempts).toHaveLength(1);
    expect(p.lockExists()).toBe(false);
    expect(p.statusLine('Progress')).toBe('3/3 completed');
  });
});

describe('signals', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${signal}: exit 130, the task is recorded interrupted, the agent and its grandchild are dead, state saved`, async () => {
      const pidFile = join(tempDir(), 'grandchild.pid');
      const p = await Project.create(
        {
          'bearing/tasks/t.yaml': tasksYaml([
            { id: 'ok', prompt: '[[ok]]' },
            { id: 'stuck', cli: 'codex', depends_on: ['ok'], prompt: '[[stuck]]' },
            { id: 'never', prompt: '[[never]]' },
          ]),
        },
        { scenarios: [{ match: '[[stuck]]', hang: true, grandchildPidFile: pidFile }] },
      );
      const run = p.start(['run']);
      const grandchild = await readPidFile(pidFile);
      trackGroupOf(grandchild);
      const agents = await waitFor(() => {
        const kids = childrenOf(run.pid);
        return kids.length > 0 ? kids : undefined;
      }, 'the agent process');
      for (const pid of agents) trackGroupOf(pid);
      expect(isAlive(grandchild)).toBe(true);

      run.child.kill(signal);
      const r = await run.done;
      expect(r.code).toBe(130);
      expect(r.stderr).toContain(`bearing: ${signal}: stopping every agent and saving state`);
      expect(r.stdout).toMatch(/stuck interrupted; it runs again on the next `bearing run`/);
      for (const pid of [...agents, grandchild]) expect([pid, isAlive(pid)]).toEqual([pid, false]);

      const stuck = p.task('stuck');
      expect(stuck.status).toBe('interrupted');
      expect(stuck.attempts.map((a) => a.outcome)).toEqual(['interrupted']);
      expect(stuck.attempts[0]!.endedAt).toBeDefined();
      expect(p.task('ok').status).toBe('completed');
      // Nothing new was spawned after the signal.
      expect(p.state().tasks.never).toBeUndefined();
      expect(p.callsFor('[[never]]')).toHaveLength(0);
      expect(p.lockExists()).toBe(false);
      expect(p.statusLine('Next')).toBe(
        'Interrupted. Tasks that were running are marked interrupted and run again on the next `bearing run`.',
      );
      expect(p.statusSection('stuck')).toContain(
        '- State: [interrupted], runs again on the next `bearing run`',
      );
      expect(p.state().lastRun?.endedAt).toBeDefined();
      expect(existsSync(p.path('bearing/.state/state.json'))).toBe(true);
    });
  }
});

describe('a second Ctrl-C', () => {
  it('forces the exit (130) while an agent ignores SIGTERM, and still kills the agent', async () => {
    const pidFile = join(tempDir(), 'grandchild.pid');
    const p = await Project.create(
      { 'bearing/tasks/t.yaml': tasksYaml([{ id: 'stubborn', prompt: '[[stubborn]]' }]) },
      {
        scenarios: [
          { match: '[[stubborn]]', hang: true, ignoreSigterm: true, grandchildPidFile: pidFile },
        ],
      },
    );
    const run = p.start(['run']);
    const grandchild = await readPidFile(pidFile);
    trackGroupOf(grandchild);
    const agents = await waitFor(() => {
      const kids = childrenOf(run.pid);
      return kids.length > 0 ? kids : undefined;
    }, 'the agent process');
    for (const pid of agents) trackGroupOf(pid);

    run.child.kill('SIGINT');
    await run.waitForOutput(/stopping every agent and saving state \(again to force\)/);
    // The agent ignores SIGTERM: within the 5 s grace period, a second Ctrl-C forces the exit.
    const forcedAt = Date.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain(
      'bearing: forced exit; state already saved up to the last transition',
    );
    // Well before the grace period would have run out.
    expect(Date.now() - forcedAt).toBeLessThan(4000);
    for (const pid of agents) {
      await waitFor(() => !isAlive(pid), `agent ${pid} to be killed`, 5000);
    }
    // Its grandchild took SIGTERM already (only the agent ignored it).
    await waitFor(() => !isAlive(grandchild), 'the grandchild to be gone', 5000);
    // The next run recovers the task the forced exit left running.
    p.scenarios([]);
    const again = await p.run(['run']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/recovered after a crash or kill: stubborn will run again/);
    expect(p.task('stubborn').attempts.map((a) => a.outcome)).toEqual(['interrupted', 'completed']);
  });
});

describe('the terminal closes', () => {
  it('(SSH dropped, window closed): the run stops as for SIGHUP, ends its agent and releases the lock, though it can no longer print', async () => {
    const pids = tempDir();
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'slow', cli: 'shell', run: 'echo $$ > "$PIDS/agent"; exec sleep 300' },
        ]),
      },
      { env: { PIDS: pids } },
    );
    // `script` gives bearing a terminal of its own; killing it hangs that terminal up.
    const term = spawn('script', ['-q', '-c', `${NODE} ${BIN} run`, '/dev/null'], {
      cwd: p.dir,
      env: p.env,
      stdio: 'ignore',
    });
    const agent = await readPidFile(join(pids, 'agent'));
    trackGroupOf(agent);
    term.kill('SIGKILL');
    await waitFor(() => !p.lockExists(), 'the lock to be released', 10_000);
    await waitFor(() => !isAlive(agent), 'the agent to be ended', 10_000);
    expect(p.task('slow').status).toBe('interrupted');
    expect(p.state().lastRun?.endedAt).toBeDefined();
  });
});
