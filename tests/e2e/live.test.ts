/**
 * What happens while a run is going: the planner edits and adds tasks, a
 * second run is refused by the lock, and with --concurrency 2 independent
 * tasks run side by side while a dependent waits for both.
 */
import { describe, expect, it } from 'vitest';
import { Project, tasksYaml, taskYaml, useRig, waitFor } from './rig.js';

useRig();

describe('planner edits during a run', () => {
  it('a new task file runs in the same run; an edited prompt is used; an invalid edit is reported and the last valid version is used', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/a-slow.yaml': taskYaml({ id: 'slow', prompt: '[[slow]]' }),
        'bearing/tasks/b-later.yaml': taskYaml({
          id: 'later',
          depends_on: ['slow'],
          prompt: '[[later]] ORIGINAL',
        }),
      },
      { scenarios: [{ match: '[[slow]]', delayMs: 7000, summary: 'slow done' }] },
    );
    const run = p.start(['run']);
    await run.waitForOutput(/▶ slow started/);

    // The planner adds a task and rewrites another's prompt while `slow` runs.
    p.write('bearing/tasks/c-added.yaml', taskYaml({ id: 'added', prompt: '[[added]]' }));
    p.write(
      'bearing/tasks/b-later.yaml',
      taskYaml({ id: 'later', depends_on: ['slow'], prompt: '[[later]] EDITED' }),
    );
    await run.waitForOutput(/task files changed; added added/);
    expect(p.task('slow').status).toBe('running');

    // Then breaks the file: reported, and the run keeps the last valid version.
    p.write(
      'bearing/tasks/b-later.yaml',
      taskYaml({ id: 'later', depends_on: ['slow', 'missing-task'], prompt: '[[later]] BROKEN' }),
    );
    await run.waitForOutput(
      /task files were edited and are now invalid; still using the last valid version:/,
    );
    await run.waitForOutput(/b-later\.yaml:\d+:\d+: depends_on: unknown task "missing-task"/);
    expect(p.task('slow').status).toBe('running');

    const r = await run.done;
    expect(r.code).toBe(0);
    expect(p.task('added').status).toBe('completed');
    expect(p.callsFor('[[added]]')).toHaveLength(1);
    expect(p.task('later').status).toBe('completed');
    const laterPrompt = p.promptOf('later', 1);
    expect(laterPrompt).toContain('[[later]] EDITED');
    expect(laterPrompt).not.toContain('BROKEN');
    expect(p.callsFor('[[later]] EDITED')).toHaveLength(1);
    // The invalid version was reported once, not on every wake-up.
    expect(r.stdout.match(/now invalid/g)).toHaveLength(1);
    // And the next run refuses the invalid files outright (exit 2), running nothing.
    const next = await p.run(['run']);
    expect(next.code).toBe(2);
    expect(next.stderr).toMatch(/depends_on: unknown task "missing-task"/);
    expect(next.stderr).toMatch(/1 problem; nothing was run\./);
  });
});

describe('review actions during a run', () => {
  it('`bearing retry` of a task the run completed earlier runs it again in the same run, and its completed dependent after it', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'first', prompt: '[[first]]' },
          { id: 'after', depends_on: ['first'], prompt: '[[after]]' },
          { id: 'slow', prompt: '[[slow]]' },
        ]),
      },
      {
        scenarios: [
          { match: '[[first]]', summary: 'first done' },
          { match: '[[after]]', summary: 'after done' },
          { match: '[[slow]]', delayMs: 6000, summary: 'slow done' },
        ],
      },
    );
    const run = p.start(['run', '--concurrency', '2']);
    await run.waitForOutput(/✔ after completed/);
    expect(p.task('slow').status).toBe('running');

    const retry = await p.run(['retry', 'first']);
    expect(retry.code).toBe(0);
    const r = await run.done;
    expect(r.code).toBe(0);
    // Both ran twice, in this run: the retried task, then what builds on it.
    expect(p.callsFor('[[first]]')).toHaveLength(2);
    expect(p.callsFor('[[after]]')).toHaveLength(2);
    expect(p.callsFor('[[slow]]')).toHaveLength(1);
    for (const id of ['first', 'after', 'slow']) expect(p.task(id).status).toBe('completed');
    expect(p.statusLine('Next')).toMatch(/^All 3 tasks done\./);
  });
});

