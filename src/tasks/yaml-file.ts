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
  isNode,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  type Node,
  type Pair,
  Parser,
  type YAMLError,
  type YAMLMap,
} from 'yaml';
import { err, ok, type Result } from '../core/result.js';
import { MAX_ALIAS_COUNT, MAX_NESTING } from './rules.js';

/** A path into a parsed value: mapping keys and list indexes. */
export type Path = readonly (string | number)[];

/** 1-based line and column; 0 and 0 when there is no position. */
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

/** One parsed file: the value to validate, where things are, and what went wrong. */
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

/** Refuses bytes that are not UTF-8; reused, as a plan may have hundreds of files. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

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
    return ok(UTF8.decode(bytes));
  } catch {
    return err('not a text file (it is not valid UTF-8); expected YAML text in UTF-8');
  }
}

/** YAML errors shown per file; the rest are counted (a binary-ish file can have thousands). */
const MAX_SYNTAX_ERRORS = 20;

function capped(errors: readonly YAMLError[], kind: string): YamlProblem[] {
  const shown = errors.slice(0, MAX_SYNTAX_ERRORS).map(problemFrom);
  const rest = errors.length - shown.length;
  if (rest > 0) {
    shown.push({
      offset: errors[MAX_SYNTAX_ERRORS]!.pos[0],
      path: undefined,
      message: `${rest} more YAML ${kind}${rest === 1 ? '' : 's'} from here on, not shown`,
    });
  }
  return shown;
}

class TooDeep {
  constructor(readonly offset: number) {}
}

const FRIENDLY: Partial<Record<string, string>> = {
  TAB_AS_INDENT: 'tabs are not allowed as indentation in YAML; indent with spaces',
  MULTIPLE_DOCS:
    'a task file holds one YAML document; remove the "---" separator or split the file',
  RESOURCE_EXHAUSTION: 'nested too deeply; task files need only a few levels',
  BLOCK_AS_IMPLICIT_KEY:
    'unexpected nested mapping: put a value that contains ": " in quotes (or use a | block), or check the indentation',
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
 * one so nesting can be measured and refused as soon as it gets too deep:
 * the library's time and memory grow faster than linearly with depth, and
 * its own stack-overflow guard fires at a depth that depends on the caller.
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
    // Problems are collected below; the library must not print to stderr itself.
    logLevel: 'error',
  });
  lineCounter.addNewLine(0);

  // parser.stack holds the document and every collection still open, so its
  // length is the nesting depth at this point of the input. An alias is a
  // lexeme starting with `*`; without one, there are none to check.
  let aliases = false;
  function* tokens() {
    for (const lexeme of new Lexer().lex(text)) {
      if (lexeme.charCodeAt(0) === 42) aliases = true;
      yield* parser.next(lexeme);
      if (parser.stack.length > MAX_NESTING + 1) throw new TooDeep(parser.offset);
    }
    yield* parser.end();
  }

  const problems: YamlProblem[] = [];
  let doc: Document.Parsed | undefined;
  // The library builds an Error per problem; without stack traces a file full
  // of errors costs a fraction of the time. Restored before returning.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
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
    return {
      value: undefined,
      usable: false,
      locator: new Locator(undefined, lineCounter),
      problems,
      empty: false,
    };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  const locator = new Locator(doc, lineCounter);
  if (!doc) return { value: undefined, usable: false, locator, problems, empty: true };

  problems.push(...tabbedOrCapped(text, doc.errors));
  const usable = problems.length === 0;
  problems.push(...capped(doc.warnings, 'warning'));
  problems.push(...duplicateKeys(doc, lineCounter));

  const unknown = aliases ? unknownAliases(doc) : [];
  if (unknown.length > 0) {
    problems.push(...unknown);
    return { value: undefined, usable: false, locator, problems, empty: false };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    const message =
      e instanceof ReferenceError && /excessive alias count/i.test(e.message)
        ? `too many alias expansions (more than ${MAX_ALIAS_COUNT}): refusing what looks like a "billion laughs" file`
        : `could not be read as YAML: ${e instanceof Error ? e.message : String(e)}`;
    problems.push({ offset: undefined, path: undefined, message });
    return { value: undefined, usable: false, locator, problems, empty: false };
  }
  return { value, usable, locator, problems, empty: doc.contents === null };
}

/**
 * Aliases whose anchor is not defined before them. toJS() throws the same
 * ReferenceError type for these as for its alias-count guard, and without a
 * position; found here first, in one pass in document order (an alias refers
 * to the latest anchor of that name before it), so each is reported where it
 * is written.
 */
function unknownAliases(doc: Document.Parsed): YamlProblem[] {
  const anchors = new Set<string>();
  const found: YamlProblem[] = [];
  // One path, extended and shortened as the walk goes: copied only for a problem.
  const path: (string | number)[] = [];
  const walk = (node: unknown): void => {
    if (isAlias(node)) {
      if (!anchors.has(node.source)) {
        found.push({
          offset: node.range?.[0],
          path: path.length > 0 ? [...path] : undefined,
          message: `unknown alias "*${node.source}" (no anchor &${node.source} defined before it)`,
        });
      }
      return;
    }
    if (isNode(node) && node.anchor) anchors.add(node.anchor);
    if (isMap(node)) {
      for (const pair of node.items) {
        walk(pair.key);
        path.push(keyText(pair.key));
        walk(pair.value);
        path.pop();
      }
    } else if (isSeq(node)) {
      for (let i = 0; i < node.items.length; i++) {
        path.push(i);
        walk(node.items[i]);
        path.pop();
      }
    }
  };
  walk(doc.contents);
  return found;
}

