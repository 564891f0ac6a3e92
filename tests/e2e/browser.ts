/**
 * A real headless Chromium for the dashboard's browser test: Debian's package
 * (`apt-get install -y chromium`), driven by playwright-core, which downloads
 * no browser. `.ci/run` installs it when it is missing, so in CI (CI set) its
 * absence fails the test; on a developer's machine without it the test is
 * skipped with a message saying how to run it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser test cannot run here, or undefined when it can (or must, in CI). */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM) || process.env.CI) return undefined;
  return `${CHROMIUM} is not installed: the dashboard's browser test is skipped (install it with \`apt-get install -y chromium\`; in CI, with CI set, it fails instead)`;
}

/** A fresh browser with its own profile folder, removed by `close()`. */
export async function launchChromium(): Promise<{
  context: BrowserContext;
  close(): Promise<void>;
}> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'bearing-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
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
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
