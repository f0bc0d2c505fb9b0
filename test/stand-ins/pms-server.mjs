// Stand-in for Plex Media Server's local HTTP API (port 32400), following
// /work/shared/reference/plex-claim.md §1. Runs as its own process inside a test network namespace.
// Usage: node pms-server.mjs '<json config>'   (see pms.ts for the fields)
// Prints "listening <port>" once ready. Control channel: the parent writes "state <n>" lines on stdin
// and gets "state <n> <json>" lines on stdout. Exits when stdin closes (the test process died), unless
// config.control is 'none' (installed on a test server, pms-daemon.mjs: it runs until SIGTERM).
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';

const config = JSON.parse(process.argv[2] ?? '{}');
const PORT = config.port ?? 32400;
const PLEX_TV = String(config.plexTvUrl).replace(/\/+$/, '');
const TIMEOUT_MS = config.plexTvTimeoutMs ?? 10_000;
const MACHINE_ID = config.machineIdentifier;
const VERSION = config.version ?? '1.41.3.9314-a0bfb8370';
const FRIENDLY_NAME = config.friendlyName ?? 'plex-server';
const MALFORMED = config.malformed; // 'identity-garbage' | 'identity-missing-claimed' | 'claim-html' | undefined

/**
 * Who owns this server; undefined while unclaimed. Tokens that prove ownership are in ownerTokens.
 * signInState 'invalid' = plex.tv refused the saved server token (UNCONFIRMED in plex-claim.md §1.4).
 */
let owner = config.claimedBy
  ? {
    username: config.claimedBy.username,
    email: config.claimedBy.email ?? config.claimedBy.username,
    serverToken: config.claimedBy.serverToken,
    signInState: config.claimedBy.signInState ?? 'ok',
  }
  : undefined;
const ownerTokens = new Set(config.claimedBy ? [config.claimedBy.token] : []);
/** What a host that keeps state (pms-daemon.mjs) hooks in; called synchronously. */
export const hooks = {
  /** The server was claimed (owner) or unclaimed (undefined). */
  ownerChanged: (_owner) => {},
  /** Runs on SIGTERM/SIGINT before the process exits. */
  beforeExit: () => {},
};
let startingUpLeft = config.startingUpRequests ?? 0;
const claimRequests = [];

// The headers a PMS sends to plex.tv (§2.2).
const PMS_HEADERS = {
  'X-Plex-Client-Identifier': MACHINE_ID,
  'X-Plex-Product': 'Plex Media Server',
  'X-Plex-Version': '1.1',
  'X-Plex-Provides': 'server',
  'X-Plex-Platform': 'Linux',
  'X-Plex-Platform-Version': '1.0',
  'X-Plex-Device-Name': 'PlexMediaServer',
  'X-Plex-Device': 'Linux',
};

/**
 * "Local" means loopback only. UNCONFIRMED in plex-claim.md (§1.7: same subnet vs. any RFC1918):
 * chose the strictest rule, so the product must come in through the SSH tunnel to 127.0.0.1:32400.
 */
function isLoopback(address) {
  return /^(::ffff:)?127\./.test(address ?? '') || address === '::1';
}

// --- responses -------------------------------------------------------------------------------

const xmlEscape = (v) => String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(body) }).end(body);
}

/** PMS answers a MediaContainer-ish object as XML attributes, or as JSON with Accept: application/json. */
function sendContainer(req, res, element, attrs) {
  if (/application\/json/i.test(String(req.headers.accept ?? ''))) {
    send(res, 200, 'application/json', JSON.stringify({ [element]: attrs }));
    return;
  }
  const xml = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${xmlEscape(typeof v === 'boolean' ? (v ? 1 : 0) : v)}"`).join('');
  send(res, 200, 'application/xml', `${XML_DECL}<${element}${xml}/>\n`);
}

// PMS's own error pages (binhex greps "401 Unauthorized" out of the claim reply, §1.2).
const errorPage = (status, text) => `<html><head><title>${text}</title></head><body><h1>${status} ${text}</h1></body></html>`;
const unauthorized = (res) => send(res, 401, 'text/html', errorPage(401, 'Unauthorized'));
const notFound = (res) => send(res, 404, 'text/html', errorPage(404, 'Not Found'));

function account() {
  return {
    authToken: owner?.serverToken ?? '',
    username: owner?.username ?? '',
    mappingState: owner ? 'mapped' : 'unknown',
    mappingError: '',
    signInState: owner?.signInState ?? 'none',
    publicAddress: '',
    publicPort: 32400,
    privateAddress: '',
    privatePort: 32400,
    subscriptionFeatures: '',
    subscriptionActive: false,
    subscriptionState: 'Unknown',
  };
}