/**
 * A tab in indentation derails the YAML parser into a cascade of messages
 * about block scalars and implicit keys. When the first syntax error comes at
 * or after a line indented with a tab, the tab is the cause: report that
 * (every such line, capped), plus only the errors before it. Tabs are left
 * alone when the file parses (they may be content inside a block scalar).
 */
function tabbedOrCapped(text: string, errors: readonly YAMLError[]): YamlProblem[] {
  if (errors.length === 0) return [];
  // Offsets of tab characters in the leading whitespace of a line.
  const tabs = [...text.matchAll(/^ *\t/gm)].map((m) => m.index + m[0].length - 1);
  let firstError = Number.POSITIVE_INFINITY;
  for (const e of errors) firstError = Math.min(firstError, e.pos[0]);
  if (tabs.length === 0 || tabs[0]! > lineEnd(text, firstError)) return capped(errors, 'error');
  const lineStart = text.lastIndexOf('\n', tabs[0]!) + 1;
  return [
    ...capped(
      errors.filter((e) => e.pos[0] < lineStart),
      'error',
    ),
    ...tabs.slice(0, 20).map((offset) => ({
      offset,
      path: undefined,
      message: FRIENDLY.TAB_AS_INDENT!,
    })),
  ];
}

function lineEnd(text: string, offset: number): number {
  const end = text.indexOf('\n', offset);
  return end < 0 ? text.length : end;
}

/** A mapping key as the loaded value spells it (`: x` has the empty string as key). */
function keyText(key: unknown): string {
  if (isScalar(key)) return key.value === null ? '' : String(key.value);
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
  // One path, extended and shortened as the walk goes: copied only for a
  // duplicate. Depth is bounded by MAX_NESTING, so recursion is safe.
  const path: (string | number)[] = [];
  const walk = (node: unknown): void => {
    if (isMap(node)) {
      const seen = node.items.length > 1 ? new Map<string, Pair>() : undefined;
      for (const pair of node.items) {
        const key = keyText(pair.key);
        const first = seen?.get(key);
        if (first) {
          out.push({
            offset: offsetOf(pair.key),
            path: [...path, key],
            message: `duplicate key "${key}" (first at line ${lineCounter.linePos(offsetOf(first.key) ?? 0).line})`,
          });
        } else {
          seen?.set(key, pair);
        }
        path.push(key);
        walk(pair.value);
        path.pop();
      }
    } else if (isSeq(node)) {
      for (let i = 0; i < node.items.length; i++) {
        path.push(i);
        walk(node.items[i]);
        path.pop();
      }
    }
  };
  walk(doc.contents);
  return out;
}

/**
 * Finds where a value sits in the source. Lookups walk only the given path,
 * so each costs the path's depth, not the document's size.
 *
 * A parsed document is many times the size of its text. Once a file's own
 * checks are done, `release()` drops it: the checks across files need a
 * position only for a problem, and keeping every file's document until then
 * made the garbage collector's work grow faster than the plan (a 20,000-task
 * plan took twice as long per task as a 5,000-task one). A lookup after
 * that parses the text again, once.
 */
export class Locator {
  private index = new WeakMap<YAMLMap, Map<string, Pair>>();
  /** The text, kept after `release()` to parse again on a lookup. */
  private text: string | undefined;

  constructor(
    private doc: Document.Parsed | undefined,
    private lineCounter: LineCounter,
  ) {}

  /** Drop the parsed document; later lookups parse `text` (the same source) again. */
  release(text: string): void {
    if (this.doc === undefined) return;
    this.doc = undefined;
    this.index = new WeakMap();
    this.text = text;
  }

  /** The document, parsed again if it was released. */
  private document(): Document.Parsed | undefined {
    if (this.doc === undefined && this.text !== undefined) {
      const again = parseYaml(this.text).locator;
      this.doc = again.doc;
      this.lineCounter = again.lineCounter;
      this.text = undefined;
    }
    return this.doc;
  }

  position(offset: number | undefined): Position {
    if (offset === undefined) return { line: 0, col: 0 };
    return this.lineCounter.linePos(offset);
  }

  /** The pair holding `key` (the last one, as in the loaded value); indexed once for big mappings. */
  private pairIn(map: YAMLMap, key: string): Pair | undefined {
    if (map.items.length > 8) {
      let index = this.index.get(map);
      if (!index) {
        index = new Map();
        for (const p of map.items) index.set(keyText(p.key), p);
        this.index.set(map, index);
      }
      return index.get(key);
    }
    for (let i = map.items.length - 1; i >= 0; i--) {
      const p = map.items[i]!;
      if (keyText(p.key) === key) return p;
    }
    return undefined;
  }

  /** The node at `path`, or the deepest ancestor that exists, with the pair holding it. */
  private walk(path: Path): { node: unknown; pair: Pair | undefined; complete: boolean } {
    const doc = this.document();
    let node: unknown = doc?.contents ?? null;
    let pair: Pair | undefined;
    for (const seg of path) {
      if (isAlias(node) && doc) node = node.resolve(doc);
      let next: unknown;
      let nextPair: Pair | undefined;
      if (isMap(node)) {
        nextPair = this.pairIn(node, String(seg));
        next = nextPair?.value;
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
    const empty =
      node === null || (isScalar(node) && (node as Node).range?.[0] === (node as Node).range?.[1]);
    const offset = empty && pair ? offsetOf(pair.key) : (offsetOf(node) ?? offsetOf(pair?.key));
    return this.position(offset ?? 0);
  }

  /** Where the key of the last path segment is written (for unknown keys); else as `value`. */
  key(path: Path): Position {
    const { pair, complete } = this.walk(path);
    if (complete && pair) return this.position(offsetOf(pair.key) ?? 0);
    return this.value(path);
  }
}
