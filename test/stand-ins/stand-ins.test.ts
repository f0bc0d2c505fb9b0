// Proves the plex.tv and Plex Media Server stand-ins behave as /work/shared/reference/plex-claim.md
// says, in a real network namespace: PMS on the namespace's 127.0.0.1:32400, plex.tv on the root
// side of its link. Requests "on the server" are made with curl inside the namespace.
// The tests in each describe run in order: the PMS is claimed half-way through.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetHost, destroyAllNetHosts, netnsSpawn, type NetHost } from '../support/netns.js';
import { startPlexTv, type PlexTv } from './plex-tv.js';
import { startPms, type Pms, type PmsOptions } from './pms.js';

const LOCAL = 'http://127.0.0.1:32400';
const CLIENT = { 'X-Plex-Client-Identifier': 'reclaim-test-client', 'X-Plex-Product': 'Reclaim' };
const PMS_HEADERS = {
  'X-Plex-Client-Identifier': 'a'.repeat(40), 'X-Plex-Product': 'Plex Media Server', 'X-Plex-Version': '1.1',
  'X-Plex-Provides': 'server', 'X-Plex-Platform': 'Linux', 'X-Plex-Platform-Version': '1.0',
  'X-Plex-Device-Name': 'PlexMediaServer', 'X-Plex-Device': 'Linux',
};

let host: NetHost;
let plexTv: PlexTv;
let pms: Pms | undefined;
let alice: { token: string };
let bob: { token: string };

beforeAll(async () => {
  host = await createNetHost();
  plexTv = await startPlexTv({ host: host.peerAddress });
  alice = plexTv.addUser({ username: 'alice', email: 'alice@example.com' });
  bob = plexTv.addUser({ username: 'bob', email: 'bob@example.com' });
  pms = await startPms({ host, plexTvUrl: plexTv.url, friendlyName: 'nas', alsoListenOnHostAddress: true });
});

afterAll(async () => {
  await pms?.stop();
  await plexTv?.stop();
  await host?.destroy();
  await destroyAllNetHosts();
});

/** Restart the PMS in the namespace with other options (one PMS per namespace: port 32400). */
async function restartPms(options: Omit<PmsOptions, 'host'>): Promise<Pms> {
  await pms?.stop();
  pms = undefined;
  pms = await startPms({ host, ...options });
  return pms;
}

interface Reply { status: number; body: string }

/** curl from inside the namespace (as a program on the server would), bounded in time. */
function curlIn(url: string, args: string[] = []): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const child = netnsSpawn(host, 'curl', ['-sS', '--max-time', '15', '-o', '-', '-w', '\n%{http_code}', ...args, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const cut = out.lastIndexOf('\n');
      const status = Number(out.slice(cut + 1));
      if (!status) reject(new Error(`curl ${url} failed (exit ${code}): ${err}`));
      else resolve({ status, body: out.slice(0, cut) });
    });
  });
}

const post = ['-X', 'POST'];
const json = ['-H', 'Accept: application/json'];
const withToken = (token: string) => ['-H', `X-Plex-Token: ${token}`];

