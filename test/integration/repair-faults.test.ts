import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReclaimError } from '../../electron/core/common/errors.js';
import { destroyAllNetHosts } from '../support/netns.js';
import type { PlexHost } from '../support/plex-host.js';
import { asAccount, repair, revokedServer as revoked, workingFiles } from '../support/repair-run.js';
import { stopAllSshds } from '../support/sshd.js';

// The faults a repair can meet, against the test server: a wrong sudo password, a claim plex.tv
// refuses, a Plex that will not stop or will not come back, a full disk, and a second repair at
// the same time (the connection cut after each step: repair-interrupted.test.ts). After each the
// Preferences are whole (as they were, or the finished repair), and Plex runs or the next run
// puts it right. sudo needs no password here unless a test is about it (repair.test.ts runs both
// ways with one).

afterAll(async () => {
  await stopAllSshds();
  await destroyAllNetHosts();
});

const revokedServer = (options: Parameters<typeof revoked>[0] = {}) => revoked({ sudo: 'nopasswd', ...options });

function codeOf(error: unknown): string | undefined {
  return isReclaimError(error) ? error.code : undefined;
}

describe('faults that change nothing', () => {
  let host: PlexHost;
  let original: string;
  beforeAll(async () => {
    ({ host, original } = await revokedServer({ sudo: 'password' }));
  });
  afterAll(async () => host?.stop());

  async function expectUntouched(pid: number): Promise<void> {
    expect(await host.readPreferences()).toBe(original);
    expect((await host.service()).mainPid).toBe(pid);
    expect((await host.pmsRequest('/identity')).status).toBe(200);
    expect((await host.listDir(host.paths.pmsDir)).filter((name) => name.includes('reclaim'))).toEqual([]);
  }

  it('a wrong sudo password: refused once, before anything is stopped', async () => {
    const pid = (await host.service()).mainPid;
    const { error, run } = await repair(host, asAccount(host, 'bob'), { sudoPassword: 'not-the-password' });
    expect(error).toMatchObject({ code: 'SUDO_REFUSED', details: { reason: 'wrong-password' } });
    expect(JSON.stringify(error)).not.toContain('not-the-password');
    expect(run.steps).toEqual([]);
    await expectUntouched(pid);
  });

  it('a claim plex.tv refuses (the offline way\'s exchange): refused before anything is stopped', async () => {
    const pid = (await host.service()).mainPid;
    const { error, run } = await repair(host, () => ({ kind: 'token', claimToken: 'claim-expiredOrNeverIssued' }), { choices: { mode: 'offline' } });
    expect(error).toMatchObject({ code: 'CLAIM_TOKEN_INVALID' });
    expect(run.steps).toEqual(['claim started']);
    await expectUntouched(pid);
  });

  it('plex.tv down for the exchange: nothing is changed', async () => {
    const pid = (await host.service()).mainPid;
    host.plexTv.setDown(true);
    try {
      const { error } = await repair(host, asAccount(host, 'bob'), { choices: { mode: 'offline' } });
      expect(codeOf(error)).toMatch(/^PLEX_TV_(ERROR|UNREACHABLE)$/);
    } finally {
      host.plexTv.setDown(false);
    }
    await expectUntouched(pid);
  });
});

describe('a Plex that will not stop', () => {
  let host: PlexHost;
  let original: string;
  beforeAll(async () => {
    ({ host, original } = await revokedServer({ dropIns: { 'stop.conf': '[Service]\nTimeoutStopSec=1\nSendSIGKILL=no\n' } }));
    await host.setPmsFaults({ ignoreSigterm: true });
    await host.stopPms().catch(() => {});
    await host.runAsRoot('kill -KILL $(pidof "Plex Media Server"); systemctl reset-failed plexmediaserver');
    await host.startPms();
  });
  afterAll(async () => host?.stop());

  it('is named, and nothing is changed', async () => {
    const pid = (await host.service()).mainPid;
    const { error, run } = await repair(host, asAccount(host, 'bob'), { limits: { stopWaitMs: 3000 } });
    expect(error).toMatchObject({ code: 'PMS_WOULD_NOT_STOP', details: { processes: [expect.stringMatching(/^\d+ Plex Media Serv/)] } });
    expect((error as Error).message).toMatch(/still running 3 s after/);
    expect(run.steps).toEqual(['stop started']);
    expect(await host.readPreferences()).toBe(original);
    expect((await host.pmsRequest('/identity')).status).toBe(200);
    expect((await host.runAsRoot('pidof "Plex Media Server"')).stdout.trim()).toBe(String(pid));
    expect(await workingFiles(host)).toEqual([]);
  });
});

