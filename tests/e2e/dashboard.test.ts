/**
 * `bearing ui` over HTTP, without a browser: who gets in (the token, the
 * Host, the Origin of an action), and what the command says about a bad or
 * taken port. tests/e2e/dashboard-browser.test.ts drives the page itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputText, send, startUi } from './dashboard-support.js';
import { Project, tasksYaml, useRig, waitFor } from './rig.js';

useRig();

async function pausedProject(): Promise<Project> {
  const p = await Project.create({
    'bearing/tasks/t.yaml': tasksYaml([
      { id: 'look', cli: 'shell', run: 'echo looked', checkpoint: 'pause' },
      { id: 'then', cli: 'shell', run: 'echo then', depends_on: ['look'] },
    ]),
  });
  expect((await p.run(['run'])).code).toBe(3);
  expect(p.task('look').status).toBe('awaiting-review');
  return p;
}

describe('bearing ui: access', () => {
  it('answers 403 to every request without the token, or with a wrong one', async () => {
    const p = await pausedProject();
    const ui = await startUi(p);
    const paths = [
      '/',
      '/assets/app.js',
      '/assets/style.css',
      '/assets/dagre.js',
      '/api/view',
      '/api/events',
      '/api/tasks/look',
      '/api/tasks/look/log',
      '/no/such/page',
    ];
    for (const path of paths) {
      const bare = await send(`${ui.origin}${path}`);
      expect([path, bare.status]).toEqual([path, 403]);
      expect(bare.body).not.toContain('look');
      const wrong = await send(`${ui.origin}${path}?token=${ui.token.slice(0, -1)}x`);
      expect([path, wrong.status]).toEqual([path, 403]);
      const cookie = await send(`${ui.origin}${path}`, {
        headers: { cookie: `bearing_ui_${ui.port}=nope` },
      });
      expect([path, cookie.status]).toEqual([path, 403]);
    }
    for (const action of ['approve', 'retry']) {
      const post = await send(`${ui.origin}/api/tasks/look/${action}`, {
        method: 'POST',
        headers: { origin: ui.origin },
      });
      expect(post.status).toBe(403);
    }
    expect(p.task('look').status).toBe('awaiting-review');
  });

  it('lets the token in from the URL, then by the cookie it sets', async () => {
    const p = await pausedProject();
    const ui = await startUi(p);
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
    const page = await send(ui.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script type="module" src="/assets/app.js">');
    const setCookie = String(page.headers['set-cookie']);
    expect(setCookie).toBe(`bearing_ui_${ui.port}=${ui.token}; Path=/; HttpOnly; SameSite=Strict`);
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const cookie = { cookie: `other=1; bearing_ui_${ui.port}=${ui.token}` };
    const view = await send(`${ui.origin}/api/view`, { headers: cookie });
    expect(view.status).toBe(200);
    expect(JSON.parse(view.body)).toMatchObject({
      run: { active: false },
      tasks: [
        { id: 'look', status: 'awaiting-review', actions: { approve: null } },
        { id: 'then', status: 'queued' },
      ],
      edges: [{ from: 'look', to: 'then' }],
    });
    const dagre = await send(`${ui.origin}/assets/dagre.js`, { headers: cookie });
    expect(dagre.status).toBe(200);
    expect(dagre.body).toContain('export{');
    const events = await send(`${ui.origin}/api/events`, { headers: cookie });
    expect(events.status).toBe(200);
    expect(events.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  });

  it('refuses a Host other than 127.0.0.1 or localhost at its port (DNS rebinding)', async () => {
    const p = await pausedProject();
    const ui = await startUi(p);
    const token = { 'x-bearing-token': ui.token };
    for (const host of [`evil.example:${ui.port}`, `127.0.0.1:${ui.port + 1}`, 'localhost']) {
      const reply = await send(`${ui.origin}/api/view`, { headers: { ...token, host } });
      expect([host, reply.status]).toEqual([host, 403]);
    }
    const local = await send(`${ui.origin}/api/view`, {
      headers: { ...token, host: `localhost:${ui.port}` },
    });
    expect(local.status).toBe(200);
  });

  it('takes an action only from its own origin; the action is what `bearing approve` does', async () => {
    const p = await pausedProject();
    const ui = await startUi(p);
    const token = { 'x-bearing-token': ui.token };
    const url = `${ui.origin}/api/tasks/look/approve`;
    for (const origin of ['http://evil.example', `http://127.0.0.1:${ui.port + 1}`, 'null']) {
      const reply = await send(url, { method: 'POST', headers: { ...token, origin } });
      expect([origin, reply.status]).toEqual([origin, 403]);
    }
    const crossSite = await send(url, {
      method: 'POST',
      headers: { ...token, 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
    expect(p.task('look').status).toBe('awaiting-review');

    const refused = await send(`${ui.origin}/api/tasks/then/approve`, {
      method: 'POST',
      headers: { ...token, origin: ui.origin },
    });
    expect(refused.status).toBe(409);
    expect(JSON.parse(refused.body)).toMatchObject({
      kind: 'refused',
      message:
        'then is queued; only tasks awaiting review, needing review, failed or stale can be approved',
    });
    const unknown = await send(`${ui.origin}/api/tasks/nope/retry`, {
      method: 'POST',
      headers: { ...token, origin: ui.origin },
    });
    expect(unknown.status).toBe(404);

    const approved = await send(url, { method: 'POST', headers: { ...token, origin: ui.origin } });
    expect(approved.status).toBe(200);
    expect(JSON.parse(approved.body)).toEqual({
      id: 'look',
      action: 'approve',
      kind: 'applied',
      message: 'look approved; its dependents can run',
      followUp: 'Run `bearing run` to continue.',
    });
    expect(p.task('look').status).toBe('completed');
    expect(p.statusMd()).toContain('Ready to run: `then`');

    const retried = await send(`${ui.origin}/api/tasks/look/retry`, {
      method: 'POST',
      headers: { ...token, origin: `http://localhost:${ui.port}` },
    });
    expect(retried.status).toBe(200);
    expect(JSON.parse(retried.body)).toMatchObject({
      kind: 'applied',
      message: 'look queued to run again',
    });
    expect(p.task('look').status).toBe('queued');
  });
});

describe('bearing ui: the port', () => {
  it('rejects a port that is not one, with exit code 2', async () => {
    const p = await Project.create({ 'bearing/tasks/t.yaml': tasksYaml([{ id: 'a' }]) });
    for (const port of ['http', '65536', '-1']) {
      const r = await p.run(['ui', '--port', port]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `bearing ui: --port: expected a port number from 0 to 65535 (0: a free one), got "${port}"\n`,
      );
    }
  });

  it('says so when the port is taken, with exit code 1', async () => {
    const p = await Project.create({ 'bearing/tasks/t.yaml': tasksYaml([{ id: 'a' }]) });
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await p.run(['ui', '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `bearing ui: port ${port} on 127.0.0.1 is in use; choose another with --port, or --port 0 for a free one\n`,
      );
    } finally {
      taken.close();
    }
  });

  it('listens on the port asked for, on 127.0.0.1 only', async () => {
    const p = await Project.create({ 'bearing/tasks/t.yaml': tasksYaml([{ id: 'a' }]) });
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const ui = await startUi(p, ['--port', String(port)]);
    expect(ui.origin).toBe(`http://127.0.0.1:${port}`);
  });
});

describe('bearing ui: actions during a run', () => {
  it('hands approve to the active run, as `bearing approve` does, and the run applies it', async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([
        { id: 'look', cli: 'shell', run: 'echo looked', checkpoint: 'pause' },
        { id: 'hold', cli: 'shell', run: 'while [ ! -f release ]; do sleep 0.05; done' },
      ]),
    });
    const ui = await startUi(p);
    const run = p.start(['run', '--concurrency', '2', '--isolation', 'none']);
    // state.json is written atomically, but not before the run's first save.
    const statusOf = (id: string) =>
      existsSync(p.path('bearing/.state/state.json')) ? p.state().tasks[id]?.status : undefined;
    await waitFor(
      () => statusOf('look') === 'awaiting-review' && statusOf('hold') === 'running',
      'look paused while hold runs',
    );
    const reply = await send(`${ui.origin}/api/tasks/look/approve`, {
      method: 'POST',
      headers: { 'x-bearing-token': ui.token, origin: ui.origin },
    });
    expect(reply.status).toBe(202);
    expect(JSON.parse(reply.body)).toMatchObject({
      kind: 'queued-for-run',
      message: `a run is active (pid ${run.pid}); it will approve look at its next step`,
    });
    await waitFor(() => p.task('look').status === 'completed', 'the run to apply the approval');
    p.write('release', '');
    expect((await run.done).code).toBe(0);
  });
});

describe('bearing ui: output', () => {
  it('shows an agent attempt as its transcript, as `bearing log` does, and its events with ?raw=1', async () => {
    const p = await Project.create(
      { 'bearing/tasks/t.yaml': tasksYaml([{ id: 'db', prompt: '[[db]]' }]) },
      {
        scenarios: [
          {
            match: '[[db]]',
            summary: 'Schema written.\nTests pass.',
            writeFiles: { 'src/db.js': 'export {};\n' },
            failCommands: [{ command: 'npm test', output: '1 test failed' }],
          },
        ],
      },
    );
    expect((await p.run(['run'])).code).toBe(0);
    const ui = await startUi(p);
    const headers = { cookie: `bearing_ui_${ui.port}=${ui.token}` };
    const shown = await send(`${ui.origin}/api/tasks/db/log`, {
      headers,
      until: (body) => outputText(body).includes('✓ result'),
    });
    expect(outputText(shown.body)).toBe(`${(await p.run(['log', 'db'])).stdout}`);
    const raw = await send(`${ui.origin}/api/tasks/db/log?raw=1`, {
      headers,
      until: (body) => outputText(body).includes('"type":"result"'),
    });
    expect(outputText(raw.body)).toBe(
      readFileSync(join(p.attemptDir('db', 1), 'stdout.log'), 'utf8'),
    );
  });
});
