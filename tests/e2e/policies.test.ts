/**
 * Failure policies through the real bin: retry (fresh prompt with the error,
 * or a resumed session), retries exhausted, skip, pause + approve, stop, a
 * verify gate that fails and then passes, and `bearing retry` of a completed
 * task.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../src/core/failure.js';
import { CLOSING_LINE } from '../../src/core/prompt.js';
import { Project, tasksYaml, useRig } from './rig.js';

useRig();

const SESSION = '22222222-2222-4222-8222-222222222222';

describe('on_failure: retry', () => {
  // After a crash `retry_mode: auto` resumes the session (see the max-turns test); `fresh` does not.
  it('with retry_mode: fresh, attempt 2 gets the full prompt with the error appended', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 't', retries: 2, retry_mode: 'fresh', prompt: '[[t]] Do it.' },
        ]),
      },
      {
        scenarios: [
          {
            match: '[[t]]',
            attempts: [{ outcome: 'crash' }, { outcome: 'success', summary: 'Second time lucky.' }],
          },
        ],
      },
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /↻ t failed: agent exited with code 1: claude printed no result event; stderr: error: fake claude crashed .*; retrying/,
    );
    expect(r.stdout).toMatch(/▶ t started \(claude, attempt 2\)/);
    const calls = p.callsFor('[[t]]');
    expect(calls).toHaveLength(2);
    expect(calls[1]!.argv).not.toContain('--resume');
    expect(calls[1]!.env.BEARING_ATTEMPT).toBe('2');
    const error = p.task('t').attempts[0]!.failure;
    expect(error).toMatchObject({ reason: 'agent-exit', exitCode: 1 });
    const note = `PREVIOUS ATTEMPT FAILED: ${JSON.stringify({
      attempt: 2,
      error: describeFailure(error!),
    })}\nFix the cause and finish the task.`;
    const prompt2 = p.promptOf('t', 2);
    expect(prompt2).toBe(`SKIP: ["bearing/"]\n\n[[t]] Do it.\n\n${note}\n\n${CLOSING_LINE}\n`);
    expect(calls[1]!.prompt).toBe(prompt2);
    expect(p.promptOf('t', 1)).not.toContain('PREVIOUS ATTEMPT');
    const t = p.task('t');
    expect(t.status).toBe('completed');
    expect(t.attempts.map((a) => a.outcome)).toEqual(['failed', 'completed']);
    expect(t.summary).toBe('Second time lucky.');
    expect(p.statusSection('t')).toContain('- Attempts: 2 (#1 failed, #2 completed)');
  });

  it('after max-turns the claude session is resumed with --resume <id> and only the retry note', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 't', max_turns: 5, model: 'opus', prompt: '[[t]] Long job.' },
        ]),
      },
      {
        scenarios: [
          {
            match: '[[t]]',
            sessionId: SESSION,
            attempts: [{ outcome: 'max-turns' }, { outcome: 'success', summary: 'Finished.' }],
          },
        ],
      },
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/▶ t started \(claude opus, attempt 2, resuming session\)/);
    const all = p.calls();
    expect(all).toHaveLength(2);
    const prompt2 = p.promptOf('t', 2);
    expect(prompt2).toBe(
      `PREVIOUS ATTEMPT FAILED: ${JSON.stringify({
        attempt: 2,
        error: 'turn limit reached after 6 turns: Reached maximum number of turns (5)',
      })}\nThis attempt resumes your session where it was cut off. Continue the task from where you were and finish it.\n\n${CLOSING_LINE}\n`,
    );
    expect(all[1]!.argv).toEqual([
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--model',
      'opus',
      '--max-turns',
      '5',
      '--permission-mode',
      'auto',
      '--resume',
      SESSION,
    ]);
    expect(all[1]!.prompt).toBe(prompt2);
    const meta = JSON.parse(readFileSync(join(p.attemptDir('t', 2), 'meta.json'), 'utf8'));
    expect(meta.resume).toBe(SESSION);
    expect(p.task('t').status).toBe('completed');
  });

  // After a failed gate `retry_mode: auto` starts fresh (the session went astray); `resume` keeps it.
  it('verify gate fails, then passes on retry: with retry_mode: resume the codex session resumes, gate output appended, usage not double counted', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          {
            id: 'gated',
            cli: 'codex',
            model: 'gpt-5.2-codex',
            verify: 'test -f ok.flag || { echo GATE-SAYS-NO; exit 3; }',
            retry_mode: 'resume',
            prompt: '[[gated]] Make the gate pass.',
          },
        ]),
      },
      {
        scenarios: [
          {
            match: '[[gated]]',
            summary: 'Tried.',
            usage: { input_tokens: 3000, cached_input_tokens: 1000, output_tokens: 100 },
          },
          // The resumed session gets only the retry note, not the task's prompt.
          {
            match: 'GATE-SAYS-NO',
            summary: 'Now ok.flag exists.',
            writeFiles: { 'ok.flag': 'ok\n' },
            // codex reports usage cumulatively for the session.
            usage: { input_tokens: 5000, cached_input_tokens: 1500, output_tokens: 160 },
          },
        ],
      },
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /↻ gated failed: verify `test -f ok.flag .*` exited with code 3; retrying/,
    );
    const calls = p.calls();
    expect(calls).toHaveLength(2);
    const thread = p.task('gated').attempts[0]!.sessionId!;
    expect(thread).toMatch(/^[0-9a-f-]{36}$/);
    const prompt2 = p.promptOf('gated', 2);
    expect(calls[1]!.argv).toEqual([
      'exec',
      'resume',
      '--json',
      '-m',
      'gpt-5.2-codex',
      '-c',
      'sandbox_mode="workspace-write"',
      '--',
      thread,
      '-',
    ]);
    expect(calls[1]!.prompt).toBe(prompt2);
    expect(prompt2).toContain('PREVIOUS ATTEMPT FAILED: ');
    const payload = JSON.parse(prompt2.split('\n')[0]!.slice('PREVIOUS ATTEMPT FAILED: '.length));
    expect(payload).toEqual({
      attempt: 2,
      error: 'verify `test -f ok.flag || { echo GATE-SAYS-NO; exit 3; }` exited with code 3',
      gate_output: 'GATE-SAYS-NO',
    });
    const rec = p.task('gated');
    expect(rec.status).toBe('completed');
    expect(rec.attempts[0]!.failure).toMatchObject({ reason: 'verify-failed', exitCode: 3 });
    expect(rec.attempts[1]!.usage).toEqual({
      inputTokens: 2000,
      outputTokens: 60,
      cacheReadTokens: 500,
      cacheWriteTokens: 0,
    });
    expect(rec.usage).toEqual({
      inputTokens: 5000,
      outputTokens: 160,
      cacheReadTokens: 1500,
      cacheWriteTokens: 0,
    });
    expect(rec.filesChanged).toEqual(['ok.flag']);
    // The gate's own output is kept beside the attempt.
    expect(readFileSync(join(p.attemptDir('gated', 1), 'verify.log'), 'utf8')).toBe(
      'GATE-SAYS-NO\n',
    );
  });

  it('retries exhausted: the task fails and its dependents are blocked (exit 1)', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          // Fresh: a resumed session gets only the retry note, which the fake's script does not match.
          { id: 'flaky', retries: 1, retry_mode: 'fresh', prompt: '[[flaky]]' },
          { id: 'child', depends_on: ['flaky'], prompt: '[[child]]' },
          { id: 'grandchild', depends_on: ['child'], prompt: '[[grandchild]]' },
        ]),
      },
      { scenarios: [{ match: '[[flaky]]', outcome: 'crash', message: 'boom' }] },
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(1);
    expect(p.callsFor('[[flaky]]')).toHaveLength(2);
    expect(p.calls()).toHaveLength(2);
    const flaky = p.task('flaky');
    expect(flaky.status).toBe('failed');
    expect(flaky.attempts.map((a) => a.outcome)).toEqual(['failed', 'failed']);
    expect(p.statusLine('Progress')).toBe('0/3 completed, 1 failed, 2 queued');
    expect(p.statusSection('child')).toContain('- State: [queued]; blocked: `flaky` failed');
    expect(p.statusSection('grandchild')).toContain('- State: [queued]; blocked: `flaky` failed');
    expect(p.statusLine('Next')).toMatch(
      /^Failed: `flaky` \(agent exited with code 1: .*boom.*\)\. To go on: read what the agent printed \(`bearing log flaky`\), fix the task or its prompt, then `bearing retry flaky`\. Blocked by it: child, grandchild\.$/,
    );
  });
});

describe('other policies', () => {
  it('skip: the task is skipped and its dependents run with the failure as PRIOR context', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'optional', on_failure: 'skip', max_turns: 2, prompt: '[[optional]]' },
          { id: 'next', depends_on: ['optional'], prompt: '[[next]]' },
        ]),
      },
      { scenarios: [{ match: '[[optional]]', outcome: 'max-turns' }] },
    );
    const r = await p.run(['run']);
    expect(r.stdout).toMatch(
      /↷ optional failed: .*; skipped \(on_failure: skip\), dependents go on/,
    );
    expect(r.code).toBe(0);
    expect(p.callsFor('[[optional]]')).toHaveLength(1);
    expect(p.task('optional').status).toBe('skipped');
    expect(p.task('next').status).toBe('completed');
    const prior = p
      .promptOf('next', 1)
      .split('\n')
      .find((l) => l.startsWith('PRIOR: '));
    expect(JSON.parse(prior!.slice(7))).toEqual({
      id: 'optional',
      name: 'optional',
      status: 'skipped',
      summary: '',
      files_changed: [],
      error: 'turn limit reached after 3 turns: Reached maximum number of turns (2)',
    });
    expect(p.statusLine('Progress')).toBe('1/2 completed, 1 skipped');
  });

  it('pause: exit 3, awaiting review; `bearing approve` then `bearing run` continues', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'risky', on_failure: 'pause', prompt: '[[risky]]' },
          { id: 'after', depends_on: ['risky'], prompt: '[[after]]' },
        ]),
      },
      {
        scenarios: [
          {
            match: '[[risky]]',
            outcome: 'no-result',
            summary: 'Got half way: wrote part1.',
            writeFiles: { 'part1.txt': '1\n' },
          },
          { match: '[[after]]', summary: 'after done' },
        ],
      },
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/⏸ risky failed: .*; awaits review/);
    expect(p.task('risky').status).toBe('awaiting-review');
    expect(p.callsFor('[[after]]')).toHaveLength(0);
    expect(p.statusLine('Next')).toBe(
      'Paused after `risky`, which awaits review. Read its section in bearing/status.md (or `bearing status`), then `bearing approve risky` (or `bearing retry risky`) and `bearing run`.',
    );
    expect(p.statusSection('risky')).toContain(
      '- Awaiting review: `bearing approve risky` to accept it, or `bearing retry risky` to run it again',
    );

    const approve = await p.run(['approve', 'risky']);
    expect(approve.code).toBe(0);
    expect(approve.stdout).toBe(
      'risky accepted as completed despite its failure; its dependents can run\nRun `bearing run` to continue.\n',
    );
    const approved = p.task('risky');
    expect(approved.status).toBe('completed');
    // Accepted despite the failure: no error left, the attempt's last words are the hand-off.
    expect(approved.failure).toBeUndefined();
    expect(approved.summary).toBe('Got half way: wrote part1.');

    const again = await p.run(['run']);
    expect(again.code).toBe(0);
    expect(p.callsFor('[[risky]]')).toHaveLength(1);
    expect(p.task('after').status).toBe('completed');
    expect(p.promptOf('after', 1)).toContain(
      `PRIOR: ${JSON.stringify({ id: 'risky', name: 'risky', status: 'completed', summary: 'Got half way: wrote part1.', files_changed: ['part1.txt'] })}`,
    );
  });

  it('stop: the run ends and independent tasks are not started afterwards', async () => {
    const p = await Project.create(
      {
        'bearing/tasks/t.yaml': tasksYaml([
          { id: 'critical', on_failure: 'stop', prompt: '[[critical]]' },
          { id: 'independent', prompt: '[[independent]]' },
        ]),
      },
      { scenarios: [{ match: '[[critical]]', outcome: 'crash' }] },
    );
    const r = await p.run(['run']);
    expect(r.code).toBe(1);
    expect(p.calls().map((c) => c.prompt?.includes('[[critical]]'))).toEqual([true]);
    expect(p.task('critical').status).toBe('failed');
    expect(p.state().tasks.independent).toBeUndefined();
    expect(p.statusLine('Next')).toBe(
      'Stopped: `critical` failed and its on_failure is stop. Fix the task or its prompt, then `bearing retry critical` and `bearing run`.',
    );
    // The next run goes on with what is left.
    const again = await p.run(['run']);
    expect(again.code).toBe(1);
    expect(p.task('independent').status).toBe('completed');
    expect(p.callsFor('[[critical]]')).toHaveLength(1);
  });

  it('`bearing retry <id>` re-queues a completed task, which runs again with a fresh prompt', async () => {
    const p = await Project.create(
      { 'bearing/tasks/t.yaml': tasksYaml([{ id: 'a', prompt: '[[a]]' }]) },
      { scenarios: [{ match: '[[a]]', attempts: [{ summary: 'first' }, { summary: 'second' }] }] },
    );
    expect((await p.run(['run'])).code).toBe(0);
    const retry = await p.run(['retry', 'a']);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toBe('a queued to run again\nRun `bearing run` to continue.\n');
    expect(p.task('a').status).toBe('queued');
    expect(p.statusSection('a')).toContain('- State: [queued]; ready to run');

    const r = await p.run(['run']);
    expect(r.code).toBe(0);
    expect(p.calls()).toHaveLength(2);
    expect(p.promptOf('a', 2)).toBe(p.promptOf('a', 1));
    const a = p.task('a');
    expect(a.status).toBe('completed');
    expect(a.summary).toBe('second');
    expect(a.attempts).toHaveLength(2);

    // Unknown ids and tasks that cannot be approved are refused with the right codes.
    const unknown = await p.run(['retry', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('bearing retry: no task "nope"');
    const refused = await p.run(['approve', 'a']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('bearing approve: a is completed');
  });
});
