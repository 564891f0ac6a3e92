/**
 * The dashboard in a real headless Chromium: the page loads and draws the
 * graph, follows a real `bearing run` (shell tasks, one waiting for a file
 * the test creates) without a reload, and its Approve button approves a
 * paused task in state.json. tests/e2e/browser.ts says when it is skipped.
 */
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { browserSkipReason, launchChromium } from './browser.js';
import { startUi } from './dashboard-support.js';
import { Project, tasksYaml, useRig, waitFor } from './rig.js';

useRig();

const skip = browserSkipReason();
if (skip) console.warn(skip);

let closeBrowser: (() => Promise<void>) | undefined;
afterEach(async () => {
  await closeBrowser?.();
  closeBrowser = undefined;
});

async function openPage(url: string): Promise<Page> {
  const browser = await launchChromium();
  closeBrowser = browser.close;
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  expect(errors).toEqual([]);
  return page;
}

function node(page: Page, id: string, status: string) {
  return page.waitForSelector(`.node[data-id="${id}"][data-status="${status}"]`, {
    timeout: 30_000,
  });
}

describe.skipIf(skip !== undefined)('bearing ui in a browser', () => {
  it('draws the graph, follows a run live, and approves from the button', {
    timeout: 120_000,
  }, async () => {
    const p = await Project.create({
      'bearing/tasks/t.yaml': tasksYaml([
        {
          id: 'build',
          cli: 'shell',
          run: 'echo waiting for release; while [ ! -f release ]; do sleep 0.05; done; echo released',
        },
        {
          id: 'check',
          cli: 'shell',
          run: 'echo checked',
          checkpoint: 'pause',
          depends_on: ['build'],
        },
        { id: 'ship', cli: 'shell', run: 'echo shipped', depends_on: ['check'] },
      ]),
    });
    const ui = await startUi(p);
    const page = await openPage(ui.url);

    // The graph: three tasks, two edges, laid out left to right.
    await node(page, 'build', 'queued');
    expect(await page.locator('.node').count()).toBe(3);
    expect(await page.locator('path.edge').count()).toBe(2);
    const x = async (id: string) => (await page.locator(`.node[data-id="${id}"]`).boundingBox())!.x;
    expect(await x('build')).toBeLessThan(await x('check'));
    expect(await x('check')).toBeLessThan(await x('ship'));
    // The token left the address bar; the cookie carries it.
    expect(new URL(page.url()).search).toBe('');
    // Everything after this comes over the event stream: the page is never reloaded.
    await page.evaluate('window.loadedOnce = true');

    const run = p.start(['run']);
    await node(page, 'build', 'running');
    await page.waitForSelector('#run.active');
    // The running task's output, live.
    await page.click('.node[data-id="build"]');
    // A locator, not a string predicate: the page's CSP allows no eval.
    await page.locator('#log', { hasText: 'waiting for release' }).waitFor();
    p.write('release', '');
    await node(page, 'build', 'completed');
    await node(page, 'check', 'awaiting-review');
    expect((await run.done).code).toBe(3);
    await page.waitForSelector('#run:not(.active)');
    expect(await page.textContent('#progress')).toContain('1/3 completed');
    // Every status a task has is counted: the paused one, the one waiting on it.
    expect(await page.textContent('#count-awaiting_review')).toBe('awaiting review1');
    expect(await page.textContent('#count-queued')).toBe('queued1');
    expect(await page.textContent('#count-failed')).toBe('failed0');

    // Approve from the button: the same path as `bearing approve`, with no run going.
    await page.click('.node[data-id="check"]');
    const approve = page.locator('#approve-button');
    await approve.waitFor();
    await page.waitForSelector('#detail-status[data-status="awaiting-review"]');
    expect(await approve.isEnabled()).toBe(true);
    await approve.click();
    await waitFor(() => p.task('check').status === 'completed', 'check approved in state.json');
    await node(page, 'check', 'completed');
    await page.waitForSelector('#approve-button:disabled');
    expect(await page.textContent('#toast')).toContain('check approved; its dependents can run');
    expect(await page.textContent('#next')).toContain('Ready to run: `ship`');
    expect(await page.evaluate('window.loadedOnce')).toBe(true);
  });
});
