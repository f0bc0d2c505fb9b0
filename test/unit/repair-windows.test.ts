import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PmsClient } from '../../electron/core/plex/pms.js';
import type { InstallReport } from '../../electron/core/server/inspect-report.js';
import { Privilege } from '../../electron/core/server/privilege.js';
import { planRepair, planText, planUndo } from '../../electron/core/server/repair/plan.js';
import { registryOperations, RegistryStore, STDIN_LOADER } from '../../electron/core/server/repair/registry-store.js';
import { signInChanges } from '../../electron/core/server/repair/repair.js';
import { RepairSession } from '../../electron/core/server/repair/session.js';
import { forceStopScript, processScript, startScript, stopScript, WindowsControl } from '../../electron/core/server/repair/windows-control.js';
import type { ServerShell } from '../../electron/core/server/server-shell.js';
import { detectWindows, MAX_COMMAND_LINE, parseRegQuery, WINDOWS_PROBE } from '../../electron/core/server/windows.js';
import type { RunOptions } from '../../electron/core/ssh/remote-exec.js';
import { FIXTURES } from '../support/recorded-server.js';

// Windows is verified here without PowerShell: the scripts Reclaim generates (their size for
// cmd.exe, what they hold and what they never hold), how their records are read, the plan, and
// the refusals. The scripts themselves run against a real registry only in the Windows CI job
// (test/windows/repair-registry.win.ts).

const transcript = (name: string) => readFileSync(path.join(FIXTURES, 'windows', name), 'utf8');
const records = (...list: string[][]) => list.map((fields) => `${fields.join('\u0001')}\u0000`).join('');
const ME = 'S-1-5-21-1-2-3-1001';
const NEW_TOKEN = 'ServerToken-for-bob-7Qz';

function install(processOwner = ME, hive = 'HKCU') {
  const [found] = detectWindows(records(
    ['begin', WINDOWS_PROBE, '1'],
    ['account', 'LIVINGROOM-PC\\alice', ME, 'C:\\Users\\alice\\AppData\\Local'],
    ['process', '6120', 'LIVINGROOM-PC\\alice', processOwner, 'C:\\Program Files\\Plex\\Plex Media Server\\Plex Media Server.exe'],
    ['reg', hive, '0', transcript('reg-query-hkcu.txt').replace('HKEY_CURRENT_USER', hive === 'HKCU' ? 'HKEY_CURRENT_USER' : hive.replace('HKU', 'HKEY_USERS'))],
    ...(hive === 'HKCU' ? [] : [['profile', hive.replace('HKU\\', ''), 'C:\\Users\\plexuser']]),
    ['end'],
  ));
  return found!;
}

interface Sent {
  script: string;
  command: string;
  stdin?: string;
}

/** A Windows server that answers each script with `answer` and keeps what was sent, decoded. */
function windowsShell(answer: (script: string) => string): { shell: ServerShell; sent: Sent[] } {
  const sent: Sent[] = [];
  const shell: ServerShell = async (command: string, options: RunOptions = {}) => {
    const encoded = /-EncodedCommand ([A-Za-z0-9+/=]+)$/.exec(command)?.[1];
    if (!encoded) throw new Error(`not a PowerShell command: ${command}`);
    let script = Buffer.from(encoded, 'base64').toString('utf16le');
    let stdin = options.stdin;
    // The registry store's loader: the script is the first line of standard input.
    if (script === STDIN_LOADER) {
      const at = stdin!.indexOf('\n');
      script = Buffer.from(stdin!.slice(0, at), 'base64').toString('utf8');
      stdin = stdin!.slice(at + 1);
    }
    sent.push({ script, command, stdin });
    return { exitCode: 0, stdout: answer(script), stderr: '', truncated: false };
  };
  return { shell, sent };
}

const begin = (script: string) => (/Rec 'begin','(reclaim-[a-z-]+)'/.exec(script)?.[1] ?? '');

