/** What counts as a project, and which one a folder is in. */
import { describe, expect, it } from 'vitest';
import { findProjectRoot, isProjectRoot } from '../../src/state/project.js';
import { useFixtures } from '../helpers/fixtures.js';

const fixtures = useFixtures();

describe('isProjectRoot', () => {
  it('needs bearing/config.yaml or bearing/tasks/, not just bearing/', async () => {
    const fx = await fixtures.create({
      'config/bearing/config.yaml': '',
      'tasks/bearing/tasks': { dir: true },
      'state-only/bearing/.state': { dir: true },
      'source/bearing/index.ts': 'export {};\n',
      'a-file/bearing': 'not a folder\n',
      'tasks-a-file/bearing/tasks': 'not a folder\n',
    });
    expect(isProjectRoot(fx.path('config'))).toBe(true);
    expect(isProjectRoot(fx.path('tasks'))).toBe(true);
    for (const dir of ['state-only', 'source', 'a-file', 'tasks-a-file', 'missing']) {
      expect(isProjectRoot(fx.path(dir)), dir).toBe(false);
    }
  });
});

describe('findProjectRoot', () => {
  it('the nearest project wins: a project inside a project is found first', async () => {
    const fx = await fixtures.create(
      {
        'bearing/tasks/a.yaml': 'id: a\nprompt: x\n',
        'packages/api/bearing/config.yaml': '',
        'packages/api/src/x.ts': '',
      },
      { git: true },
    );
    expect(findProjectRoot(fx.path('packages', 'api', 'src'))).toEqual({
      kind: 'found',
      root: fx.path('packages', 'api'),
    });
    expect(findProjectRoot(fx.path('packages'))).toEqual({ kind: 'found', root: fx.dir });
  });

  it('a folder that does not exist yet is looked up from its parents (init creates it)', async () => {
    const fx = await fixtures.create({ 'bearing/config.yaml': '' }, { git: true });
    expect(findProjectRoot(fx.path('new', 'app'))).toEqual({ kind: 'found', root: fx.dir });
  });

  it('stops at the folder holding .git, a folder or a file', async () => {
    const fx = await fixtures.create({
      'bearing/config.yaml': '',
      'repo/.git/HEAD': 'ref: refs/heads/main\n',
      'repo/src/x.ts': '',
      'worktree/.git': 'gitdir: /elsewhere/.git/worktrees/worktree\n',
      'worktree/src/x.ts': '',
    });
    expect(findProjectRoot(fx.path('repo', 'src'))).toEqual({
      kind: 'none',
      top: fx.path('repo'),
      gitRoot: true,
    });
    expect(findProjectRoot(fx.path('worktree', 'src'))).toEqual({
      kind: 'none',
      top: fx.path('worktree'),
      gitRoot: true,
    });
    expect(findProjectRoot(fx.path('other'))).toEqual({ kind: 'found', root: fx.dir });
  });
});
