/**
 * Tolerant readers for JSONL events. Agent CLIs add fields every release and
 * interleave non-JSON noise, so a parser takes the fields it knows and never
 * throws on the rest.
 */

export type JsonObject = Record<string, unknown>;

/** The line as a JSON object, or undefined when it is not one. */
export function parseJsonObject(line: string): JsonObject | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function obj(value: unknown): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A non-negative integer token count; anything else counts as 0. */
export function count(value: unknown): number {
  const n = num(value);
  return n === undefined || n < 0 ? 0 : n;
}
