// Writes schema/task-file.schema.json and schema/config.schema.json from the
// built zod schema (run `npm run build` first; `npm run schema` does both).
// tests/tasks/json-schema.test.ts fails when the checked-in files are stale.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaFiles } from '../dist/tasks/json-schema.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'schema');
mkdirSync(outDir, { recursive: true });
for (const [name, text] of Object.entries(schemaFiles())) {
  writeFileSync(join(outDir, name), text);
  console.log(`wrote schema/${name}`);
}
