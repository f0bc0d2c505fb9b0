import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redactSecrets } from '../../electron/core/common/redact.js';
import { diagnoseReport } from '../../electron/core/diagnose/report.js';
import { checkProfileFields, ProfileStore, profilesFromSshConfig } from '../../electron/core/app/profiles.js';
import { PromptBroker } from '../../electron/core/app/prompt-broker.js';
import { routeRequest } from '../../electron/core/app/request-router.js';
import type { SavedSecret, SecretVault } from '../../electron/core/app/secret-vault.js';
import { AppService } from '../../electron/core/app/app-service.js';
import { API_METHODS, DEFAULT_PROFILE, type ReclaimEvent, type ReclaimHandlers } from '../../electron/shared/ipc-contract.js';
import { EventLog } from '../support/events.js';
import { reclaimErrorOf } from '../support/failure.js';

// The desktop app's core pieces that need no server: the server form's checks, the saved list,
// the questions broker, the diagnose report and the door every window request comes through.

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-app-core-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const form = (change: Partial<typeof DEFAULT_PROFILE>) => ({ ...DEFAULT_PROFILE, host: 'nas.example.com', ...change });

/** A vault on a system with no real encryption: nothing is ever remembered. */
const noVault: SecretVault = {
  canSave: async () => false,
  load: async () => undefined,
  save: async () => { throw new Error('no vault'); },
  forget: async () => {},
  has: async () => false,
};

/** The app's service with nothing behind it: no server, no Electron. */
function appService(options: { profilesFile?: string } = {}): AppService {
  const file = path.join(dir, 'known_hosts');
  return new AppService({
    host: {
      vault: noVault,
      openExternal: async () => {},
      openSignInWindow: () => () => {},
      copyText: () => {},
      chooseFile: async () => undefined,
      showPlexView: () => {},
      closePlexView: () => {},
      focusPlexView: () => {},
    },
    emit: () => {},
    profilesFile: options.profilesFile ?? path.join(dir, 'servers.json'),
    hostKeys: { trustFiles: [file], recordFile: file },
    plexTvUrl: 'http://127.0.0.1:9',
    plexHeaders: {},
    findAgent: () => undefined,
  });
}

