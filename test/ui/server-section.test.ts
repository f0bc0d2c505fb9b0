import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TLS_FAILURE } from '../stand-ins/pms-log.mjs';
import { destroyAllNetHosts } from '../support/netns.js';
import { startPlexHost, type PlexHost } from '../support/plex-host.js';
import { stopAllSshds } from '../support/sshd.js';
import { ensureTestUser } from '../support/test-user.js';
import { answerSudo, pageProblems, startUi, sudoDialog, type Ui } from './harness.js';

// The server page's "Server" section in the built UI, with the real core behind it, against the
// faithful test server (test/support/plex-host.ts): a deb install whose Preferences only root may
// read, real sudo asking the test user's password, a PMS whose log has a certificate failure, and
// the plex.tv stand-in, which revokes the server's token halfway.

let host: PlexHost;
let home: string;
let ui: Ui;
let page: Page;
let token: string;

beforeAll(async () => {
  await ensureTestUser();
  host = await startPlexHost({ signedInAs: { username: 'alice', email: 'alice@example.com' }, logLines: TLS_FAILURE, preferencesMode: 0o600 });
  token = (await host.preferences()).get('PlexOnlineToken')!;
  home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-ui-server-'));
  ui = await startUi({ home, knownHostsFile: host.knownHosts, plexTvUrl: host.plexTv.url });
  page = ui.page;
  await ui.service.saveProfile(null, {
    name: 'Den server', host: host.sshd.host, sshPort: host.sshd.port, user: host.user.name,
    auth: 'key', keyPath: host.key.privatePath, jump: '', localPort: 0, remote: '127.0.0.1:32400',
  });
  await page.reload();
}, 120_000);

afterAll(async () => {
  await ui?.close();
  await host?.stop();
  await stopAllSshds();
  await destroyAllNetHosts();
  if (home) await rm(home, { recursive: true, force: true });
});

const button = (name: string | RegExp) => page.getByRole('button', { name, exact: typeof name === 'string' });
const panel = () => page.locator('.server-panel');

/** Scrolls the section so its sign-in and log findings are in sight, for the screenshot. */
async function scrollToSignIn(): Promise<void> {
  // The panel alone scrolls, as a person scrolling it would (scrollIntoView would move the page too).
  await panel().evaluate((element) => {
    const signIn = [...element.querySelectorAll<HTMLElement>('.check')].find((check) => check.textContent?.includes('Server\'s sign-in'));
    if (signIn) element.scrollTop = signIn.getBoundingClientRect().top - element.getBoundingClientRect().top + element.scrollTop - 8;
  });
}

/** Answers the sudo question the Server section asks. */
describe('the Server section', () => {
  it('asks for the sudo password, saying why and that it may be the SSH password', async () => {
    await button(/^Den server/).click();
    await button('Connect').click();
    await page.locator('.status-card').waitFor();
    await button('Server').click();
    const dialog = sudoDialog(page, host.user.name, 'Den server');
    await dialog.waitFor();
    const words = await dialog.textContent();
    expect(words).toContain('Reclaim needs root on the server to ');
    expect(words).toContain('it is often the same as your SSH password');
    expect(words).toContain('not saved');
    await ui.screenshot('20-server-sudo-question');
    await answerSudo(page, { user: host.user.name, server: 'Den server', password: host.user.password });
  });

  it('shows the install, the server\'s sign-in accepted by plex.tv, and the log finding with its line redacted', async () => {
    await panel().getByText('Server\'s sign-in: token set, account alice').waitFor();
    const shown = (await panel().textContent())!;
    expect(shown).toContain('Linux package (deb/rpm) on Debian GNU/Linux 12 (bookworm)');
    expect(shown).toContain('answers through the tunnel');
    expect(shown).toContain(host.paths.preferences);
    expect(shown).toContain('yes, as plex');
    expect(shown).toContain('systemctl stop plexmediaserver');
    expect(shown).toContain('plex.tv accepts this server\'s sign-in.');
    expect(shown).toContain('The server does not trust plex.tv\'s certificate');
    expect(shown).toMatch(/Last seen (just now|\d+ minutes ago)/);
    expect(shown).toContain('X-Plex-Token=[redacted]');
    expect(await page.content()).not.toContain(token);
    await ui.viewSettled();
    await ui.screenshot('21-server-section');
    await scrollToSignIn();
    await ui.screenshot('22-server-section-log');
  });

  it('puts it in Copy report, redacted', async () => {
    await panel().getByRole('button', { name: 'Copy report' }).click();
    await panel().getByRole('button', { name: 'Report copied' }).waitFor();
    const report = ui.copied.at(-1)!;
    expect(report).toMatch(/^Reclaim diagnose report for Den server/);
    expect(report).toContain('The server\'s Plex install:');
    expect(report).toContain('Sign-in: token set, account alice. plex.tv accepts this server\'s sign-in.');
    expect(report).toContain('X-Plex-Token=[redacted]');
    expect(report).not.toContain(token);
    expect(report).not.toContain(host.user.password);
  });

  it('says in plain words when plex.tv no longer accepts the server\'s sign-in', async () => {
    host.plexTv.revokeToken(token);
    await panel().getByRole('button', { name: 'Look again' }).click();
    await answerSudo(page, { user: host.user.name, server: 'Den server', password: host.user.password });
    await panel().getByText(/plex\.tv no longer accepts this server's sign-in; this happens after a password reset that signed out all devices/).waitFor();
    expect(await panel().locator('.check-fail .check-title', { hasText: 'Server\'s sign-in' }).count()).toBe(1);
    await scrollToSignIn();
    await ui.viewSettled();
    await ui.screenshot('23-server-sign-in-refused');
  });

  it('a wrong sudo password: says sudo refused it and what to do, nothing crashes', async () => {
    await panel().getByRole('button', { name: 'Look again' }).click();
    await answerSudo(page, { user: host.user.name, server: 'Den server', password: 'not-the-password' });
    await panel().getByText('Preferences could not be read', { exact: true }).waitFor();
    expect(await panel().textContent()).toContain(`sudo on the server did not accept the password for ${host.user.name}.`);
    expect(await page.content()).not.toContain('not-the-password');
    expect(pageProblems(page)).toEqual([]);
  });
});
