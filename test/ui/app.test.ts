import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKeyPair } from '../support/keys.js';
import { writePuttySession } from '../support/plink.js';
import { makePpkKey, type PpkKey } from '../support/ppk-keys.js';
import { startPlexServerScene, type PlexServerScene } from '../support/plex-server.js';
import type { Pms } from '../stand-ins/pms.js';
import { pageProblems, startUi, type Ui } from './harness.js';

// A remote admin's first claim, click by click, in the built UI running in Chromium with the
// real core behind it: a real sshd in a "server" namespace whose Plex (stand-in) listens only on
// the server's own loopback, and the plex.tv stand-in. One journey, in order, with a screenshot
// of each main state in test-results/screenshots/.

let scene: PlexServerScene;
let ui: Ui;
let page: Page;
let pms: Pms;
let knownHosts: string;
let alice: { token: string };
let puttyKey: PpkKey;
/** 8888, Reclaim's default local port, held for the whole journey: on a shared machine it may be taken. */
let defaultPortTaken: net.Server | undefined;

beforeAll(async () => {
  defaultPortTaken = await holdDefaultPort();
  scene = await startPlexServerScene('ui');
  alice = scene.plexTv.addUser({ username: 'alice', email: 'alice@example.com' });
  pms = await scene.freshPms({ friendlyName: 'Attic NAS' });
  knownHosts = path.join(scene.home, 'ui_known_hosts');
  await writeFile(knownHosts, '');
  const sshConfig = path.join(scene.home, 'ssh_config');
  await writeFile(sshConfig, `Host attic\n  HostName ${scene.sshd.host}\n  Port ${scene.sshd.port}\n  User ${scene.sshd.user.name}\nHost *\n  ServerAliveInterval 30\n`);
  const puttyDir = path.join(scene.home, 'putty');
  puttyKey = await makePpkKey(scene.home, 'attic-putty', { type: 'ed25519', version: 3, passphrase: 'attic' });
  await writePuttySession(puttyDir, 'Attic%20via%20PuTTY', {
    HostName: scene.sshd.host, PortNumber: scene.sshd.port, Protocol: 'ssh', UserName: scene.sshd.user.name,
    PublicKeyFile: puttyKey.path, PortForwardings: 'L8899=localhost:32400',
  });
  ui = await startUi({ home: scene.home, knownHostsFile: knownHosts, plexTvUrl: scene.plexTv.url, sshConfigFile: sshConfig, puttyDir });
  page = ui.page;
}, 120_000);

afterAll(async () => {
  await ui?.close();
  await scene?.close();
  await new Promise((resolve) => defaultPortTaken ? defaultPortTaken.close(resolve) : resolve(undefined));
});

/** Listens on 127.0.0.1:8888; undefined when another program already does, which leaves it just as taken. */
async function holdDefaultPort(): Promise<net.Server | undefined> {
  const server = net.createServer((socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error)));
    server.listen({ host: '127.0.0.1', port: 8888, exclusive: true }, () => resolve(server));
  });
}

/** The local port the server's tunnel listens on, as the app reports it. */
async function tunnelPort(): Promise<number> {
  const connections = (await ui.service.currentState()).connections;
  expect(connections).toHaveLength(1);
  return connections[0]!.localPort;
}

const button = (name: string | RegExp) => page.getByRole('button', { name, exact: typeof name === 'string' });
const text = (value: string | RegExp) => page.getByText(value).first();

async function claimTokenFor(user: { token: string }): Promise<string> {
  const reply = await fetch(`${scene.plexTv.url}/api/claim/token.json`, { headers: { 'X-Plex-Token': user.token, 'X-Plex-Client-Identifier': 'test' } });
  return ((await reply.json()) as { token: string }).token;
}

async function fillServerForm(fields: { host: string; port: number; user: string; auth: 'Key file' | 'Password'; keyPath?: string; localPort?: number }) {
  await page.getByLabel('Server address').fill(fields.host);
  await page.getByLabel('SSH port').fill(String(fields.port));
  await page.getByLabel('User name').fill(fields.user);
  await page.getByRole('radio', { name: new RegExp(`^${fields.auth}`) }).check();
  if (fields.keyPath) await page.getByLabel('Private key file', { exact: true }).fill(fields.keyPath);
  if (fields.localPort !== undefined) await setLocalPort(fields.localPort);
}

async function setLocalPort(port: number) {
  const advanced = page.locator('details.advanced');
  if (!(await advanced.evaluate((details) => (details as HTMLDetailsElement).open))) await page.getByText('Advanced: jump host and ports').click();
  await page.getByLabel('Local port').fill(String(port));
}