function root() {
  return {
    size: 0,
    friendlyName: FRIENDLY_NAME,
    machineIdentifier: MACHINE_ID,
    version: VERSION,
    platform: 'Linux',
    platformVersion: '6.1.0',
    myPlex: Boolean(owner),
    myPlexMappingState: owner ? 'mapped' : 'unknown',
    myPlexSigninState: owner?.signInState ?? 'none',
    myPlexSubscription: false,
    // §1.4: the official example carries the account e-mail here.
    myPlexUsername: owner?.email ?? '',
    ownerFeatures: '',
  };
}

function webPage(showOwner) {
  const status = !owner
    ? 'This server is unclaimed'
    : showOwner ? `This server is claimed by ${xmlEscape(owner.username)}` : 'This server is claimed. Sign in as its owner to manage it.';
  // A look-alike of the first-run page for screenshots; its only request goes back to this server.
  const form = owner ? '' : `
  <form id="claim"><input name="token" placeholder="claim-…" aria-label="Claim token">
  <button type="submit">Claim server</button></form><p id="result"></p>
  <script>
  document.getElementById('claim').addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = new FormData(e.target).get('token');
    const r = await fetch('/myplex/claim?token=' + encodeURIComponent(token), { method: 'POST' });
    document.getElementById('result').textContent = r.ok ? 'Claimed.' : 'Claim failed: ' + r.status;
  });
  </script>`;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Plex</title></head>
<body style="font-family:sans-serif;background:#1f1f1f;color:#eee">
  <h1>Plex</h1><p>${xmlEscape(FRIENDLY_NAME)}</p>
  <p id="status">${status}</p>${form}
</body></html>
`;
}

// --- plex.tv calls (bounded by TIMEOUT_MS) ---------------------------------------------------

async function plexTv(method, path, extraHeaders = {}) {
  const response = await fetch(`${PLEX_TV}${path}`, {
    method,
    headers: { ...PMS_HEADERS, ...extraHeaders },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return { status: response.status, body: await response.text() };
}

function describeFailure(err) {
  if (err?.name === 'TimeoutError') return `timed out after ${TIMEOUT_MS} ms`;
  const code = err?.cause?.code ?? err?.code;
  return code ? `${code} (${err.cause?.message ?? err.message})` : String(err?.message ?? err);
}

// Owner's plex.tv user token (what Plex Web and resources' accessToken use for an owned server) is
// accepted, checked once with plex.tv /api/v2/user and cached, as is the server token from the exchange.
async function isOwnerToken(token) {
  if (!owner || !token) return false;
  if (ownerTokens.has(token)) return true;
  try {
    const r = await plexTv('GET', '/api/v2/user', { 'X-Plex-Token': token, Accept: 'application/json' });
    if (r.status === 200 && JSON.parse(r.body).username === owner.username) {
      ownerTokens.add(token);
      return true;
    }
  } catch { /* plex.tv unreachable: cannot prove ownership */ }
  return false;
}

const childText = (xml, tag) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1]?.trim() ?? '';

let claimQueue = Promise.resolve(); // one claim at a time, so two racing claims cannot both win

async function claim(req, res, url, loopback, token) {
  claimRequests.push({ from: req.socket.remoteAddress ?? '' });
  if (owner) {
    if (!(await isOwnerToken(token))) return unauthorized(res);
    // UNCONFIRMED in plex-claim.md: chose 400 "already claimed" for the owner re-claiming a claimed server.
    return send(res, 400, 'text/plain', 'This server is already claimed\n');
  }
  // UNCONFIRMED in plex-claim.md (§1.2 "status for a non-local caller"): chose 401, PMS's usual refusal.
  if (!loopback) return unauthorized(res);
  const claimToken = url.searchParams.get('token');
  // UNCONFIRMED in plex-claim.md: chose 400 for a missing token.
  if (!claimToken) return send(res, 400, 'text/plain', 'Bad Request: missing token\n');

  let reply;
  try {
    reply = await plexTv('POST', `/api/claim/exchange?token=${encodeURIComponent(claimToken)}`);
  } catch (err) {
    // UNCONFIRMED in plex-claim.md (§1.2 derived, §6.7): chose 500 with a plain-text reason.
    return send(res, 500, 'text/plain', `Unable to reach plex.tv to claim the server: ${describeFailure(err)}\n`);
  }
  if (reply.status === 401) return unauthorized(res); // expired / invalid / used claim token (§6.1)
  const username = childText(reply.body, 'username');
  const email = childText(reply.body, 'email');
  const serverToken = childText(reply.body, 'authentication-token');
  if (reply.status !== 200 || !username || !serverToken) {
    // UNCONFIRMED in plex-claim.md (§6.9 outage): chose 500 naming plex.tv's status.
    return send(res, 500, 'text/plain', `plex.tv refused the claim (HTTP ${reply.status})\n`);
  }
  owner = { username, email: email || username, serverToken, signInState: 'ok' };
  ownerTokens.add(serverToken);
  hooks.ownerChanged(owner);
  if (MALFORMED === 'claim-html') return send(res, 200, 'text/html', '<html><body>Claimed (maybe)</body></html>');
  sendContainer(req, res, 'MyPlex', account());
}

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://pms');
  const method = req.method ?? 'GET';
  const path = url.pathname;
  const loopback = isLoopback(req.socket.remoteAddress);
  // Any X-Plex-* header may come as a query argument instead (§2).
  const token = req.headers['x-plex-token'] || url.searchParams.get('X-Plex-Token') || undefined;

  if (startingUpLeft > 0) {
    startingUpLeft--;
    // UNCONFIRMED in plex-claim.md (§6.11 status code): chose 503.
    return send(res, 503, 'text/plain', 'server is still starting up. Please retry later');
  }

  // Tokenless only for a loopback caller of an unclaimed server; otherwise the owner's token.
  const allowed = async () => (!owner && loopback) || isOwnerToken(token);

  if (method === 'GET' && path === '/identity') {
    if (MALFORMED === 'identity-garbage') return send(res, 200, 'application/xml', '<MediaContainer size="0" claimed=\u0000\u00ff{"Media');
    const attrs = { size: 0, claimed: Boolean(owner), machineIdentifier: MACHINE_ID, version: VERSION };
    if (MALFORMED === 'identity-missing-claimed') delete attrs.claimed;
    return sendContainer(req, res, 'MediaContainer', attrs);
  }
  if (method === 'GET' && path === '/') {
    return (await allowed()) ? sendContainer(req, res, 'MediaContainer', root()) : unauthorized(res);
  }
  // python-plexapi and plex-api.rs both POST (§1.2); older GET clients are wrong, so GET is unknown here.
  if (method === 'POST' && path === '/myplex/claim') {
    const run = claimQueue.then(() => claim(req, res, url, loopback, token));
    claimQueue = run.catch(() => {});
    return run;
  }
  if (method === 'GET' && path === '/myplex/account') {
    return (await allowed()) ? sendContainer(req, res, 'MyPlex', account()) : unauthorized(res);
  }
  if (method === 'DELETE' && path === '/myplex/account') {
    // Unclaim (§1.3): owner only; 932522 reports 403 for a token that is not the owner's.
    if (!owner) return sendContainer(req, res, 'MyPlex', account());
    if (!(await isOwnerToken(token))) return token ? send(res, 403, 'text/html', errorPage(403, 'Forbidden')) : unauthorized(res);
    owner = undefined;
    ownerTokens.clear();
    hooks.ownerChanged(undefined);
    return sendContainer(req, res, 'MyPlex', account());
  }
  if (method === 'GET' && (path === '/web' || path === '/web/' || path === '/web/index.html')) {
    // The web app's files are public; what it shows about the owner is not.
    return send(res, 200, 'text/html', webPage(await isOwnerToken(token)));
  }
  notFound(res);
}

const server = createServer((req, res) => {
  req.resume();
  handle(req, res).catch((err) => {
    if (!res.headersSent) send(res, 500, 'text/plain', `stand-in error: ${err?.message ?? err}\n`);
  });
});

const addresses = config.listen ?? ['127.0.0.1'];
const servers = [server];
for (const extra of addresses.slice(1)) servers.push(createServer(server.listeners('request')[0]));
let pending = servers.length;
servers.forEach((s, i) => {
  s.once('error', (err) => {
    process.stderr.write(`listen ${addresses[i]}:${PORT}: ${err.message}\n`);
    process.exit(1);
  });
  s.listen(PORT, addresses[i], () => {
    if (--pending === 0) process.stdout.write(`listening ${PORT}\n`);
  });
});

const shutdown = () => {
  hooks.beforeExit();
  for (const s of servers) {
    s.close();
    s.closeAllConnections();
  }
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

if (config.control !== 'none') createInterface({ input: process.stdin })
  .on('line', (line) => {
    const m = /^state (\d+)$/.exec(line.trim());
    if (!m) return;
    const state = { claimed: Boolean(owner), ...(owner ? { owner: owner.username } : {}), claimRequests };
    process.stdout.write(`state ${m[1]} ${JSON.stringify(state)}\n`);
  })
  .on('close', shutdown);
if (config.control !== 'none') process.stdin.on('error', shutdown);
