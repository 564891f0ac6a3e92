/**
 * What startup and the reading commands load, read from the built dist/ (and
 * the bundle of it that bin/bearing.js runs) as node would (static `import
 * ... from` edges only; `await import()` is what an action or a cache miss
 * loads later). Declaring every command for `--help` must not load the
 * libraries the actions need, and `bearing status` on an unchanged plan must
 * not load the YAML parser or zod: each costs more to import than the rest of
 * the command.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support.js';

const DIST = join(ROOT, 'dist');
const STATIC_IMPORT = /^(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]/gm;

/** Every package a module reaches through static imports, with the chain that reaches it. */
function packagesReached(entry: string): Map<string, string> {
  const seen = new Set<string>();
  const packages = new Map<string, string>();
  const walk = (file: string, chain: string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const here = [...chain, relative(DIST, file)];
    for (const m of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) walk(resolve(dirname(file), spec), here);
      else if (!spec.startsWith('node:') && !packages.has(spec)) {
        packages.set(spec, [...here, spec].join(' > '));
      }
    }
  };
  walk(join(DIST, entry), []);
  return packages;
}

const HEAVY = ['zod', 'yaml', 'execa', 'chokidar'];

describe.skipIf(!existsSync(DIST))('modules loaded up front', () => {
  it('startup (every command declared, as for --help) loads only commander', () => {
    // chalk is imported only for a terminal that shows colour (ui/output.ts).
    expect([...packagesReached('cli/main.js').keys()]).toEqual(['commander']);
  });

  it('the bundle bin/bearing.js runs has commander linked in and imports no package up front', () => {
    expect([...packagesReached('bundle/main.js').keys()]).toEqual([]);
    expect(readFileSync(join(DIST, 'bundle', 'main.js'), 'utf8')).toContain(
      'node_modules/commander/',
    );
  });

  it(`the bundle's chunk for status and summary loads none of ${HEAVY.join(', ')}`, () => {
    const chunks = readdirSync(join(DIST, 'bundle')).filter((f) => /^status-\w+\.js$/.test(f));
    expect(chunks).toHaveLength(1);
    const reached = packagesReached(`bundle/${chunks[0]}`);
    expect(HEAVY.filter((p) => reached.has(p)).map((p) => reached.get(p))).toEqual([]);
  });

  it.each(['run/snapshot.js', 'tasks/load.js', 'state/store.js'])(
    `%s loads none of ${HEAVY.join(', ')}`,
    (entry) => {
      const reached = packagesReached(entry);
      expect(HEAVY.filter((p) => reached.has(p)).map((p) => reached.get(p))).toEqual([]);
    },
  );

  it('`bearing run` loads the queue libraries (bullmq, ioredis) only in queue mode', () => {
    const reached = packagesReached('cli/commands/run.js');
    expect(['bullmq', 'ioredis'].filter((p) => reached.has(p)).map((p) => reached.get(p))).toEqual(
      [],
    );
  });
});
