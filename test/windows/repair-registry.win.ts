import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlexInstall } from '../../electron/core/server/install.js';
import type { Journal } from '../../electron/core/server/repair/journal.js';
import { registryBackupPath, RegistryStore } from '../../electron/core/server/repair/registry-store.js';
import { signInChanges } from '../../electron/core/server/repair/repair.js';
import { WindowsControl } from '../../electron/core/server/repair/windows-control.js';
import type { ServerShell } from '../../electron/core/server/server-shell.js';
import { parseRegQuery } from '../../electron/core/server/windows.js';

// The repair's registry scripts against a real Windows registry, with the real PowerShell,
// reg.exe export and import: Plex's key is created here under HKCU (the runner has no Plex; if
// the key exists the test refuses to touch it), backed up, given a new sign-in, checked and
// restored, then removed. Commands go through cmd.exe as Windows OpenSSH would run them, with the
// script and the data on standard input.

const execFileP = promisify(execFile);
const KEY = 'HKEY_CURRENT_USER\\Software\\Plex, Inc.\\Plex Media Server';
const PARENT = 'HKEY_CURRENT_USER\\Software\\Plex, Inc.';
const NEW_TOKEN = 'ServerToken-for-bob-7Qz';
let created = false;
let dataRoot = '';

/** As Windows OpenSSH runs a command: cmd.exe /c, with our standard input. */
const shell: ServerShell = (command, options = {}) => new Promise((resolve, reject) => {
  const child = spawn('cmd.exe', ['/d', '/s', '/c', command], { windowsHide: true, windowsVerbatimArguments: true });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const timer = setTimeout(() => child.kill(), options.timeoutMs ?? 60_000);
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  child.on('error', reject);
  child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ exitCode: code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), truncated: false });
  });
  child.stdin.end(options.stdin ?? '');
});

async function reg(...args: string[]): Promise<string> {
  return (await execFileP('reg', args, { windowsHide: true, timeout: 15_000 })).stdout;
}

/** Every value as reg query shows it: name, type and data. */
async function valueLines(): Promise<Map<string, string>> {
  const lines = (await reg('query', KEY)).split(/\r?\n/).filter((line) => /^ {4}\S/.test(line));
  return new Map(lines.map((line) => [line.trim().split(/ {4}/)[0]!, line.trim()]));
}

function plexInstall(): PlexInstall {
  const dataDir = path.join(dataRoot, 'Plex Media Server');
  return {
    platform: 'windows',
    description: 'Windows, Plex Media Server of the test',
    dataDir,
    preferences: { kind: 'registry', key: KEY },
    logDir: `${dataDir}\\Logs`,
    running: false,
    service: { manager: 'the Plex Media Server program (not a service)', stop: ['taskkill', '/im', 'Plex Media Server.exe'], start: ['C:\\Program Files\\Plex\\Plex Media Server\\Plex Media Server.exe'] },
    files: { via: 'host' },
    notes: [],
  };
}

beforeAll(async () => {
  expect(process.platform).toBe('win32');
  const exists = await reg('query', KEY).then(() => true, () => false);
  if (exists) throw new Error(`${KEY} exists on this machine; the test will not touch a real Plex's settings`);
  dataRoot = mkdtempSync(path.join(tmpdir(), 'reclaim-plex-'));
  const add = (name: string, type: string, data: string) => reg('add', KEY, '/v', name, '/t', type, '/d', data, '/f');
  created = true;
  await add('ProcessedMachineIdentifier', 'REG_SZ', '9d8d5b4c6f708192a3b4c5d6e7f8091a2b3c4d5e');
  await add('MachineIdentifier', 'REG_SZ', '1d2e3f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f');
  await add('FriendlyName', 'REG_SZ', 'Living room "PC" & co; 100%');
  await add('AcceptedEULA', 'REG_DWORD', '1');
  await add('PublishServerOnPlexOnlineKey', 'REG_DWORD', '0');
  await add('PlexOnlineHome', 'REG_DWORD', '1');
  await add('PlexOnlineMail', 'REG_SZ', 'alice@example.com');
  await add('PlexOnlineToken', 'REG_SZ', 'WinTokenValue0016');
  await add('PlexOnlineUsername', 'REG_SZ', 'alice');
  await add('LocalAppDataPath', 'REG_SZ', dataRoot);
  await add('TranscoderTempDirectory', 'REG_EXPAND_SZ', '%TEMP%\\Plex');
  await add('ScheduledLibraryUpdateInterval', 'REG_DWORD', '3600');
  await reg('add', `${KEY}\\Updates`, '/v', 'LastCheck', '/t', 'REG_SZ', '/d', 'never', '/f');
  await execFileP('cmd.exe', ['/c', 'mkdir', path.join(dataRoot, 'Plex Media Server')]);
});

