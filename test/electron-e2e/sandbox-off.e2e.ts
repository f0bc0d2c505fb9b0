import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ElectronApplication, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchApp, SCREENSHOTS } from './app-under-test.js';

// The real app started without Chromium's sandbox, as the AppImage launcher starts it where user
// namespaces are blocked (CI only, see app-under-test.ts): the window must say so, and offer only
// the browser for plex.tv sign-in. That main then shows no remote page is unit-tested.

let home: string;
let electronApp: ElectronApplication;
let page: Page;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-e2e-nosandbox-'));
  ({ electronApp, page } = await launchApp(home, { withoutSandbox: true }));
});

afterAll(async () => {
  await electronApp?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe("the desktop app without Chromium's sandbox", () => {
  it('says so in its window', async () => {
    expect(await page.evaluate(() => (window as unknown as { reclaim: { shell: unknown } }).reclaim.shell)).toEqual({ sandboxed: false });
    const warning = page.getByRole('alert', { name: 'Sandbox off' });
    await warning.waitFor();
    expect(await warning.textContent()).toContain("running without Chromium's sandbox");
    await page.screenshot({ path: path.join(SCREENSHOTS, `${process.platform}-05-sandbox-off.png`) });
  });
});
