import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AppService, type AppHost } from '../../electron/core/app/app-service.js';
import { plexHeaders } from '../../electron/core/plex/headers.js';
import { PmsClient } from '../../electron/core/plex/pms.js';
import { DEFAULT_PROFILE, type ProfileFields, type Prompt, type ReclaimEvent } from '../../electron/shared/ipc-contract.js';
import { EventLog } from '../support/events.js';
import { reclaimErrorOf } from '../support/failure.js';
import { freePort, portIsFree } from '../support/net.js';
import { startPlexServerScene, type PlexServerScene } from '../support/plex-server.js';
import { MemoryVault } from '../ui/harness.js';

// The desktop app's service without a window: how a server's connection, questions, sign-in
// and remembered passwords end, whichever way they end (Cancel, Disconnect, Delete, quitting).
// Real sshd in a namespace, the PMS and plex.tv stand-ins; the window's host is recorded.

let scene: PlexServerScene;
let service: AppService;
let events: EventLog<ReclaimEvent>;
let profilesFile: string;
const closedViews: string[] = [];
const signInWindows: Array<{ url: string; open: boolean }> = [];
let onEvent: ((event: ReclaimEvent) => void) | undefined;
let viewCloseFails = false;

beforeAll(async () => {
  scene = await startPlexServerScene('app');
  events = new EventLog<ReclaimEvent>();
  profilesFile = path.join(scene.home, 'servers.json');
  const host: AppHost = {
    vault: new MemoryVault(),
    openExternal: async () => {},
    openSignInWindow: (url) => {
      const window = { url, open: true };
      signInWindows.push(window);
      return () => {
        window.open = false;
      };
    },
    copyText: () => {},
    chooseFile: async () => undefined,
    showPlexView: () => {},
    closePlexView: (profileId) => {
      if (viewCloseFails) throw new Error('the Plex view would not close');
      closedViews.push(profileId);
    },
    focusPlexView: () => {},
  };
  service = new AppService({
    host,
    emit: (event) => {
      events.push(event);
      onEvent?.(event);
    },
    profilesFile,
    hostKeys: { trustFiles: [scene.knownHosts], recordFile: scene.knownHosts },
    plexTvUrl: scene.plexTv.url,
    plexHeaders: plexHeaders('reclaim-app-test-0000-0000-000000000000'),
    findAgent: () => undefined,
    sshConfig: { configFile: path.join(scene.home, 'no-ssh-config'), homeDir: scene.home },
    reconnect: { initialDelayMs: 100, maxDelayMs: 400 },
  });
}, 120_000);

afterEach(async () => {
  onEvent = undefined;
  viewCloseFails = false;
  vi.restoreAllMocks();
  await service.shutdown();
  await scene.reset();
});

afterAll(async () => {
  await service?.shutdown();
  await scene?.close();
});

async function addServer(change: Partial<ProfileFields>): Promise<string> {
  const { sshd } = scene;
  const saved = await service.saveProfile(null, { ...DEFAULT_PROFILE, name: 'Attic NAS', host: sshd.host, sshPort: sshd.port, user: sshd.user.name, ...change });
  return saved.id;
}

const withKey = () => ({ auth: 'key' as const, keyPath: scene.key.privatePath });

async function nextQuestion(profileId: string, from: number): Promise<Prompt> {
  const event = await events.waitFor((e) => e.type === 'prompt' && e.prompt.profileId === profileId, 'a question for the server', 15_000, from);
  return (event as Extract<ReclaimEvent, { type: 'prompt' }>).prompt;
}

describe('ending a connection', () => {
  it('Cancel while the far end is checked releases the port and the Plex client the attempt made', async () => {
    await scene.freshPms({ friendlyName: 'Attic NAS' });
    const localPort = await freePort();
    const id = await addServer({ ...withKey(), localPort });
    const closes = vi.spyOn(PmsClient.prototype, 'close');
    // The person presses Cancel just as the tunnel checks that Plex answers on the server.
    onEvent = (event) => {
      if (event.type === 'connect-step' && event.step === 'opening-forward') void service.disconnect(id);
    };
    const error = await reclaimErrorOf(service.connect(id));
    expect(error.message).toContain('cancelled');
    expect(await portIsFree(localPort)).toBe(true);
    expect(closes).toHaveBeenCalled();
    expect((await service.currentState()).connecting).toEqual([]);
  });

  it('Disconnect closes the sign-in window still waiting, and the claim says it was cancelled', async () => {
    await scene.freshPms({ friendlyName: 'Attic NAS' });
    const id = await addServer({ ...withKey(), localPort: 0 });
    const connection = await service.connect(id);
    const from = events.events.length;
    const claim = reclaimErrorOf(service.claimWithPlex(id, 'window'));
    await events.waitFor((e) => e.type === 'signin-url' && e.profileId === id, 'the sign-in window', 15_000, from);
    await service.disconnect(id);
    expect((await claim).code).toBe('CANCELLED');
    expect(signInWindows.at(-1)).toMatchObject({ open: false });
    expect(closedViews).toContain(id);
    expect(await portIsFree(connection.localPort)).toBe(true);
  });

  it('a part that fails to close does not keep the rest open, and Disconnect reports it', async () => {
    await scene.freshPms({ friendlyName: 'Attic NAS' });
    const id = await addServer({ ...withKey(), localPort: 0 });
    const connection = await service.connect(id);
    const from = events.events.length;
    viewCloseFails = true;
    const failure = await service.disconnect(id).then(() => undefined, (error: unknown) => error as Error);
    expect(failure?.message).toBe('the Plex view would not close');
    expect(await portIsFree(connection.localPort)).toBe(true);
    await events.waitFor((e) => e.type === 'disconnected' && e.profileId === id, 'the window to be told', 5_000, from);
    expect((await service.currentState()).connections).toEqual([]);
  });
});

describe('deleting a server', () => {
  it('closes the question its diagnose is waiting on, and the diagnose ends', async () => {
    const id = await addServer({ auth: 'password', localPort: 0 });
    const from = events.events.length;
    const diagnosis = service.diagnose(id).then(() => 'ended', () => 'ended');
    const question = await nextQuestion(id, from);
    expect(question).toMatchObject({ kind: 'secret', secretKind: 'password' });
    await service.deleteProfile(id);
    await events.waitFor((e) => e.type === 'prompt-closed' && e.id === question.id, 'the password question to close', 10_000, from);
    expect((await service.currentState()).prompts).toEqual([]);
    expect(await diagnosis).toBe('ended');
  });

  it('forgets the password typed for it: the same server restored later is asked again', async () => {
    const id = await addServer({ auth: 'password', localPort: 0 });
    let from = events.events.length;
    const diagnosis = service.diagnose(id);
    service.answerPrompt((await nextQuestion(id, from)).id, { kind: 'secret', value: scene.sshd.user.password, remember: false });
    expect((await diagnosis)[0]).toMatchObject({ id: 'ssh-login', ok: true });
    const saved = await readFile(profilesFile, 'utf8');

    await service.deleteProfile(id);
    // Say servers.json comes back from a backup, with the same server under the same id.
    await writeFile(profilesFile, saved);
    from = events.events.length;
    const again = service.diagnose(id);
    const outcome = await Promise.race([nextQuestion(id, from).then(() => 'asked'), again.then(() => 'signed in without asking')]);
    expect(outcome).toBe('asked');
    await service.answerPrompt((await nextQuestion(id, from)).id, { kind: 'secret', value: null, remember: false });
    await again;
  });
});
