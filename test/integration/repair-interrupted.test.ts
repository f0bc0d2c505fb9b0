import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepairStep } from '../../electron/core/server/repair/session.js';
import { parsePreferences } from '../stand-ins/preferences.mjs';
import { destroyAllNetHosts } from '../support/netns.js';
import type { PlexHost } from '../support/plex-host.js';
import { asAccount, repair, resetServer, revokedServer, workingFiles, type RepairRun } from '../support/repair-run.js';
import { stopAllSshds } from '../support/sshd.js';

// The SSH connection cut after each step of a repair (as when the laptop is closed or the link
// drops): the Preferences are whole at that moment, and the next run finds the journal, says
// whether it finished the cut-off run or rolled it back, and then completes its own repair.

afterAll(async () => {
  await stopAllSshds();
  await destroyAllNetHosts();
});

const SIGN_IN = ['PlexOnlineToken', 'PlexOnlineUsername', 'PlexOnlineMail', 'PlexOnlineHome'];

function withoutSignIn(settings: Map<string, string>): Record<string, string> {
  return Object.fromEntries([...settings].filter(([key]) => !SIGN_IN.includes(key)));
}

/** Kills the sshd session that serves `run`'s connection (named in the lock it holds), and waits until the client sees it go. */
async function cutConnection(host: PlexHost, run: RepairRun): Promise<void> {
  const owner = await host.readFile(`${host.paths.preferences}.reclaim-lock/owner`);
  const session = /^session=(\d+) /m.exec(owner ?? '')?.[1];
  if (!session || session === '0') throw new Error(`no session in the repair lock: ${owner}`);
  const result = await host.runAsRoot(`parent=$(ps -o ppid= -p ${session} | tr -d ' '); kill -KILL ${session} $parent`);
  if (result.code !== 0) throw new Error(`could not kill the session: ${result.stderr}`);
  await run.connection.closed;
}

describe('the connection cut after each step', () => {
  let host: PlexHost;
  let original: string;
  beforeAll(async () => {
    ({ host, original } = await revokedServer({ sudo: 'nopasswd' }));
  });
  afterAll(async () => host?.stop());

  const cases: Array<{ mode: 'signout' | 'offline'; after: RepairStep; recovered: 'rolled-back' | 'finished' }> = [
    { mode: 'signout', after: 'stop', recovered: 'rolled-back' },
    { mode: 'signout', after: 'backup', recovered: 'rolled-back' },
    { mode: 'signout', after: 'write', recovered: 'rolled-back' },
    { mode: 'signout', after: 'start', recovered: 'rolled-back' },
    { mode: 'signout', after: 'claim', recovered: 'finished' },
    { mode: 'signout', after: 'verify', recovered: 'finished' },
    { mode: 'offline', after: 'write', recovered: 'finished' },
  ];

  it.each(cases)('$mode, after "$after": the next run says it $recovered it, and the repair then completes', async ({ mode, after, recovered }) => {
    await resetServer(host, original);
    const cut = await repair(host, asAccount(host, 'bob'), {
      choices: { mode },
      onStep: async (step, state, run) => {
        if (step === after && state === 'done') await cutConnection(host, run);
      },
    });
    expect(cut.error).toMatchObject({ code: 'REPAIR_INTERRUPTED', details: { step: after } });
    // Whatever the moment, the file is whole: every setting but the sign-in as it was.
    expect(withoutSignIn(await host.preferences())).toEqual(withoutSignIn(parsePreferences(original)));

    const next = await repair(host, asAccount(host, 'bob'), { choices: { mode } });
    expect(next.error).toBeUndefined();
    expect(next.run.notices).toContainEqual(expect.objectContaining({ event: 'recovered', outcome: recovered }));
    expect((await host.preferences()).get('PlexOnlineUsername')).toBe('bob');
    expect((await host.pmsRequest('/identity')).body).toContain('claimed="1"');
    expect(await workingFiles(host)).toEqual([]);
  }, 120_000);
});

