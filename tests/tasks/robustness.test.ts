/**
 * Hostile or broken input must end in a clear diagnostic, quickly: never a
 * hang, a crash, a stack trace or an exhausted heap. Each case just has to
 * finish within vitest's timeout; the messages are asserted exactly.
 */
import { execFileSync } from 'node:child_process';
import { truncate } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { ok } from '../../src/core/result.js';
import { loadProject } from '../../src/tasks/load.js';
import { analyseProject, type SourceFile } from '../../src/tasks/project.js';
import { useFixtures } from '../helpers/fixtures.js';
import { useProjects, yaml } from './support.js';

const { load, problems } = useProjects();
const fixtures = useFixtures();
const FILE = 'bearing/tasks/a.yaml';

const billionLaughs = (() => {
  let text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  let previous = 'a';
  for (const name of 'bcdefghi') {
    text += `${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]\n`;
    previous = name;
  }
  return text;
})();

/** A plan as a generator writes it: each task a 10-line entry, about 470 bytes, with dependencies. */
function generatedPlan(tasks: number): string {
  const lines = ['tasks:'];
  for (let i = 0; i < tasks; i++) {
    lines.push(
      `  - id: step-${i}`,
      i === 0
        ? '    model: opus'
        : `    depends_on: [step-${i - 1}${i > 5 ? `, step-${i - 5}` : ''}]`,
      '    prompt: |',
      `      Implement step ${i} of the plan as plan.md says: read the interfaces the`,
      '      earlier steps left in src/ and extend them rather than adding a parallel',
      '      path. Keep the change small and the public API backwards compatible;',
      '      update the docs comment of anything you touch. Add a test next to the',
      '      code that fails without the change, and run the whole suite before you',
      '      finish, then say which files you changed and why, in one short list.',
      '    verify: npm test',
    );
  }
  return `${lines.join('\n')}\n`;
}

describe('not YAML text', () => {
  it('refuses a file with NUL bytes', async () => {
    expect(await problems({ [FILE]: Buffer.from('id: a\0\0\0prompt: x\n') })).toEqual([
      'bearing/tasks/a.yaml: not a text file (it contains NUL bytes); expected YAML text in UTF-8',
    ]);
  });

  it('refuses invalid UTF-8', async () => {
    expect(
      await problems({ [FILE]: Buffer.from([0x69, 0x64, 0x3a, 0x20, 0xc3, 0x28, 0x0a]) }),
    ).toEqual([
      'bearing/tasks/a.yaml: not a text file (it is not valid UTF-8); expected YAML text in UTF-8',
    ]);
  });

  it('names UTF-16 for what it is', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id: a\n', 'utf16le')]);
    expect(await problems({ [FILE]: utf16 })).toEqual([
      'bearing/tasks/a.yaml: not UTF-8 text (it is UTF-16); save it as UTF-8',
    ]);
  });

  it('accepts a UTF-8 byte order mark and keeps positions right', async () => {
    expect(
      await problems({ [FILE]: `\uFEFF${yaml('id: a', 'prompt: x', 'retries: -1')}` }),
    ).toEqual(['bearing/tasks/a.yaml:3:10: retries: expected 0 or more, got -1']);
  });
});

describe('line endings', () => {
  it('keeps positions right with Windows line endings', async () => {
    expect(await problems({ [FILE]: 'id: a\r\nprompt: x\r\nretries: -1\r\n' })).toEqual([
      'bearing/tasks/a.yaml:3:10: retries: expected 0 or more, got -1',
    ]);
  });
});

