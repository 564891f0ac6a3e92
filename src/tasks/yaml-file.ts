/**
 * Bytes to a YAML document, defensively: task files are written by agents and
 * people, so binary files, alias bombs and pathological nesting must end in a
 * clear message, fast, instead of a hang, a crash or a stack trace. Also maps
 * a value's path back to its line and column for diagnostics.
 */
import {
  Composer,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  type Node,
  type Pair,
  Parser,
  type YAMLError,
} from 'yaml';
import { err, ok, type Result } from '../core/result.js';
import { MAX_ALIAS_COUNT, MAX_NESTING } from './rules.js';

/** A path into a parsed value: mapping keys and list indexes. */
export type Path = readonly (string | number)[];

export interface Position {
  line: number;
  col: number;
}

/** A problem found while reading YAML, at a source offset (undefined: no position). */
export interface YamlProblem {
  offset: number | undefined;
  /** Path of the offending key for duplicates; undefined for syntax errors. */
  path: Path | undefined;
  message: string;
}

export interface ParsedYaml {
  /** The plain value (mappings as objects); undefined when the file could not be parsed at all. */
  value: unknown;
  /** True when `value` is trustworthy enough to validate (no syntax errors). */
  usable: boolean;
  locator: Locator;
  problems: YamlProblem[];
  /** True when the document holds nothing but comments and whitespace. */
  empty: boolean;
}

/** Decode UTF-8 task file bytes, refusing anything that is not text. */
export function decodeText(bytes: Uint8Array): Result<string, string> {
  const utf16 =
    bytes.length >= 2 &&
    ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
  if (utf16) return err('not UTF-8 text (it is UTF-16); save it as UTF-8');
  if (bytes.indexOf(0) !== -1) {
    return err('not a text file (it contains NUL bytes); expected YAML text in UTF-8');
  }
  try {
    return ok(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return err('not a text file (it is not valid UTF-8); expected YAML text in UTF-8');
  }
}

class TooDeep {
  constructor(readonly offset: number) {}
}

const FRIENDLY: Partial<Record<string, string>> = {
  TAB_AS_INDENT: 'tabs are not allowed as indentation in YAML; indent with spaces',
  MULTIPLE_DOCS:
    'a task file holds one YAML document; remove the "---" separator or split the file',
  RESOURCE_EXHAUSTION: `nested too deeply; task files need only a few levels`,
};

function problemFrom(e: YAMLError): YamlProblem {
  return {
    offset: e.pos[0],
    path: undefined,
    message: FRIENDLY[e.code] ?? e.message.replace(/\s+/g, ' ').trim(),
  };
}

/**
 * Parse one YAML document. The lexer's tokens are fed to the parser one by
 * one so nesting can be measured and refused before the library builds it
 * (the library's cost grows faster than linearly with depth).
 */
export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const parser = new Parser(lineCounter.addNewLine);
  const composer = new Composer({
    version: '1.2',
    schema: 'core',
    uniqueKeys: false,
    merge: false,
    prettyErrors: false,
  });
  lineCounter.addNewLine(0);

  function* tokens() {
    let flow = 0;
    let indicators = 0;
    let scalarNext = false;
    for (const lexeme of new Lexer().lex(text)) {
      if (scalarNext) {
        scalarNext = false;
      } else if (lexeme === '\x1f') {
        scalarNext = true;
      } else if (lexeme === '[' || lexeme === '{') {
        if (++flow > MAX_NESTING) throw new TooDeep(parser.offset);
      } else if (lexeme === ']' || lexeme === '}') {
        if (flow > 0) flow--;
      } else if (lexeme === '-' || lexeme === '?') {
        if (++indicators > MAX_NESTING) throw new TooDeep(parser.offset);
      } else if (lexeme === '\n' || lexeme === '\r\n') {
        indicators = 0;
      }
      yield* parser.next(lexeme);
    }
    yield* parser.end();
  }

  const problems: YamlProblem[] = [];
  let doc: Document.Parsed | undefined;
  try {
    for (const d of composer.compose(tokens(), true, text.length)) {
      if (!doc) {
        doc = d;
      } else {
        problems.push({ offset: d.range[0], path: undefined, message: FRIENDLY.MULTIPLE_DOCS! });
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof TooDeep)) throw e;
    problems.push({
      offset: e.offset,
      path: undefined,
      message: `nested more than ${MAX_NESTING} levels deep; task files need only a few levels`,
    });
    return { value: undefined, usable: false, locator: new Locator(undefined, lineCounter), problems, empty: false };
  }
  const locator = new Locator(doc, lineCounter);
  if (!doc) return { value: undefined, usable: false, locator, problems, empty: true };

  for (const e of doc.errors) problems.push(problemFrom(e));
  const usable = problems.length === 0;
  for (const w of doc.warnings) problems.push(problemFrom(w));
  problems.push(...duplicateKeys(doc, lineCounter));

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    const message =
      e instanceof ReferenceError && /alias/i.test(e.message)
        ? `too many alias expansions (more than ${MAX_ALIAS_COUNT}): refusing what looks like a "billion laughs" file`
        : `could not be read as YAML: ${e instanceof Error ? e.message : String(e)}`;
    problems.push({ offset: undefined, path: undefined, message });
    return { value: undefined, usable: false, locator, problems, empty: false };
  }
  return { value, usable, locator, problems, empty: doc.contents === null };
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  if (key === null || key === undefined) return '';
  return String(key);
}

