/**
 * `bearing start --resume [id]` and `--continue`: the planner session is
 * resumed with Bearing's instructions passed again (a bare `claude --resume`
 * sends none of them; a bare `codex resume` loses them at the first
 * compaction), and every session ends with the `bearing start` command that
 * resumes it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { plannerInstructions } from '../../src/run/planner-prompt.js';
import { tomlString } from '../../src/run/start.js';
import {
  BIN,
  bearing,
  type FakeCall,
  project,
  readCalls,
  sandbox,
  useTempDirs,
} from './support.js';

useTempDirs();

const BEARING_COMMAND = `node ${BIN}`;
const claudeInstructions = () => plannerInstructions('claude', { bearingCommand: BEARING_COMMAND });
const codexConfig = () =>
  `developer_instructions=${tomlString(plannerInstructions('codex', { bearingCommand: BEARING_COMMAND }))}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ID = '5b0c8a47-1f2e-4d3c-9a8b-7c6d5e4f3a21';

function plannedProject(): string {
  return project({
    'bearing/tasks/01-api.yaml': 'id: api\nprompt: Build the API\n',
    'bearing/status.md': '# Status\n\n0/1 completed\n',
  });
}

function onlyCall(log: string): FakeCall {
  const calls = readCalls(log);
  expect(calls).toHaveLength(1);
  return calls[0] as FakeCall;
}

/** The last two lines of stderr: what to run to resume. */
function resumeHint(stderr: string): string {
  return stderr.trimEnd().split('\n').slice(-2).join('\n');
}

describe('claude', () => {
  it('a new session gets its id from Bearing (--session-id), and ends with the command that resumes it', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'claude', '--model', 'opus'], {
      cwd: dir,
      env: sb.env,
    });
    expect(r.code).toBe(0);
    const argv = onlyCall(sb.log).argv;
    expect(argv.slice(0, 3)).toEqual(['--model', 'opus', '--session-id']);
    const id = argv[3] as string;
    expect(id).toMatch(UUID);
    expect(argv.slice(4, 6)).toEqual(['--append-system-prompt', claudeInstructions()]);
    expect(argv[6]).toBe('--');
    expect(resumeHint(r.stderr)).toBe(
      "To resume this planner session with Bearing's instructions (`claude --resume` alone leaves them out):\n" +
        `  ${BEARING_COMMAND} start --cli claude --model opus --resume ${id}`,
    );
  });

  it('two sessions get two ids', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    await bearing(['start', '--cli', 'claude', '--yes'], { cwd: dir, env: sb.env });
    await bearing(['start', '--cli', 'claude', '--yes'], { cwd: dir, env: sb.env });
    const [a, b] = readCalls(sb.log).map((c) => c.argv[3]);
    expect(a).toMatch(UUID);
    expect(b).toMatch(UUID);
    expect(a).not.toBe(b);
  });

  it('--resume ID passes the instructions again and sends no opening message', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'claude', '--model', 'sonnet', '--resume', ID], {
      cwd: dir,
      env: sb.env,
    });
    expect(r.code).toBe(0);
    expect(onlyCall(sb.log).argv).toEqual([
      '--model',
      'sonnet',
      '--append-system-prompt',
      claudeInstructions(),
      '--resume',
      ID,
    ]);
    expect(r.stderr).toContain(
      `Resuming the planner session ${ID}: claude (sonnet) in ${dir}. End the session to return.\n`,
    );
    expect(resumeHint(r.stderr)).toContain(
      `  ${BEARING_COMMAND} start --cli claude --model sonnet --resume ${ID}`,
    );
  });

  it('--resume without an id opens claude’s picker, with the instructions', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'claude', '--yes', '--resume'], {
      cwd: dir,
      env: sb.env,
    });
    expect(r.code).toBe(0);
    expect(onlyCall(sb.log).argv).toEqual([
      '--model',
      'opus',
      '--append-system-prompt',
      claudeInstructions(),
      '--resume',
    ]);
    // The id chosen in the picker is not known to Bearing.
    expect(resumeHint(r.stderr)).toContain(
      `  ${BEARING_COMMAND} start --cli claude --model opus --continue`,
    );
  });

  it('--continue passes --continue and the instructions', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'claude', '--yes', '--continue'], {
      cwd: dir,
      env: sb.env,
    });
    expect(r.code).toBe(0);
    expect(onlyCall(sb.log).argv).toEqual([
      '--model',
      'opus',
      '--append-system-prompt',
      claudeInstructions(),
      '--continue',
    ]);
  });
});