describe('the registry store\'s scripts', () => {
  const found = install();
  const values = parseRegQuery(transcript('reg-query-hkcu.txt'));
  const kinds = new Map([...transcript('reg-query-hkcu.txt').matchAll(/^ {4}(\S+) {4}REG_(SZ|DWORD)/gm)].map(([, name, type]) => [name!, type === 'SZ' ? 'String' : 'DWord']));

  it('only a loader is on the command line; the scripts and the new token (as base64) go on standard input', async () => {
    const { shell, sent } = windowsShell((script) => {
      const id = begin(script);
      if (script.includes('FromBase64String($o[3])')) return records(['begin', id, '1'], ['written', 'regsha256:feed:11'], ['end']);
      if (script.includes('Rec \'value\'')) {
        return records(['begin', id, '1'], ['backup', 'D:\\Plex Data\\Plex Media Server\\Preferences.reclaim-backup-20250617T110000Z.reg'], ['file', '', 'regsha256:beef:12'],
          ...[...values].map(([name, value]) => ['value', name, kinds.get(name) ?? 'String', value]), ['end']);
      }
      return records(['begin', id, '1'], ['end']);
    });
    const store = new RegistryStore(found.install, shell, 'run-one');
    const journal = { run: 'run-one', action: 'repair' as const, mode: 'offline', state: 'stopped' as const, began: '2025-06-17T11:00:00.000Z', wasRunning: true };
    await store.open();
    const snapshot = await store.snapshot({ backup: 'D:\\Plex Data\\Plex Media Server\\Preferences.reclaim-backup-20250617T110000Z.reg', journal });
    expect(snapshot).toMatchObject({ fingerprint: 'regsha256:beef:12', backup: 'D:\\Plex Data\\Plex Media Server\\Preferences.reclaim-backup-20250617T110000Z.reg' });
    expect(store.values(snapshot).get('PlexOnlineHome')).toBe('0');
    expect(snapshot.kinds?.get('PlexOnlineHome')).toBe('DWord');
    const changes = signInChanges('offline', store.values(snapshot), { token: NEW_TOKEN, username: 'bob', email: 'bob@example.com' });
    expect(await store.writeChanges(changes, snapshot, journal)).toBe('regsha256:feed:11');
    await store.restore('D:\\Plex Data\\Plex Media Server\\Preferences.reclaim-backup-20250617T110000Z.reg', journal);
    await store.setAsideCertificates('20250617T110000Z');
    await store.writeJournal(journal);
    await store.clearJournal();
    await store.close();

    // Only the loader is on the command line; the scripts and the data follow on standard input.
    for (const { command } of sent) expect(Buffer.from(command.split(' ').at(-1)!, 'base64').toString('utf16le')).toBe(STDIN_LOADER);
    for (const { script, command } of sent) {
      expect(command).not.toContain(NEW_TOKEN);
      expect(script).not.toContain(NEW_TOKEN);
      expect(command).not.toContain(Buffer.from(NEW_TOKEN).toString('base64'));
    }
    const write = sent.find(({ script }) => script.includes('FromBase64String($o[3])'))!;
    expect(write.stdin).toBe(registryOperations(changes, snapshot.kinds!));
    // What goes on stdin is checked on arrival against its SHA-256 in the script.
    expect(write.script).toContain(createHash('sha256').update(write.stdin!, 'utf8').digest('hex'));
    const lines = write.stdin!.trim().split('\n').map((line) => line.split('\t'));
    expect(lines).toEqual([
      ['set', 'PlexOnlineToken', 'String', Buffer.from(NEW_TOKEN).toString('base64')],
      ['set', 'PlexOnlineUsername', 'String', Buffer.from('bob').toString('base64')],
      ['set', 'PlexOnlineMail', 'String', Buffer.from('bob@example.com').toString('base64')],
      ['del', 'PlexOnlineHome'],
    ]);
    // The key, the journal and the backup as PowerShell literals; the backup with reg export, the restore with reg import.
    expect(sent[0]!.script).toContain('$S=\'Software\\Plex, Inc.\\Plex Media Server\'');
    expect(sent[0]!.script).toContain('$B=\'D:\\Plex Data\\Plex Media Server\\Preferences.reg\'');
    expect(sent[1]!.script).toContain('reg.exe export "HKCU\\$S" $bk /y');
    expect(sent[1]!.script).toContain('\'state=backed-up\'');
    expect(sent.find(({ script }) => script.includes('reg.exe import'))).toBeDefined();
  });

  it('keeps each value\'s kind: PlexOnlineHome a DWORD, new switches DWORDs; text is never put into a number', () => {
    expect(registryOperations(new Map([['AcceptedEULA', '1'], ['PublishServerOnPlexOnlineKey', '1'], ['PlexOnlineHome', '1']]), new Map([['PlexOnlineHome', 'DWord']])))
      .toBe(`set\tAcceptedEULA\tDWord\t${Buffer.from('1').toString('base64')}\nset\tPublishServerOnPlexOnlineKey\tDWord\t${Buffer.from('1').toString('base64')}\nset\tPlexOnlineHome\tDWord\t${Buffer.from('1').toString('base64')}\n`);
    expect(registryOperations(new Map([['PlexOnlineMail', 'bob@example.com']]), new Map([['PlexOnlineMail', 'ExpandString']]))).toContain('ExpandString');
    expect(() => registryOperations(new Map([['PlexOnlineToken', NEW_TOKEN]]), new Map([['PlexOnlineToken', 'DWord']]))).toThrow(expect.objectContaining({ code: 'REPAIR_WRITE_FAILED' }));
    expect(() => registryOperations(new Map([['PlexOnlineToken', NEW_TOKEN]]), new Map([['PlexOnlineToken', 'Binary']]))).toThrow(expect.objectContaining({ code: 'REPAIR_WRITE_FAILED' }));
    // The offline way leaves a present Remote Access switch alone.
    expect(signInChanges('offline', parseRegQuery(transcript('reg-query-hkcu.txt')), { token: 't', username: 'u', email: 'e' }).has('PublishServerOnPlexOnlineKey')).toBe(false);
  });

  it('reads the lock, journal and backups open() reports; a lock held by a live session is REPAIR_IN_PROGRESS', async () => {
    const journal = 'reclaim-journal 1\r\nrun=old\r\naction=repair\r\nmode=offline\r\nstate=written\r\nbegan=2025-06-17T10:00:00.000Z\r\nwas-running=1\r\nbackup=D:\\Plex Data\\Plex Media Server\\Preferences.reclaim-backup-20250617T100000Z.reg\r\noriginal=regsha256:aa:12\r\n';
    const { shell } = windowsShell((script) => records(['begin', begin(script), '1'], ['stale'], ['journal', journal], ['file', '', 'regsha256:bb:12'],
      ['backup', 'D:\\Plex Data\\Plex Media Server\\Preferences.reclaim-backup-20250617T100000Z.reg'],
      ['backup', 'D:\\PLEX DATA\\Plex Media Server\\preferences.reclaim-backup-20250617T090000Z-1.reg'],
      ['backup', 'D:\\Plex Data\\Plex Media Server\\Preferences.reclaim-backup-notatime.reg'], ['end']));
    const opened = await new RegistryStore(install().install, shell, 'run-two').open();
    expect(opened).toMatchObject({
      tookOverLock: true,
      journal: { run: 'old', state: 'written', backup: 'D:\\Plex Data\\Plex Media Server\\Preferences.reclaim-backup-20250617T100000Z.reg', original: 'regsha256:aa:12' },
      file: { fingerprint: 'regsha256:bb:12' },
      backups: ['D:\\PLEX DATA\\Plex Media Server\\preferences.reclaim-backup-20250617T090000Z-1.reg', 'D:\\Plex Data\\Plex Media Server\\Preferences.reclaim-backup-20250617T100000Z.reg'],
    });
    const busy = windowsShell((script) => records(['begin', begin(script), '1'], ['busy', '2025-06-17 10:00:00 UTC'], ['end']));
    await expect(new RegistryStore(install().install, busy.shell, 'run-three').open()).rejects.toMatchObject({ code: 'REPAIR_IN_PROGRESS', message: expect.stringContaining('2025-06-17 10:00:00 UTC') });
    const failed = windowsShell((script) => records(['begin', begin(script), '1'], ['failed', 'backup', 'ERROR: Access is denied.'], ['end']));
    await expect(new RegistryStore(install().install, failed.shell, 'run-four').snapshot({ backup: 'D:\\x.reg' })).rejects.toMatchObject({ code: 'REPAIR_WRITE_FAILED', details: { step: 'backup' }, message: expect.stringContaining('Access is denied') });
  });
});

