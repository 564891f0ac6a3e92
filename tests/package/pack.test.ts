/**
 * The published package, as a user gets it: `npm pack` (its `prepack` builds)
 * in a copy of this repository where the quick start has already run, then
 * `npm install <tarball>` into a fresh prefix, then the installed `bearing`
 * with the fake claude on PATH. The copy keeps the repository's own dist/
 * untouched while other tests run its bin.
 *
 * npm resolves the dependencies from its cache (`--prefer-offline`), or from
 * the registry the first time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runWith, sandbox } from '../start/support.js';

const NPM_TIMEOUT_MS = 120_000;

let work: string;
let tarball: string;
let packed: string[];
let install: { status: number | null; stdout: string; stderr: string };
let prefix: string;
let unbuilt: { code: number | null; stdout: string; stderr: string };
let cloneDir: string;

/** Temp dirs live for the whole file (the install is shared), removed after it. */
const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

function gitFiles(args: string[]): string[] {
  return execFileSync('git', ['ls-files', '-z', ...args], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '' && existsSync(join(ROOT, f)));
}

/** The examples as git tracks them: what a fresh clone has before the quick start runs. */
const trackedExamples = () => gitFiles(['--cached', '--', 'examples/']);

/**
 * The repository as a clone has it, plus files not yet committed (not ignored),
 * except under examples/, where untracked files are a run's outputs.
 */
function cloneFiles(): string[] {
  const untracked = gitFiles(['--others', '--exclude-standard']).filter(
    (f) => !f.startsWith('examples/'),
  );
  return [...gitFiles(['--cached']), ...untracked];
}

function npm(args: string[], cwd: string) {
  const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--no-update-notifier'], {
    cwd,
    encoding: 'utf8',
    timeout: NPM_TIMEOUT_MS,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  work = tempDir('bearing-pack-');
  const clone = join(work, 'clone');
  cloneDir = clone;
  for (const f of cloneFiles()) {
    mkdirSync(dirname(join(clone, f)), { recursive: true });
    cpSync(join(ROOT, f), join(clone, f));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  // The README's set-up, in the clone (its node_modules stand in for `npm ci`):
  // first the bin before the build, then `npm run build` and the quick start.
  const bin = join(clone, 'bin', 'bearing.js');
  const env = { ...process.env, NO_COLOR: '1' } as Record<string, string>;
  unbuilt = await runWith(process.execPath, [bin, 'run', 'examples/quickstart'], {
    cwd: clone,
    env,
  });
  const build = npm(['run', 'build'], clone);
  expect(build.status, build.stderr).toBe(0);
  const quick = await runWith(process.execPath, [bin, 'run', 'examples/quickstart'], {
    cwd: clone,
    env,
  });
  expect(quick.code, quick.stderr).toBe(0);
  expect(existsSync(join(clone, 'examples/quickstart/site/index.html'))).toBe(true);

  const dest = join(work, 'pack');
  mkdirSync(dest);
  const pack = npm(['pack', '--pack-destination', dest], clone);
  expect(pack.status, pack.stderr).toBe(0);
  tarball = join(dest, 'bearing-0.1.0.tgz');
  packed = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '' && !l.endsWith('/'))
    .map((l) => l.replace(/^package\//, ''));

  prefix = join(work, 'prefix');
  mkdirSync(prefix);
  install = npm(['install', '--prefix', prefix, '--prefer-offline', tarball], work);
}, 4 * NPM_TIMEOUT_MS);

afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('a clone', () => {
  it('before `npm run build`, the bin says to build, in one line', () => {
    expect(unbuilt.stdout).toBe('');
    expect(unbuilt.stderr).toBe(
      `bearing: not built yet; run \`npm run build\` in ${cloneDir}, then run this again\n`,
    );
    expect(unbuilt.code).toBe(1);
  });
});

describe('npm pack', () => {
  it('ships the licence the package names', () => {
    expect(packed).toContain('LICENSE');
    const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(text).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} the Bearing authors\n/);
    expect(text).toMatch(/THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND/);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).license).toBe('MIT');
  });

  it('ships the examples as a clone has them, not what running the quick start made', () => {
    // npm never packs .gitignore files.
    const tracked = trackedExamples().filter((f) => !f.endsWith('.gitignore'));
    expect(packed.filter((f) => f.startsWith('examples/')).sort()).toEqual(tracked.sort());
  });

  it('ships the built CLI, built by prepack in the copy', () => {
    expect(packed).toContain('dist/bundle/main.js');
    expect(packed).toContain('dist/cli/main.js');
    expect(packed.filter((f) => f.startsWith('src/') || f.startsWith('tests/'))).toEqual([]);
  });

  it("ships the dashboard's page as it is written, and its layout library comes with the install", () => {
    expect(packed.filter((f) => f.startsWith('web/')).sort()).toEqual([
      'web/app.js',
      'web/index.html',
      'web/style.css',
    ]);
    expect(install.status, install.stderr).toBe(0);
    expect(existsSync(join(prefix, 'node_modules/@dagrejs/dagre/dist/dagre.esm.js'))).toBe(true);
  });
});

