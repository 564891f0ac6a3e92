/**
 * Trusting "done" through the real bin, with the fake claude: an agent that
 * reports success without changing anything needs review while the run goes
 * on; a summary naming a file that is nowhere is flagged and handed on; an
 * edit re-runs exactly the task and what builds on it, saying why, and
 * `bearing approve` accepts a stale result.
 */
import { describe, expect, it } from 'vitest';
import { Project, tasksYaml, useRig } from './rig.js';

useRig();

describe('the verified hand-off', () => {
  it('a completion with no changes needs review; its dependents wait, the run goes on', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'claims', prompt: '[[claims]]' },
          { id: 'after', depends_on: ['claims'], prompt: '[[after]]' },
          { id: 'other', prompt: '[[other]]', expect_changes: false },
        ]),
      },
      {
        expectChanges: true,
        scenarios: [
          { match: '[[claims]]', summary: 'Implemented the feature.' },
          { match: '[[after]]', writeFiles: { 'after.txt': 'x' } },
        ],
      },
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('? claims needs review: it reported done but changed no file');
    expect(p.task('claims')).toMatchObject({
      status: 'needs-review',
      summary: 'Implemented the feature.',
    });
    expect(p.task('other').status).toBe('completed');
    expect(p.callsFor('[[after]]')).toHaveLength(0);
    expect(p.statusSection('after')).toContain('- State: [queued]; blocked: `claims` needs review');
    const approve = await p.run(['approve', 'claims']);
    expect(approve.code).toBe(0);
    const again = await p.run(['run']);
    expect(again.code).toBe(0);
    expect(p.task('after').status).toBe('completed');
  }, 90_000);

  it('a summary naming a file that was not changed is flagged and handed to dependents', async () => {
    const p = await Project.create(
      {
        'src/keep.ts': 'export {};\n',
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'db', prompt: '[[db]]', verify: 'true' },
          { id: 'api', depends_on: ['db'], prompt: '[[api]]' },
        ]),
      },
      {
        expectChanges: true,
        scenarios: [
          {
            match: '[[db]]',
            summary: 'Wrote `src/db.ts`, read src/keep.ts, and added tests in tests/db.test.ts.',
            writeFiles: { 'src/db.ts': 'export const db = 1;\n' },
          },
          { match: '[[api]]', writeFiles: { 'src/api.ts': 'x' } },
        ],
      },
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    expect(p.task('db').checks).toEqual({
      verify: 'true',
      changes: true,
      unknownFiles: ['tests/db.test.ts'],
    });
    const section = p.statusSection('db');
    expect(section).toContain(
      '- Checked against: verify `true` passed; it changed files, as expected (expect_changes)',
    );
    expect(section).toContain(
      '- Warning: its summary names a file it did not change and that does not exist: `tests/db.test.ts`',
    );
    expect(p.promptOf('api', 1)).toContain('"files_not_found":["tests/db.test.ts"]');
  }, 90_000);
});

describe('stale tasks', () => {
  const files = (apiPrompt: string) => ({
    'bearing/tasks/t.yaml': tasksYaml([
      { id: 'db', cli: 'shell', run: 'echo db > db.txt' },
      { id: 'api', depends_on: ['db'], prompt: apiPrompt },
      { id: 'docs', depends_on: ['api'], prompt: '[[docs]]' },
      { id: 'ui', depends_on: ['db'], prompt: '[[ui]]' },
    ]),
  });

  it('an edit re-runs the task and its dependents, says why first; a sibling stays completed', async () => {
    const p = await Project.create(files('[[api]] v1'), {
      scenarios: [{ match: '[[api]]', summary: 'api done' }],
    });
    expect((await p.run(['run'])).code).toBe(0);
    expect(p.calls()).toHaveLength(3);
    p.write('bearing/tasks/t.yaml', files('[[api]] v2')['bearing/tasks/t.yaml']);
    const summary = await p.run(['summary']);
    expect(summary.stdout).toMatch(
      /\[stale\]\s+api · its task file changed \(prompt\) since it ran/,
    );
    const json = JSON.parse((await p.run(['status', '--json'])).stdout);
    expect(json.progress.stale).toBe(2);
    expect(json.tasks.find((t: { id: string }) => t.id === 'docs').stale).toEqual({
      message: '`api`, which it builds on, is stale',
      fields: [],
      upstream: 'api',
      change: 'stale',
    });
    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '↺ api is stale and runs again: its task file changed (prompt) since it ran',
    );
    expect(r.stdout).toContain(
      '↺ docs is stale and runs again: `api`, which it builds on, is stale',
    );
    expect(r.stdout.indexOf('↺ api')).toBeLessThan(r.stdout.indexOf('▶ api'));
    // api and docs ran again; db and ui did not.
    expect(p.callsFor('[[api]]')).toHaveLength(2);
    expect(p.callsFor('[[docs]]')).toHaveLength(2);
    expect(p.callsFor('[[ui]]')).toHaveLength(1);
    expect(p.task('db').attempts).toHaveLength(1);
    expect(p.state().tasks.api!.status).toBe('completed');
  }, 90_000);

  it('`bearing approve` accepts a stale result as current', async () => {
    const p = await Project.create(files('[[api]] v1'));
    expect((await p.run(['run'])).code).toBe(0);
    p.write('bearing/tasks/t.yaml', files('[[api]] v1 (typo fixed)')['bearing/tasks/t.yaml']);
    const approve = await p.run(['approve', 'api']);
    expect(approve.code).toBe(0);
    expect(p.task('api').status).toBe('completed');
    expect(p.task('docs').status).toBe('completed');
    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    expect(p.calls()).toHaveLength(3);
  }, 90_000);
});
