import { afterEach, describe, expect, it } from 'vitest';
import { installChecks } from '../../electron/core/diagnose/install-checks.js';
import { PromptBroker } from '../../electron/core/app/prompt-broker.js';
import { toInspection } from '../../electron/core/app/server-inspector.js';
import { inspectWith, type InspectOptions } from '../../electron/core/server/inspect.js';
import type { InspectReport } from '../../electron/core/server/inspect-report.js';
import type { Prompt, ReclaimEvent } from '../../electron/shared/ipc-contract.js';
import { recordedServer, type RecordedServer } from '../support/recorded-server.js';
import { MemoryVault } from '../ui/harness.js';

// Diagnose's checks of the server's Plex install, and the window's view of it, from what inspect
// found on a recorded Debian server (test/fixtures/servers/debian): plex.tv refuses its sign-in,
// its log has name-lookup and certificate failures. Neither ever carries the token.

let servers: RecordedServer[] = [];
afterEach(() => {
  servers.forEach((server) => server.close());
  servers = [];
});

const TOKEN = 'Zx9sAbCdEfGhIjKlMnOp';
const identity = async () => ({ claimed: true, machineIdentifier: '0b6a2e1f3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f', version: '1.41.6.9685' });

function debian(options: Partial<InspectOptions> = {}): Promise<InspectReport> {
  const server = recordedServer('debian');
  servers.push(server);
  return inspectWith(server.shell, { plexTv: { checkToken: async () => ({ check: 'invalid' }) }, identity, root: server.root, ...options });
}

const byId = (report: InspectReport) => Object.fromEntries(installChecks(report).map((check) => [check.id, check]));

describe('diagnose\'s install checks', () => {
  it('a sign-in plex.tv refuses fails, pointing to reclaim repair; the log\'s latest trouble fails with its line', async () => {
    const checks = byId(await debian());
    expect(checks['server-sign-in']).toMatchObject({ ok: false, detail: expect.stringContaining('plex.tv no longer accepts this server\'s sign-in'), fix: expect.stringContaining('reclaim repair <server>') });
    expect(checks['server-log']).toMatchObject({ ok: false, detail: expect.stringMatching(/^plex\.tv refuses the server's sign-in \(20 minutes ago\): .* The log says: ".*401.*" Also: /), fix: expect.stringContaining('reclaim inspect <server> lists every finding') });
    expect(checks['pms-starting']).toMatchObject({ ok: true });
    expect(JSON.stringify(checks)).not.toContain(TOKEN);
  });

  it('accepted by plex.tv: passes, naming the account', async () => {
    expect(byId(await debian({ plexTv: { checkToken: async () => ({ check: 'valid' }) } }))['server-sign-in']).toMatchObject({ ok: true, detail: expect.stringContaining('(account alice)') });
  });

  it('plex.tv gives no clear answer: not a verdict', async () => {
    expect(byId(await debian({ plexTv: { checkToken: async () => ({ check: 'unknown' }) } }))['server-sign-in']!.ok).toBeNull();
  });

  it('no install that answers the tunnel among several: not checked, saying why and what to run', () => {
    const report = { installs: [], chosen: null, choice: 'Found 2 Plex installs, and could not tell which one answers through the tunnel.', tunnel: { machineIdentifier: 'x', version: '1', claimed: true }, notes: [] } satisfies InspectReport;
    const checks = byId(report);
    expect(checks['server-sign-in']).toMatchObject({ ok: null, detail: expect.stringContaining('could not tell which one'), fix: expect.stringContaining('reclaim inspect') });
    expect(checks['server-log']!.ok).toBeNull();
  });
});

describe('the window\'s view of the server', () => {
  it('is plain data without the token: each install, its sign-in, its findings with their ages', async () => {
    const inspection = toInspection(await debian());
    expect(inspection.installs[0]).toMatchObject({
      platform: 'linux', runsAs: 'plex', running: true, chosen: true,
      signIn: { token: 'set', username: 'alice', accepted: false },
    });
    expect(inspection.installs[0]!.findings[0]).toMatchObject({ id: 'log-sign-in-rejected', age: '20 minutes ago' });
    expect(JSON.parse(JSON.stringify(inspection))).toEqual(inspection);
    expect(JSON.stringify(inspection)).not.toContain(TOKEN);
  });

  it('asks sudo\'s password as a question of its own that is never saved, even if "remember" comes back', async () => {
    const events: ReclaimEvent[] = [];
    const vault = new MemoryVault();
    const broker = new PromptBroker((event) => events.push(event), vault);
    const answer = broker.askSudoPassword('server-1', { user: 'alice', reason: 'read Plex\'s Preferences' });
    const prompt = (events[0] as { prompt: Prompt }).prompt;
    expect(prompt).toMatchObject({ kind: 'secret', secretKind: 'sudo', subject: 'alice', reason: 'read Plex\'s Preferences', canRemember: false });
    broker.answer(prompt.id, { kind: 'secret', value: 'sudo-secret', remember: true });
    expect(await answer).toBe('sudo-secret');
    expect(vault.secrets.size).toBe(0);
  });
});
