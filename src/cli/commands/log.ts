import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { didYouMean } from '../../core/suggest.js';
import { runsDir, taskRunsDir } from '../../state/paths.js';
import { TASK_ID_PATTERN } from '../../tasks/values.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { projectRootOrReport } from '../project-dir.js';

type Part = 'stdout' | 'stderr' | 'prompt' | 'verify';
const FILES: Record<Part, string> = {
  stdout: 'stdout.log',
  stderr: 'stderr.log',
  prompt: 'prompt.txt',
  verify: 'verify.log',
};

export interface LogOptions {
  attempt?: string;
  stderr?: boolean;
  prompt?: boolean;
  verify?: boolean;
  json?: boolean;
}

export function log(ctx: CommandContext, id: string, dir: string, opts: LogOptions): void {
  const root = projectRootOrReport(ctx, 'log', dir);
  if (root === undefined) return;
  if (!TASK_ID_PATTERN.test(id)) {
    ctx.output.err(`bearing log: "${id}" is not a task id`);
    ctx.setExitCode(EXIT.invalid);
    return;
  }
  const taskDir = taskRunsDir(root, id);
  const attempts = existsSync(taskDir)
    ? readdirSync(taskDir)
        .filter((n) => /^\d+$/.test(n))
        .map(Number)
        .sort((a, b) => a - b)
    : [];
  if (attempts.length === 0) {
    const others = existsSync(runsDir(root)) ? readdirSync(runsDir(root)) : [];
    ctx.output.err(`bearing log: ${id} has not run yet${didYouMean(id, others)}`);
    ctx.setExitCode(EXIT.failed);
    return;
  }
  const attempt = opts.attempt === undefined ? attempts.at(-1)! : Number(opts.attempt);
  if (!attempts.includes(attempt)) {
    ctx.output.err(
      `bearing log: ${id} has no attempt ${opts.attempt}; it has ${attempts.join(', ')}`,
    );
    ctx.setExitCode(EXIT.invalid);
    return;
  }
  const dirPath = join(taskDir, String(attempt));
  if (opts.json) {
    const read = (name: string): unknown => {
      try {
        return JSON.parse(readFileSync(join(dirPath, name), 'utf8'));
      } catch {
        return null;
      }
    };
    ctx.output.out(
      JSON.stringify(
        {
          id,
          attempt,
          attempts,
          dir: dirPath,
          files: Object.fromEntries(
            Object.entries(FILES)
              .map(([k, f]) => [k, join(dirPath, f)] as const)
              .filter(([, p]) => existsSync(p)),
          ),
          meta: read('meta.json'),
          result: read('result.json'),
        },
        null,
        2,
      ),
    );
    return;
  }
  const chosen: Part | undefined = opts.prompt
    ? 'prompt'
    : opts.stderr
      ? 'stderr'
      : opts.verify
        ? 'verify'
        : undefined;
  // An agent's stdout is its event stream and its stderr is noise; a shell
  // task's output is both (a failing check often prints only on stderr).
  const parts: Part[] = chosen
    ? [chosen]
    : readCli(dirPath) === 'shell'
      ? ['stdout', 'stderr']
      : ['stdout'];
  const file = join(dirPath, FILES[parts[0]!]);
  if (!existsSync(file)) {
    ctx.output.err(`bearing log: attempt ${attempt} of ${id} has no ${parts[0]} (${file})`);
    ctx.setExitCode(EXIT.failed);
    return;
  }
  let last = '\n';
  parts.forEach((part, i) => {
    const path = join(dirPath, FILES[part]);
    if (!existsSync(path)) return;
    const empty = parts.length > 1 && statSync(path).size === 0;
    // Headers go to stderr, so stdout stays exactly what the task printed.
    if (!last.endsWith('\n')) ctx.output.raw('\n');
    ctx.output.err(
      `# ${i === 0 ? `${id}, attempt ${attempt} of ${attempts.length}` : part}: ${path}${empty ? ' (empty)' : ''}`,
    );
    streamFile(path, (chunk) => {
      ctx.output.raw(chunk);
      last = chunk;
    });
  });
}

/** The attempt's CLI as meta.json records it; undefined when it cannot be read. */
function readCli(attemptDir: string): string | undefined {
  try {
    const meta = JSON.parse(readFileSync(join(attemptDir, 'meta.json'), 'utf8')) as unknown;
    return typeof meta === 'object' &&
      meta !== null &&
      'cli' in meta &&
      typeof meta.cli === 'string'
      ? meta.cli
      : undefined;
  } catch {
    return undefined;
  }
}

/** Copy a possibly huge file to the output in chunks, never holding it whole. */
function streamFile(path: string, write: (chunk: string) => void): void {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 16);
    const decoder = new TextDecoder();
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      write(decoder.decode(buffer.subarray(0, n), { stream: true }));
    }
    const rest = decoder.decode();
    if (rest) write(rest);
  } finally {
    closeSync(fd);
  }
}
