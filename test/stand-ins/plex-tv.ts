// In-process stand-in for plex.tv (the parts Reclaim and a PMS use), following
// /work/shared/reference/plex-claim.md §2. Plain HTTP on a test-only address.
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface PlexTvRequest {
  method: string;
  /** Path with query string, as received. */
  path: string;
  /** Node lower-cases header names. */
  headers: Record<string, string | string[] | undefined>;
  /** Remote address of the caller (e.g. the PMS's NetHost address). */
  from: string;
}

export interface PlexTv {
  /** Base URL, e.g. http://10.201.x.y:PORT (what RECLAIM_PLEX_TV_URL / the PMS's plexTvUrl point at). */
  url: string;
  /** Create a plex.tv account; returns a valid user token for it. */
  addUser(u: { username: string; email: string }): { token: string };
  /** The person signing in at app.plex.tv/auth approves this PIN code as `username`. */
  approvePin(code: string, username: string): void;
  /** Every claim token issued so far becomes expired. */
  expireClaimTokens(): void;
  /** Another valid token for the account, as a claim exchange gives a server (its PlexOnlineToken). */
  issueToken(username: string): string;
  /** The token stops working: plex.tv answers 401 to it from now on. */
  revokeToken(token: string): void;
  /** A password reset with "sign out connected devices": every token of the account dies; returns the new sign-in's token. */
  signOutEverywhere(username: string): { token: string };
  /** Outage: while down every request gets 503 "plex.tv is unavailable" (the socket stays healthy). */
  setDown(down: boolean): void;
  requests: PlexTvRequest[];
  stop(): Promise<void>;
}

interface User { id: number; uuid: string; username: string; email: string }
interface Pin {
  id: number; code: string; strong: boolean; product: string; clientIdentifier: string;
  createdAt: number; expiresAt: number; authToken: string | null;
}
interface ClaimToken { user: User; expiresAt: number; used: boolean }

const MINUTE = 60_000;
const PIN_LIFETIME_S = 900; // §2.3: expiresIn 900 for strong PINs

// Test-network rule: loopback or an address of a test namespace link (10.201.0.0/16, see netns.ts).
function allowedListenHost(host: string): boolean {
  return /^127\./.test(host) || host === '::1' || /^10\.201\./.test(host);
}

/** Tokens look like plex tokens: 20 URL-safe characters. */
function plexToken(): string {
  return randomBytes(15).toString('base64url');
}

function pinCode(strong: boolean): string {
  // strong: 25 lower-case alphanumerics (§2.3 example 8lzjqnq8lye02n52jq3fqxf8e); else a 4-character PIN
  // for plex.tv/link. UNCONFIRMED in plex-claim.md: chose upper-case letters+digits for the short form.
  const alphabet = strong ? 'abcdefghijklmnopqrstuvwxyz0123456789' : 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let code = '';
  for (let i = 0; i < (strong ? 25 : 4); i++) code += alphabet[randomInt(alphabet.length)];
  return code;
}

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function xmlEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** `<name a="…"/>`, leaving out null/undefined attributes. */
function xmlElement(name: string, attrs: Record<string, unknown>): string {
  const parts = Object.entries(attrs)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlEscape(typeof v === 'boolean' ? (v ? '1' : '0') : String(v))}"`);
  return `<${name}${parts.join('')}/>`;
}

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