describe('npm install <tarball>', () => {
  it('runs no script; the one dependency that has one needs it not', () => {
    expect(install.status, install.stderr).toBe(0);
    // BullMQ's msgpack (queue mode) optionally builds a native speed-up with
    // an install script; npm leaves it unrun, the prebuilt binary comes as a
    // package of its own, and the pure-JS fallback works without either.
    // Any other package asking to run a script fails this test.
    const asking = [...install.stderr.matchAll(/^npm warn install-scripts {3}(\S+)@/gm)].map(
      (m) => m[1],
    );
    expect(asking).toEqual(install.stderr.includes('install-scripts') ? ['msgpackr-extract'] : []);
    const pkg = JSON.parse(readFileSync(join(prefix, 'node_modules/bearing/package.json'), 'utf8'));
    for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) {
      expect(pkg.scripts?.[s], s).toBeUndefined();
    }
  });

  it('gives a bearing that inits, validates and runs the quick start, and starts a planner', async () => {
    expect(install.status, install.stderr).toBe(0);
    const bin = join(prefix, 'node_modules/.bin');
    // The fake claude first; the system's folders after, for the quick start's shell tasks.
    const sb = sandbox({ extraPath: [bin] });
    const env = { ...sb.env, PATH: `${sb.env.PATH}:/usr/bin:/bin` };
    const bearing = (args: string[], cwd: string) =>
      runWith(join(bin, 'bearing'), args, { cwd, env });

    // `npx bearing` from the prefix finds the installed bin.
    const npx = await runWith('npx', ['--no-install', 'bearing', '--version'], {
      cwd: prefix,
      env: { ...process.env, NO_COLOR: '1' } as Record<string, string>,
    });
    expect(npx.stderr).toBe('');
    expect(npx.stdout).toBe('0.1.0\n');
    expect(npx.code).toBe(0);

    const project = tempDir('bearing-pack-project-');
    const init = await bearing(['init'], project);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    // The $schema line leads into the project, not into the install.
    expect(readFileSync(join(project, 'bearing/tasks/example.yaml'), 'utf8')).toMatch(
      /^# yaml-language-server: \$schema=\.\.\/\.schema\/task-file\.schema\.json\n/,
    );
    const validate = await bearing(['validate'], project);
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);

    const quick = join(tempDir('bearing-pack-quick-'), 'quickstart');
    cpSync(join(prefix, 'node_modules/bearing/examples/quickstart'), quick, { recursive: true });
    expect((await bearing(['validate', quick], project)).code).toBe(0);
    const run = await bearing(['run', quick], project);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(readFileSync(join(quick, 'site/about.html'), 'utf8')).toMatch(/<h1>About<\/h1>/);

    // From a subfolder: start finds bearing/ above it.
    const sub = join(project, 'src');
    mkdirSync(sub);
    const start = await bearing(['start', '--cli', 'claude', '--model', 'opus'], sub);
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toMatch(/^fake claude: interactive session \(model opus/);
    expect(start.stderr).toMatch(
      new RegExp(`^Starting the planner: claude \\(opus\\) in ${project}\\.`),
    );
  }, 60_000);
});