describe('the lock', () => {
  it('a second `bearing run` while one is active exits 4 and names the holder pid', async () => {
    const p = await Project.create(
      { 'bearing/tasks/t.yaml': taskYaml({ id: 'long', prompt: '[[long]]' }) },
      { scenarios: [{ match: '[[long]]', delayMs: 60_000 }] },
    );
    const first = p.start(['run']);
    await first.waitForOutput(/▶ long started/);
    const second = await p.run(['run']);
    expect(second.code).toBe(4);
    expect(second.stdout).toBe('');
    expect(second.stderr).toMatch(
      new RegExp(
        `^bearing run: another bearing run is active in this project \\(pid ${first.pid}, since [^)]+\\); .*Follow it with \`bearing watch\`\\.\\n$`,
      ),
    );
    // The active run was not disturbed, and status.md shows what runs.
    expect(p.task('long').status).toBe('running');
    const running = new RegExp(
      `^A run is active \\(pid ${first.pid}, since [^)]+\\): follow it with \`bearing watch\`\\. Running \`long\`\\.$`,
    );
    await waitFor(() => running.test(p.statusLine('Next')), 'status.md to show the run');
    expect(p.statusLine('Progress')).toBe('0/1 completed, 1 running');
    expect(p.statusSection('long')).toMatch(/- State: \[running\] since \S+ \(\d+(ms|s)\)/);
    expect(p.calls()).toHaveLength(1);
    first.child.kill('SIGINT');
    const r = await first.done;
    expect(r.code).toBe(130);
    expect(p.lockExists()).toBe(false);
  });
});

describe('concurrency', () => {
  it('--concurrency 2 runs two independent slow tasks side by side; their dependent waits for both', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'left', prompt: '[[left]]' },
          { id: 'right', cli: 'codex', prompt: '[[right]]' },
          { id: 'join', depends_on: ['left', 'right'], prompt: '[[join]]' },
        ]),
      },
      {
        scenarios: [
          { match: '[[left]]', delayMs: 2500, writeFiles: { 'left.txt': 'l' } },
          { match: '[[right]]', delayMs: 2500, writeFiles: { 'right.txt': 'r' } },
        ],
      },
    );
    const r = await p.run(['run', '--concurrency', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /3 of 3 tasks to run \(concurrency 2, each in its own worktree, landing on main\)/,
    );
    const startOf = (marker: string) => Date.parse(p.callsFor(marker)[0]!.time);
    const endOf = (id: string) => Date.parse(p.task(id).attempts[0]!.endedAt!);
    // The two time ranges overlap.
    expect(startOf('[[left]]')).toBeLessThan(endOf('right'));
    expect(startOf('[[right]]')).toBeLessThan(endOf('left'));
    // The dependent started after both had ended, and got both hand-offs.
    expect(startOf('[[join]]')).toBeGreaterThanOrEqual(Math.max(endOf('left'), endOf('right')));
    const priors = p
      .promptOf('join', 1)
      .split('\n')
      .filter((l) => l.startsWith('PRIOR: '))
      .map((l) => JSON.parse(l.slice(7)) as { id: string; files_changed: string[] });
    expect(priors.map((e) => e.id)).toEqual(['left', 'right']);
    // Each worked in its own worktree: each list is exactly its own file.
    expect(priors[0]!.files_changed).toEqual(['left.txt']);
    expect(priors[1]!.files_changed).toEqual(['right.txt']);
  });

  it('a bad --concurrency is refused (exit 2) before anything runs', async () => {
    const p = await Project.create({ 'bearing/tasks/t.yaml': taskYaml({ id: 'a', prompt: 'x' }) });
    const r = await p.run(['run', '--concurrency', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('bearing run: --concurrency: expected a whole number >= 1, got "0"\n');
    expect(p.calls()).toHaveLength(0);
  });
});
