// Before packing: remove dist/ so the tarball holds only what this build
// made, never the output of a source file that has since been deleted.
import { rmSync } from 'node:fs';

rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