describe('resource exhaustion', () => {
  it('refuses a billion-laughs alias bomb', async () => {
    expect(await problems({ [FILE]: billionLaughs })).toEqual([
      'bearing/tasks/a.yaml: yaml: too many alias expansions (more than 100): refusing what looks like a "billion laughs" file',
    ]);
  });

  it('allows a few aliases, as YAML users write them', async () => {
    expect(
      await problems({
        [FILE]: yaml(
          'tasks:',
          '  - id: a',
          '    prompt: &p shared',
          '    retries: -1',
          '  - id: b',
          '    prompt: *p',
        ),
      }),
    ).toEqual(['bearing/tasks/a.yaml:4:14: tasks[0].retries: expected 0 or more, got -1']);
  });

  it('reports an alias without an anchor as what it is, where it is written', async () => {
    expect(await problems({ [FILE]: yaml('id: a', 'prompt: *nope') })).toEqual([
      'bearing/tasks/a.yaml:2:9: prompt: unknown alias "*nope" (no anchor &nope defined before it)',
    ]);
    // An anchor defined only after the alias does not count, as YAML has it.
    expect(
      await problems({
        [FILE]: yaml(
          'tasks:',
          '  - id: a',
          '    prompt: *later',
          '  - id: b',
          '    prompt: &later text',
          '    focus: [x, *gone]',
        ),
      }),
    ).toEqual([
      'bearing/tasks/a.yaml:3:13: tasks[0].prompt: unknown alias "*later" (no anchor &later defined before it)',
      'bearing/tasks/a.yaml:6:16: tasks[1].focus[1]: unknown alias "*gone" (no anchor &gone defined before it)',
    ]);
  });

  it('refuses deeply nested flow collections before parsing them', async () => {
    expect(await problems({ [FILE]: `id: ${'['.repeat(500_000)}` })).toEqual([
      'bearing/tasks/a.yaml:1:69: yaml: nested more than 64 levels deep; task files need only a few levels',
    ]);
    expect(await problems({ [FILE]: `id: a\nprompt: ${'{a: '.repeat(200_000)}\n` })).toEqual([
      'bearing/tasks/a.yaml:2:262: yaml: nested more than 64 levels deep; task files need only a few levels',
    ]);
  });

  it('refuses deeply nested compact sequences', async () => {
    expect(await problems({ [FILE]: `${'- '.repeat(400_000)}x\n` })).toEqual([
      'bearing/tasks/a.yaml:1:130: yaml: nested more than 64 levels deep; task files need only a few levels',
    ]);
  });

  it('refuses deeply indented block nesting, at the same place every time', async () => {
    const text = Array.from({ length: 1400 }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
    expect(await problems({ [FILE]: text })).toEqual([
      'bearing/tasks/a.yaml:65:66: yaml: nested more than 64 levels deep; task files need only a few levels',
    ]);
  });

  it('shows the first 20 YAML errors of a garbage file and counts the rest', async () => {
    const lines = await problems({ [FILE]: '"'.repeat(1_000_000) });
    expect(lines).toHaveLength(21);
    expect(lines[0]).toBe(
      'bearing/tasks/a.yaml:1:3: yaml: Unexpected double-quoted-scalar at node end',
    );
    expect(lines[20]).toBe(
      'bearing/tasks/a.yaml:1:43: yaml: 499979 more YAML errors from here on, not shown',
    );
  });

  it('summarises a mapping with thousands of unknown keys', async () => {
    const text = yaml(
      'id: a',
      'prompt: x',
      ...Array.from({ length: 30_000 }, (_, i) => `k${i}: ${i}`),
    );
    const lines = await problems({ [FILE]: text });
    expect(lines).toHaveLength(21);
    expect(lines[0]).toBe('bearing/tasks/a.yaml:3:1: k0: unknown key "k0"');
    expect(lines[20]).toBe(
      'bearing/tasks/a.yaml:23:1: k20: 29980 more unknown keys from here on, not shown: is this really a task (a mapping with id:)?',
    );
  });

  it('refuses a file over 8 MiB without reading it, giving the size and the limit', async () => {
    expect(await problems({ [FILE]: `id: a\nprompt: ${'x'.repeat(8 * 1024 * 1024)}\n` })).toEqual([
      'bearing/tasks/a.yaml: file is 8.0 MiB (8388623 bytes); Bearing reads files of at most 8 MiB (8388608 bytes): split it into several task files',
    ]);
  });

  it('reads a file of exactly 8 MiB', async () => {
    const head = 'id: a\nprompt: ';
    const text = `${head}${'x'.repeat(8 * 1024 * 1024 - head.length - 1)}\n`;
    expect(Buffer.byteLength(text)).toBe(8 * 1024 * 1024);
    const result = await load({ [FILE]: text });
    expect(result.diagnostics).toEqual([]);
    expect(result.plan?.tasks[0]?.prompt).toHaveLength(8 * 1024 * 1024 - head.length - 1);
  });

  it('validates a generated 5,000-task plan of over 2 MiB in one file', async () => {
    const text = generatedPlan(5000);
    expect(Buffer.byteLength(text)).toBeGreaterThan(2.2 * 1024 * 1024);
    const result = await load({
      'bearing/config.yaml': yaml('defaults:', '  cli: claude'),
      [FILE]: text,
    });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(result.plan?.tasks).toHaveLength(5000);
    expect(result.plan?.tasks.at(-1)?.source).toEqual({ file: FILE, line: 2 + 10 * 4999, col: 5 });
  });

  it('refuses a 20 GiB file as fast as a small one (it is never read)', async () => {
    const fx = await fixtures.create({ [FILE]: '' });
    await truncate(fx.path(FILE), 20 * 1024 ** 3); // sparse: no disk space used
    const result = await loadProject(fx.dir, { displayBase: fx.dir });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      'bearing/tasks/a.yaml: file is 20480.0 MiB (21474836480 bytes); Bearing reads files of at most 8 MiB (8388608 bytes): split it into several task files',
    ]);
  });

  it('refuses a config.yaml over 8 MiB the same way', async () => {
    expect(
      await problems({
        'bearing/config.yaml': `# ${'x'.repeat(8 * 1024 * 1024)}\n`,
        [FILE]: yaml('id: a', 'prompt: x'),
      }),
    ).toEqual([
      'bearing/config.yaml: file is 8.0 MiB (8388611 bytes); Bearing reads files of at most 8 MiB (8388608 bytes)',
    ]);
  });
});

