/**
 * Claude Code 2.1.332 renamed the permission mode `default` to `manual` and
 * keeps `default` as an alias; 2.1.197 (the fake) knows only `default`. Both
 * names are accepted in task files, and Bearing passes `default`, which every
 * version accepts, so a task file written for either CLI runs on both.
 */
import { describe, expect, it } from 'vitest';
import { Project, tasksYaml, useRig } from './rig.js';

useRig();

const TASKS = tasksYaml([
  { id: 'new-name', cli: 'claude', permission_mode: 'manual', prompt: '[[new-name]] Go.' },
  { id: 'old-name', cli: 'claude', permission_mode: 'default', prompt: '[[old-name]] Go.' },
]);

describe('permission_mode manual / default', () => {
  it.each([
    ['2.1.197', {}],
    ['2.1.332', { BEARING_FAKE_CLAUDE_VERSION: '2.1.332' }],
  ])('validates both names and passes `default`, which claude %s accepts', async (_v, env) => {
    const p = await Project.create({ 'bearing/tasks/plan.yaml': TASKS });

    const validate = await p.run(['validate', '.']);
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);

    const run = await p.run(['run', '.'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(p.task('new-name').status).toBe('completed');
    expect(p.task('old-name').status).toBe('completed');
    for (const id of ['new-name', 'old-name']) {
      const argv = p.callsFor(`[[${id}]]`)[0]!.argv;
      expect(
        argv.slice(argv.indexOf('--permission-mode'), argv.indexOf('--permission-mode') + 2),
      ).toEqual(['--permission-mode', 'default']);
    }
  });
});
