import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyAllNetHosts } from '../support/netns.js';
import type { PlexHost } from '../support/plex-host.js';
import { revokedServer, workingFiles } from '../support/repair-run.js';
import { stopAllSshds } from '../support/sshd.js';
import { answerSudo, pageProblems, startUi, type Ui } from './harness.js';

// Repairing a server's Plex sign-in from the window, in the built UI with the real core behind
// it, against the test server with the Plex deb (plex-host.ts): its sign-in was revoked, and the
// person moves it to bob's account with the Repair button, then undoes that. Screenshots of the
// plan, the steps under way and the result go to test-results/screenshots/.

let host: PlexHost;
let original: string;
let home: string;
let ui: Ui;
let page: Page;

beforeAll(async () => {
  ({ host, original } = await revokedServer());
  home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-ui-repair-'));
  ui = await startUi({ home, knownHostsFile: host.knownHosts, plexTvUrl: host.plexTv.url });
  page = ui.page;
}, 120_000);

afterAll(async () => {
  await ui?.close();
  await host?.stop();
  await stopAllSshds();
  await destroyAllNetHosts();
  if (home) await rm(home, { recursive: true, force: true });
});

const button = (name: string | RegExp) => page.getByRole('button', { name, exact: typeof name === 'string' });
const panel = () => page.getByRole('complementary', { name: /Repair the Plex sign-in|Undo the repair/ });

const giveSudoPassword = () => answerSudo(page, { user: host.user.name, server: 'Den server', password: host.user.password });

describe('Repair in the server page', () => {
  it('connects to the server, whose sign-in plex.tv no longer accepts', async () => {
    await button('Add your server').click();
    await page.getByLabel('Server address').fill(host.sshd.host);
    await page.getByLabel('SSH port').fill(String(host.sshd.port));
    await page.getByLabel('User name').fill(host.user.name);
    await page.getByRole('radio', { name: /^Key file/ }).check();
    await page.getByLabel('Private key file', { exact: true }).fill(host.key.privatePath);
    await page.getByLabel('Name in Reclaim').fill('Den server');
    // Any free local port: the other UI test's tunnel may hold 8888 meanwhile.
    await page.getByText('Advanced: jump host and ports').click();
    await page.getByLabel('Local port').fill('0');
    await button('Save and connect').click();
    await page.locator('.status-card').getByText('Yes', { exact: false }).first().waitFor();
  });

  it('shows the plan first: install, file, backup, the way and why, each step', async () => {
    await page.getByRole('toolbar', { name: 'Server actions' }).getByRole('button', { name: 'Repair' }).click();
    await giveSudoPassword();
    await panel().getByText('Sign out, then claim through the tunnel').waitFor();
    const shown = await panel().textContent();
    expect(shown).toContain(host.paths.preferences);
    expect(shown).toMatch(/Preferences\.xml\.reclaim-backup-\d{8}T\d{6}Z/);
    expect(shown).toContain('alice (plex.tv no longer accepts it)');
    expect(shown).toContain('directly on the server');
    expect(await panel().getByRole('list', { name: 'Repair steps' }).getByRole('listitem').count()).toBe(6);
    // The other way may be chosen: the plan says so, and why Reclaim chose as it did (no new look at the server).
    await panel().getByRole('radio', { name: 'Offline claim' }).check();
    await panel().getByText('You chose the offline way').waitFor();
    await panel().getByRole('radio', { name: 'As Reclaim chose' }).check();
    await panel().getByText('Sign out, then claim through the tunnel').waitFor();
    expect(await panel().getByRole('checkbox', { name: /cached certificate aside/ }).isChecked()).toBe(true);
    // Nothing changed yet.
    expect(await host.readPreferences()).toBe(original);
    await ui.screenshot('repair-01-plan');
  });

  it('signs in with Plex, then shows each step as it happens', async () => {
    const release = await host.holdStarts();
    await button('Sign in with Plex and repair').click();
    const url = new URL(await ui.signInUrls.waitFor(() => true, 'the sign-in window'));
    host.plexTv.approvePin(new URLSearchParams(url.hash.replace(/^#\??/, '')).get('code')!, 'bob');
    // Plex is held in its start: the steps before are done, the start is under way.
    await panel().locator('.step[aria-current="step"]', { hasText: /Start Plex and wait/ }).waitFor();
    expect(await panel().locator('.step-done').count()).toBe(3);
    expect(await panel().textContent()).toContain('Backed up the Preferences to');
    await ui.screenshot('repair-02-steps');
    await release();
    await panel().getByText('Done: the server is claimed by bob and signed in.').waitFor({ timeout: 60_000 });
    expect(await panel().locator('.step-done').count()).toBe(6);
    await ui.screenshot('repair-03-done');
    expect((await host.preferences()).get('PlexOnlineUsername')).toBe('bob');
    expect(await workingFiles(host)).toEqual([]);
  });

  it('Undo puts the backup back', async () => {
    await panel().getByRole('button', { name: 'Undo…' }).click();
    await giveSudoPassword();
    await panel().getByRole('button', { name: 'Put the backup back' }).waitFor();
    expect(await panel().textContent()).toMatch(/Put back.*reclaim-backup-/);
    await panel().getByRole('button', { name: 'Put the backup back' }).click();
    await panel().getByText('Done: the backup is back and Plex answers.').waitFor({ timeout: 60_000 });
    await ui.screenshot('repair-04-undone');
    expect((await host.preferences()).get('PlexOnlineUsername')).toBe('alice');
    expect(pageProblems(page)).toEqual([]);
  });
});