describe('special files', () => {
  it('does not read from a device behind a symlink (it would never end)', async () => {
    expect(await problems({ [FILE]: { symlink: '/dev/zero' } })).toEqual([
      'bearing/tasks/a.yaml: not a regular file',
    ]);
  });

  it('does not block on a named pipe', async () => {
    const fx = await fixtures.create({ 'bearing/tasks/ok.yaml': yaml('id: a', 'prompt: x') });
    execFileSync('mkfifo', [fx.path('bearing/tasks/pipe.yaml')]);
    const result = await loadProject(fx.dir, { displayBase: fx.dir });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      'bearing/tasks/pipe.yaml: not a regular file',
    ]);
  });

  it('survives a symlink loop between folders, reading each file once', async () => {
    const fx = await fixtures.create({
      'bearing/tasks/a.yaml': yaml('id: a', 'prompt: x'),
      'bearing/tasks/sub/loop': { symlink: '..' },
      'bearing/tasks/sub/b.yaml': yaml('id: b', 'prompt: x'),
    });
    const result = await loadProject(fx.dir, { displayBase: fx.dir });
    expect(result.diagnostics).toEqual([]);
    expect(result.files).toEqual(['bearing/tasks/a.yaml', 'bearing/tasks/sub/b.yaml']);
  });

  it('reports a file it may not read', async () => {
    if (process.getuid?.() === 0) return; // root reads everything
    const fx = await fixtures.create({ [FILE]: yaml('id: a', 'prompt: x') });
    execFileSync('chmod', ['000', fx.path(FILE)]);
    const result = await loadProject(fx.dir, { displayBase: fx.dir });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      'bearing/tasks/a.yaml: cannot read: permission denied',
    ]);
  });
});

describe('no exception escapes', () => {
  it('turns an unexpected exception while checking a file into a diagnostic for that file', () => {
    const exploding: SourceFile = {
      display: 'bearing/tasks/boom.yaml',
      get content(): SourceFile['content'] {
        throw new Error('disk on fire');
      },
    };
    const fine: SourceFile = {
      display: 'bearing/tasks/fine.yaml',
      content: ok(new TextEncoder().encode(yaml('id: a', 'prompt: x', 'retries: -1'))),
    };
    const result = analyseProject({ config: undefined, taskFiles: [exploding, fine] });
    expect(result.plan).toBeUndefined();
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      expect.stringMatching(
        /^bearing\/tasks\/boom\.yaml: internal error while checking this file \(bearing \d+\.\d+\.\d+\): disk on fire; please report it$/,
      ),
      'bearing/tasks/fine.yaml:3:10: retries: expected 0 or more, got -1',
    ]);
  });

  it('loads a project dir that does not exist as a diagnostic', async () => {
    const fx = await fixtures.create({});
    const result = await loadProject(fx.path('missing'), { displayBase: fx.dir });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      'missing/bearing: no bearing/ folder in this project; `bearing init` creates it with an example task',
    ]);
  });
});
