import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { which } from '../../src/process/which.js';
import { makeTempDir, writeScript } from './support.js';

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});

afterEach(() => cleanup());

describe('which', () => {
  it('finds a command in the first PATH entry that has it', () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    mkdirSync(a);
    mkdirSync(b);
    writeScript(b, 'agent', '#!/bin/sh\n', 0o755);
    writeScript(a, 'agent', '#!/bin/sh\n', 0o755);
    expect(which('agent', { PATH: `${join(dir, 'none')}:${b}:${a}` })).toBe(join(b, 'agent'));
  });

  it('skips files without the execute bit and directories', () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    mkdirSync(a);
    mkdirSync(join(a, 'agent'));
    mkdirSync(b);
    writeScript(b, 'agent', '#!/bin/sh\n', 0o644);
    expect(which('agent', { PATH: `${a}:${b}` })).toBeUndefined();
  });

  it('uses the env it is given, not process.env', () => {
    expect(which('sh', { PATH: '/usr/bin:/bin' })).toMatch(/\/sh$/);
    expect(which('sh', { PATH: dir })).toBeUndefined();
  });

  it('does not search PATH for absolute and relative paths', () => {
    const file = writeScript(dir, 'tool', '#!/bin/sh\n', 0o755);
    expect(which(file, { PATH: '' })).toBe(file);
    expect(which('./tool', { PATH: '/usr/bin:/bin' }, dir)).toBe(file);
    expect(which('./tool', { PATH: dir }, join(dir, '..'))).toBeUndefined();
    expect(which(join(dir, 'missing'), { PATH: dir })).toBeUndefined();
  });

  it('returns undefined for an empty command', () => {
    expect(which('', { PATH: '/usr/bin:/bin' })).toBeUndefined();
  });
});