afterAll(async () => {
  if (created) await reg('delete', PARENT, '/f').catch(() => '');
  if (dataRoot) rmSync(dataRoot, { recursive: true, force: true });
});

describe('the registry store on a real Windows registry', () => {
  it('lock, reg export backup, the sign-in written value by value keeping kinds, reg import restore', async () => {
    const before = await valueLines();
    const store = new RegistryStore(plexInstall(), shell, 'run-one');
    const opened = await store.open();
    expect(opened).toMatchObject({ tookOverLock: false, journal: undefined, backups: [], file: { fingerprint: expect.stringMatching(/^regsha256:[0-9a-f]{64}:12$/) } });
    // A second run is refused while this one holds the lock (its session is alive).
    await expect(new RegistryStore(plexInstall(), shell, 'run-two').open()).rejects.toMatchObject({ code: 'REPAIR_IN_PROGRESS' });

    const journal: Journal = { run: 'run-one', action: 'repair', mode: 'offline', state: 'stopped', began: '2025-06-17T11:00:00.000Z', wasRunning: false };
    const backupPath = registryBackupPath(plexInstall(), '20250617T110000Z');
    const snapshot = await store.snapshot({ backup: backupPath, journal });
    expect(snapshot.backup).toBe(backupPath);
    expect(existsSync(backupPath)).toBe(true);
    expect(snapshot.fingerprint).toBe((opened.file as { fingerprint: string }).fingerprint);
    expect(Object.fromEntries(snapshot.kinds!)).toMatchObject({ PlexOnlineHome: 'DWord', AcceptedEULA: 'DWord', PlexOnlineToken: 'String', TranscoderTempDirectory: 'ExpandString' });
    expect(Object.fromEntries(snapshot.values!)).toMatchObject({ PlexOnlineHome: '1', ScheduledLibraryUpdateInterval: '3600', TranscoderTempDirectory: '%TEMP%\\Plex', FriendlyName: 'Living room "PC" & co; 100%' });

    const changes = signInChanges('offline', store.values(snapshot), { token: NEW_TOKEN, username: 'bob', email: 'bob@example.com' });
    const written = await store.writeChanges(changes, snapshot, { ...journal, state: 'backed-up', backup: snapshot.backup, original: snapshot.fingerprint });
    const after = await valueLines();
    expect(Object.fromEntries(parseRegQuery(await reg('query', KEY)))).toMatchObject({ PlexOnlineToken: NEW_TOKEN, PlexOnlineUsername: 'bob', PlexOnlineMail: 'bob@example.com' });
    expect(after.has('PlexOnlineHome')).toBe(false);
    expect(after.get('PlexOnlineToken')).toMatch(/REG_SZ/);
    // Every other value, its type included, as it was (Remote Access off stays off).
    for (const [name, line] of before) if (!['PlexOnlineToken', 'PlexOnlineUsername', 'PlexOnlineMail', 'PlexOnlineHome'].includes(name)) expect(after.get(name)).toBe(line);
    expect(written).not.toBe(snapshot.fingerprint);
    // A write that finds the settings changed since they were read refuses.
    await expect(store.writeChanges(changes, snapshot, journal)).rejects.toMatchObject({ code: 'REPAIR_WRITE_FAILED', details: { reason: 'changed' } });

    // Offline, a missing switch is added as a DWORD; the restore then removes it again (reg import alone would leave it).
    await reg('delete', KEY, '/v', 'AcceptedEULA', '/f');
    const again = await store.snapshot();
    await store.writeChanges(signInChanges('offline', store.values(again), { token: NEW_TOKEN, username: 'bob', email: 'bob@example.com' }), again, journal);
    expect((await valueLines()).get('AcceptedEULA')).toMatch(/REG_DWORD\s+0x1$/);
    await reg('delete', KEY, '/v', 'AcceptedEULA', '/f');
    await reg('add', KEY, '/v', 'Extra', '/t', 'REG_SZ', '/d', 'added after the backup', '/f');

    const restored = await store.restore(backupPath, journal);
    expect(await valueLines()).toEqual(before);
    expect(restored).toBe(snapshot.fingerprint);
    expect(parseRegQuery(await reg('query', `${KEY}\\Updates`)).get('LastCheck')).toBe('never');

    expect((await store.open()).backups).toEqual([backupPath]);
    await store.close();
    expect(readdirSync(path.join(dataRoot, 'Plex Media Server')).filter((name) => /reclaim-(journal|lock)/.test(name))).toEqual([]);
  });

  it('finds no Plex process and tells its own account', async () => {
    const owners = await new WindowsControl(plexInstall(), shell).owners();
    expect(owners.me).toMatch(/^S-1-5-/);
    expect(owners.processes).toEqual([]);
  });
});
