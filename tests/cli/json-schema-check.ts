/**
 * A deliberately small JSON Schema checker: exactly the keywords the shipped
 * schemas use, so a test can check a YAML file against them as an editor
 * would, without a validator dependency. A keyword it does not know fails
 * the check instead of being ignored, so it can never pass vacuously.
 */

type Schema = Record<string, unknown>;

/** Keywords that only annotate. */
const ANNOTATIONS = new Set(['$schema', '$defs', 'title', 'description', 'default', 'examples']);
const ASSERTIONS = new Set([
  '$ref',
  'anyOf',
  'not',
  'type',
  'enum',
  'pattern',
  'maxLength',
  'minimum',
  'exclusiveMinimum',
  'properties',
  'additionalProperties',
  'required',
  'propertyNames',
  'items',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** Every problem with `value` against `schema`, as `path: message`; empty when it conforms. */
export function checkJsonSchema(root: Schema, value: unknown): string[] {
  const resolve = (ref: string): Schema => {
    const match = /^#\/\$defs\/(.+)$/.exec(ref);
    const target = match && (root.$defs as Record<string, Schema> | undefined)?.[match[1]!];
    if (!target) throw new Error(`unsupported $ref ${ref}`);
    return target;
  };
  const check = (schema: Schema, v: unknown, path: string): string[] => {
    const problems: string[] = [];
    for (const key of Object.keys(schema)) {
      if (!ANNOTATIONS.has(key) && !ASSERTIONS.has(key))
        problems.push(`${path}: schema keyword ${key} is not supported by this checker`);
    }
    if (typeof schema.$ref === 'string') problems.push(...check(resolve(schema.$ref), v, path));
    if (Array.isArray(schema.anyOf)) {
      const branches = (schema.anyOf as Schema[]).map((s) => check(s, v, path));
      if (!branches.some((b) => b.length === 0))
        problems.push(
          `${path}: matches no anyOf branch (${branches.map((b) => b[0]).join(' | ')})`,
        );
    }
    if (schema.not !== undefined && check(schema.not as Schema, v, path).length === 0)
      problems.push(`${path}: matches a schema it must not match`);
    if (typeof schema.type === 'string' && !matchesType(v, schema.type)) {
      problems.push(`${path}: expected ${schema.type}, got ${typeOf(v)}`);
      return problems;
    }
    if (Array.isArray(schema.enum) && !schema.enum.includes(v))
      problems.push(`${path}: ${JSON.stringify(v)} is not one of ${JSON.stringify(schema.enum)}`);
    if (typeof v === 'string') {
      if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(v))
        problems.push(`${path}: ${JSON.stringify(v)} does not match ${schema.pattern}`);
      if (typeof schema.maxLength === 'number' && [...v].length > schema.maxLength)
        problems.push(`${path}: longer than ${schema.maxLength}`);
    }
    if (typeof v === 'number') {
      if (typeof schema.minimum === 'number' && v < schema.minimum)
        problems.push(`${path}: below ${schema.minimum}`);
      if (typeof schema.exclusiveMinimum === 'number' && v <= schema.exclusiveMinimum)
        problems.push(`${path}: not above ${schema.exclusiveMinimum}`);
    }
    if (Array.isArray(v) && schema.items !== undefined) {
      v.forEach((item, i) => {
        problems.push(...check(schema.items as Schema, item, `${path}[${i}]`));
      });
    }
    if (typeOf(v) === 'object') {
      const obj = v as Record<string, unknown>;
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      for (const key of (schema.required ?? []) as string[]) {
        if (!(key in obj)) problems.push(`${path}: missing required key ${key}`);
      }
      for (const [key, child] of Object.entries(obj)) {
        const at = path ? `${path}.${key}` : key;
        if (schema.propertyNames !== undefined)
          problems.push(...check(schema.propertyNames as Schema, key, `${at} (name)`));
        if (key in props) problems.push(...check(props[key]!, child, at));
        else if (schema.additionalProperties === false)
          problems.push(`${at}: key not allowed by the schema`);
        else if (typeof schema.additionalProperties === 'object')
          problems.push(...check(schema.additionalProperties as Schema, child, at));
      }
    }
    return problems;
  };
  return check(root, value, '');
}
