/**
 * The only place that writes to the terminal. Commands receive an Output so
 * tests can capture what a user would see without touching process.stdout.
 *
 * chalk is imported only when stdout is a terminal that may show colour:
 * piped output (a planner reading `bearing summary`, scripts, `| head`) has
 * none, and loading chalk cost such a command more than the rest of its
 * startup besides commander.
 */

/** The styles Bearing prints with: chalk's, or none when colour is off. */
export interface Colors {
  dim(text: string): string;
  bold(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
  cyan(text: string): string;
}

const same = (text: string): string => text;

/** No colour: every style leaves the text as it is. */
export const PLAIN: Colors = {
  dim: same,
  bold: same,
  green: same,
  yellow: same,
  red: same,
  cyan: same,
};

export interface Output {
  /** Normal results, to stdout. */
  out(line: string): void;
  /** Problems and progress notes, to stderr. */
  err(line: string): void;
  /** Colours, disabled when the stream is not a terminal or NO_COLOR is set. */
  color: Colors;
  /** Raw text to stdout without a newline: the live progress line on a terminal. */
  raw(text: string): void;
  /** Whether stdout is an interactive terminal (live progress lines). */
  isTTY: boolean;
  /** The terminal's width, when it is one: live lines longer than it would wrap and not be cleared. */
  columns?: number;
}

/**
 * Writes to the process's stdout and stderr. A reader that closes the pipe
 * early (`bearing status | head`, `bearing run | head`, EPIPE) or a terminal
 * that went away (the SSH session or window closed: EIO on every write) is not
 * an error: output to that stream stops and the command carries on to its
 * normal end, so a run is never cut short and its exit code stays meaningful.
 */
export async function terminalOutput(): Promise<Output> {
  const color = process.stdout.isTTY && !process.env.NO_COLOR ? await terminalColors() : PLAIN;
  const open = { stdout: true, stderr: true };
  const guard = (stream: NodeJS.WriteStream, name: keyof typeof open): void => {
    // Whatever the error, nobody can read this stream any more; an exception
    // here would end a run in the middle of its work.
    stream.on('error', () => {
      open[name] = false;
    });
  };
  guard(process.stdout, 'stdout');
  guard(process.stderr, 'stderr');
  return {
    out: (line) => {
      if (open.stdout) process.stdout.write(`${line}\n`);
    },
    err: (line) => {
      if (open.stderr) process.stderr.write(`${line}\n`);
    },
    raw: (text) => {
      if (open.stdout) process.stdout.write(text);
    },
    color,
    isTTY: Boolean(process.stdout.isTTY),
    get columns() {
      return process.stdout.isTTY ? process.stdout.columns : undefined;
    },
  };
}

/** Captures lines in memory; for tests. */
export function memoryOutput(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
    raw: () => {},
    color: PLAIN,
    isTTY: false,
  };
}

/** chalk at the level the terminal supports (none for some, e.g. TERM=dumb). */
async function terminalColors(): Promise<Colors> {
  const { Chalk, supportsColor } = await import('chalk');
  return new Chalk({ level: supportsColor ? supportsColor.level : 0 });
}