/** fetch from the root namespace (as Reclaim on the user's computer would reach plex.tv). */
async function tv(path: string, init: RequestInit = {}): Promise<Reply> {
  const r = await fetch(`${plexTv.url}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: r.status, body: await r.text() };
}

async function claimToken(token: string): Promise<string> {
  const r = await tv('/api/claim/token.json', { headers: { 'X-Plex-Token': token } });
  expect(r.status).toBe(200);
  return (JSON.parse(r.body) as { token: string }).token;
}

const exchanges = () => plexTv.requests.filter((r) => r.path.startsWith('/api/claim/exchange'));

describe('plex.tv stand-in', () => {
  it('runs the PIN flow: create, poll (no token), approve, poll (token)', async () => {
    expect((await tv('/api/v2/pins?strong=true', { method: 'POST', headers: { 'X-Plex-Product': 'Reclaim' } })).status).toBe(400);
    expect((await tv('/api/v2/pins?strong=true', { method: 'POST', headers: { 'X-Plex-Client-Identifier': 'x' } })).status).toBe(400);

    const created = await tv('/api/v2/pins?strong=true', { method: 'POST', headers: { ...CLIENT, Accept: 'application/json' } });
    expect(created.status).toBe(201);
    const pin = JSON.parse(created.body) as Record<string, unknown>;
    expect(pin).toMatchObject({ product: 'Reclaim', trusted: false, clientIdentifier: CLIENT['X-Plex-Client-Identifier'], expiresIn: 900, authToken: null, newRegistration: null });
    expect(pin.code).toMatch(/^[a-z0-9]{25}$/);
    expect(typeof pin.id).toBe('number');

    const poll = (clientId = CLIENT['X-Plex-Client-Identifier']) =>
      tv(`/api/v2/pins/${pin.id}`, { headers: { 'X-Plex-Client-Identifier': clientId, Accept: 'application/json' } });
    expect(JSON.parse((await poll()).body)).toMatchObject({ id: pin.id, authToken: null });
    expect((await poll('someone-else')).status).toBe(404);

    plexTv.approvePin(pin.code as string, 'alice');
    const token = (JSON.parse((await poll()).body) as { authToken: string }).authToken;
    expect(token).toMatch(/^[\w-]{20}$/);
    const user = await tv('/api/v2/user', { headers: { ...CLIENT, 'X-Plex-Token': token, Accept: 'application/json' } });
    expect(user.status).toBe(200);
    expect(JSON.parse(user.body)).toMatchObject({ username: 'alice', email: 'alice@example.com', authToken: token });

    // XML unless Accept: application/json; X-Plex-* may come as query arguments.
    const xml = await tv(`/api/v2/pins/${pin.id}?X-Plex-Client-Identifier=${CLIENT['X-Plex-Client-Identifier']}`);
    expect(xml.body).toMatch(new RegExp(`<pin [^>]*code="${pin.code}"[^>]*authToken="${token}"`));
  });

  it('validates user tokens with /api/v2/user', async () => {
    const user = await tv('/api/v2/user', { headers: { ...CLIENT, 'X-Plex-Token': alice.token, Accept: 'application/json' } });
    expect(JSON.parse(user.body)).toMatchObject({ username: 'alice', email: 'alice@example.com' });
    const bad = await tv('/api/v2/user', { headers: { ...CLIENT, 'X-Plex-Token': 'nope', Accept: 'application/json' } });
    expect(bad.status).toBe(401);
    expect(JSON.parse(bad.body)).toEqual({ errors: [{ code: 1001, message: 'User could not be authenticated', status: 401 }] });
    expect((await tv('/api/v2/user', { headers: { 'X-Plex-Token': alice.token } })).status).toBe(400); // no client id
  });

  it('issues claim tokens only for a valid user token', async () => {
    expect((await tv('/api/claim/token.json')).status).toBe(401);
    const bad = await tv('/api/claim/token.json', { headers: { 'X-Plex-Token': 'nope' } });
    expect(bad.status).toBe(401);
    expect(JSON.parse(bad.body)).toHaveProperty('error');
    expect(await claimToken(alice.token)).toMatch(/^claim-[\w-]{20}$/);
    expect((await tv(`/api/claim/token?X-Plex-Token=${alice.token}`)).body).toMatch(/<MediaContainer token="claim-[\w-]{20}"\/>/);
  });

  it('exchanges a claim token once, only for a PMS, only before it expires', async () => {
    const token = await claimToken(bob.token);
    const exchange = (headers: Record<string, string>) => tv(`/api/claim/exchange?token=${token}`, { method: 'POST', headers });
    expect((await exchange({ 'X-Plex-Client-Identifier': 'a'.repeat(40) })).status).toBe(400);
    expect((await exchange({ ...PMS_HEADERS, 'X-Plex-Product': 'Reclaim' })).status).toBe(400);
    const ok = await exchange(PMS_HEADERS);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatch(/<username>bob<\/username>/);
    expect(ok.body).toMatch(/<email>bob@example.com<\/email>/);
    const serverToken = /<authentication-token>([\w-]{20})<\/authentication-token>/.exec(ok.body)?.[1];
    expect(serverToken).toBeDefined();
    expect(serverToken).not.toBe(bob.token);
    expect((await exchange(PMS_HEADERS)).status).toBe(401); // single use

    const expiring = await claimToken(bob.token);
    plexTv.expireClaimTokens();
    expect((await tv(`/api/claim/exchange?token=${expiring}`, { method: 'POST', headers: PMS_HEADERS })).status).toBe(401);
    expect((await tv('/api/claim/exchange?token=claim-unknown', { method: 'POST', headers: PMS_HEADERS })).status).toBe(401);

    const shortLived = await startPlexTv({ claimTokenLifetimeMs: 0 });
    try {
      const t = shortLived.addUser({ username: 'carol', email: 'carol@example.com' });
      const r = await fetch(`${shortLived.url}/api/claim/token.json`, { headers: { 'X-Plex-Token': t.token } });
      const { token: dead } = (await r.json()) as { token: string };
      const x = await fetch(`${shortLived.url}/api/claim/exchange?token=${dead}`, { method: 'POST', headers: PMS_HEADERS });
      expect(x.status).toBe(401);
    } finally {
      await shortLived.stop();
    }
  });

  it('answers 503 to everything while down', async () => {
    plexTv.setDown(true);
    try {
      const r = await tv('/api/v2/user', { headers: { ...CLIENT, 'X-Plex-Token': alice.token } });
      expect(r).toEqual({ status: 503, body: 'plex.tv is unavailable\n' });
    } finally {
      plexTv.setDown(false);
    }
    expect((await tv('/api/v2/user', { headers: { ...CLIENT, 'X-Plex-Token': alice.token } })).status).toBe(200);
  });

  it('refuses to listen anywhere but loopback or a test namespace link', async () => {
    await expect(startPlexTv({ host: '0.0.0.0' })).rejects.toThrow(/loopback/);
  });
});

describe('PMS stand-in: unclaimed, then claimed through its loopback', () => {
  it('answers /identity tokenless, XML and JSON', async () => {
    const xml = await curlIn(`${LOCAL}/identity`);
    expect(xml.status).toBe(200);
    expect(xml.body).toMatch(new RegExp(`<MediaContainer size="0" claimed="0" machineIdentifier="${pms!.machineIdentifier}" version="[^"]+"/>`));
    expect(pms!.machineIdentifier).toMatch(/^[0-9a-f]{40}$/);
    const j = await curlIn(`${LOCAL}/identity`, json);
    expect(JSON.parse(j.body)).toEqual({ MediaContainer: { size: 0, claimed: false, machineIdentifier: pms!.machineIdentifier, version: expect.any(String) } });
  });

  it('serves / and /myplex/account tokenless to a loopback caller while unclaimed', async () => {
    const root = await curlIn(`${LOCAL}/`, json);
    expect(root.status).toBe(200);
    expect(JSON.parse(root.body).MediaContainer).toMatchObject({
      friendlyName: 'nas', machineIdentifier: pms!.machineIdentifier, platform: 'Linux',
      myPlex: false, myPlexSigninState: 'none', myPlexMappingState: 'unknown', myPlexUsername: '',
    });
    expect((await curlIn(`${LOCAL}/`)).body).toMatch(/<MediaContainer [^>]*myPlex="0"[^>]*myPlexSigninState="none"/);
    const account = await curlIn(`${LOCAL}/myplex/account`);
    expect(account.body).toMatch(/<MyPlex [^>]*signInState="none"/);
  });

  it('refuses a non-loopback caller tokenless /, /myplex/account and the claim, but not /identity', async () => {
    const direct = `http://${host.address}:32400`;
    expect((await curlIn(`${direct}/identity`)).status).toBe(200);
    expect((await curlIn(`${direct}/`)).status).toBe(401); // from host.address, inside the namespace
    expect((await curlIn(`${direct}/myplex/account`)).status).toBe(401);
    const fromRoot = await fetch(`${direct}/`, { signal: AbortSignal.timeout(10_000) }); // from host.peerAddress
    expect(fromRoot.status).toBe(401);
    const claim = await curlIn(`${direct}/myplex/claim?token=${await claimToken(alice.token)}`, post);
    expect(claim.status).toBe(401);
    expect(exchanges().filter((r) => r.from === host.address)).toHaveLength(0); // never reached plex.tv
    expect((await pms!.state()).claimRequests).toContainEqual({ from: host.address });
  });

  it('serves a Plex web page with a Claim server button, and 404 for unknown paths', async () => {
    const web = await curlIn(`${LOCAL}/web/index.html`);
    expect(web.body).toMatch(/<title>Plex<\/title>/);
    expect(web.body).toMatch(/This server is unclaimed/);
    expect(web.body).toMatch(/Claim server/);
    expect((await curlIn(`${LOCAL}/web`)).status).toBe(200);
    expect((await curlIn(`${LOCAL}/nope`)).status).toBe(404);
    expect((await curlIn(`${LOCAL}/myplex/claim?token=claim-x`)).status).toBe(404); // GET is not the claim
  });

  it('answers 401 "401 Unauthorized" to an expired claim token and stays unclaimed', async () => {
    const token = await claimToken(alice.token);
    plexTv.expireClaimTokens();
    const r = await curlIn(`${LOCAL}/myplex/claim?token=${token}`, post);
    expect(r.status).toBe(401);
    expect(r.body).toContain('401 Unauthorized');
    expect((await pms!.state()).claimed).toBe(false);
  });

  it('answers 5xx with a reason while plex.tv is down and stays unclaimed', async () => {
    const token = await claimToken(alice.token);
    plexTv.setDown(true);
    try {
      const r = await curlIn(`${LOCAL}/myplex/claim?token=${token}`, post);
      expect(r.status).toBeGreaterThanOrEqual(500);
      expect(r.body).toMatch(/plex\.tv/);
    } finally {
      plexTv.setDown(false);
    }
    expect((await pms!.state()).claimed).toBe(false);
  });

  it('claims with a fresh claim token; the PMS redeems it at plex.tv with its machine identifier', async () => {
    const token = await claimToken(alice.token);
    const r = await curlIn(`${LOCAL}/myplex/claim?token=${token}`, post);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/<MyPlex [^>]*authToken="[\w-]{20}"[^>]*username="alice"[^>]*mappingState="mapped"[^>]*signInState="ok"/);

    const exchange = exchanges().find((e) => e.path.includes(token))!;
    expect(exchange).toMatchObject({ method: 'POST', from: host.address });
    expect(exchange.headers).toMatchObject({
      'x-plex-client-identifier': pms!.machineIdentifier, 'x-plex-product': 'Plex Media Server', 'x-plex-provides': 'server',
    });
    const state = await pms!.state();
    expect(state).toMatchObject({ claimed: true, owner: 'alice' });
    expect(state.claimRequests).toContainEqual({ from: '127.0.0.1' });
    expect((await curlIn(`${LOCAL}/identity`)).body).toMatch(/claimed="1"/);
  });

  it('then needs the owner token for /, from loopback too', async () => {
    expect((await curlIn(`${LOCAL}/`)).status).toBe(401);
    expect((await curlIn(`${LOCAL}/`, withToken(bob.token))).status).toBe(401);
    const root = await curlIn(`${LOCAL}/`, [...json, ...withToken(alice.token)]);
    expect(root.status).toBe(200);
    expect(JSON.parse(root.body).MediaContainer).toMatchObject({
      myPlex: true, myPlexSigninState: 'ok', myPlexMappingState: 'mapped', myPlexUsername: 'alice@example.com',
    });
    const account = await curlIn(`${LOCAL}/myplex/account?X-Plex-Token=${alice.token}`, json);
    expect(JSON.parse(account.body).MyPlex).toMatchObject({ signInState: 'ok', mappingState: 'mapped', username: 'alice' });
    expect((await curlIn(`http://${host.address}:32400/`, withToken(alice.token))).status).toBe(200);
    expect((await curlIn(`${LOCAL}/web`)).body).not.toContain('alice');
    expect((await curlIn(`${LOCAL}/web`, withToken(alice.token))).body).toContain('claimed by alice');
  });

  it('refuses a second claim without redeeming its token', async () => {
    const before = exchanges().length;
    const token = await claimToken(bob.token);
    expect((await curlIn(`${LOCAL}/myplex/claim?token=${token}`, post)).status).toBe(401);
    expect((await curlIn(`${LOCAL}/myplex/claim?token=${token}`, [...post, ...withToken(alice.token)])).status).toBe(400);
    expect(exchanges()).toHaveLength(before);
    expect((await pms!.state()).owner).toBe('alice');
  });
});

