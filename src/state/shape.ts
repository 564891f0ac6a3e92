/**
 * Checking parsed JSON against a declared shape, for the files Bearing writes
 * and reads back (state.json). zod did this until, for a finished 1,000-task
 * project, importing zod and running it took longer than everything else
 * `bearing status` does. The state needs only what is here: strings,
 * numbers, booleans, literals, enums, lists, records, objects and unions
 * told apart by one key. Each problem is reported by path as "expected ...,
 * got ...", and the checked type is inferred, so state-schema.ts can prove
 * at compile time that its shape and the types in core/state.ts agree.
 *
 * A shape is plain data walked by one function, and a path is built only
 * for a problem: a status reads every record of the state, in a process too
 * short-lived for the JIT to help, so the walk allocates next to nothing.
 *
 * Keys a shape does not name are allowed and left alone: a newer minor
 * version may add fields, and a load and save must keep them.
 */

/** Mapping keys and list indexes from the top of the value. */
export type Path = readonly (string | number)[];

/** One way the value differs from the shape. */
export interface Issue {
  path: Path;
  message: string;
}

type Node =
  | { kind: 'string'; nonEmpty: boolean }
  | { kind: 'number'; whole: boolean; min: number | undefined }
  | { kind: 'boolean' }
  | { kind: 'literal'; value: string | number | boolean }
  | { kind: 'one-of'; values: readonly string[] }
  | { kind: 'array'; item: Shape<unknown> }
  | { kind: 'record'; item: Shape<unknown> }
  | { kind: 'object'; keys: readonly string[]; fields: readonly Shape<unknown>[] }
  | {
      kind: 'union';
      key: string;
      variants: ReadonlyMap<string, Shape<unknown>>;
      tag: Shape<unknown>;
    }
  | { kind: 'refine'; inner: Shape<unknown>; rule: (value: never, path: Path) => Issue[] };

/** A shape whose passing values are `T`. */
export type Shape<T> = Node & {
  /** Whether an object may leave this key out. */
  readonly optional: boolean;
  /** What a passing value is, for messages: "a string", "one of a, b". */
  readonly expected: string;
  /** Carries `T` for inference; never set. */
  readonly type?: T;
};

/** The type a shape passes. */
export type Infer<S> = S extends Shape<infer T> ? T : never;

/** A shape an object may leave out. */
export type Optional<T> = Shape<T> & { readonly optional: true };

type Fields = Record<string, Shape<unknown>>;
type OptionalKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends Optional<unknown> ? K : never;
}[keyof F];
type Flat<T> = { [K in keyof T]: T[K] } & {};
type ObjectOf<F extends Fields> = Flat<
  { [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> } & {
    [K in OptionalKeys<F>]?: Infer<F[K]>;
  }
>;

function shape<T>(node: Node, expected: string): Shape<T> {
  return { ...node, optional: false, expected };
}

export function string(options: { nonEmpty?: boolean } = {}): Shape<string> {
  const nonEmpty = options.nonEmpty ?? false;
  return shape({ kind: 'string', nonEmpty }, nonEmpty ? 'a non-empty string' : 'a string');
}

export function boolean(): Shape<boolean> {
  return shape({ kind: 'boolean' }, 'true or false');
}

/** A finite number; `whole` for integers, `min` for a lower bound (inclusive). */
export function number(options: { whole?: boolean; min?: number } = {}): Shape<number> {
  const { whole = false, min } = options;
  const kind = whole ? 'a whole number' : 'a number';
  return shape(
    { kind: 'number', whole, min },
    min === undefined ? kind : `${kind} of ${min} or more`,
  );
}

export function literal<const T extends string | number | boolean>(value: T): Shape<T> {
  return shape({ kind: 'literal', value }, JSON.stringify(value));
}

export function oneOf<const T extends readonly string[]>(values: T): Shape<T[number]> {
  return shape({ kind: 'one-of', values }, `one of ${values.join(', ')}`);
}

export function optional<T>(inner: Shape<T>): Optional<T> {
  return { ...inner, optional: true };
}

export function array<T>(item: Shape<T>): Shape<T[]> {
  return shape({ kind: 'array', item }, 'a list');
}

/** An object with string keys whose values all pass `item`. */
export function record<T>(item: Shape<T>): Shape<Record<string, T>> {
  return shape({ kind: 'record', item }, 'an object');
}

/** An object with these keys (and maybe others, left alone). */
export function object<F extends Fields>(fields: F): Shape<ObjectOf<F>> {
  const keys = Object.keys(fields);
  return shape({ kind: 'object', keys, fields: keys.map((k) => fields[k]!) }, 'an object');
}

/**
 * Objects told apart by the string at `key`: `variants` maps each value of
 * it to the rest of that variant's fields.
 */
export function union<K extends string, V extends Record<string, Fields>>(
  key: K,
  variants: V,
): Shape<{ [D in keyof V & string]: Flat<{ [P in K]: D } & ObjectOf<V[D]>> }[keyof V & string]> {
  const names = Object.keys(variants);
  return shape(
    {
      kind: 'union',
      key,
      variants: new Map(names.map((name) => [name, object(variants[name]!)])),
      tag: oneOf(names),
    },
    'an object',
  );
}

/** `inner`, then `rule` on a value that passed it, returning its problems. */
export function refine<T>(inner: Shape<T>, rule: (value: T, path: Path) => Issue[]): Shape<T> {
  return { kind: 'refine', inner, rule, optional: inner.optional, expected: inner.expected };
}

/** Every problem in `value`, in document order; none when it has the shape. */
export function issuesOf(shape: Shape<unknown>, value: unknown): Issue[] {
  const issues: Issue[] = [];
  walk(shape, value, undefined, undefined, issues);
  return issues;
}

/** Where a value sits: its container's trail and its key there. Built per container only. */
interface Trail {
  parent: Trail | undefined;
  key: string | number | undefined;
}

function pathOf(parent: Trail | undefined, key: string | number | undefined): Path {
  const path: (string | number)[] = key === undefined ? [] : [key];
  for (let t = parent; t !== undefined; t = t.parent) if (t.key !== undefined) path.push(t.key);
  return path.reverse();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How a value that failed a check is named in the message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  }
  return String(value);
}

