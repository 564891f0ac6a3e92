/**
 * One problem in the user's input, located precisely enough that an editor
 * can jump to it: `path/to/file.yaml:LINE:COL: field: message`.
 */
export interface Diagnostic {
  /** Path as shown to the user (relative to the project when possible). */
  file: string;
  /** 1-based; 0 when the problem has no position (for example an unreadable file). */
  line: number;
  /** 1-based; 0 when unknown. */
  col: number;
  /** Dotted field path such as `tasks[2].depends_on`, or `yaml` for syntax errors. */
  field: string;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
  return d.field ? `${where}: ${d.field}: ${d.message}` : `${where}: ${d.message}`;
}

/** Stable order: by file, then position, then message, so output never depends on load order. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  if (a.line !== b.line) return a.line - b.line;
  if (a.col !== b.col) return a.col - b.col;
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}