describe('stopping and starting Plex on Windows', () => {
  it('a wrapper service first, taskkill without /f, /f /t only as the harder stop; started outside the SSH session', async () => {
    expect(stopScript()).toMatch(/Get-Service[\s\S]*PlexUpdateService[\s\S]*Stop-Service[\s\S]*taskkill\.exe \/im 'Plex Media Server\.exe'/);
    expect(stopScript()).not.toContain('/f');
    expect(forceStopScript()).toContain('taskkill.exe /f /t /im \'Plex Media Server.exe\'');
    const start = startScript('C:\\Program Files\\Plex\\Plex Media Server\\Plex Media Server.exe', ['PlexService']);
    expect(start).toContain('Start-Service -Name $n');
    expect(start).toContain('$names=@(@(\'PlexService\')+@(Get-Service');
    expect(start).toContain('-LogonType Interactive');
    expect(start).toContain('Invoke-CimMethod -ClassName Win32_Process -MethodName Create');
    expect(start).not.toContain('Start-Process');

    const { shell, sent } = windowsShell((script) => {
      const id = begin(script);
      if (script.includes('Stop-Service')) return records(['begin', id, '1'], ['service', 'PlexService'], ['ran', '0', 'SUCCESS: Sent termination signal to the process "Plex Media Server.exe" with PID 6120.'], ['end']);
      if (script.includes('Rec \'me\'')) return records(['begin', id, '1'], ['me', ME], ['proc', '6120', 'Plex Media Server.exe', ME], ['proc', '6200', 'Plex Tuner Service.exe', ME], ['end']);
      return records(['begin', id, '1'], ['ran', '0', 'service PlexService'], ['end']);
    });
    const control = new WindowsControl(install().install, shell);
    expect(await control.processes()).toEqual([{ pid: 6120, name: 'Plex Media Server' }, { pid: 6200, name: 'Plex Tuner Service' }]);
    expect(await control.stop()).toEqual({ exit: 0, output: 'SUCCESS: Sent termination signal to the process "Plex Media Server.exe" with PID 6120.' });
    await control.start();
    // The service this run stopped is the one started again.
    expect(sent.at(-1)!.script).toContain('$names=@(@(\'PlexService\')');
    for (const { command } of sent) expect(command.length).toBeLessThanOrEqual(MAX_COMMAND_LINE);
    expect(processScript()).toContain('GetOwnerSid');
  });
});