describe('the desktop UI, first claim from start to finish', () => {
  it('greets a first-time user with what Reclaim does and how to start', async () => {
    await page.getByRole('heading', { name: 'Get back into your Plex server' }).waitFor();
    expect(await page.getByText('Not authorized').count()).toBeGreaterThan(0);
    await ui.screenshot('01-welcome');
  });

  it('fills the server form from a Host entry of ~/.ssh/config', async () => {
    await button('Import from ~/.ssh/config').first().click();
    await button(/^attic/).click();
    expect(await page.getByLabel('Server address').inputValue()).toBe('attic');
    expect(await page.getByLabel('SSH port').inputValue()).toBe(String(scene.sshd.port));
    expect(await page.getByLabel('User name').inputValue()).toBe(scene.sshd.user.name);
    await button('Cancel').click();
  });

  it('fills the server form from a saved PuTTY session: its .ppk key and its Plex port come along', async () => {
    await button('Import from PuTTY').first().click();
    await page.getByRole('heading', { name: 'Import from PuTTY' }).waitFor();
    await ui.screenshot('01b-import-putty');
    await button(/^Attic via PuTTY/).click();
    expect(await page.getByLabel('Server address').inputValue()).toBe(scene.sshd.host);
    expect(await page.getByLabel('SSH port').inputValue()).toBe(String(scene.sshd.port));
    expect(await page.getByLabel('User name').inputValue()).toBe(scene.sshd.user.name);
    expect(await page.getByRole('radio', { name: /^Key file/ }).isChecked()).toBe(true);
    expect(await page.getByLabel('Private key file', { exact: true }).inputValue()).toBe(puttyKey.path);
    expect(await page.getByLabel('Local port').inputValue()).toBe('8899');
    expect(await page.getByLabel('Plex on the server').inputValue()).toBe('localhost:32400');
    // The .ppk file passes the form's check as PuTTYgen saved it: the check, which stops at the
    // first wrong field, goes past the key file to a wrong field after it.
    await page.getByLabel('Plex on the server').fill('nowhere');
    await page.getByLabel('Local port').focus();
    await page.locator('#error-remote').waitFor();
    expect(await page.locator('#error-keyPath').count()).toBe(0);
    await button('Cancel').click();
  });

  it('checks the server form field by field, with the message under the field', async () => {
    await button('Add your server').click();
    await page.getByLabel('Server address').fill('my server');
    await page.getByLabel('SSH port').focus();
    const hostError = page.locator('#error-host');
    await hostError.waitFor();
    expect(await hostError.textContent()).toContain('contains "@" or a space');
    expect(await page.getByLabel('Server address').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('SSH port').fill('99999');
    await page.getByLabel('Server address').fill(scene.sshd.host);
    await page.getByLabel('User name').focus();
    await page.locator('#error-sshPort').waitFor();
    expect(await page.locator('#error-sshPort').textContent()).toContain('is not a port number');
    await ui.screenshot('02-form-invalid');
    // Every input has a label a screen reader can read.
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input')].filter((input) => !input.labels?.length && !input.getAttribute('aria-label')).map((input) => input.outerHTML));
    expect(unlabelled).toEqual([]);
  });

  it('asks to check an unknown server key, showing the fingerprint as ssh-keygen -lf prints it', async () => {
    await fillServerForm({ host: scene.sshd.host, port: scene.sshd.port, user: scene.sshd.user.name, auth: 'Key file' });
    ui.chooseFileAnswer = scene.key.privatePath;
    await button('Browse…').click();
    await page.waitForFunction((file) => (document.getElementById('field-keyPath') as HTMLInputElement).value === file, scene.key.privatePath);
    await page.getByLabel('Name in Reclaim').fill('Attic NAS');
    await button('Save and connect').click();
    // 8888, the default, is taken: the app says so and how to get past it, rather than quietly
    // serving Plex somewhere else.
    const problem = page.getByRole('alert', { name: 'Could not connect' });
    await problem.waitFor();
    expect(await problem.locator('.error-message').textContent()).toBe('Port 8888 on this computer (127.0.0.1:8888) is already in use, perhaps by another tunnel or an earlier Reclaim that is still running.');
    expect(await problem.locator('.error-fix').textContent()).toContain('pick another local port (for example 8889, or 0 for any free port)');
    expect(await problem.locator('.error-code').textContent()).toBe('Error code: PORT_IN_USE');
    await ui.screenshot('03a-port-in-use');
    await problem.getByRole('button', { name: 'Edit server' }).click();
    await setLocalPort(0);
    await button('Save and connect').click();
    const dialog = page.getByRole('dialog', { name: 'Is this really your server?' });
    await dialog.waitFor();
    expect(await dialog.locator('.fingerprint').textContent()).toBe(scene.sshd.hostKeys[0]!.fingerprint);
    expect(await dialog.locator('.command').textContent()).toBe('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
    await ui.screenshot('03-host-key');
    await dialog.getByRole('button', { name: 'It matches: trust and connect' }).click();
    await text('No: not linked to any Plex account').waitFor();
    expect(await page.locator('.status-card').textContent()).toContain('Attic NAS');
    expect(await page.locator('.status-card').textContent()).toContain(scene.sshd.hostKeys[0]!.fingerprint);
    await ui.viewSettled();
    // The embedded view shows the server's own Plex Web App through the tunnel.
    const view = page.locator('#plex-view-stand-in');
    expect(await view.getAttribute('data-url')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/web$/);
    await ui.screenshot('04-connected-unclaimed');
  });

  it('stops waiting for the Plex sign-in when its window is closed', async () => {
    await button('Claim this server').click();
    await button('Sign in with Plex').click();
    await ui.signInUrls.waitFor(() => true, 'the sign-in window');
    ui.closeSignInWindow();
    await text('The Plex sign-in was cancelled.').waitFor();
    await button('Sign in with Plex').waitFor();
    await button('Claim this server').click();
  });

  it('claims the server in one click: sign in with Plex, claim, verify', async () => {
    await button('Claim this server').click();
    await button('Sign in with Plex').click();
    const url = new URL(await ui.signInUrls.waitFor(() => true, 'the sign-in window', 30_000, 1));
    expect(url.origin).toBe('https://app.plex.tv');
    await text('Waiting for your approval').waitFor();
    scene.plexTv.approvePin(new URLSearchParams(url.hash.replace(/^#\??/, '')).get('code')!, 'alice');
    await text('Done: the server is now claimed').waitFor();
    await page.locator('.badge-ok', { hasText: 'Yes' }).waitFor();
    expect(await pms.state()).toMatchObject({ claimed: true, owner: 'alice' });
    // The account token never reaches the page.
    expect(await page.content()).not.toContain(alice.token);
    await ui.viewSettled();
    await ui.screenshot('05-claimed');
  });

  it('claims with a pasted token, and says plainly when the paste is not a token', async () => {
    pms = await scene.freshPms({ friendlyName: 'Attic NAS' });
    await page.locator('.status-card').getByRole('button', { name: 'Refresh' }).click();
    await text('No: not linked to any Plex account').waitFor();
    await button('Use a claim token').click();
    await page.getByLabel('Claim token', { exact: true }).fill('my plex password');
    await button('Claim with this token').click();
    await text('That is not a claim token').waitFor();
    await ui.screenshot('06-token-invalid');
    await page.getByLabel('Claim token', { exact: true }).fill(await claimTokenFor(alice));
    await button('Claim with this token').click();
    await text(/Done: the server is now claimed/).waitFor();
    expect(await pms.state()).toMatchObject({ claimed: true, owner: 'alice' });
  });

  it('diagnoses the chain link by link and copies a redacted report', async () => {
    await button('Diagnose').click();
    await page.locator('.diagnose [role="status"]', { hasText: /No problems found|failed/ }).waitFor();
    const titles = await page.locator('.check-title').allTextContents();
    expect(titles.length).toBeGreaterThanOrEqual(6);
    expect(titles[0]).toMatch(/^SSH login: passed/);
    await ui.viewSettled();
    await ui.screenshot('07-diagnose');
    await button('Copy report').click();
    await button('Report copied').waitFor();
    await button('Disconnect').focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Go to Plex Web');
    await page.keyboard.press('Enter');
    await expect.poll(() => ui.focusedViews.length).toBe(1);
    await button('Open in browser').click();
    const port = await tunnelPort();
    expect(port).not.toBe(8888);
    expect(ui.externalUrls).toEqual([`http://127.0.0.1:${port}/web`]);
    expect(ui.copied.at(-1)).toMatch(/^Reclaim diagnose report for Attic NAS/);
    expect(ui.copied.at(-1)).toContain('[OK  ] SSH login');
    // What led up to it, from the log: the tunnel coming up.
    expect(ui.copied.at(-1)).toMatch(new RegExp(`\\nReclaim's log, last \\d+ lines:\\n(.*\\n)*.* app\\[\\d+\\] info: tunnel 127\\.0\\.0\\.1:${port}: ready, signed in to `));
    await button('Close').click();
  });

  it('shows a reconnecting banner when the link drops, keeps the page, and recovers by itself', async () => {
    const from = ui.events.events.length;
    await scene.sshd.down();
    // After a failed attempt, not just before the first one: the page must still be the server's.
    await ui.events.waitFor((event) => event.type === 'reconnecting' && event.attempt >= 2, 'a second reconnect attempt', 30_000, from);
    await text('Connection lost.').waitFor();
    expect(await page.locator('.status-card').count()).toBe(1);
    expect(await button('Disconnect').count()).toBe(1);
    await ui.viewSettled();
    await ui.screenshot('08-reconnecting');
    await scene.sshd.restart();
    await ui.events.waitFor((event) => event.type === 'connected', 'the tunnel to come back');
    await text('Connection lost.').waitFor({ state: 'detached' });
    await page.locator('.badge-ok', { hasText: 'Yes' }).waitFor();
  });

  it('refuses a changed server key with both fingerprints and the fix, and offers no way around it', async () => {
    await button('Disconnect').click();
    await button('Connect').waitFor();
    const impostor = await makeKeyPair(scene.home, { type: 'ed25519', name: 'impostor' });
    const realLine = scene.sshd.knownHostsLine();
    await writeFile(knownHosts, `${realLine.split(' ')[0]} ${impostor.publicLine}\n`);
    await button('Connect').click();
    const warning = page.getByRole('alert', { name: 'Server identity changed' });
    await warning.waitFor();
    expect(await warning.textContent()).toContain(impostor.fingerprint);
    expect(await warning.textContent()).toContain(scene.sshd.hostKeys[0]!.fingerprint);
    expect(await warning.getByRole('button').count()).toBe(0);
    await ui.screenshot('09-host-key-changed');
    await writeFile(knownHosts, `${realLine}\n`);
  });

  it('asks again after a wrong password, and saves it only when asked to', async () => {
    await button('Add server').click();
    await fillServerForm({ host: scene.sshd.host, port: scene.sshd.port, user: scene.sshd.user.name, auth: 'Password', localPort: 0 });
    await page.getByLabel('Name in Reclaim').fill('Attic NAS (password)');
    await button('Save and connect').click();
    const ask = page.getByRole('dialog', { name: /^Password for / });
    await ask.waitFor();
    // Cancel is not a failure: the server is back to where it was, with no error to read.
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await button('Connect').waitFor();
    expect(await page.locator('main').getByText('Could not connect').count()).toBe(0);
    await button('Connect').click();
    await ask.waitFor();
    await ask.getByLabel('Password', { exact: true }).fill('not-the-password');
    await ask.getByRole('button', { name: 'Sign in' }).click();
    await text('That password was not accepted').waitFor();
    expect(ui.vault.secrets.size).toBe(0);
    await ui.screenshot('10-wrong-password');
    await page.getByRole('dialog').getByLabel('Password', { exact: true }).fill(scene.sshd.user.password);
    await page.getByRole('checkbox', { name: /Remember it/ }).check();
    await page.getByRole('dialog').getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.status-card').waitFor();
    expect([...ui.vault.secrets.values()]).toEqual([expect.objectContaining({ kind: 'password', secret: scene.sshd.user.password })]);
    expect(await page.content()).not.toContain(scene.sshd.user.password);
    expect(await readFile(ui.logFile, 'utf8')).not.toContain(scene.sshd.user.password);
  });

  it('follows the OS dark theme and stays usable at 200% zoom', async () => {
    // A new window picks up the tunnel that is running (after a reload, say) instead of showing it as off.
    const dark = await ui.openVariant({ colorScheme: 'dark' });
    await dark.getByRole('button', { name: /Attic NAS \(password\)\s*Connected/ }).click();
    await dark.locator('.badge-ok', { hasText: 'Yes' }).waitFor();
    await dark.screenshot({ path: path.resolve(import.meta.dirname, '../../test-results/screenshots/11-dark-theme.png') });
    const background = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(21, 23, 27)');
    const zoomed = await ui.openVariant({ zoom: 2 });
    await zoomed.getByRole('button', { name: /Attic NAS \(password\)/ }).click();
    await zoomed.locator('.badge-ok', { hasText: 'Yes' }).waitFor();
    await zoomed.screenshot({ path: path.resolve(import.meta.dirname, '../../test-results/screenshots/12-zoom-200.png') });
    const overflow = await zoomed.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
  });

  it('says so when deleting a server fails, and keeps the server', async () => {
    await page.getByRole('button', { name: /^Attic NAS\s+(Not connected|Could not connect)$/ }).click();
    const forget = ui.vault.forget;
    ui.vault.forget = async () => {
      throw new Error('the system keyring is locked');
    };
    try {
      await page.locator('.server-header').getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
      const notice = page.getByRole('alert', { name: 'Problem' });
      await notice.waitFor();
      expect(await notice.textContent()).toContain('the system keyring is locked');
      await ui.screenshot('13-delete-failed');
      expect(await page.getByRole('button', { name: /^Attic NAS\s+(Not connected|Could not connect)$/ }).count()).toBe(1);
      await notice.getByRole('button', { name: 'Dismiss' }).click();
    } finally {
      ui.vault.forget = forget;
    }
  });

  it('never showed a script error or a blocked resource in any window (the CSP holds)', () => {
    expect(ui.pages().length).toBe(3);
    for (const each of ui.pages()) expect(pageProblems(each)).toEqual([]);
  });
});
