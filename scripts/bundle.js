// After tsc: link dist/cli/main.js and what it imports into a few files in
// dist/bundle/, which bin/bearing.js runs. Node spends about a millisecond on
// each ES module it resolves, reads and links, and a reading command imports
// some thirty of ours and commander's CommonJS files: at 1,000 tasks that was
// a tenth of `bearing status`. `await import()` stays lazy (a chunk of its
// own), and the other packages stay in node_modules, as installed.
// dist/'s modules remain what the tests import.
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url);
const outdir = fileURLToPath(new URL('dist/bundle/', root));
const { dependencies } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

// Chunk names change with their content: a chunk of an earlier build must not linger.
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [fileURLToPath(new URL('dist/cli/main.js', root))],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // commander is the one package every command loads, and it is CommonJS:
  // linked in, its require() of Node's modules needs a require in scope.
  external: Object.keys(dependencies).filter((name) => name !== 'commander'),
  banner: {
    js: "import { createRequire as bearingCreateRequire } from 'node:module';\nconst require = bearingCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