describe('the server form check', () => {
  it('accepts the defaults with a host, and names the server after it', async () => {
    expect(await checkProfileFields(form({}))).toMatchObject({ name: 'nas.example.com', sshPort: 22, localPort: 8888, remote: '127.0.0.1:32400' });
  });

  it.each([
    ['host', { host: '' }, 'empty'],
    ['host', { host: 'plex@nas' }, 'contains "@"'],
    ['host', { host: 'http://nas.example.com' }, 'looks like a web address'],
    ['sshPort', { sshPort: 0 }, 'not a port number'],
    ['sshPort', { sshPort: Number.NaN }, 'not a port number'],
    ['user', { user: 'a b' }, 'not valid'],
    ['keyPath', { auth: 'key', keyPath: '' }, 'No key file'],
    ['keyPath', { auth: 'key', keyPath: 'id_ed25519' }, 'not a full path'],
    ['jump', { jump: 'gw:notaport' }, 'not a port number'],
    ['localPort', { localPort: 70000 }, 'not a port number'],
    ['remote', { remote: '32400' }, 'is not HOST:PORT'],
  ] as const)('names the wrong field (%s) and says what is wrong: %o', async (field, change, words) => {
    const error = await reclaimErrorOf(checkProfileFields(form(change)), 'BAD_INPUT');
    expect(error.details.field).toBe(field);
    expect(error.message).toContain(words);
    expect(error.fix.length).toBeGreaterThan(10);
  });

  it('reads the key file when one is chosen, and explains a .pub chosen by mistake', async () => {
    const pub = path.join(dir, 'id_ed25519.pub');
    await writeFile(pub, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ4rRkZ0n1z8Qp7m4e4N2aQ3q0a9m0Yl0b8l5a9fH3b2 me\n');
    const error = await reclaimErrorOf(checkProfileFields(form({ auth: 'key', keyPath: pub })), 'BAD_INPUT');
    expect(error.details.field).toBe('keyPath');
    expect(error.fix).toContain('not the .pub file');
  });
});

describe('the saved server list', () => {
  it('saves, updates and removes servers, atomically, readable only by the user', async () => {
    const file = path.join(dir, 'servers.json');
    const store = new ProfileStore(file);
    const saved = await store.save(null, await checkProfileFields(form({ name: 'Attic' })));
    await store.save(saved.id, { ...saved, name: 'Attic NAS' });
    expect((await store.list()).map((profile) => profile.name)).toEqual(['Attic NAS']);
    // Windows has no POSIX permission bits (the user's profile folder's ACLs apply there).
    if (process.platform !== 'win32') expect((await import('node:fs')).statSync(file).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['servers.json']);
    await store.remove(saved.id);
    expect(await store.list()).toEqual([]);
  });

  it('says which of its own files it cannot write, and where to look, rather than blaming the input', async () => {
    const blocker = path.join(dir, 'not-a-folder');
    await writeFile(blocker, '');
    const file = path.join(blocker, 'servers.json');
    const result = await routeRequest(appService({ profilesFile: file }), 'saveProfile', [null, form({ name: 'Attic' })]);
    expect(result).toMatchObject({ ok: false, error: { code: 'STORAGE_FAILED', message: expect.stringContaining(file), fix: expect.stringContaining(blocker) } });
  });

  it('says which of its own files it cannot read', async () => {
    const error = await reclaimErrorOf(new ProfileStore(dir).list(), 'STORAGE_FAILED');
    expect(error.details).toEqual({ file: dir, errno: 'EISDIR' });
    expect(error.message).toContain(`could not read its file ${dir}`);
  });

  it('keeps every server of several saved at the same moment, and a removal beside them', async () => {
    const store = new ProfileStore(path.join(dir, 'servers.json'));
    const doomed = await store.save(null, await checkProfileFields(form({ name: 'Old NAS' })));
    const names = ['Attic', 'Cellar', 'Garage', 'Loft', 'Shed'];
    await Promise.all([
      ...names.map(async (name) => store.save(null, await checkProfileFields(form({ name })))),
      store.remove(doomed.id),
    ]);
    expect((await store.list()).map((profile) => profile.name).sort()).toEqual(names);
  });

  it('moves a damaged list aside instead of losing it, and says where it went', async () => {
    const file = path.join(dir, 'servers.json');
    await writeFile(file, '{"version":1,"servers":[{"id":');
    const error = await reclaimErrorOf(new ProfileStore(file).list());
    expect(error.message).toContain('was moved to');
    const aside = (await readdir(dir)).find((name) => name.startsWith('servers.json.damaged-'))!;
    expect(await readFile(path.join(dir, aside), 'utf8')).toBe('{"version":1,"servers":[{"id":');
    expect(await new ProfileStore(file).list()).toEqual([]);
  });
});

describe('import from ~/.ssh/config', () => {
  it('offers each literal Host with its settings, and leaves out ProxyCommand entries', async () => {
    const config = path.join(dir, 'config');
    await writeFile(config, 'Host nas\n  HostName 192.168.1.20\n  User plex\n  Port 2222\n  ProxyJump gw\nHost *.lan\n  User x\nHost odd\n  ProxyCommand nc %h %p\n');
    expect(await profilesFromSshConfig({ configFile: config, homeDir: dir, localUser: 'me' })).toEqual([
      { ...DEFAULT_PROFILE, name: 'nas', host: 'nas', user: 'plex', sshPort: 2222, jump: 'gw' },
    ]);
  });
});

class Vault implements SecretVault {
  saved = new Map<string, SavedSecret>();
  constructor(private readonly encrypts: boolean) {}
  canSave = async () => this.encrypts;
  load = async (id: string) => this.saved.get(id);
  save = async (id: string, secret: SavedSecret) => void this.saved.set(id, secret);
  forget = async (id: string) => void this.saved.delete(id);
  has = async (id: string) => this.saved.has(id);
}

describe('the questions broker', () => {
  const setup = (encrypts = true) => {
    const log = new EventLog<ReclaimEvent>();
    const vault = new Vault(encrypts);
    const broker = new PromptBroker(log.push, vault);
    let seen = 0;
    /** The next question the window is shown. */
    const nextPrompt = async () => {
      const event = await log.waitFor((e) => e.type === 'prompt', 'a question', 5000, seen);
      seen = log.events.indexOf(event) + 1;
      return (event as Extract<ReclaimEvent, { type: 'prompt' }>).prompt;
    };
    return { events: log.events, vault, broker, nextPrompt };
  };

  it('asks the window about an unknown host key, with the command to compare it on the server', async () => {
    const { broker, nextPrompt, events } = setup();
    const answer = broker.prompterFor('p1').confirmHostKey!({ host: 'nas', port: 22, keyType: 'ecdsa-sha2-nistp256', fingerprint: 'SHA256:abc', otherTypesKnown: [] });
    const prompt = await nextPrompt();
    expect(prompt).toMatchObject({ kind: 'host-key', serverCommand: 'ssh-keygen -lf /etc/ssh/ssh_host_ecdsa_key.pub', hostKey: { fingerprint: 'SHA256:abc' } });
    broker.answer(prompt.id, { kind: 'host-key', trust: true });
    expect(await answer).toBe(true);
    expect(events.at(-1)).toEqual({ type: 'prompt-closed', id: prompt.id });
  });

  it('saves a password only when asked and the OS can encrypt it, and uses it once on the next login', async () => {
    const { broker, vault, nextPrompt } = setup();
    const prompter = broker.prompterFor('p1');
    const first = prompter.askSecret!({ kind: 'password', subject: 'plex@nas', attempt: 1 });
    const asked = await nextPrompt();
    expect(asked).toMatchObject({ kind: 'secret', canRemember: true });
    broker.answer(asked.id, { kind: 'secret', value: 'hunter2', remember: true });
    expect(await first).toBe('hunter2');
    expect(vault.saved.get('p1')).toEqual({ kind: 'password', subject: 'plex@nas', secret: 'hunter2' });
    expect(await prompter.askSecret!({ kind: 'password', subject: 'plex@nas', attempt: 1 })).toBe('hunter2');
    // Wrong now: the person is asked, and the saved one is dropped when they do not save the new one.
    const retry = prompter.askSecret!({ kind: 'password', subject: 'plex@nas', attempt: 2 });
    broker.answer((await nextPrompt()).id, { kind: 'secret', value: 'correct', remember: false });
    expect(await retry).toBe('correct');
    expect(vault.saved.has('p1')).toBe(false);
  });

  it('never offers to remember where nothing is encrypted', async () => {
    const { broker, vault, nextPrompt } = setup(false);
    const ask = broker.prompterFor('p1').askSecret!({ kind: 'passphrase', subject: '/k', attempt: 1 });
    const asked = await nextPrompt();
    expect(asked).toMatchObject({ canRemember: false });
    broker.answer(asked.id, { kind: 'secret', value: 'x', remember: true });
    await ask;
    expect(vault.saved.size).toBe(0);
  });

  it('lists the questions still open, for a window that reloads while one waits', async () => {
    const { broker, nextPrompt } = setup();
    const trust = broker.prompterFor('p1').confirmHostKey!({ host: 'nas', port: 22, keyType: 'ssh-ed25519', fingerprint: 'SHA256:abc', otherTypesKnown: [] });
    const asked = await nextPrompt();
    expect(broker.pending()).toEqual([asked]);
    broker.answer(asked.id, { kind: 'host-key', trust: false });
    expect(await trust).toBe(false);
    expect(broker.pending()).toEqual([]);
  });

  it('cancels open questions when the attempt ends, and refuses late or mismatched answers', async () => {
    const { broker, nextPrompt } = setup();
    const codes = broker.prompterFor('p1').answerKeyboardInteractive!({ host: 'nas', user: 'plex', name: '', instructions: '', prompts: [{ prompt: 'Code: ', echo: true }] });
    const { id } = await nextPrompt();
    expect(reclaimErrorOfSync(() => broker.answer(id, { kind: 'host-key', trust: true })).message).toContain('does not fit');
    expect(reclaimErrorOfSync(() => broker.answer(id, { kind: 'keyboard-interactive', answers: ['1', '2'] })).message).toContain('Every field');
    broker.cancelFor('p1');
    expect(await codes).toBeUndefined();
    expect(reclaimErrorOfSync(() => broker.answer(id, { kind: 'keyboard-interactive', answers: ['1'] })).message).toContain('no longer waiting');
  });
});

function reclaimErrorOfSync(run: () => void): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('the diagnose report', () => {
  it('redacts anything that looks like a Plex or claim token', () => {
    const text = 'GET /myplex/claim?token=claim-abcdEFGH1234 X-Plex-Token: s3cr3tT0k3n authToken="zzz" ?X-Plex-Token=abc&x=1';
    const redacted = redactSecrets(text);
    expect(redacted).not.toMatch(/abcdEFGH1234|s3cr3tT0k3n|zzz|=abc&/);
    expect(redacted).toContain('token=[redacted] X-Plex-Token: [redacted]');
  });

  it('lists each check with its mark and, for failures, the fix', () => {
    const report = diagnoseReport('nas', [
      { id: 'ssh-login', title: 'SSH login', ok: true, detail: 'Signed in.' },
      { id: 'pms-claimed', title: 'Server claimed', ok: false, detail: 'Unclaimed.', fix: 'Claim it.' },
      { id: 'server-dns', title: 'Server looks up plex.tv', ok: null, detail: 'Not checked.' },
    ], new Date('2026-11-22T12:00:00Z'));
    expect(report).toBe('Reclaim diagnose report for nas, 2026-11-22T12:00:00.000Z\n\n[OK  ] SSH login: Signed in.\n[FAIL] Server claimed: Unclaimed.\n       Fix: Claim it.\n[SKIP] Server looks up plex.tv: Not checked.\n');
  });

  it('ends with the last lines of the log, redacted, when there are any', () => {
    const report = diagnoseReport('nas', [{ id: 'ssh-login', title: 'SSH login', ok: true, detail: 'Signed in.' }], new Date('2026-11-22T12:00:00Z'), [
      '2026-11-22T11:59:00.000Z app[7] info: tunnel 127.0.0.1:8888: ready',
      '2026-11-22T11:59:30.000Z app[7] error: GET /identity?X-Plex-Token=s3cr3t failed',
    ]);
    expect(report).toBe('Reclaim diagnose report for nas, 2026-11-22T12:00:00.000Z\n\n[OK  ] SSH login: Signed in.\n\n'
      + 'Reclaim\'s log, last 2 lines:\n2026-11-22T11:59:00.000Z app[7] info: tunnel 127.0.0.1:8888: ready\n'
      + '2026-11-22T11:59:30.000Z app[7] error: GET /identity?X-Plex-Token=[redacted] failed\n');
  });
});

describe('requests that need a connected server', () => {
  it.each(['refreshStatus', 'reconnect', 'openInBrowser', 'focusPlexView', 'claimWithToken'] as const)('%s says NOT_CONNECTED, with what to do', async (method) => {
    const args = method === 'claimWithToken' ? ['p1', 'claim-abcdefghijklmnopqrst'] : ['p1'];
    const result = await routeRequest(appService(), method, args);
    expect(result).toEqual({ ok: false, error: { code: 'NOT_CONNECTED', message: 'This server is not connected.', fix: 'Press Connect first.' } });
  });

  it('showing the Plex view of a server that is not connected says NOT_CONNECTED; hiding it needs nothing', async () => {
    const service = appService();
    expect(await routeRequest(service, 'showPlexView', ['p1', { x: 0, y: 0, width: 10, height: 10 }])).toMatchObject({ ok: false, error: { code: 'NOT_CONNECTED' } });
    expect(await routeRequest(service, 'showPlexView', ['p1', null])).toEqual({ ok: true, value: null });
  });
});

describe('the door from the window into the core', () => {
  const calls: Array<[string, unknown[]]> = [];
  const service = Object.fromEntries(API_METHODS.map((method) => [method, async (...args: unknown[]) => {
    calls.push([method, args]);
    if (method === 'connect') throw new Error('boom');
    return null;
  }])) as unknown as ReclaimHandlers;

  it.each([
    ['connect', []],
    ['connect', ['../etc/passwd']],
    ['connect', [42]],
    ['saveProfile', [null, { ...DEFAULT_PROFILE, host: 7 }]],
    ['saveProfile', [null, { ...DEFAULT_PROFILE, auth: 'root' }]],
    ['saveProfile', [null, 'x']],
    ['answerPrompt', ['p1', { kind: 'secret', value: 'x'.repeat(5000), remember: false }]],
    ['answerPrompt', ['p1', { kind: 'nope' }]],
    ['claimWithPlex', ['p1', 'elsewhere']],
    ['planRepair', ['p1', { undo: 'yes', mode: 'auto', keepCertificate: false }]],
    ['planRepair', ['p1', { undo: false, mode: 'sideways', keepCertificate: false }]],
    ['planRepair', ['p1', { undo: false, mode: 'auto' }]],
    ['repairGoAhead', ['p1', { signIn: 'elsewhere' }]],
    ['repairGoAhead', ['p1', { claimToken: 'x'.repeat(5000) }]],
    ['repairGoAhead', ['p1', { undo: 'please' }]],
    ['showPlexView', ['p1', { x: 0, y: 0, width: -10, height: 10 }]],
    ['showPlexView', ['p1', { x: 0, y: 0, width: Number.POSITIVE_INFINITY, height: 10 }]],
  ] as const)('refuses %s with arguments %j, without calling the core', async (method, args) => {
    calls.length = 0;
    const result = await routeRequest(service, method, [...args]);
    expect(result).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: expect.stringContaining('cannot use'), fix: expect.any(String) } });
    expect(calls).toEqual([]);
  });

  it('passes good requests through and turns a throw into a plain error value', async () => {
    calls.length = 0;
    expect(await routeRequest(service, 'showPlexView', ['p1', { x: 1.4, y: 2, width: 300.6, height: 200 }])).toEqual({ ok: true, value: null });
    expect(calls).toEqual([['showPlexView', ['p1', { x: 1, y: 2, width: 301, height: 200 }]]]);
    expect(await routeRequest(service, 'connect', ['p1'])).toEqual({
      ok: false,
      error: { code: 'UNEXPECTED', message: 'Something unexpected went wrong: boom', fix: expect.stringContaining('Try again') },
    });
  });

  it('passes a repair\'s plan request and go-ahead through as the contract shapes them', async () => {
    calls.length = 0;
    expect(await routeRequest(service, 'planRepair', ['p1', { undo: true, mode: 'auto', keepCertificate: false, extra: 1 }])).toEqual({ ok: true, value: null });
    expect(await routeRequest(service, 'repairGoAhead', ['p1', { claimToken: 'claim-abcdefgh', signIn: 'nowhere' }])).toEqual({ ok: true, value: null });
    expect(calls).toEqual([['planRepair', ['p1', { undo: true, mode: 'auto', keepCertificate: false }]], ['repairGoAhead', ['p1', { claimToken: 'claim-abcdefgh' }]]]);
  });

  it('lets an empty number field through to the form check, which names it', async () => {
    calls.length = 0;
    await routeRequest(service, 'checkProfile', [{ ...DEFAULT_PROFILE, sshPort: Number.NaN }]);
    expect(calls).toHaveLength(1);
  });
});