describe('which Windows installs Reclaim repairs', () => {
  const context = (shell: ServerShell) => ({
    privilege: new Privilege(shell),
    pms: {} as PmsClient,
    plexTv: { checkToken: async () => ({ check: 'invalid' as const }), claimToken: async () => '', exchangeClaimToken: async () => ({ token: '', username: '', email: '' }) },
  });

  it('refuses, changing nothing, when Plex runs as another account than the SSH one (HKCU would be the wrong hive)', async () => {
    const other = 'S-1-5-21-1-2-3-1002';
    const { shell, sent } = windowsShell((script) => records(['begin', begin(script), '1'], ['me', ME], ['proc', '77', 'Plex Media Server.exe', other], ['end']));
    await expect(RepairSession.open(install().install, context(shell))).rejects.toMatchObject({
      code: 'REPAIR_NOT_POSSIBLE', details: { reason: 'other-user' }, fix: expect.stringContaining('Connect over SSH as the Windows account that runs Plex'),
    });
    expect(sent.map(({ script }) => begin(script))).toEqual(['reclaim-windows-service']);

    // Plex of another user found in HKU\<SID>: the same refusal, even when it is not running.
    const hku = install(other, `HKU\\${other}`);
    const idle = windowsShell((script) => records(['begin', begin(script), '1'], ['me', ME], ['end']));
    await expect(RepairSession.open(hku.install, context(idle.shell))).rejects.toMatchObject({ code: 'REPAIR_NOT_POSSIBLE', details: { reason: 'other-user' } });
  });

  it('the plan names the registry key, the reg export backup in Plex\'s data folder, and how Plex is stopped and started', () => {
    const found = install();
    const entry = { install: found.install, preferences: found.preferences, signIn: { accepted: false }, log: { findings: [] }, answersTunnel: true } as unknown as InstallReport;
    const plan = planRepair(entry, { mode: 'offline', now: new Date('2025-06-17T11:00:00Z') });
    expect(plan).toMatchObject({
      preferences: 'HKEY_CURRENT_USER\\Software\\Plex, Inc.\\Plex Media Server',
      backup: 'D:\\Plex Data\\Plex Media Server\\Preferences.reclaim-backup-20250617T110000Z.reg',
      journal: 'D:\\Plex Data\\Plex Media Server\\Preferences.reg.reclaim-journal',
      certificate: { files: ['D:\\Plex Data\\Plex Media Server\\Cache\\cert-v2.p12', 'D:\\Plex Data\\Plex Media Server\\Cache\\certificate.p12'] },
    });
    const text = planText(plan);
    expect(text).toContain('Settings: the Windows registry key HKEY_CURRENT_USER\\Software\\Plex, Inc.\\Plex Media Server');
    expect(text).toContain('taskkill /im "Plex Media Server.exe"');
    expect(text).toContain('reg export');
    expect(text).toContain('scheduled task in your desktop session, or WMI');
    expect(text).toContain('each keeping its registry type');
    const undo = planUndo(entry, ['D:\\Plex Data\\Plex Media Server\\Preferences.reclaim-backup-20250617T110000Z.reg']);
    expect(undo.steps.find((step) => step.step === 'write')!.text).toContain('reg import; values the backup does not hold are removed');
  });
});