describe('a Plex that will not come back', () => {
  let host: PlexHost;
  let original: string;
  beforeAll(async () => {
    ({ host, original } = await revokedServer());
  });
  afterAll(async () => host?.stop());

  it('gets its Preferences back; once it can start again, the next run starts it and repairs', async () => {
    await host.setPmsFaults({ refuseStart: true });
    const { error, run } = await repair(host, asAccount(host, 'bob'), { limits: { startWaitMs: 20_000 } });
    expect(error).toMatchObject({ code: 'PMS_WOULD_NOT_START' });
    expect((error as Error).message).toMatch(/put your Preferences back from .*reclaim-backup-.*could not finish putting things back/);
    expect(run.notices).toContainEqual(expect.objectContaining({ event: 'rolled-back', restored: true, started: false }));
    expect(await host.readPreferences()).toBe(original);

    await host.setPmsFaults({ refuseStart: false });
    const next = await repair(host, asAccount(host, 'bob'));
    expect(next.error).toBeUndefined();
    expect(next.run.notices).toContainEqual(expect.objectContaining({ event: 'recovered', outcome: 'rolled-back' }));
    expect((await host.preferences()).get('PlexOnlineUsername')).toBe('bob');
    expect(await workingFiles(host)).toEqual([]);
  }, 120_000);
});

describe('a full disk while writing', () => {
  let host: PlexHost;
  let original: string;
  beforeAll(async () => {
    ({ host, original } = await revokedServer());
    // The data directory on a small disk of its own, inside the server's mount namespace.
    await host.stopPms();
    const dir = host.paths.pmsDir;
    const mounted = await host.runAsRoot(`set -e; cp -a '${dir}' /var/lib/pms-copy; mount -t tmpfs -o size=1m,mode=0755 tmpfs '${dir}'; cp -a /var/lib/pms-copy/. '${dir}/'; chown plex:plex '${dir}'; rm -rf /var/lib/pms-copy`);
    expect(mounted.code, mounted.stderr).toBe(0);
    await host.startPms();
  });
  afterAll(async () => host?.stop());

  it('fails the write, leaves the Preferences as they were, and the next run finishes once there is room', async () => {
    const filler = `${host.paths.pmsDir}/filler`;
    const { error } = await repair(host, asAccount(host, 'bob'), {
      limits: { startWaitMs: 10_000 },
      onStep: async (step, state) => {
        // The disk fills up between the backup and the write.
        if (step === 'backup' && state === 'done') await host.runAsRoot(`dd if=/dev/zero of='${filler}' bs=4096 2>/dev/null; true`);
      },
    });
    expect(error).toMatchObject({ code: 'REPAIR_WRITE_FAILED', details: { step: 'write', reason: 'disk-full' } });
    expect((error as Error).message).toMatch(/the server's disk is full/);
    expect(await host.readPreferences()).toBe(original);
    expect((await host.listDir(host.paths.pmsDir)).filter((name) => name.endsWith('.reclaim-new'))).toEqual([]);

    await host.runAsRoot(`rm -f '${filler}'`);
    const next = await repair(host, asAccount(host, 'bob'));
    expect(next.error).toBeUndefined();
    expect((await host.preferences()).get('PlexOnlineUsername')).toBe('bob');
    expect(await workingFiles(host)).toEqual([]);
  }, 120_000);
});

describe('two repairs at once', () => {
  let host: PlexHost;
  beforeAll(async () => {
    ({ host } = await revokedServer());
  });
  afterAll(async () => host?.stop());

  it('the second is refused while the first holds the lock; the first completes', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let stopped!: () => void;
    const atStop = new Promise<void>((resolve) => {
      stopped = resolve;
    });
    const first = repair(host, asAccount(host, 'bob'), {
      onStep: async (step, state) => {
        if (step === 'stop' && state === 'done') {
          stopped();
          await held;
        }
      },
    });
    await atStop;
    const second = await repair(host, asAccount(host, 'bob'));
    expect(second.error).toMatchObject({ code: 'REPAIR_IN_PROGRESS', message: expect.stringMatching(/under way \(it began \d{4}-\d\d-\d\d /) });
    expect(second.run.steps).toEqual([]);
    release();
    const done = await first;
    expect(done.error).toBeUndefined();
    expect((await host.preferences()).get('PlexOnlineUsername')).toBe('bob');
    expect(await workingFiles(host)).toEqual([]);
  }, 120_000);
});
