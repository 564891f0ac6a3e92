/**
 * Checking an agent's hand-off against what it did. Agents claim work they
 * did not do; two claims can be checked without understanding the work:
 *
 * - "done" from a task expected to change files (`expect_changes`) that
 *   changed none: transitions.ts makes it `needs-review`;
 * - file names in its summary: a path it names that it did not change and
 *   that does not exist is flagged in status.md and in its dependents' PRIOR
 *   context (`unknownFiles`).
 *
 * What counts as a file name in a summary (few false alarms matter more than
 * catching every claim: a flag that cries wolf is soon ignored):
 *
 * - a token, split at white space and stripped of the quotes, brackets and
 *   punctuation around it (backticks included), made of path characters only
 *   (letters, digits, `_ . - / @ +`);
 * - that contains a `/` and ends in a known file extension (`src/db.ts`),
 *   or contains a `/` and starts with a folder that exists in the project
 *   (`src/routes`): `and/or` or `text/plain` in prose is not a path;
 * - and is not a URL, an option (`-x`), a glob (`*`), a scoped package
 *   (`@types/node`), outside the project (`../x`, `/etc/x`, `~/x`) or a
 *   version (`v1.2.3`).
 *
 * A bare name (`db.ts`, `Node.js`) is never checked: it may be any file of
 * that name anywhere in the project, and finding out would mean searching it.
 *
 * Such a name is fine when the task changed it (deleted files included), or
 * a file under it, or when it exists in the project. Anything else is "named
 * but nowhere".
 */

/** Extensions of files agents write about; a dotted word outside this list is not taken for a file. */
const KNOWN_EXTENSIONS: ReadonlySet<string> = new Set(
  (
    'ts tsx mts cts js jsx mjs cjs json jsonc md mdx txt rst py pyi ipynb go rs java kt kts scala rb php c h cc cpp cxx hpp hh cs fs swift m mm ' +
    'sh bash zsh fish ps1 bat yaml yml toml ini cfg conf env lock sql prisma graphql gql proto css scss sass less html htm vue svelte astro ' +
    'xml svg csv tsv dart ex exs erl hrl hs ml mli clj cljs lua r jl zig nim tf hcl gradle cmake mk dockerfile'
  ).split(' '),
);

/** Characters a path token may hold once stripped. */
const PATH_TOKEN = /^[\w.@+/-]+$/;
/** What may surround a token in prose or markdown. */
const WRAPPING = /^[`'"([{<*_]+|[`'")\]}>*_.,:;!?]+$/g;

/**
 * The paths a summary names, relative to the project root, each once, in
 * order of appearance. `isDir` answers whether a top-level folder of the
 * project exists (for names without an extension).
 */
export function pathsInSummary(summary: string, isDir: (name: string) => boolean): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of summary.split(/\s+/)) {
    if (!raw) continue;
    let token = raw.replace(WRAPPING, '');
    // `src/a.ts:12` or `src/a.ts:12:5`: a place in a file.
    token = token.replace(/(?::\d+)+$/, '');
    if (token.startsWith('./')) token = token.slice(2);
    if (token.endsWith('/')) token = token.slice(0, -1);
    if (!token || seen.has(token) || !PATH_TOKEN.test(token)) continue;
    if (!isPathLike(token, isDir)) continue;
    seen.add(token);
    out.push(token);
  }
  return out;
}

function isPathLike(token: string, isDir: (name: string) => boolean): boolean {
  if (!token.includes('/')) return false;
  if (token.startsWith('-') || token.startsWith('@') || token.startsWith('/')) return false;
  if (token.includes('//') || token.split('/').some((part) => part === '..' || part === '')) {
    return false;
  }
  if (/^v?\d+(\.\d+)+/.test(token)) return false;
  const last = token.slice(token.lastIndexOf('/') + 1);
  const dot = last.lastIndexOf('.');
  const extension = dot > 0 ? last.slice(dot + 1).toLowerCase() : '';
  const known = KNOWN_EXTENSIONS.has(extension) || /^dockerfile$|^makefile$/i.test(last);
  return known || isDir(token.slice(0, token.indexOf('/')));
}

/**
 * The paths a summary names that the attempt did not change and that are
 * nowhere in the project. `exists` answers for a path relative to the root
 * (where the agent worked: the project folder, or its worktree).
 */
export function unknownFiles(
  summary: string,
  changed: readonly string[],
  exists: (path: string) => boolean,
  isDir: (name: string) => boolean,
): string[] {
  return notChanged(
    pathsInSummary(summary, isDir).filter((path) => !exists(path)),
    changed,
  );
}

/** The paths that are not among `changed`, nor a folder of one of them. */
export function notChanged(paths: readonly string[], changed: readonly string[]): string[] {
  const changedSet = new Set(changed);
  return paths.filter(
    (path) =>
      !changedSet.has(path) &&
      // A changed folder: a file under it changed.
      !changed.some((f) => f.startsWith(`${path}/`)),
  );
}
