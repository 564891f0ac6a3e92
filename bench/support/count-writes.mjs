// Preloaded into a `bearing run` by bench/state-writes.js (node --import):
// counts the bytes Bearing writes to its state files and to status.md, by
// wrapping node:fs's synchronous writes (the only ones those files get)
// before Bearing's modules bind to them, and prints the totals to the file
// named by BEARING_BENCH_WRITES when the process exits.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { basename, dirname } from 'node:path';

const out = process.env.BEARING_BENCH_WRITES;
const totals = { state: 0, status: 0, stateWrites: 0, statusWrites: 0 };
const fdPaths = new Map();

/** Which counted file a path is: a temporary file counts as its target. */
function kind(path) {
  if (typeof path !== 'string') return undefined;
  const name = basename(path).replace(/^\.(.*)\.\d+\.\d+\.[0-9a-f]+\.tmp$/, '$1');
  if (basename(dirname(path)) === '.state' && /^(state\.json|journal\.jsonl)$/.test(name)) {
    return 'state';
  }
  // status.md, and a large plan's per-task files (bearing/status/<id>.md).
  if (name === 'status.md' || basename(dirname(path)) === 'status') return 'status';
  return undefined;
}

function count(target, data, length) {
  const k = typeof target === 'number' ? fdPaths.get(target) : kind(String(target));
  if (!k) return;
  const bytes =
    length ?? (typeof data === 'string' ? Buffer.byteLength(data) : (data?.byteLength ?? 0));
  totals[k] += bytes;
  totals[`${k}Writes`]++;
}

const { openSync, closeSync, writeSync, writeFileSync } = fs;
fs.openSync = function (path, ...rest) {
  const fd = openSync.call(this, path, ...rest);
  const k = kind(String(path));
  if (k) fdPaths.set(fd, k);
  else fdPaths.delete(fd);
  return fd;
};
fs.closeSync = function (fd) {
  fdPaths.delete(fd);
  return closeSync.call(this, fd);
};
/** Inside writeFileSync, which may or may not call fs.writeSync: counted once, there. */
let inWriteFile = false;
fs.writeSync = function (fd, data, ...rest) {
  const written = writeSync.call(this, fd, data, ...rest);
  if (!inWriteFile) count(fd, data, written);
  return written;
};
fs.writeFileSync = function (target, data, ...rest) {
  inWriteFile = true;
  try {
    writeFileSync.call(this, target, data, ...rest);
  } finally {
    inWriteFile = false;
  }
  count(target, data);
};
syncBuiltinESMExports();

process.on('exit', () => {
  if (out) writeFileSync(out, JSON.stringify(totals));
});
