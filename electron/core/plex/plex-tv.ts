import type { Agent } from 'undici';
import { ReclaimError } from '../common/errors.js';
import { createPool, describeNetworkError, networkErrorCode, plexRequest, type HttpReply } from './http-request.js';
import { PRODUCT } from './headers.js';
import { decodeEntities, readRootElement, UnreadableReplyError } from './reply.js';

// plex.tv, as a third-party app uses it (plex-claim.md §2): PIN sign-in, token check, claim
// token. RECLAIM_PLEX_TV_URL points it at a stand-in for tests. The user's token is only ever
// held by the caller in memory and sent in the X-Plex-Token header.

export const PLEX_TV_URL = 'https://plex.tv';
const AUTH_APP_URL = 'https://app.plex.tv/auth';

export interface Pin {
  id: number;
  code: string;
}

export type TokenCheck = 'valid' | 'invalid' | 'unknown';

/** A server's own sign-in, as plex.tv hands it out for a claim token: PlexOnlineToken and friends. */
export interface ServerSignIn {
  token: string;
  username: string;
  email: string;
}

export function plexTvUrl(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.RECLAIM_PLEX_TV_URL;
  if (!configured) return PLEX_TV_URL;
  let url: URL;
  try {
    url = new URL(configured);
  } catch {
    throw new ReclaimError('BAD_INPUT', `RECLAIM_PLEX_TV_URL "${configured}" is not a URL.`, 'Unset it, or set it to a full http(s):// address.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ReclaimError('BAD_INPUT', `RECLAIM_PLEX_TV_URL "${configured}" is not an http(s) address.`, 'Unset it, or set it to a full http(s):// address.');
  }
  return configured.replace(/\/+$/, '');
}

export class PlexTvClient {
  private readonly pool: Agent = createPool();

  constructor(readonly baseUrl: string, private readonly headers: Record<string, string>) {}

  /** The page where the person signs in and approves this PIN. */
  authUrl(pin: Pin): string {
    const clientId = this.headers['X-Plex-Client-Identifier']!;
    const query = `clientID=${encodeURIComponent(clientId)}&code=${encodeURIComponent(pin.code)}` +
      `&${encodeURIComponent('context[device][product]')}=${encodeURIComponent(PRODUCT)}`;
    return `${AUTH_APP_URL}#?${query}`;
  }

  async createPin(): Promise<Pin> {
    return readPinReply(await this.send('POST', '/api/v2/pins?strong=true'));
  }

  /** The user token once the person approved the PIN, null while waiting, 'expired' when gone. */
  async checkPin(pin: Pin): Promise<string | null | 'expired'> {
    return readPinCheckReply(await this.send('GET', `/api/v2/pins/${pin.id}`));
  }

  /** 200 valid, 401 invalid, anything else cannot tell (plex-claim.md §2.3). */
  async checkToken(token: string): Promise<{ check: TokenCheck; username?: string }> {
    let reply: HttpReply;
    try {
      reply = await this.send('GET', '/api/v2/user', token);
    } catch {
      return { check: 'unknown' };
    }
    return readTokenCheckReply(reply);
  }

  /** A fresh claim token; they live about 4 minutes, so fetch one right before using it. */
  async claimToken(userToken: string): Promise<string> {
    return readClaimTokenReply(await this.send('GET', '/api/claim/token.json', userToken));
  }

  /**
   * Redeems a claim token the way Plex Media Server does (plex-claim.md §2.2), from this computer:
   * naming the server by its ProcessedMachineIdentifier gives back the sign-in to write into its
   * Preferences. The server is not asked anything, so a refusal here changes nothing on it.
   */
  async exchangeClaimToken(claimToken: string, machineIdentifier: string): Promise<ServerSignIn> {
    const path = `/api/claim/exchange?token=${encodeURIComponent(claimToken)}`;
    return readExchangeReply(await this.send('POST', path, undefined, serverHeaders(machineIdentifier)));
  }

  /** Stops now: a request still under way fails rather than being waited for. */
  async close(): Promise<void> {
    await this.pool.destroy();
  }

  private async send(method: 'GET' | 'POST', path: string, token?: string, headers = this.headers): Promise<HttpReply> {
    try {
      return await plexRequest(this.baseUrl + path, method, headers, token, this.pool);
    } catch (error) {
      const code = networkErrorCode(error);
      throw new ReclaimError(
        'PLEX_TV_UNREACHABLE',
        `This computer could not reach plex.tv (${describeNetworkError(code, error)}).`,
        'Check this computer\'s internet connection (and any VPN or proxy), then try again. You can also paste a claim token from https://www.plex.tv/claim.',
        { errno: code },
      );
    }
  }
}

// Reading the replies: pure functions of the reply, so that every reply plex.tv could send can
// be tested without a server.

export function readPinReply(reply: HttpReply): Pin {
  const doing = 'creating a sign-in PIN';
  if (reply.status !== 200 && reply.status !== 201) throw unexpected(doing, reply);
  const pin = jsonObject(reply, doing);
  if (typeof pin.id !== 'number' || typeof pin.code !== 'string' || !/^[A-Za-z0-9]{4,64}$/.test(pin.code)) {
    throw unreadable(doing);
  }
  return { id: pin.id, code: pin.code };
}

/** The user token once the person approved the PIN, null while waiting, 'expired' when gone. */
export function readPinCheckReply(reply: HttpReply): string | null | 'expired' {
  const doing = 'checking the sign-in';
  if (reply.status === 404) return 'expired';
  if (reply.status !== 200) throw unexpected(doing, reply);
  const { authToken } = jsonObject(reply, doing);
  if (authToken === null || authToken === undefined || authToken === '') return null;
  if (typeof authToken !== 'string') throw unreadable(doing);
  return authToken;
}

/** 200 valid, 401 invalid, anything else cannot tell (plex-claim.md §2.3). */
export function readTokenCheckReply(reply: HttpReply): { check: TokenCheck; username?: string } {
  if (reply.status === 401) return { check: 'invalid' };
  if (reply.status !== 200) return { check: 'unknown' };
  try {
    const user = JSON.parse(reply.body) as { username?: unknown; title?: unknown };
    const username = typeof user.username === 'string' ? user.username : typeof user.title === 'string' ? user.title : undefined;
    return { check: 'valid', username };
  } catch {
    return { check: 'valid' };
  }
}

export function readClaimTokenReply(reply: HttpReply): string {
  const doing = 'fetching a claim token';
  if (reply.status === 401 || reply.status === 403) {
    throw new ReclaimError(
      'PLEX_TOKEN_INVALID',
      'plex.tv would not give this account a claim token (it said the sign-in is not authorized).',
      'Sign in with Plex again. A managed or Home user cannot claim servers: use the main account.',
      { status: reply.status },
    );
  }
  if (reply.status !== 200) throw unexpected(doing, reply);
  const { token } = jsonObject(reply, doing);
  if (typeof token !== 'string' || !/^claim-[A-Za-z0-9_-]{4,128}$/.test(token)) throw unreadable(doing);
  return token;
}

/** The headers Plex Media Server itself sends to plex.tv (plex-claim.md §2.2). */
function serverHeaders(machineIdentifier: string): Record<string, string> {
  return {
    'X-Plex-Client-Identifier': machineIdentifier,
    'X-Plex-Product': 'Plex Media Server',
    'X-Plex-Version': '1.1',
    'X-Plex-Provides': 'server',
    'X-Plex-Platform': 'Linux',
    'X-Plex-Platform-Version': '1.0',
    'X-Plex-Device-Name': 'PlexMediaServer',
    'X-Plex-Device': 'Linux',
  };
}

const SERVER_TOKEN = /^[A-Za-z0-9_-]{8,256}$/;

/**
 * The exchange's reply: XML with <username>, <email> and <authentication-token> children (what
 * pms-docker and UserCredentialReset read), or the same as attributes or JSON. All three must be
 * there (an incomplete answer is what left UserCredentialReset's servers signed out, §4).
 */
export function readExchangeReply(reply: HttpReply): ServerSignIn {
  const doing = 'exchanging the claim token for the server\'s sign-in';
  if (reply.status === 401 || reply.status === 403 || reply.status === 404) {
    throw new ReclaimError(
      'CLAIM_TOKEN_INVALID',
      'plex.tv refused the claim token: it is invalid, already used, or expired (claim tokens last only about 4 minutes). Nothing on the server was changed.',
      'Sign in with Plex and let Reclaim fetch a token right before using it, or get a fresh one at https://www.plex.tv/claim and use it at once.',
      { status: reply.status, serverSaid: '' },
    );
  }
  if (reply.status !== 200 && reply.status !== 201) throw unexpected(doing, reply);
  const text = reply.body.trim();
  let fields: Record<string, unknown> = {};
  if (text.startsWith('{')) {
    const parsed = jsonObject(reply, doing);
    fields = typeof parsed.user === 'object' && parsed.user !== null ? parsed.user as Record<string, unknown> : parsed;
  } else {
    try {
      fields = { ...readRootElement({ ...reply, body: text }, ['user', 'MediaContainer', 'MyPlex']) };
    } catch (error) {
      if (!(error instanceof UnreadableReplyError)) throw error;
      throw unreadable(doing);
    }
    for (const [name, key] of [['authentication-token', 'authenticationToken'], ['username', 'username'], ['email', 'email']] as const) {
      const child = new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1];
      if (child === undefined) continue;
      try {
        fields[key] = decodeEntities(child);
      } catch (error) {
        if (!(error instanceof UnreadableReplyError)) throw error;
        throw unreadable(doing);
      }
    }
  }
  const pick = (...keys: string[]) => {
    const value = keys.map((key) => fields[key]).find((candidate) => typeof candidate === 'string' && candidate.trim() !== '');
    return typeof value === 'string' ? value.trim() : undefined;
  };
  const token = pick('authenticationToken', 'authToken', 'token');
  const username = pick('username', 'title');
  const email = pick('email');
  const plain = (value: string | undefined) => value !== undefined && value.length <= 256 && !/[\u0000-\u001f\u007f]/.test(value);
  if (!token || !SERVER_TOKEN.test(token) || !plain(username) || !plain(email)) {
    throw new ReclaimError(
      'PLEX_TV_ERROR',
      'plex.tv accepted the claim token but did not send a complete sign-in for the server (its token, user name and e-mail). Nothing on the server was changed.',
      'Try again in a few minutes with a fresh sign-in (status.plex.tv shows outages).',
      { status: reply.status },
    );
  }
  return { token, username: username!, email: email! };
}

/** The reply's JSON object; `null`, a number or a list is as unreadable as no JSON at all. */
function jsonObject(reply: HttpReply, doing: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.body);
  } catch {
    throw unreadable(doing);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw unreadable(doing);
  return parsed as Record<string, unknown>;
}

function unreadable(doing: string): ReclaimError {
  return new ReclaimError(
    'PLEX_TV_ERROR',
    `plex.tv sent a reply Reclaim cannot read while ${doing}.`,
    'plex.tv may be having trouble; try again in a few minutes (status.plex.tv shows outages).',
  );
}

function unexpected(doing: string, reply: HttpReply): ReclaimError {
  return new ReclaimError(
    'PLEX_TV_ERROR',
    `plex.tv answered HTTP ${reply.status} while ${doing}.`,
    'plex.tv may be having trouble; try again in a few minutes (status.plex.tv shows outages).',
    { status: reply.status },
  );
}