export async function startPlexTv(options: { host?: string; claimTokenLifetimeMs?: number } = {}): Promise<PlexTv> {
  const host = options.host ?? '127.0.0.1';
  if (!allowedListenHost(host)) throw new Error(`plex.tv stand-in may only listen on loopback or a test namespace address, not ${host}`);
  const claimTokenLifetimeMs = options.claimTokenLifetimeMs ?? 4 * MINUTE; // §2.1: "hardcoded to 4 minutes"

  const usersByName = new Map<string, User>();
  const tokens = new Map<string, User>(); // every valid auth token → its account
  const pins = new Map<number, Pin>();
  const claimTokens = new Map<string, ClaimToken>();
  const requests: PlexTvRequest[] = [];
  let down = false;
  let nextUserId = 1000;

  function mintToken(user: User): string {
    const token = plexToken();
    tokens.set(token, user);
    return token;
  }

  /** §2: any X-Plex-* header may also be sent as a query argument. */
  function plexParam(req: IncomingMessage, url: URL, name: string): string | undefined {
    const header = req.headers[name.toLowerCase()];
    const value = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get(name) ?? undefined;
    return value === '' ? undefined : value;
  }

  const wantsJson = (req: IncomingMessage) => /application\/json/i.test(String(req.headers.accept ?? ''));

  function send(res: ServerResponse, status: number, type: string, body: string): void {
    res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(body) }).end(body);
  }

  /** plex.tv v2 error shape. UNCONFIRMED in plex-claim.md: chose the v2 `errors` array for every v2 error (only 1001 is given). */
  function v2Error(req: IncomingMessage, res: ServerResponse, status: number, code: number, message: string): void {
    if (wantsJson(req)) send(res, status, 'application/json', JSON.stringify({ errors: [{ code, message, status }] }));
    else send(res, status, 'application/xml', `${XML_DECL}<errors>${xmlElement('error', { code, message, status })}</errors>\n`);
  }

  /** Object for JSON, or one XML element with the scalar fields as attributes. */
  function v2Reply(req: IncomingMessage, res: ServerResponse, status: number, element: string, body: Record<string, unknown>): void {
    if (wantsJson(req)) return send(res, status, 'application/json', JSON.stringify(body));
    const scalars = Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v !== 'object' || v === null));
    send(res, status, 'application/xml', `${XML_DECL}${xmlElement(element, scalars)}\n`);
  }

  function pinBody(pin: Pin, now: number): Record<string, unknown> {
    return {
      id: pin.id,
      code: pin.code,
      product: pin.product,
      trusted: false,
      qr: `https://plex.tv/api/v2/pins/qr/${pin.code}`,
      clientIdentifier: pin.clientIdentifier,
      location: { code: 'ZZ', country: 'Test', city: 'Loopback', time_zone: 'UTC', subdivisions: 'Test', coordinates: '0.0, 0.0' },
      expiresIn: Math.max(0, Math.round((pin.expiresAt - now) / 1000)),
      createdAt: isoSeconds(pin.createdAt),
      expiresAt: isoSeconds(pin.expiresAt),
      authToken: pin.authToken,
      newRegistration: null,
    };
  }

  function userBody(user: User, token: string): Record<string, unknown> {
    return {
      id: user.id,
      uuid: user.uuid,
      username: user.username,
      title: user.username,
      email: user.email,
      friendlyName: '',
      locale: null,
      confirmed: true,
      joinedAt: 1_600_000_000,
      emailOnlyAuth: false,
      hasPassword: true,
      protected: false,
      thumb: `https://plex.tv/users/${user.uuid}/avatar`,
      authToken: token,
      home: false,
      guest: false,
      restricted: false,
      twoFactorEnabled: false,
      subscription: { active: false, status: 'Inactive', plan: null, features: [] },
    };
  }

  function handle(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const now = Date.now();
    const clientId = plexParam(req, url, 'X-Plex-Client-Identifier');
    const authToken = plexParam(req, url, 'X-Plex-Token');
    const pinMatch = /^\/api\/v2\/pins\/(\d+)$/.exec(path);

    // UNCONFIRMED in plex-claim.md: chose to require X-Plex-Client-Identifier on every /api/v2 call
    // (§2 "typically required"; every documented v2 call sends it), 400 code 1000 otherwise.
    if (path.startsWith('/api/v2/') && !clientId) {
      return v2Error(req, res, 400, 1000, 'X-Plex-Client-Identifier is missing');
    }

    if (method === 'POST' && path === '/api/v2/pins') {
      const product = plexParam(req, url, 'X-Plex-Product');
      if (!product) return v2Error(req, res, 400, 1000, 'X-Plex-Product is missing');
      const strong = url.searchParams.get('strong') === 'true';
      // UNCONFIRMED in plex-claim.md: chose the same 900 s lifetime for short PINs ("strong" is only said to be longer-lived).
      let id = 0;
      for (let i = 0; i < 100 && (id === 0 || pins.has(id)); i++) id = randomInt(100_000_000, 2_000_000_000);
      const pin: Pin = {
        id, code: pinCode(strong), strong, product, clientIdentifier: clientId!,
        createdAt: now, expiresAt: now + PIN_LIFETIME_S * 1000, authToken: null,
      };
      pins.set(id, pin);
      return v2Reply(req, res, 201, 'pin', pinBody(pin, now));
    }

    if (method === 'GET' && pinMatch) {
      const pin = pins.get(Number(pinMatch[1]));
      // A PIN is only visible to the client that created it; expired PINs are gone.
      // UNCONFIRMED in plex-claim.md: chose 404 code 1020 "Code not found or expired" for all three cases.
      if (!pin || pin.clientIdentifier !== clientId || now >= pin.expiresAt) {
        return v2Error(req, res, 404, 1020, 'Code not found or expired');
      }
      return v2Reply(req, res, 200, 'pin', pinBody(pin, now));
    }

    // What a PMS asks at start with its saved token (plex-repair.md §3.3). UNCONFIRMED in
    // plex-repair.md: the body of a 200; chose an empty feature list.
    if (method === 'GET' && path === '/api/v2/server/users/features') {
      if (!authToken || !tokens.has(authToken)) return v2Error(req, res, 401, 1001, 'User could not be authenticated');
      return send(res, 200, 'application/json', JSON.stringify({ features: [] }));
    }

    if (method === 'GET' && path === '/api/v2/user') {
      const user = authToken ? tokens.get(authToken) : undefined;
      if (!user || !authToken) return v2Error(req, res, 401, 1001, 'User could not be authenticated');
      return v2Reply(req, res, 200, 'user', userBody(user, authToken));
    }

    // §2.1: token.json (JSON only) and the XML variant /api/claim/token.
    if (method === 'GET' && (path === '/api/claim/token.json' || path === '/api/claim/token')) {
      const json = path.endsWith('.json');
      const user = authToken ? tokens.get(authToken) : undefined;
      if (!user) {
        // plex-api.rs reads non-200 replies as {"error":"…"}; message from S10.
        // UNCONFIRMED in plex-claim.md: chose this exact wording for both variants.
        const message = 'The Plex token is not authorized to create a claim token';
        return json
          ? send(res, 401, 'application/json', JSON.stringify({ error: message }))
          : send(res, 401, 'application/xml', `${XML_DECL}<errors><error>${message}</error></errors>\n`);
      }
      // UNCONFIRMED in plex-claim.md: chose 20 URL-safe characters after "claim-" (S10 shows letters, digits and "_").
      const token = `claim-${plexToken()}`;
      claimTokens.set(token, { user, expiresAt: now + claimTokenLifetimeMs, used: false });
      return json
        ? send(res, 200, 'application/json', JSON.stringify({ token }))
        : send(res, 200, 'application/xml', `${XML_DECL}${xmlElement('MediaContainer', { token })}\n`);
    }

    if (method === 'POST' && path === '/api/claim/exchange') {
      // §2.2: only a PMS redeems claim tokens, identifying itself by its machine identifier.
      // UNCONFIRMED in plex-claim.md: chose 400 (plain text) when the PMS headers are missing.
      const product = plexParam(req, url, 'X-Plex-Product');
      const provides = plexParam(req, url, 'X-Plex-Provides') ?? '';
      if (!clientId || product !== 'Plex Media Server' || !provides.split(',').map((s) => s.trim()).includes('server')) {
        return send(res, 400, 'text/plain', 'Bad Request: X-Plex-Client-Identifier, X-Plex-Product: Plex Media Server and X-Plex-Provides: server are required\n');
      }
      const claim = claimTokens.get(url.searchParams.get('token') ?? '');
      if (!claim || claim.used || now >= claim.expiresAt) {
        // UNCONFIRMED in plex-claim.md: chose plex.tv's legacy XML error shape for expired/unknown/used tokens.
        return send(res, 401, 'application/xml', `${XML_DECL}<errors><error>Invalid or expired claim token</error></errors>\n`);
      }
      claim.used = true; // single use
      const user = claim.user;
      // A new token for this server, tied to the account (it becomes PlexOnlineToken).
      // UNCONFIRMED in plex-claim.md: chose to make it a full account token (valid for /api/v2/user and
      // for claim tokens), as PlexOnlineToken is in practice; and the root element <user> of plex.tv's
      // legacy account XML, carrying authToken as an attribute and the three child elements S6 reads.
      const serverToken = mintToken(user);
      const attrs = xmlElement('user', {
        id: user.id, uuid: user.uuid, email: user.email, username: user.username, title: user.username,
        authToken: serverToken, authenticationToken: serverToken,
      }).replace(/\/>$/, '>');
      const body = `${XML_DECL}${attrs}\n  <username>${xmlEscape(user.username)}</username>\n  <email>${xmlEscape(user.email)}</email>\n`
        + `  <authentication-token>${serverToken}</authentication-token>\n</user>\n`;
      // Exchange answers XML only: no JSON form is known (UNCONFIRMED in plex-claim.md: chose to ignore Accept here).
      return send(res, 200, 'application/xml', body);
    }

    // UNCONFIRMED in plex-claim.md: chose a plain 404 for anything else.
    send(res, 404, 'text/plain', 'Not Found\n');
  }

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers }, from: req.socket.remoteAddress ?? '' });
    // Drain any body (none of these endpoints reads one) before answering.
    req.resume();
    if (down) return send(res, 503, 'text/plain', 'plex.tv is unavailable\n');
    try {
      handle(req, res, new URL(req.url ?? '/', 'http://plex.tv'));
    } catch (err) {
      send(res, 500, 'text/plain', `stand-in error: ${(err as Error).message}\n`);
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let stopped: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    requests,
    addUser({ username, email }) {
      if (usersByName.has(username)) throw new Error(`plex.tv stand-in: user ${username} exists`);
      const user: User = { id: nextUserId++, uuid: randomUUID().replace(/-/g, '').slice(0, 16), username, email };
      usersByName.set(username, user);
      return { token: mintToken(user) };
    },
    approvePin(code, username) {
      const user = usersByName.get(username);
      if (!user) throw new Error(`plex.tv stand-in: no user ${username}`);
      const pin = [...pins.values()].find((p) => p.code === code && Date.now() < p.expiresAt);
      if (!pin) throw new Error(`plex.tv stand-in: no live PIN with code ${code}`);
      // Signing in mints a new token for the app's client identifier (not the account's first token).
      pin.authToken = mintToken(user);
    },
    expireClaimTokens() {
      const now = Date.now();
      for (const claim of claimTokens.values()) claim.expiresAt = Math.min(claim.expiresAt, now);
    },
    issueToken(username) {
      const user = usersByName.get(username);
      if (!user) throw new Error(`plex.tv stand-in: no user ${username}`);
      return mintToken(user);
    },
    revokeToken(token) {
      if (!tokens.delete(token)) throw new Error('plex.tv stand-in: revokeToken: no such valid token');
    },
    signOutEverywhere(username) {
      const user = usersByName.get(username);
      if (!user) throw new Error(`plex.tv stand-in: no user ${username}`);
      for (const [token, owner] of tokens) if (owner === user) tokens.delete(token);
      return { token: mintToken(user) };
    },
    setDown(value) {
      down = value;
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return stopped;
    },
  };
}