function offsetOf(node: unknown): number | undefined {
  const range = (node as { range?: readonly number[] } | null | undefined)?.range;
  return range?.[0];
}

/** Duplicate keys in any mapping, each reported at the later occurrence. */
function duplicateKeys(doc: Document.Parsed, lineCounter: LineCounter): YamlProblem[] {
  const out: YamlProblem[] = [];
  const stack: { node: unknown; path: (string | number)[] }[] = [{ node: doc.contents, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (isMap(node)) {
      const seen = new Map<string, Pair>();
      for (const pair of node.items) {
        const key = keyText(pair.key);
        const first = seen.get(key);
        if (first) {
          out.push({
            offset: offsetOf(pair.key),
            path: [...path, key],
            message: `duplicate key "${key}" (first at line ${lineCounter.linePos(offsetOf(first.key) ?? 0).line})`,
          });
        } else {
          seen.set(key, pair);
        }
        stack.push({ node: pair.value, path: [...path, key] });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        stack.push({ node: item, path: [...path, i] });
      });
    }
  }
  return out;
}

/**
 * Finds where a value sits in the source. Lookups walk only the given path,
 * so each costs the path's depth, not the document's size.
 */
export class Locator {
  constructor(
    private readonly doc: Document.Parsed | undefined,
    private readonly lineCounter: LineCounter,
  ) {}

  position(offset: number | undefined): Position {
    if (offset === undefined) return { line: 0, col: 0 };
    return this.lineCounter.linePos(offset);
  }

  /** The node at `path`, or the deepest ancestor that exists, with the pair holding it. */
  private walk(path: Path): { node: unknown; pair: Pair | undefined; complete: boolean } {
    let node: unknown = this.doc?.contents ?? null;
    let pair: Pair | undefined;
    for (const seg of path) {
      if (isAlias(node) && this.doc) node = node.resolve(this.doc);
      let next: unknown;
      let nextPair: Pair | undefined;
      if (isMap(node)) {
        const want = String(seg);
        for (let i = node.items.length - 1; i >= 0; i--) {
          const p = node.items[i]!;
          if (keyText(p.key) === want) {
            nextPair = p;
            next = p.value;
            break;
          }
        }
      } else if (isSeq(node) && typeof seg === 'number') {
        next = node.items[seg];
      }
      if (next === undefined && nextPair === undefined) return { node, pair, complete: false };
      node = next ?? null;
      pair = nextPair;
    }
    return { node, pair, complete: true };
  }

  /** Where the value at `path` starts; its key when the value is empty; else the nearest ancestor. */
  value(path: Path): Position {
    const { node, pair } = this.walk(path);
    const empty = node === null || (isScalar(node) && (node as Node).range?.[0] === (node as Node).range?.[1]);
    const offset = empty && pair ? offsetOf(pair.key) : offsetOf(node) ?? offsetOf(pair?.key);
    return this.position(offset ?? 0);
  }

  /** Where the key of the last path segment is written (for unknown keys); else as `value`. */
  key(path: Path): Position {
    const { pair, complete } = this.walk(path);
    if (complete && pair) return this.position(offsetOf(pair.key) ?? 0);
    return this.value(path);
  }
}
