#!/usr/bin/env node
// The published package ships dist/, so installing it runs no script; a clone
// has none until `npm run build`. Say so in one line rather than a stack trace.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/bundle/main.js', import.meta.url);
if (existsSync(main)) {
  await import(main.href);
} else {
  const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
  process.stderr.write(
    `bearing: not built yet; run \`npm run build\` in ${root}, then run this again\n`,
  );
  process.exitCode = 1;
}
