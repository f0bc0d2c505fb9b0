import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientIdentifier } from '../../electron/core/plex/client-identifier.js';
import { plexHeaders } from '../../electron/core/plex/headers.js';
import { signInWithPlex } from '../../electron/core/plex/sign-in.js';
import { PlexTvClient } from '../../electron/core/plex/plex-tv.js';
import { reclaimErrorOf } from '../support/failure.js';
import { startPlexTv, type PlexTv } from '../stand-ins/plex-tv.js';

// The plex.tv client against the stand-in: who Reclaim says it is, the token check's three
// answers, and a sign-in that is approved, or cancelled.

let dir: string;
let plexTv: PlexTv;
let client: PlexTvClient;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-plextv-'));
  plexTv = await startPlexTv();
  client = new PlexTvClient(plexTv.url, plexHeaders(await clientIdentifier(dir)));
});

afterAll(async () => {
  await client?.close();
  await plexTv?.stop();
  await rm(dir, { recursive: true, force: true });
});

const failure = reclaimErrorOf;

describe('the client identifier', () => {
  it('is made once, kept private, and reused', async () => {
    const first = await clientIdentifier(dir);
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(await clientIdentifier(dir)).toBe(first);
    expect((await stat(path.join(dir, 'plex-client-id'))).mode & 0o777).toBe(0o600);
    expect((await readFile(path.join(dir, 'plex-client-id'), 'utf8')).trim()).toBe(first);
  });

  it('says which file it could not save, when Reclaim\'s folder cannot be written', async () => {
    const blocker = path.join(dir, 'not-a-folder');
    await writeFile(blocker, '');
    const error = await reclaimErrorOf(clientIdentifier(path.join(blocker, 'Reclaim')), 'STORAGE_FAILED');
    expect(error.details.file).toBe(path.join(blocker, 'Reclaim', 'plex-client-id'));
    expect(error.fix).toContain(path.join(blocker, 'Reclaim'));
  });
});

describe('plex.tv', () => {
  it('names Reclaim in its X-Plex headers', async () => {
    await client.createPin();
    expect(plexTv.requests.at(-1)!.headers).toMatchObject({
      'x-plex-product': 'Reclaim',
      'x-plex-client-identifier': await clientIdentifier(dir),
    });
  });

  it('tells a valid token from an invalid one, and says "cannot tell" when plex.tv is down', async () => {
    const { token } = plexTv.addUser({ username: 'carol', email: 'carol@example.com' });
    expect(await client.checkToken(token)).toEqual({ check: 'valid', username: 'carol' });
    expect(await client.checkToken('not-a-real-token-0000')).toEqual({ check: 'invalid' });
    plexTv.setDown(true);
    try {
      expect(await client.checkToken(token)).toEqual({ check: 'unknown' });
    } finally {
      plexTv.setDown(false);
    }
  });

  it('signs in with a PIN once the person approves it', async () => {
    plexTv.addUser({ username: 'dave', email: 'dave@example.com' });
    const signedIn = await signInWithPlex(client, {
      pollIntervalMs: 50,
      onUrl: (url) => plexTv.approvePin(new URLSearchParams(new URL(url).hash.slice(2)).get('code')!, 'dave'),
    });
    expect(signedIn).toMatchObject({ username: 'dave', token: expect.any(String) });
  });

  it('stops waiting when the person cancels', async () => {
    const cancel = new AbortController();
    const error = await failure(signInWithPlex(client, { pollIntervalMs: 50, signal: cancel.signal, onUrl: () => cancel.abort() }));
    expect(error.code).toBe('CANCELLED');
  });

  it('gives up when the sign-in is not approved in time', async () => {
    const error = await failure(signInWithPlex(client, { pollIntervalMs: 20, maxWaitMs: 100, onUrl: () => {} }));
    expect(error.code).toBe('SIGNIN_EXPIRED');
  });

  it('refuses to fetch a claim token for an invalid account token', async () => {
    const error = await failure(client.claimToken('not-a-real-token-0000'));
    expect(error.code).toBe('PLEX_TOKEN_INVALID');
  });
});