function walk(
  s: Shape<unknown>,
  value: unknown,
  parent: Trail | undefined,
  key: string | number | undefined,
  issues: Issue[],
): void {
  let ok: boolean;
  switch (s.kind) {
    case 'string':
      ok = typeof value === 'string' && (!s.nonEmpty || value.length > 0);
      break;
    case 'number':
      ok =
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (!s.whole || Number.isInteger(value)) &&
        (s.min === undefined || value >= s.min);
      break;
    case 'boolean':
      ok = typeof value === 'boolean';
      break;
    case 'literal':
      ok = value === s.value;
      break;
    case 'one-of':
      ok = typeof value === 'string' && s.values.includes(value);
      break;
    case 'array': {
      ok = Array.isArray(value);
      if (!ok) break;
      const here: Trail = { parent, key };
      const list = value as unknown[];
      for (let i = 0; i < list.length; i++) walk(s.item, list[i], here, i, issues);
      return;
    }
    case 'record': {
      ok = isObject(value);
      if (!ok) break;
      const here: Trail = { parent, key };
      const map = value as Record<string, unknown>;
      for (const k in map) if (Object.hasOwn(map, k)) walk(s.item, map[k], here, k, issues);
      return;
    }
    case 'object': {
      ok = isObject(value);
      if (!ok) break;
      const here: Trail = { parent, key };
      const map = value as Record<string, unknown>;
      for (let i = 0; i < s.keys.length; i++) {
        const k = s.keys[i]!;
        const field = s.fields[i]!;
        const v = map[k];
        if (v !== undefined) walk(field, v, here, k, issues);
        else if (!field.optional) {
          issues.push({ path: pathOf(here, k), message: `missing: expected ${field.expected}` });
        }
      }
      return;
    }
    case 'union': {
      ok = isObject(value);
      if (!ok) break;
      const tag = (value as Record<string, unknown>)[s.key];
      const variant = typeof tag === 'string' ? s.variants.get(tag) : undefined;
      if (variant !== undefined) walk(variant, value, parent, key, issues);
      else walk(s.tag, tag, { parent, key }, s.key, issues);
      return;
    }
    case 'refine': {
      const before = issues.length;
      walk(s.inner, value, parent, key, issues);
      if (issues.length === before) {
        issues.push(
          ...(s.rule as (value: unknown, path: Path) => Issue[])(value, pathOf(parent, key)),
        );
      }
      return;
    }
  }
  if (!ok) {
    issues.push({
      path: pathOf(parent, key),
      message: `expected ${s.expected}, got ${describeValue(value)}`,
    });
  }
}
