/**
 * The rules behind every "what to do" line, over every failure reason, task
 * status and stop kind: `bearing retry` only for a task that is not queued or
 * running, `bearing run` only when it would start. tests/e2e/advice.test.ts
 * runs the commands themselves.
 */
import { describe, expect, it } from 'vitest';
import { adviseFailure, type Failure } from './failure.js';
import { nextStep, type RunGate, type StopReason } from './next-step.js';
import { emptyState, type RunState, type TaskStatus } from './state.js';
import { completed, makePlan, makeTask } from './test-support.js';

const FAILURES: Failure[] = [
  { reason: 'agent-exit', exitCode: 1, message: 'boom' },
  { reason: 'agent-error', message: 'oops', apiStatus: 500 },
  { reason: 'rate-limited', message: 'limit', resetsAt: '2030-01-01T00:00:00.000Z' },
  { reason: 'auth-error', message: 'Invalid API key' },
  { reason: 'max-turns', message: 'max', turns: 3 },
  { reason: 'budget-exceeded', message: 'over', costUsd: 1 },
  { reason: 'permission-denied', message: 'denied', tools: ['Write'] },
  { reason: 'agent-timeout', kind: 'idle', afterMs: 1000 },
  { reason: 'interrupted', message: 'Ctrl-C' },
  { reason: 'signal', signal: 'SIGKILL' },
  { reason: 'spawn-error', command: 'claude', message: 'ENOENT' },
  { reason: 'unparseable-output', message: 'no result' },
  { reason: 'verify-failed', command: 'npm test', exitCode: 1, output: '' },
  { reason: 'command-failed', command: 'make', exitCode: 2, output: '' },
  { reason: 'dependency-failed', dependency: 'db' },
  { reason: 'internal-error', message: 'bug', version: '1.0.0' },
];

const STATUSES: TaskStatus[] = [
  'queued',
  'running',
  'completed',
  'failed',
  'skipped',
  'awaiting-review',
  'interrupted',
];

const commands = (text: string): string[] =>
  [...text.matchAll(/`(bearing [^`]*)`/g)].map((m) => m[1]!);

describe('adviseFailure', () => {
  for (const f of FAILURES) {
    it(`${f.reason}: each command fits the task's status and whether a run can start`, () => {
      for (const status of STATUSES) {
        for (const canRun of [true, false]) {
          const advice = adviseFailure(f, { status, canRun });
          const cmds = commands(advice);
          if (status === 'running' || status === 'completed') expect(advice).toBe('');
          // `bearing retry` of a queued task answers "already queued".
          if (status === 'queued' || status === 'interrupted') {
            expect(cmds.filter((c) => c.startsWith('bearing retry'))).toEqual([]);
          }
          if (!canRun) expect(cmds).not.toContain('bearing run');
          // Only the placeholder the callers replace.
          for (const c of cmds) expect(c.replaceAll('<id>', 'x')).not.toMatch(/[<>]/);
        }
      }
    });
  }

  it('says what to do next for a task that is queued because of a limit or a log-in problem', () => {
    const auth = adviseFailure(FAILURES[3]!, { status: 'queued', canRun: true });
    expect(auth).toBe(
      'log the CLI in (run `claude` and /login, or `codex login`), then `bearing run`',
    );
    expect(adviseFailure(FAILURES[2]!, { status: 'queued', canRun: false })).toBe(
      'wait for the limit to reset (2030-01-01T00:00:00.000Z); the task stays queued',
    );
  });
});

describe('nextStep', () => {
  const plan = makePlan([
    makeTask({ id: 'a' }),
    makeTask({ id: 'b', dependsOn: ['a'] }),
    makeTask({ id: 'c' }),
  ]);
  const failedA = (f: Failure, status: TaskStatus = 'failed'): RunState => {
    const state = emptyState();
    state.tasks.a = { ...completed('a', ''), status, failure: f };
    return state;
  };
  const STOPS: StopReason[] = [
    { kind: 'interrupted' },
    { kind: 'paused', task: 'a' },
    { kind: 'stopped', task: 'a' },
    { kind: 'rate-limited', task: 'a', cli: 'claude', message: 'limit' },
    { kind: 'auth-error', task: 'a', cli: 'claude', message: 'Invalid API key' },
    { kind: 'missing-cli', tasks: [{ task: 'a', command: 'claude', installHint: 'npm i' }] },
    { kind: 'outage', task: 'a', cli: 'claude', message: '529' },
    { kind: 'circuit-open', failure: 'exit 1', tasks: ['a', 'c'] },
    { kind: 'state-write-failed', file: 'state.json', message: 'ENOSPC' },
    { kind: 'disk-full', path: '/', freeBytes: 1, minFreeBytes: 2 },
    { kind: 'lock-lost', message: 'the lock was removed' },
    { kind: 'internal-error', message: 'bug', version: '1.0.0' },
  ];
  const blockedGates: RunGate[] = [
    { kind: 'active', pid: 42, since: '2030-01-01T00:00:00.000Z' },
    { kind: 'active' },
    { kind: 'invalid-plan', problems: 2 },
  ];

  it('never advises `bearing run` while a run is active or the task files do not validate', () => {
    for (const gate of blockedGates) {
      for (const stop of [undefined, ...STOPS]) {
        for (const f of FAILURES) {
          for (const status of ['failed', 'queued', 'awaiting-review'] as const) {
            const text = nextStep(plan, failedA(f, status), new Set(), stop, [], gate);
            expect(commands(text), text).not.toContain('bearing run');
          }
        }
      }
    }
  });

  it('never advises retrying a queued task', () => {
    for (const gate of [{ kind: 'free' } as const, ...blockedGates]) {
      for (const f of FAILURES) {
        const text = nextStep(plan, failedA(f, 'queued'), new Set(), undefined, [], gate);
        expect(commands(text), text).not.toContain('bearing retry a');
      }
    }
  });

  it('a run that is active says so and what it waits for; the run itself is inferred from a wait', () => {
    const waits = [
      { cli: 'claude', kind: 'limit' as const, until: '2030-01-01T01:00:00.000Z', message: 'hit' },
    ];
    const text = nextStep(plan, emptyState(), new Set(), undefined, waits);
    expect(text).toBe(
      'A run is active: follow it with `bearing watch`.\nWaiting: claude hit a usage or rate limit (hit); its tasks go on at 2030-01-01T01:00:00.000Z. Nothing to do: the run goes on by itself (Ctrl-C stops it).',
    );
    expect(
      nextStep(plan, emptyState(), new Set(), undefined, [], { kind: 'active', pid: 42 }),
    ).toBe(
      'A run is active (pid 42): follow it with `bearing watch`.\nReady to run: `a` and 1 more; the active run starts it.',
    );
  });

  it('after the run: a log-in problem is named from the state alone, and its task is not "ready"', () => {
    const state = failedA({ reason: 'auth-error', message: 'Invalid API key' }, 'queued');
    expect(nextStep(plan, state, new Set(), undefined, [], { kind: 'free' })).toBe(
      [
        'Held back: `a` (claude could not log in: Invalid API key). To go on: log the CLI in (run `claude` and /login, or `codex login`), then `bearing run`.',
        'Ready to run: `c`. Run `bearing run`.',
      ].join('\n'),
    );
  });

  it('with task files that do not validate, points at `bearing validate` and nothing that needs them', () => {
    const text = nextStep(plan, emptyState(), new Set(), undefined, [], {
      kind: 'invalid-plan',
      problems: 1,
    });
    expect(text).toBe(
      'The task files have 1 problem: `bearing validate` lists them. Nothing runs until they are fixed.',
    );
  });
});
