/**
 * Output arrives in chunks that split lines anywhere; parsers want whole
 * lines. This joins chunks into lines with a cap on line length, so one
 * endless line cannot exhaust memory (its excess is dropped, and what is
 * left is no longer valid JSON, so parsers count it as noise).
 */

/** Longest line kept whole: a claude `result` line with a long summary fits easily. */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;

export interface LineSplitter {
  /** A chunk of decoded text, split anywhere. */
  push(chunk: string): void;
  /** Flushes a last line that had no newline. */
  end(): void;
}

/** Calls `onLine` for each complete line (without `\n` or `\r\n`). */
export function createLineSplitter(
  onLine: (line: string) => void,
  maxLineChars = MAX_LINE_CHARS,
): LineSplitter {
  let partial: string[] = [];
  let partialChars = 0;
  let overflow = false;

  const append = (text: string): void => {
    if (overflow || text.length === 0) return;
    const room = maxLineChars - partialChars;
    if (text.length > room) {
      partial.push(text.slice(0, room));
      partialChars = maxLineChars;
      overflow = true;
      return;
    }
    partial.push(text);
    partialChars += text.length;
  };

  const flush = (): void => {
    let line = partial.join('');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    partial = [];
    partialChars = 0;
    overflow = false;
    onLine(line);
  };

  return {
    push(chunk: string): void {
      let start = 0;
      for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
        append(chunk.slice(start, nl));
        flush();
        start = nl + 1;
      }
      append(chunk.slice(start));
    },
    end(): void {
      if (partialChars > 0) flush();
    },
  };
}
