/**
 * `bearing run` in a real terminal (tmux; skipped where it is missing): what
 * the screen shows after Ctrl-C, live line and all.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, NODE, Project, taskYaml, tempDir, useRig, waitFor } from './rig.js';

useRig();

const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const sockets: string[] = [];

/** tmux on a socket of its own, with no user configuration but ours. */
function tmux(socket: string, conf: string, ...args: string[]): string {
  const r = spawnSync('tmux', ['-S', socket, '-f', conf, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

afterEach(() => {
  for (const s of sockets.splice(0)) spawnSync('tmux', ['-S', s, 'kill-server']);
});

/** `bearing run` in a fresh tmux pane of 160x30 that stays after it exits; returns its screen reader. */
function runInTmux(p: Project): { screen: () => string; dead: () => boolean } {
  const dir = tempDir('bearing-tmux-');
  const socket = join(dir, 'sock');
  const conf = join(dir, 'tmux.conf');
  writeFileSync(conf, 'set -g remain-on-exit on\n');
  sockets.push(socket);
  const env = Object.entries({ ...p.env, TERM: 'xterm' }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  // tmux 3.3 gives the command the client's PATH whatever -e says: set it through env(1).
  tmux(
    socket,
    conf,
    'new-session',
    '-d',
    '-x',
    '160',
    '-y',
    '30',
    '-c',
    p.dir,
    ...env,
    '/usr/bin/env',
    `PATH=${p.env.PATH}`,
    NODE,
    BIN,
    'run',
  );
  return {
    screen: () => tmux(socket, conf, 'capture-pane', '-p', '-J'),
    dead: () => tmux(socket, conf, 'display-message', '-p', '#{pane_dead}').trim() === '1',
  };
}

describe.skipIf(!hasTmux)('bearing run at a terminal', () => {
  it('shows a line per running agent with its turns, tool and cost, and leaves none behind', async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': taskYaml({ id: 'db', prompt: '[[db]]' }),
    });
    const release = join(p.home, 'release');
    p.scenarios([{ match: '[[db]]', writeFiles: { 'src/db.js': 'x' }, releaseFile: release }]);
    const pane = runInTmux(p);
    await waitFor(
      () =>
        /^ {2}db \S+ · 1 turn · Write src\/db\.js · 12,409 tokens · ~\$0\.0111$/m.test(
          pane.screen(),
        )
          ? true
          : undefined,
      'the progress line',
      15_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; the screen:\n${pane.screen()}`);
    });
    expect(pane.screen()).toMatch(/… running db \S+ · ~\$0\.0111 so far · 0\/1 done/);
    writeFileSync(release, '');
    await waitFor(() => (pane.dead() ? true : undefined), 'bearing to exit', 15_000);
    const lines = pane.screen().split('\n');
    expect(lines.filter((l) => l.includes('1 turn ·') || l.includes('… running'))).toEqual([]);
    expect(lines.some((l) => /^ {2}db {2}\$0\.0234 · 1 attempt · /.test(l))).toBe(true);
  });

  it('Ctrl-C leaves no live line on the screen', async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': taskYaml({ id: 'slow', cli: 'shell', run: 'sleep 30' }),
    });
    const dir = tempDir('bearing-tmux-');
    const socket = join(dir, 'sock');
    const conf = join(dir, 'tmux.conf');
    // The pane stays after bearing exits, so its last screen can be read.
    writeFileSync(conf, 'set -g remain-on-exit on\n');
    sockets.push(socket);
    const env = Object.entries({ ...p.env, TERM: 'xterm' }).flatMap(([k, v]) => [
      '-e',
      `${k}=${v}`,
    ]);
    tmux(
      socket,
      conf,
      'new-session',
      '-d',
      '-x',
      '160',
      '-y',
      '30',
      '-c',
      p.dir,
      ...env,
      NODE,
      BIN,
      'run',
    );
    const screen = (): string => tmux(socket, conf, 'capture-pane', '-p');
    await waitFor(
      () => (/… running slow/.test(screen()) ? true : undefined),
      'the live line',
      15_000,
    );
    tmux(socket, conf, 'send-keys', 'C-c');
    await waitFor(
      () =>
        tmux(socket, conf, 'display-message', '-p', '#{pane_dead}').trim() === '1'
          ? true
          : undefined,
      'bearing to exit',
      15_000,
    );
    const lines = screen().split('\n');
    expect(lines.some((l) => l.includes('stopping every agent and saving state'))).toBe(true);
    expect(lines.some((l) => l.includes('Interrupted.'))).toBe(true);
    expect(lines.filter((l) => l.includes('running slow'))).toEqual([]);
  });
});
