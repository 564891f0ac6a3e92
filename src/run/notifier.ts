/**
 * `run.notify`: a command the run starts when it needs a person, and when it
 * ends, so someone who left it running hears of it. An argv array (no
 * shell), with `{event}`, `{task}`, `{message}` and `{project}` replaced in
 * each element, as `{prompt}` and `{model}` are in a custom agent's args.
 *
 * Events, each its own name so that a script can tell "come and look" from
 * "finished":
 * - `task-paused`: a task awaits review (checkpoint: pause, on_failure: pause);
 * - `run-stopped`: a failure stops the run (on_failure: stop, the circuit
 *   breaker, a full disk, a limit or outage it does not wait out...);
 * - `limit-wait`: a CLI hit its usage limit and its tasks wait for the reset;
 * - `auth-error`: a CLI could not log in; its tasks stay queued;
 * - `run-end`: the run is over, whatever the reason (`{message}`: what next).
 *
 * It never holds the run up or breaks it: the commands run beside the run
 * (the run does not wait for them), one after another so that they arrive
 * in the order things happened, each for at most NOTIFY_TIMEOUT_MS, after
 * which its process group is ended; its output is read and dropped. The first failure
 * (not installed, non-zero exit, timeout) is reported once as a note; later
 * ones are not, so a broken notifier does not fill the log. Once the run is
 * over and its lock released, `settled()` lets the process wait for the
 * commands still going (at most their time limit), so the last one is not
 * cut off by the exit.
 */
import { formatMs } from '../core/failure.js';
import { describeStopReason, type StopReason } from '../core/next-step.js';
import { runProcess } from '../process/run-process.js';
import { NOTIFY_PLACEHOLDERS } from '../tasks/values.js';
import type { RunEvent } from './events.js';
import type { LoopEvent, RunListener } from './listeners.js';

export type NotifyEvent = 'task-paused' | 'run-stopped' | 'limit-wait' | 'auth-error' | 'run-end';

/** How long a notify command may take before it is ended. */
export const NOTIFY_TIMEOUT_MS = 10_000;
/** SIGTERM to SIGKILL for a notify command that outlived its time. */
const NOTIFY_KILL_GRACE_MS = 1000;

export interface NotifyFields extends Record<(typeof NOTIFY_PLACEHOLDERS)[number], string> {
  event: NotifyEvent;
  /** Empty when the event is about no one task. */
  task: string;
  message: string;
  /** The project's folder. */
  project: string;
}

const PLACEHOLDER = new RegExp(`\\{(${NOTIFY_PLACEHOLDERS.join('|')})\\}`, 'g');

/**
 * The template with each placeholder replaced inside every element, in one
 * pass: a message that itself holds `{task}` stays as it is.
 */
export function notifyArgs(template: readonly string[], fields: NotifyFields): string[] {
  return template.map((element) =>
    element.replace(PLACEHOLDER, (_, key: keyof NotifyFields) => fields[key]),
  );
}

/** The event a stop calls for: none for Ctrl-C (the person is there). */
function stopEvent(stop: StopReason): { event: NotifyEvent; task: string } | undefined {
  switch (stop.kind) {
    case 'interrupted':
      return undefined;
    case 'paused':
      return { event: 'task-paused', task: stop.task };
    case 'auth-error':
      return { event: 'auth-error', task: stop.task };
    default:
      return { event: 'run-stopped', task: 'task' in stop ? stop.task : '' };
  }
}

export interface NotifierOptions {
  /** `run.notify` as the plan has it now (the plan may change); undefined: off. */
  command: () => readonly string[] | undefined;
  root: string;
  env: NodeJS.ProcessEnv;
  /** Reports the first failure, once. */
  note: (message: string) => void;
  /** Tests shorten it. */
  timeoutMs?: number;
}

export class Notifier implements RunListener {
  readonly #options: NotifierOptions;
  /** The commands, one after another: a person hears of a pause before the end that follows it. */
  #queue: Promise<void> = Promise.resolve();
  /** Each stop once: the run may be asked to stop for the same reason more than once. */
  readonly #told = new Set<string>();
  #failed = false;

  constructor(options: NotifierOptions) {
    this.#options = options;
  }

  onEvent(event: RunEvent): void {
    if (event.type === 'waiting' && event.kind === 'limit') {
      const until = new Date(event.until).toISOString();
      this.#send(
        'limit-wait',
        '',
        `${event.cli} hit a usage limit (${event.message}); its tasks wait until ${until}, then the run goes on`,
      );
    } else if (event.type === 'run-end') {
      this.#send('run-end', '', event.next.replace(/\s*\n\s*/g, ' '));
    }
  }

  onLoop(event: LoopEvent): void {
    if (event.type !== 'stop') return;
    const what = stopEvent(event.reason);
    if (!what) return;
    const key = `${what.event}:${what.task}`;
    if (this.#told.has(key)) return;
    this.#told.add(key);
    this.#send(what.event, what.task, describeStopReason(event.reason));
  }

  /** Resolves once every command asked for so far has ended (each within its time limit). */
  settled(): Promise<void> {
    return this.#queue;
  }

  #send(event: NotifyEvent, task: string, message: string): void {
    const template = this.#options.command();
    if (!template || template.length === 0) return;
    const [file, ...args] = notifyArgs(template, {
      event,
      task,
      message,
      project: this.#options.root,
    });
    // #run never rejects: a failure is a note.
    this.#queue = this.#queue.then(() => this.#run(file!, args));
  }

  async #run(file: string, args: string[]): Promise<void> {
    let problem: string | undefined;
    try {
      const outcome = await runProcess({
        file,
        args,
        cwd: this.#options.root,
        env: this.#options.env,
        timeoutMs: this.#options.timeoutMs ?? NOTIFY_TIMEOUT_MS,
        killGraceMs: NOTIFY_KILL_GRACE_MS,
      });
      const tail = outcome.stderrTail.trim().split('\n').at(-1)?.slice(0, 200);
      switch (outcome.kind) {
        case 'exited':
          if (outcome.exitCode !== 0) {
            problem = `exited with code ${outcome.exitCode}${tail ? ` (${tail})` : ''}`;
          }
          break;
        case 'timeout':
          problem = `did not end within ${formatMs(outcome.afterMs)} and was stopped`;
          break;
        case 'spawn-error':
          problem = outcome.message;
          break;
        case 'signaled':
          problem = `was killed by ${outcome.signal}`;
          break;
        default:
          break;
      }
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    if (problem === undefined || this.#failed) return;
    this.#failed = true;
    this.#options.note(
      `run.notify: \`${file}\` ${problem}; the run goes on, and later failures of it are not reported`,
    );
  }
}