describe('codex', () => {
  it('a new session ends with --continue (codex picks its ids itself)', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'codex', '--yes'], { cwd: dir, env: sb.env });
    expect(r.code).toBe(0);
    expect(resumeHint(r.stderr)).toBe(
      "To resume this planner session with Bearing's instructions (`codex resume` alone loses them when Codex compacts the conversation):\n" +
        `  ${BEARING_COMMAND} start --cli codex --yes --continue   (or --resume ID, with the session id Codex printed)`,
    );
  });

  it('--resume ID runs `codex resume` with -c developer_instructions again', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'codex', '--model', 'gpt-6', '--resume', ID], {
      cwd: dir,
      env: sb.env,
    });
    expect(r.code).toBe(0);
    expect(onlyCall(sb.log).argv).toEqual(['resume', '-m', 'gpt-6', '-c', codexConfig(), '--', ID]);
    expect(resumeHint(r.stderr)).toContain(
      `  ${BEARING_COMMAND} start --cli codex --model gpt-6 --resume ${ID}`,
    );
  });

  it('--continue runs `codex resume --last` with -c developer_instructions', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'codex', '--yes', '--continue'], {
      cwd: dir,
      env: sb.env,
    });
    expect(r.code).toBe(0);
    expect(onlyCall(sb.log).argv).toEqual(['resume', '-c', codexConfig(), '--last']);
  });

  it('--resume without an id opens codex’s picker', async () => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'codex', '--yes', '--resume'], {
      cwd: dir,
      env: sb.env,
    });
    expect(r.code).toBe(0);
    expect(onlyCall(sb.log).argv).toEqual(['resume', '-c', codexConfig()]);
  });
});

describe('the printed command', () => {
  it('names the project when it is not the current folder, quoted for a shell', async () => {
    const sb = sandbox();
    const parent = project();
    const dir = join(parent, "my app's");
    mkdirSync(join(dir, 'bearing', 'tasks'), { recursive: true });
    writeFileSync(join(dir, 'bearing', 'tasks', 'a.yaml'), 'id: a\nprompt: A\n');
    const r = await bearing(['start', dir, '--cli', 'codex', '--model', 'gpt-6'], {
      cwd: parent,
      env: sb.env,
    });
    expect(r.code).toBe(0);
    expect(resumeHint(r.stderr)).toContain(
      `  ${BEARING_COMMAND} start '${parent}/my app'\\''s' --cli codex --model gpt-6 --continue`,
    );
  });

  it('is printed after a session that ended with an error too', async () => {
    const sb = sandbox();
    writeFileSync(sb.script, JSON.stringify([{ exitCode: 3 }]));
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'claude', '--yes'], {
      cwd: dir,
      env: { ...sb.env, BEARING_FAKE_SCRIPT: sb.script },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('--resume ');
  });
});

describe('bad resume options', () => {
  it.each([
    [
      ['--resume', ID, '--continue'],
      'bearing start: --resume and --continue: give one of them, not both\n',
    ],
    [
      ['--resume=-x'],
      'bearing start: --resume: expected a session id such as 5b0c8a47-1f2e-4d3c-9a8b-7c6d5e4f3a21 (letters, digits, . _ -), got "-x"\n',
    ],
  ])('%j: exit 2, nothing started', async (flags, message) => {
    const sb = sandbox();
    const dir = plannedProject();
    const r = await bearing(['start', '--cli', 'claude', '--yes', ...flags], {
      cwd: dir,
      env: sb.env,
    });
    expect(r.stderr).toBe(message);
    expect(r.code).toBe(2);
    expect(readCalls(sb.log)).toEqual([]);
  });
});
