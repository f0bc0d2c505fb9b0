import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PromptBroker } from '../../electron/core/app/prompt-broker.js';
import { openLog } from '../../electron/core/common/log.js';
import { SafeStorageVault } from '../../electron/main/safe-storage-vault.js';
import type { Prompt, ReclaimEvent } from '../../electron/shared/ipc-contract.js';
import { EventLog } from '../support/events.js';
import { reclaimErrorOf } from '../support/failure.js';
import * as electron from '../fakes/electron.js';

// The saved-password file, sealed by the OS through safeStorage's asynchronous API (here the
// Electron fake's), and what the person sees of it through the questions broker.

let dir: string;
let file: string;
beforeEach(async () => {
  electron.resetElectronFake();
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-vault-'));
  file = path.join(dir, 'saved-secrets.json');
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const secret = (subject: string) => ({ kind: 'password' as const, subject, secret: `pw-${subject}` });
const onDisk = async (): Promise<Record<string, string>> => JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
/** Changes run one at a time, so one asked for now is done only after every change already under way. */
const changesUnderWay = (vault: SafeStorageVault) => vault.forget('no-such-server');

/** The broker the window talks to, over this vault, and the questions it shows. */
function window(vault: SafeStorageVault) {
  const events = new EventLog<ReclaimEvent>();
  const broker = new PromptBroker(events.push, vault);
  const nextQuestion = async (): Promise<Prompt> => ((await events.waitFor((e) => e.type === 'prompt', 'a question', 5000)) as Extract<ReclaimEvent, { type: 'prompt' }>).prompt;
  return { broker, nextQuestion };
}

describe('the saved-password vault', () => {
  it('opens what it saved, and keeps only sealed text on disk', async () => {
    const vault = new SafeStorageVault(file);
    expect(await vault.canSave()).toBe(true);
    await vault.save('attic', secret('plex@attic'));
    expect(await vault.has('attic')).toBe(true);
    expect(await vault.load('attic')).toEqual(secret('plex@attic'));
    expect(await readFile(file, 'utf8')).not.toContain('pw-plex@attic');
  });

  it('keeps every one of several passwords saved at the same moment', async () => {
    const vault = new SafeStorageVault(file);
    const servers = ['attic', 'cellar', 'garage', 'loft', 'shed'];
    await Promise.all(servers.map((id) => vault.save(id, secret(`plex@${id}`))));
    for (const id of servers) expect(await vault.load(id)).toEqual(secret(`plex@${id}`));
  });

  it('forgets one while another is saved, losing neither change', async () => {
    const vault = new SafeStorageVault(file);
    await vault.save('attic', secret('plex@attic'));
    await Promise.all([vault.forget('attic'), vault.save('cellar', secret('plex@cellar'))]);
    expect(await vault.has('attic')).toBe(false);
    expect(await vault.load('cellar')).toEqual(secret('plex@cellar'));
    expect(await readFile(file, 'utf8')).not.toContain('pw-plex@cellar');
  });
});

describe('where the OS offers no real encryption', () => {
  it('does not offer "remember", and saves nothing even if asked', async () => {
    electron.safeStorage.available = false;
    const vault = new SafeStorageVault(file);
    const { broker, nextQuestion } = window(vault);
    const login = broker.prompterFor('attic').askSecret!({ kind: 'password', subject: 'plex@attic', attempt: 1 });
    const asked = await nextQuestion();
    expect(asked).toMatchObject({ kind: 'secret', canRemember: false });
    broker.answer(asked.id, { kind: 'secret', value: 'hunter2', remember: true });
    expect(await login).toBe('hunter2');
    expect(await vault.has('attic')).toBe(false);
    const refused = await reclaimErrorOf(vault.save('attic', secret('plex@attic')), 'STORAGE_FAILED');
    expect(refused.message).toContain('no encrypted storage');
    expect(await vault.has('attic')).toBe(false);
  });

  it('never saves on Linux when Electron falls back to its fixed key (basic_text)', async () => {
    electron.safeStorage.backend = 'basic_text';
    const vault = new SafeStorageVault(file, 'linux');
    expect(await vault.canSave()).toBe(false);
    await reclaimErrorOf(vault.save('attic', secret('plex@attic')), 'STORAGE_FAILED');
    expect(await vault.has('attic')).toBe(false);
    // A real secret service is fine, and elsewhere the Linux backend means nothing.
    electron.safeStorage.backend = 'kwallet6';
    expect(await new SafeStorageVault(file, 'linux').canSave()).toBe(true);
    electron.safeStorage.backend = 'basic_text';
    expect(await new SafeStorageVault(file, 'darwin').canSave()).toBe(true);
  });

  it('keeps a saved password while the keychain is locked, and uses it once it opens', async () => {
    const vault = new SafeStorageVault(file);
    await vault.save('attic', secret('plex@attic'));
    electron.safeStorage.available = false;
    expect(await vault.load('attic')).toBeUndefined();
    expect(await vault.has('attic')).toBe(true);
    electron.safeStorage.available = true;
    expect(await vault.load('attic')).toEqual(secret('plex@attic'));
  });
});

describe('after the OS rotates its key', () => {
  it('re-encrypts a saved password with the new key, without holding up the login that used it', async () => {
    const vault = new SafeStorageVault(file);
    await vault.save('attic', secret('plex@attic'));
    const oldSeal = (await onDisk()).attic;
    electron.safeStorage.keyVersion = 2;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    electron.safeStorage.beforeEncrypt = () => held;
    // The password comes back while its re-encryption still waits on the OS.
    expect(await vault.load('attic')).toEqual(secret('plex@attic'));
    expect((await onDisk()).attic).toBe(oldSeal);
    release();
    await changesUnderWay(vault);
    const newSeal = (await onDisk()).attic;
    expect(Buffer.from(newSeal!, 'base64').toString()).toMatch(/^sealed-v2:/);
    expect(await vault.load('attic')).toEqual(secret('plex@attic'));
    await changesUnderWay(vault);
    expect((await onDisk()).attic).toBe(newSeal); // sealed with the current key: left alone
  });

  it('does not bring back a password forgotten, or overwrite one saved, while it was being opened', async () => {
    const vault = new SafeStorageVault(file);
    await vault.save('attic', secret('plex@attic'));
    await vault.save('cellar', secret('plex@cellar'));
    electron.safeStorage.keyVersion = 2;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let bothOpening!: () => void;
    const opening = new Promise<void>((resolve) => (bothOpening = resolve));
    let started = 0;
    electron.safeStorage.beforeDecrypt = () => {
      if (++started === 2) bothOpening();
      return held;
    };
    const loads = [vault.load('attic'), vault.load('cellar')];
    await opening;
    await vault.forget('attic');
    await vault.save('cellar', { ...secret('plex@cellar'), secret: 'the-new-one' });
    release();
    await Promise.all(loads);
    await changesUnderWay(vault);
    expect(await vault.has('attic')).toBe(false);
    expect(await vault.load('cellar')).toEqual({ ...secret('plex@cellar'), secret: 'the-new-one' });
  });
});

describe('a saved entry that cannot be opened', () => {
  it('asks for the password again and forgets the broken entry', async () => {
    const vault = new SafeStorageVault(file);
    await vault.save('cellar', secret('plex@cellar'));
    // Sealed on another machine (or by another user): this OS cannot open it.
    await writeFile(file, JSON.stringify({ ...(await onDisk()), attic: Buffer.from('sealed-by-another-machine').toString('base64') }));
    const { broker, nextQuestion } = window(vault);
    const login = broker.prompterFor('attic').askSecret!({ kind: 'password', subject: 'plex@attic', attempt: 1 });
    const asked = await nextQuestion();
    expect(asked).toMatchObject({ kind: 'secret', subject: 'plex@attic', canRemember: true });
    expect(await vault.has('attic')).toBe(false);
    broker.answer(asked.id, { kind: 'secret', value: 'typed-again', remember: false });
    expect(await login).toBe('typed-again');
    expect(await vault.load('cellar')).toEqual(secret('plex@cellar'));
  });

  it('treats damaged entries the same way, and never writes what it decrypted to the log', async () => {
    const logFile = path.join(dir, 'reclaim.log');
    openLog({ file: logFile, source: 'app' });
    const sealed = async (text: string) => (await electron.safeStorage.encryptStringAsync(text)).toString('base64');
    await writeFile(file, JSON.stringify({
      attic: await sealed('hunter2-not-json'),
      cellar: await sealed(JSON.stringify({ kind: 'password', subject: 'plex@cellar' })),
      garage: 42,
      loft: 'not base64 at all!',
    }));
    const vault = new SafeStorageVault(file);
    for (const id of ['attic', 'cellar', 'garage', 'loft']) {
      expect(await vault.load(id)).toBeUndefined();
      expect(await vault.has(id)).toBe(false);
    }
    const logged = await readFile(logFile, 'utf8');
    expect(logged).toContain('vault: the saved secret of server attic cannot be decrypted');
    expect(logged).not.toContain('hunter2');
  });
});
