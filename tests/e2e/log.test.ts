/**
 * `bearing log` end to end: the fake agents print the real CLIs' events
 * (tool calls included) and the log reads them back as a transcript, with
 * the adapters' own readers; `--raw` prints the bytes; `--follow` reads a
 * running attempt until the run records it as over, or the run ends.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Project, tasksYaml, useRig, waitFor } from './rig.js';

useRig();

const USAGE = 'tokens 240 input, 80 output, 20,480 cache read, 4,096 cache write';

describe('bearing log', () => {
  it('shows a claude attempt as messages, tool calls with their target, failed calls and the result', async () => {
    const p = await Project.create(
      { 'bearing/tasks/t.yaml': tasksYaml([{ id: 'db', prompt: '[[db]]' }]) },
      {
        scenarios: [
          {
            match: '[[db]]',
            summary: 'Schema written.\nTests pass.',
            writeFiles: { 'src/db.js': 'export {};\n' },
            failCommands: [{ command: 'npm test', output: '1 test failed' }],
          },
        ],
      },
    );
    expect((await p.run(['run'])).code).toBe(0);
    const log = await p.run(['log', 'db']);
    expect(log.code).toBe(0);
    expect(log.stderr).toBe(`# db, attempt 1 of 1: ${join(p.attemptDir('db', 1), 'stdout.log')}\n`);
    expect(log.stdout).toBe(
      [
        '· claude started (claude-sonnet-5)',
        '→ Bash npm test',
        '✗ Bash npm test failed',
        '    Exit code 1',
        '    1 test failed',
        '→ Write src/db.js',
        'Schema written.',
        'Tests pass.',
        `✓ result: success · $0.0234 · 3 turns · ${USAGE}`,
        '',
      ].join('\n'),
    );
    // --raw: the agent's bytes, as recorded.
    const raw = await p.run(['log', 'db', '--raw']);
    expect(raw.stdout).toBe(readFileSync(join(p.attemptDir('db', 1), 'stdout.log'), 'utf8'));
  });

  it('shows a codex attempt: failed commands with their exit code, patched files, the turn', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'api', cli: 'codex', sandbox: 'workspace-write', prompt: '[[api]]' },
        ]),
      },
      {
        scenarios: [
          {
            match: '[[api]]',
            outcome: 'patch',
            summary: 'Routes added.',
            writeFiles: { 'src/routes.js': 'export {};\n' },
            failCommands: [{ command: 'npm run lint', output: 'lint: 2 errors', exitCode: 2 }],
          },
        ],
      },
    );
    expect((await p.run(['run'])).code).toBe(0);
    const log = await p.run(['log', 'api']);
    expect(log.code).toBe(0);
    expect(log.stdout).toBe(
      [
        '✗ command npm run lint failed',
        '    exit 2',
        '    lint: 2 errors',
        '→ Add src/routes.js',
        'Routes added.',
        '✓ result: turn.completed · 1 turn · tokens 3,000 input, 84 output, 2,048 cache read, 0 cache write',
        '',
      ].join('\n'),
    );
  });

  it("reads a custom agent that speaks claude's format as claude, by the format meta.json records", async () => {
    const p = await Project.create(
      {
        'bearing/config.yaml': [
          'agents:',
          '  pinned:',
          '    command: claude',
          '    args: ["-p", "--output-format", "stream-json", "--verbose"]',
          '    prompt_input: stdin',
          '    output: claude',
          '',
        ].join('\n'),
        'bearing/tasks/t.yaml': tasksYaml([{ id: 'c', cli: 'pinned', prompt: '[[c]]' }]),
      },
      { scenarios: [{ match: '[[c]]', writeFiles: { 'c.txt': 'c\n' } }] },
    );
    expect((await p.run(['run'])).code).toBe(0);
    const meta = JSON.parse(readFileSync(join(p.attemptDir('c', 1), 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({ cli: 'pinned', output: 'claude' });
    const log = await p.run(['log', 'c']);
    expect(log.stdout).toContain('→ Write c.txt\nDone.\n✓ result: success');
  });

  it("shows the failed gate's output after the transcript, for the attempt asked for", async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          {
            id: 'gated',
            retries: 1,
            // After a failed gate `auto` starts fresh; this test reads a resumed session's log.
            retry_mode: 'resume',
            prompt: '[[gated]]',
            verify: 'test -f ok.flag || { echo GATE-SAYS-NO; exit 3; }',
          },
        ]),
      },
      {
        scenarios: [
          { match: '[[gated]]' },
          // The resumed session gets the retry note with the gate's output, not the prompt.
          { match: 'GATE-SAYS-NO', writeFiles: { 'ok.flag': 'ok\n' } },
        ],
      },
    );
    expect((await p.run(['run'])).code).toBe(0);
    const first = await p.run(['log', 'gated', '--attempt', '1']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /✓ result: success .*\n✗ failed: verify `test -f ok\.flag .*` exited with code 3\nGATE-SAYS-NO\n$/,
    );
    expect(first.stderr).toBe(
      [
        `# gated, attempt 1 of 2: ${join(p.attemptDir('gated', 1), 'stdout.log')}`,
        `# verify: ${join(p.attemptDir('gated', 1), 'verify.log')}`,
        '',
      ].join('\n'),
    );
    // The attempt that passed its gate shows no gate output.
    const second = await p.run(['log', 'gated']);
    expect(second.stdout).toContain('→ Write ok.flag');
    expect(second.stdout).not.toContain('GATE-SAYS-NO');
    expect(second.stderr).toBe(
      `# gated, attempt 2 of 2: ${join(p.attemptDir('gated', 2), 'stdout.log')}\n`,
    );
  });

  it('ends with why an attempt failed when its output does not say', async () => {
    const p = await Project.create(
      { 'bearing/tasks/t.yaml': tasksYaml([{ id: 'lost', retries: 0, prompt: '[[lost]]' }]) },
      { scenarios: [{ match: '[[lost]]', outcome: 'no-result', summary: 'Half way.' }] },
    );
    expect((await p.run(['run'])).code).toBe(1);
    const log = await p.run(['log', 'lost']);
    expect(log.stdout.trimEnd().split('\n').slice(-2)).toEqual([
      'Half way.',
      expect.stringMatching(/^✗ failed: /),
    ]);
  });

  it('reads lines over 1 MiB through a spill file, showing the end of each message', async () => {
    const p = await Project.create(
      { 'bearing/tasks/t.yaml': tasksYaml([{ id: 'big', prompt: '[[big]]' }]) },
      {
        scenarios: [
          { match: '[[big]]', printBytes: 5 * 1024 * 1024, printLineBytes: 2 * 1024 * 1024 },
        ],
      },
    );
    expect((await p.run(['run'])).code).toBe(0);
    const log = await p.run(['log', 'big']);
    expect(log.code).toBe(0);
    const lines = log.stdout.trimEnd().split('\n');
    const cut = lines.filter((l) => l.startsWith('…x'));
    expect(cut.length).toBeGreaterThanOrEqual(2);
    // The end of each message, as long as a summary is kept (64 KiB).
    for (const l of cut) expect(l).toBe(`…${'x'.repeat(64 * 1024 - 1)}`);
    expect(lines.at(-1)).toMatch(/^✓ result: success/);
  });
});

describe('bearing log --follow', () => {
  it('follows an attempt until state.json records it over, while the run goes on', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'slow', prompt: '[[slow]]' },
          { id: 'after', depends_on: ['slow'], prompt: '[[after]]' },
        ]),
      },
      {
        scenarios: [
          { match: '[[slow]]', delayMs: 1500, writeFiles: { 'a.txt': 'a\n' } },
          { match: '[[after]]', hang: true },
        ],
      },
    );
    const run = p.start(['run']);
    await waitFor(
      () => p.calls().some((c) => (c.prompt ?? '').includes('[[slow]]')),
      'the slow agent to start',
    );
    const follow = await p.run(['log', 'slow', '-f']);
    expect(follow.code).toBe(0);
    expect(follow.stdout).toMatch(
      /^· claude started .*\n→ Write a\.txt\nDone\.\n✓ result: success/,
    );
    // It stopped because the attempt was over, not because the run ended.
    expect(p.task('slow').status).toBe('completed');
    expect(p.lockExists()).toBe(true);
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(130);
  });

  it('stops when the run ends with the attempt still recorded as running', async () => {
    const p = await Project.create(
      { 'bearing/tasks/t.yaml': tasksYaml([{ id: 'stuck', prompt: '[[stuck]]' }]) },
      { scenarios: [{ match: '[[stuck]]', hang: true }] },
    );
    const run = p.start(['run']);
    const stdout = join(p.attemptDir('stuck', 1), 'stdout.log');
    await waitFor(() => {
      try {
        return readFileSync(stdout, 'utf8').includes('"subtype":"init"');
      } catch {
        return false;
      }
    }, 'the agent to print its init event');
    const follow = p.start(['log', 'stuck', '--follow']);
    await follow.waitForOutput(/claude started/);
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(130);
    const followed = await follow.done;
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(/✗ interrupted: /);
  });

  it('follows a shell task: its stdout as printed, then its stderr', async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([
        { id: 'sh', cli: 'shell', run: 'echo one; sleep 1; echo two; echo warn >&2' },
      ]),
    });
    const run = p.start(['run']);
    await waitFor(() => {
      try {
        return readFileSync(join(p.attemptDir('sh', 1), 'stdout.log'), 'utf8').includes('one');
      } catch {
        return false;
      }
    }, 'the shell task to print');
    const follow = await p.run(['log', 'sh', '-f']);
    expect(follow.stdout).toBe('one\ntwo\nwarn\n');
    expect((await run.done).code).toBe(0);
  });
});
