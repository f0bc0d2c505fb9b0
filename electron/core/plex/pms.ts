import type { Agent } from 'undici';
import { printable, ReclaimError } from '../common/errors.js';
import { BodyTooLargeError, createPool, describeNetworkError, networkErrorCode, plexRequest, type HttpReply } from './http-request.js';
import { readFlag, readOptionalText, readRootElement, readText, UnreadableReplyError, type PlexFields } from './reply.js';

// Plex Media Server's local API, reached through the tunnel's 127.0.0.1 port, so the server sees
// its own loopback. Only what claiming needs: identity, the root container, claim and account.
// Replies are read strictly; a reply that does not say "claimed" plainly is an error, never a
// guess either way. Tokens travel in headers or the claim URL and are never put into messages.

export interface PmsIdentity {
  claimed: boolean;
  machineIdentifier: string;
  version: string;
}

export interface PmsSignIn {
  friendlyName?: string;
  platform?: string;
  /** none | ok | invalid | unknown (plex-claim.md §1.4). */
  signInState?: string;
  /** unknown | waiting | mapped | failed. */
  mappingState?: string;
  username?: string;
}

const MACHINE_ID = /^[A-Za-z0-9-]{8,64}$/;
const STARTING_UP = /starting up|startup maintenance|retry later/i;
const CLAIM_TIMEOUT_MS = 60_000;

export class PmsClient {
  private readonly pool: Agent = createPool();

  constructor(readonly baseUrl: string, private readonly headers: Record<string, string>) {}

  async identity(): Promise<PmsIdentity> {
    return readIdentityReply(await this.send('GET', '/identity'));
  }

  /** The root container: readable without a token only while unclaimed and local. */
  async signIn(token?: string): Promise<PmsSignIn | 'needs-token'> {
    return readRootReply(await this.send('GET', '/', token));
  }

  /** POST /myplex/claim: PMS redeems the token with plex.tv and becomes owned by its account. */
  async claim(claimToken: string, userToken?: string): Promise<{ username?: string }> {
    const path = `/myplex/claim?token=${encodeURIComponent(claimToken)}`;
    // PMS redeems the token with plex.tv before it answers, so this can take much longer than a read.
    return readClaimReply(await this.send('POST', path, userToken, '/myplex/claim', CLAIM_TIMEOUT_MS));
  }

  async account(token?: string): Promise<PmsSignIn | 'needs-token'> {
    return readAccountReply(await this.send('GET', '/myplex/account', token));
  }

  /** Stops now: a request still under way fails rather than being waited for. */
  async close(): Promise<void> {
    await this.pool.destroy();
  }

  private async send(method: 'GET' | 'POST', path: string, token?: string, label = path, timeoutMs?: number): Promise<HttpReply> {
    let reply: HttpReply;
    try {
      reply = await plexRequest(this.baseUrl + path, method, this.headers, token, this.pool, timeoutMs);
    } catch (error) {
      if (error instanceof BodyTooLargeError) throw badReply(label, 'the reply is far larger than any Plex reply');
      const code = networkErrorCode(error);
      if (code === 'ETIMEDOUT' && label === '/myplex/claim') {
        throw new ReclaimError(
          'SERVER_CANNOT_REACH_PLEX_TV',
          'Plex Media Server did not finish the claim within a minute: it is probably waiting for plex.tv.',
          'Check whether the claim went through after all (Refresh in the app, "reclaim status" on the command line); if not, run Diagnose to see whether the server reaches plex.tv.',
          { path: label },
        );
      }
      throw new ReclaimError(
        'PMS_UNREACHABLE',
        `Reclaim could not get an answer from Plex Media Server through the tunnel (${label}: ${describeNetworkError(code, error)}).`,
        'Check that Plex Media Server is running on the server and that the tunnel is connected, then try again.',
        { path: label, errno: code },
      );
    }
    if (reply.status === 503 && STARTING_UP.test(reply.body)) {
      throw new ReclaimError(
        'PMS_STARTING',
        'Plex Media Server is still starting up (it said: "server is still starting up").',
        'Wait a minute for it to finish its startup tasks, then try again.',
        { path: label },
      );
    }
    return reply;
  }
}

// Reading the replies: pure functions of the reply, so that every reply a server could send can
// be tested without a server.

export function readIdentityReply(reply: HttpReply): PmsIdentity {
  const fields = rootFields('/identity', reply, ['MediaContainer']);
  return readOrRefuse('/identity', () => ({
    claimed: readFlag(fields, 'claimed'),
    machineIdentifier: readText(fields, 'machineIdentifier', MACHINE_ID),
    version: readText(fields, 'version'),
  }));
}

