/**
 * A run left alone for hours: what happens when Bearing itself is killed,
 * when it cannot write its files, when every task fails the same way, and
 * when parallel tasks finish in an awkward order. Through the real bin, with
 * shell tasks and shell-script agents that record what they saw.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isAlive,
  Project,
  readPidFile,
  tasksYaml,
  tempDir,
  trackGroupOf,
  useRig,
  waitFor,
  writeExecutable,
} from './rig.js';

useRig();

/** No stack trace in what a person sees. */
function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

/** Bearing rewrites its files meanwhile: try until the directory is in place. */
function replaceWithDir(file: string): string {
  return `until [ -d ${file} ]; do rm -f ${file}; mkdir ${file} 2>/dev/null; done`;
}

/** Alive and not a zombie, read by the shell the way an agent would. */
const ALIVE = `alive() { s=$(awk '/^State:/{print $2}' /proc/"$1"/status 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ]; }`;

describe('kill -9 of bearing while an agent works', () => {
  it('the next run ends the old agent (its group and a setsid escapee) before running the task again', async () => {
    const pids = tempDir();
    // Attempt 1 starts a child in its group and one that leaves it with setsid,
    // then works "forever". Attempt 2 records whether any of them is still alive.
    const script = [
      ALIVE,
      'if [ "$BEARING_ATTEMPT" = 1 ]; then',
      '  sleep 300 & echo $! > "$PIDS/child"',
      '  setsid sleep 300 & echo $! > "$PIDS/escapee"',
      '  echo $$ > "$PIDS/leader"',
      '  wait',
      'fi',
      'v=dead; for f in leader child escapee; do alive "$(cat "$PIDS/$f")" && v="alive:$f"; done',
      'echo "$v" > "$PIDS/verdict"',
    ].join('\n');
    const p = await Project.create(
      { 'bearing/tasks/t.yaml': tasksYaml([{ id: 'work', cli: 'shell', run: script }]) },
      { env: { PIDS: pids } },
    );
    const run = p.start(['run']);
    for (const f of ['leader', 'child', 'escapee']) trackGroupOf(await readPidFile(join(pids, f)));
    const leader = Number(readFileSync(join(pids, 'leader'), 'utf8'));
    const escapee = Number(readFileSync(join(pids, 'escapee'), 'utf8'));
    // The attempt's token is on record before it can do any work; its group and
    // start time right after the spawn (the agent may write its pid file first).
    const recorded = await waitFor(() => {
      const process = p.task('work').attempts[0]?.process;
      return process?.pgid !== undefined ? process : undefined;
    }, "the attempt's process group on record");
    expect(recorded?.token).toMatch(/^[0-9a-f]{32}$/);
    expect(recorded?.pgid).toBe(leader);
    expect(recorded?.startTime).toMatch(/^\d+$/);

    run.child.kill('SIGKILL');
    await run.done;
    // What kill -9 leaves: the agent and everything it started, still working.
    expect(isAlive(leader)).toBe(true);
    expect(isAlive(escapee)).toBe(true);

    const again = await p.run(['run']);
    expect(again.code).toBe(0);
    expect(readFileSync(join(pids, 'verdict'), 'utf8').trim()).toBe('dead');
    expect(again.stdout).toMatch(
      /recovered after a crash or kill: work will run again .*; first ended what the killed run had left running: 1 agent process group and 1 process that had left it/,
    );
    expect(p.task('work').attempts.map((a) => a.outcome)).toEqual(['interrupted', 'completed']);
  });

  it('never signals a recorded group whose pid now belongs to another process', async () => {
    // A live process that is not the recorded agent: same pid as the record, another start time.
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([{ id: 'work', cli: 'shell', run: 'true' }]),
    });
    const bystander = p.start(['watch']); // any long-lived process of ours: bearing watch waits
    await waitFor(() => isAlive(bystander.pid), 'the bystander');
    const state = {
      version: 1,
      tasks: {
        work: {
          id: 'work',
          status: 'running',
          attempts: [
            {
              attempt: 1,
              startedAt: new Date().toISOString(),
              outcome: 'running',
              process: { token: 'f'.repeat(24), pgid: bystander.pid, startTime: '1' },
            },
          ],
          costUsd: 0,
          usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
          turns: 0,
          durationMs: 0,
          updatedAt: new Date().toISOString(),
        },
      },
    };
    p.write('bearing/.state/state.json', JSON.stringify(state));
    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    expect(isAlive(bystander.pid)).toBe(true);
    bystander.child.kill('SIGINT');
  });
});