describe('PMS stand-in: other starts', () => {
  const held = new Set<Socket>();
  let silent: Server | undefined;
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
  });

  it('can start claimed', async () => {
    const p = await restartPms({ plexTvUrl: plexTv.url, claimedBy: { username: 'bob', token: bob.token } });
    expect((await curlIn(`${LOCAL}/identity`)).body).toMatch(/claimed="1"/);
    expect((await curlIn(`${LOCAL}/`)).status).toBe(401);
    expect((await curlIn(`${LOCAL}/`, withToken(bob.token))).status).toBe(200);
    expect(await p.state()).toEqual({ claimed: true, owner: 'bob', claimRequests: [] });
  });

  it('answers 503 "still starting up" to the first requests', async () => {
    await restartPms({ plexTvUrl: plexTv.url, startingUpRequests: 2 });
    for (let i = 0; i < 2; i++) {
      expect(await curlIn(`${LOCAL}/identity`)).toEqual({ status: 503, body: 'server is still starting up. Please retry later' });
    }
    expect((await curlIn(`${LOCAL}/identity`)).status).toBe(200);
  });

  it('can answer a malformed /identity', async () => {
    await restartPms({ plexTvUrl: plexTv.url, malformed: 'identity-garbage' });
    const garbage = await curlIn(`${LOCAL}/identity`, json);
    expect(garbage.status).toBe(200);
    expect(() => JSON.parse(garbage.body)).toThrow();
    await restartPms({ plexTvUrl: plexTv.url, malformed: 'identity-missing-claimed' });
    expect((await curlIn(`${LOCAL}/identity`)).body).not.toMatch(/claimed=/);
    expect(JSON.parse((await curlIn(`${LOCAL}/identity`, json)).body).MediaContainer).not.toHaveProperty('claimed');
  });

  it('can claim but answer HTML', async () => {
    const p = await restartPms({ plexTvUrl: plexTv.url, malformed: 'claim-html' });
    const r = await curlIn(`${LOCAL}/myplex/claim?token=${await claimToken(alice.token)}`, post);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^<html>/);
    expect((await p.state()).claimed).toBe(true);
  });

  it('answers 5xx naming the cause when plex.tv refuses connections', async () => {
    // A port on the namespace's peer that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, host.peerAddress, () => resolve()));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await restartPms({ plexTvUrl: `http://${host.peerAddress}:${port}` });
    const r = await curlIn(`${LOCAL}/myplex/claim?token=claim-whatever`, post);
    expect(r.status).toBe(500);
    expect(r.body).toMatch(/ECONNREFUSED/);
  });

  it('bounds a plex.tv that never answers', async () => {
    silent = createServer((s) => held.add(s)); // accepts, then says nothing
    await new Promise<void>((resolve) => silent!.listen(0, host.peerAddress, () => resolve()));
    const port = (silent.address() as { port: number }).port;
    await restartPms({ plexTvUrl: `http://${host.peerAddress}:${port}`, plexTvTimeoutMs: 500 });
    const r = await curlIn(`${LOCAL}/myplex/claim?token=claim-whatever`, post);
    expect(r.status).toBe(500);
    expect(r.body).toMatch(/timed out after 500 ms/);
  });

  it('only lets the PMS call plex.tv on loopback or its own link', async () => {
    await expect(startPms({ host, plexTvUrl: 'http://192.0.2.1/' })).rejects.toThrow(/plexTvUrl/);
  });
});
