#!/usr/bin/env node
// Takes docs/dashboard.png, the README's picture of `bearing ui`: a small
// plan run by the fake claude of tests/fixtures (costs, a failure, a paused
// task, one still running), shown in Debian's headless chromium.
// Usage: npm run build && node scripts/dashboard-screenshot.js [out.png]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(repo, 'docs', 'dashboard.png'));
const work = mkdtempSync(join(tmpdir(), 'bearing-shot-'));
const project = join(work, 'shop');
const home = join(work, 'home');
mkdirSync(join(project, 'bearing', 'tasks'), { recursive: true });
mkdirSync(home);

const task = (id, prompt, extra = {}) => ({ id, prompt: `${prompt} [[${id}]]`, ...extra });
const tasks = [
  task('db-schema', 'Create the SQLite schema for users, products and orders in db/schema.sql.', {
    name: 'Database schema',
  }),
  task('api-routes', 'Add REST routes for products and orders in src/api.js.', {
    name: 'REST API',
    depends_on: ['db-schema'],
  }),
  task('auth', 'Add session login with bcrypt-hashed passwords in src/auth.js.', {
    name: 'Login',
    depends_on: ['db-schema'],
    retries: 0,
  }),
  task('frontend', 'Build the product list and cart pages in web/.', {
    name: 'Shop pages',
    depends_on: ['api-routes'],
  }),
  task('docs', 'Document the API in docs/api.md.', {
    name: 'API docs',
    depends_on: ['api-routes'],
    checkpoint: 'pause',
  }),
  task('e2e-tests', 'Write end-to-end tests for login and checkout.', {
    name: 'End-to-end tests',
    depends_on: ['frontend', 'auth'],
  }),
];
writeFileSync(
  join(project, 'bearing', 'tasks', 'shop.yaml'),
  `${JSON.stringify({ defaults: { cli: 'claude', model: 'sonnet' }, tasks }, null, 2)}\n`,
);
const scenarios = [
  {
    match: '[[db-schema]]',
    costUsd: 0.4213,
    summary:
      'Created db/schema.sql with users, products and orders (foreign keys, indexes on email and order date).',
    writeFiles: { 'db/schema.sql': 'create table users (id integer primary key);\n' },
  },
  {
    match: '[[api-routes]]',
    costUsd: 0.8731,
    summary:
      'Added GET/POST /products and /orders in src/api.js, validated with zod; 14 tests pass.',
    writeFiles: { 'src/api.js': 'export {};\n' },
  },
  { match: '[[auth]]', outcome: 'max-budget', costUsd: 1.5 },
  {
    match: '[[docs]]',
    costUsd: 0.1562,
    summary: 'Wrote docs/api.md.',
    writeFiles: { 'docs/api.md': '# API\n' },
  },
  { match: '[[frontend]]', delayMs: 600_000 },
];
writeFileSync(join(home, 'script.json'), JSON.stringify(scenarios));
execFileSync('git', ['init', '-q'], { cwd: project });
execFileSync('git', ['add', '-A'], { cwd: project });
execFileSync(
  'git',
  ['-c', 'user.name=demo', '-c', 'user.email=demo@example.com', 'commit', '-qm', 'plan'],
  {
    cwd: project,
  },
);

const env = {
  PATH: [
    join(repo, 'tests', 'fixtures', 'bin'),
    dirname(process.execPath),
    '/usr/bin',
    '/bin',
  ].join(':'),
  HOME: home,
  BEARING_FAKE_SCRIPT: join(home, 'script.json'),
  NO_COLOR: '1',
};
const bin = join(repo, 'bin', 'bearing.js');
const children = [];
const start = (args) => {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: project,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return child;
};

try {
  const ui = start(['ui']);
  const url = await new Promise((resolveUrl) => {
    let text = '';
    ui.stdout.on('data', (d) => {
      text += d;
      const m = /(http:\S+)/.exec(text);
      if (m) resolveUrl(m[1]);
    });
  });
  start(['run', '--concurrency', '2']);
  const profile = mkdtempSync(join(tmpdir(), 'bearing-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 880 },
    deviceScaleFactor: 1,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector('.node[data-id="docs"][data-status="awaiting-review"]', {
    timeout: 60_000,
  });
  await page.waitForSelector('.node[data-id="frontend"][data-status="running"]');
  await page.click('.node[data-id="auth"]');
  await page.waitForSelector('#detail .prompt');
  await delay(1500);
  await page.screenshot({ path: out });
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
  console.log(`wrote ${out}`);
} finally {
  for (const child of children) child.kill('SIGINT');
  // The run ends its agent on SIGINT, as on Ctrl-C.
  await Promise.all(children.map((child) => new Promise((done) => child.on('close', done))));
  rmSync(work, { recursive: true, force: true });
}