describe('a write that fails', () => {
  it('status.md replaced by a directory: the run stops (exit 6), ends its agents, keeps what it recorded, releases the lock', async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([
        { id: 'first', cli: 'shell', run: 'echo one > one.txt' },
        {
          id: 'vandal',
          cli: 'shell',
          depends_on: ['first'],
          // Once: run again after the fix, it must not do it again.
          run: `[ -f "$HOME/vandalised" ] || { touch "$HOME/vandalised"; ${replaceWithDir('bearing/status.md')}; }`,
        },
        // It may start before status.md is next written (that follows state.json
        // within 200 ms); if it did, it is ended, not left to finish.
        {
          id: 'later',
          cli: 'shell',
          depends_on: ['vandal'],
          run: 'sleep 5; echo later > later.txt',
        },
        { id: 'never', cli: 'shell', depends_on: ['later'], run: 'echo never > never.txt' },
      ]),
    });
    const r = await p.run(['run']);
    expect(r.code).toBe(6);
    const said = r.stdout + r.stderr;
    expectNoStackTrace(said);
    expect(said).toMatch(/cannot write .*status\.md \(a directory is in the way \(EISDIR\)\)/);
    expect(said).toMatch(
      /Fix that \(free disk space, fix the permissions, or move what is in the way\), then `bearing run`/,
    );
    expect(p.lockExists()).toBe(false);
    // Everything recorded before the failure is still there.
    expect(p.task('first').status).toBe('completed');
    // Whether the vandal itself is recorded completed or interrupted depends on
    // whether status.md's next write (of its start, spaced out by 200 ms) came
    // before or after it ended: either way nothing recorded before is lost.
    expect(p.task('vandal').status).toMatch(/^(completed|interrupted)$/);
    expect(existsSync(p.path('later.txt'))).toBe(false);
    expect(p.state().tasks.later?.status ?? 'never started').toMatch(
      /^(interrupted|never started)$/,
    );
    expect(p.state().tasks.never).toBeUndefined();

    rmSync(p.path('bearing/status.md'), { recursive: true });
    const again = await p.run(['run']);
    expect(again.code).toBe(0);
    expect(p.task('never').status).toBe('completed');
    expect(p.task('first').attempts).toHaveLength(1);
  });

  it('state.json replaced by a directory while an agent works: exit 6, the agent is ended, no stack trace', async () => {
    const pids = tempDir();
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml(
          [
            {
              id: 'vandal',
              cli: 'shell',
              // Once its neighbour is working, so that there is an agent to end.
              run: `while [ ! -f "$PIDS/slow" ]; do sleep 0.05; done; ${replaceWithDir('bearing/.state/state.json')}`,
            },
            { id: 'slow', cli: 'shell', run: 'echo $$ > "$PIDS/slow"; exec sleep 300' },
          ],
          {},
        ),
      },
      { env: { PIDS: pids } },
    );
    // The vandal reaches the project's own state folder: both share the project folder.
    const r = await p.run(['run', '--concurrency', '2', '--isolation', 'none']);
    expect(r.code).toBe(6);
    expectNoStackTrace(r.stdout + r.stderr);
    expect(r.stdout + r.stderr).toMatch(/cannot write .*state\.json/);
    const slow = await readPidFile(join(pids, 'slow'));
    expect(isAlive(slow)).toBe(false);
    expect(p.lockExists()).toBe(false);
  });
});

describe('the circuit breaker', () => {
  it('stops starting agents after three tasks in a row fail with the same error', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const p = await Project.create({
      'bearing/config.yaml': [
        'agents:',
        '  broken:',
        '    command: ./agent.sh',
        '    args: ["{prompt}"]',
        '    output: text',
      ].join('\n'),
      'bearing/tasks/t.yaml': tasksYaml(
        ids.map((id) => ({ id, prompt: `task ${id}` })),
        { cli: 'broken', retries: 0 },
      ),
    });
    writeExecutable(
      p.path('agent.sh'),
      '#!/bin/sh\necho "error: could not connect to 10.0.0.1:443" >&2\nexit 3\n',
    );
    // From the parent folder: the relative command is the project's, not the shell's.
    const r = await p.run(['run', p.dir], { cwd: join(p.dir, '..') });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /Stopped: `a`, `b`, `c` failed in a row with the same error \(agent exited with code 3: ; stderr: error: could not connect to 10\.0\.0\.1:443\), so no more agents were started/,
    );
    for (const id of ['a', 'b', 'c']) expect(p.task(id).status).toBe('failed');
    expect(p.state().tasks.d).toBeUndefined();
    expect(p.state().tasks.e).toBeUndefined();
  });
});

describe("a process that leaves the agent's group", () => {
  it('is ended when the attempt ends, and the attempt says so', async () => {
    const pids = tempDir();
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          {
            id: 'leaky',
            cli: 'shell',
            // Exits only once the daemon has left its group (field 5 of /proc/<pid>/stat
            // is the group): were the shell to exit first, the group's end would take
            // the daemon with it before it ever escaped, and there would be nothing to say.
            run: 'setsid sleep 300 & d=$!; while [ "$(cut -d" " -f5 /proc/$d/stat)" = "$(cut -d" " -f5 /proc/$$/stat)" ]; do sleep 0.01; done; echo $d > "$PIDS/daemon"',
          },
        ]),
      },
      { env: { PIDS: pids } },
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    const daemon = await readPidFile(join(pids, 'daemon'));
    trackGroupOf(daemon);
    await waitFor(() => !isAlive(daemon), 'the escaped process to be ended', 5000);
    expect(p.task('leaky').attempts[0]!.notes).toContain(
      'ended 1 process the agent had left running outside its process group',
    );
  });
});