export function readRootReply(reply: HttpReply): PmsSignIn | 'needs-token' {
  if (reply.status === 401 || reply.status === 403) return 'needs-token';
  const fields = rootFields('/', reply, ['MediaContainer']);
  return {
    friendlyName: readOptionalText(fields, 'friendlyName'),
    platform: readOptionalText(fields, 'platform'),
    signInState: readOptionalText(fields, 'myPlexSigninState'),
    mappingState: readOptionalText(fields, 'myPlexMappingState'),
    username: readOptionalText(fields, 'myPlexUsername'),
  };
}

export function readAccountReply(reply: HttpReply): PmsSignIn | 'needs-token' {
  if (reply.status === 401 || reply.status === 403) return 'needs-token';
  const fields = rootFields('/myplex/account', reply, ['MyPlex', 'MediaContainer']);
  return {
    signInState: readOptionalText(fields, 'signInState'),
    mappingState: readOptionalText(fields, 'mappingState'),
    username: readOptionalText(fields, 'username'),
  };
}

export function readClaimReply(reply: HttpReply): { username?: string } {
  if (reply.status !== 200 && reply.status !== 201 && reply.status !== 204) throw claimRefusal(reply);
  if (!reply.body.trim()) return {};
  try {
    return { username: readOptionalText(readRootElement(reply, ['MyPlex', 'MediaContainer']), 'username') };
  } catch {
    return {}; // the claim went through; who owns it is checked by the caller afterwards
  }
}

function rootFields(path: string, reply: HttpReply, roots: string[]): PlexFields {
  if (reply.status !== 200) throw unexpectedStatus(path, reply);
  return readOrRefuse(path, () => readRootElement(reply, roots));
}

function readOrRefuse<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof UnreadableReplyError)) throw error;
    throw badReply(path, error.message);
  }
}

function badReply(path: string, why: string): ReclaimError {
  return new ReclaimError(
    'PMS_BAD_REPLY',
    `The program answering on the server's port 32400 sent a reply to ${path} that Reclaim cannot read (${why}).`,
    'Check that it is Plex Media Server (not another program on that port) and that Plex is up to date; restarting Plex often helps.',
    { path },
  );
}

function unexpectedStatus(path: string, reply: HttpReply): ReclaimError {
  const said = excerpt(reply.body, 120);
  return badReply(path, `HTTP ${reply.status}${said ? `: ${said}` : ''}`);
}

function claimRefusal(reply: HttpReply): ReclaimError {
  const said = excerpt(reply.body, 160);
  const facts = { status: reply.status, serverSaid: said };
  if (reply.status === 401) {
    return new ReclaimError(
      'CLAIM_TOKEN_INVALID',
      'Plex Media Server refused the claim token: it is invalid, already used, or expired (claim tokens last only about 4 minutes).',
      'Get a fresh token at https://www.plex.tv/claim and use it at once, or sign in with Plex and let Reclaim fetch one right before claiming.',
      facts,
    );
  }
  if (reply.status === 403) {
    return new ReclaimError(
      'PMS_NOT_LOCAL',
      'Plex Media Server refused the claim because the request did not look local to it.',
      'Keep the tunnel\'s far end at 127.0.0.1:32400 on the server (the default). If Plex runs in Docker with bridge networking, requests arrive from the Docker gateway: claim with the PLEX_CLAIM variable or host networking instead.',
      facts,
    );
  }
  if (reply.status >= 500) {
    return new ReclaimError(
      'SERVER_CANNOT_REACH_PLEX_TV',
      `Plex Media Server could not complete the claim with plex.tv (HTTP ${reply.status}${said ? `: ${said}` : ''}).`,
      'The server itself must reach plex.tv over HTTPS. Run Diagnose ("reclaim diagnose" on the command line) to check its DNS, clock and certificates; a firewall, a wrong gateway or a TLS-inspecting proxy on the server\'s network are the usual causes.',
      facts,
    );
  }
  if (reply.status === 404) {
    return new ReclaimError(
      'PMS_BAD_REPLY',
      'This Plex Media Server does not offer the claim request (HTTP 404 for /myplex/claim).',
      'Update Plex Media Server, or claim from Plex Web (Settings > General > Sign in) through the tunnel.',
      facts,
    );
  }
  return badReply('/myplex/claim', `HTTP ${reply.status}${said ? `: ${said}` : ''}`);
}

/**
 * What the server said, fit for a message: tags and runs of space collapsed, control characters
 * dropped (it has not proved it is Plex), cut short. Linear in the body, which may be 1 MiB.
 */
function excerpt(body: string, max: number): string {
  const text = printable(body.replace(/<[^<>]*>/g, ' ').replace(/\s+/g, ' ').trim());
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
