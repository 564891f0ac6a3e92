/**
 * Collects the diagnostics of one file, turning value paths into
 * `file:line:col: field: message` so every check speaks in the same format.
 */
import type { Diagnostic } from '../core/diagnostic.js';
import type { Locator, Path, Position } from './yaml-file.js';

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/** `tasks[2].depends_on`, `agents["my agent"].command`; the empty string for the root. */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Reports problems of one file at the line and column of a value path. */
export class FileReport {
  constructor(
    /** The file as shown to the user. */
    readonly file: string,
    readonly locator: Locator,
    private readonly sink: Diagnostic[],
  ) {}

  /** A problem with the value at `path` (or with the mapping, when a key is missing). */
  value(path: Path, message: string, field: string = formatPath(path)): void {
    this.at(this.locator.value(path), field, message);
  }

  /** A problem with a key itself (unknown, misplaced, shadowing). */
  key(path: Path, message: string, field: string = formatPath(path)): void {
    this.at(this.locator.key(path), field, message);
  }

  at(pos: Position, field: string, message: string): void {
    this.sink.push({ file: this.file, line: pos.line, col: pos.col, field, message });
  }

  /** `file:line:col` of a value, for messages that point at a second place. */
  where(path: Path): string {
    const pos = this.locator.value(path);
    return pos.line > 0 ? `${this.file}:${pos.line}:${pos.col}` : this.file;
  }
}