describe('parallel tasks', () => {
  it("a task's changed files never include a neighbour's that finished while another still ran", async () => {
    // slow runs throughout; quick and then after-quick start and end while it
    // runs; last starts once everything is done and must see only its own file.
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([
        { id: 'slow', cli: 'shell', run: 'sleep 1.2; echo 1 > slow.txt; sleep 0.3' },
        { id: 'quick', cli: 'shell', run: 'echo q > quick.txt' },
        { id: 'after-quick', cli: 'shell', depends_on: ['quick'], run: 'echo a > after.txt' },
        {
          id: 'last',
          cli: 'shell',
          depends_on: ['slow', 'after-quick'],
          run: 'echo s > last.txt',
        },
      ]),
    });
    const r = await p.run(['run', '--concurrency', '2']);
    expect(r.code).toBe(0);
    expect(p.task('slow').filesChanged).toContain('slow.txt');
    expect(p.task('last').filesChanged).toEqual(['last.txt']);
  });
});

describe('relative agent commands', () => {
  it('`bearing run sub` finds `command: ./agent.sh` in the project, as the agent will', async () => {
    const outer = tempDir();
    const p = await Project.create({
      'bearing/config.yaml': 'agents:\n  local:\n    command: ./agent.sh\n    output: text\n',
      'bearing/tasks/t.yaml': tasksYaml([{ id: 'hi', cli: 'local', prompt: 'hello' }]),
    });
    writeExecutable(p.path('agent.sh'), '#!/bin/sh\necho "did: $1"\n');
    mkdirSync(outer, { recursive: true });
    const r = await p.run(['run', p.dir], { cwd: outer });
    expect(r.code).toBe(0);
    expect(p.task('hi').summary).toContain('did:');
  });
});

describe('task files that vanish for a moment', () => {
  // `git stash` or a branch switch takes a file away and (maybe) puts it back.
  it('a file moved away and put back a moment later: its tasks still run', async () => {
    const pids = tempDir();
    const p = await Project.create(
      {
        'bearing/tasks/a.yaml': tasksYaml([
          { id: 'a', cli: 'shell', run: 'mv bearing/tasks/b.yaml "$PIDS/b.yaml"' },
        ]),
        'bearing/tasks/b.yaml': tasksYaml([
          { id: 'b', cli: 'shell', run: 'echo b > b.txt' },
          { id: 'c', cli: 'shell', depends_on: ['b'], run: 'echo c > c.txt' },
        ]),
      },
      { env: { PIDS: pids } },
    );
    const run = p.start(['run']);
    // The run has seen the tasks go; the file comes back well within the 5 s.
    await run.waitForOutput(/task files no longer define b, c/);
    renameSync(join(pids, 'b.yaml'), p.path('bearing/tasks/b.yaml'));
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/removed b, c/);
    expect(p.task('b').status).toBe('completed');
    expect(p.task('c').status).toBe('completed');
  });

  it('a file that stays gone: the removal is confirmed, and the run names the tasks that never ran', async () => {
    const pids = tempDir();
    const p = await Project.create(
      {
        'bearing/tasks/a.yaml': tasksYaml([
          { id: 'a', cli: 'shell', run: 'mv bearing/tasks/b.yaml "$PIDS/b.yaml"' },
        ]),
        'bearing/tasks/b.yaml': tasksYaml([
          { id: 'b', cli: 'shell', run: 'echo b > b.txt' },
          { id: 'c', cli: 'shell', depends_on: ['b'], run: 'echo c > c.txt' },
        ]),
      },
      { env: { PIDS: pids } },
    );
    const r = await p.run(['run']);
    expect(r.stdout).toMatch(/removed b, c/);
    expect(r.stdout).toMatch(
      /^Removed from the task files during the run before they completed: b, c\.$/m,
    );
    expect(p.state().tasks.b).toBeUndefined();
  });
});

describe('a prompt of any size', () => {
  it('reaches claude and codex whole (on stdin), however long', async () => {
    const big = `[[big]] ${'lorem ipsum '.repeat(30_000)}`; // about 350 KB
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([
        { id: 'c', prompt: big },
        { id: 'x', cli: 'codex', prompt: big },
      ]),
    });
    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    for (const id of ['c', 'x']) {
      const [call] = p.callsFor('[[big]]').filter((c) => c.env.BEARING_TASK_ID === id);
      expect(call?.prompt).toBe(p.promptOf(id, 1));
      expect(call?.argv.some((a) => a.includes('[[big]]'))).toBe(false);
    }
  });
});
