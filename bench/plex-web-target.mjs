// The link benchmark's stand-in for Plex Media Server on the server's 127.0.0.1:32400: what a
// browser fetches when Plex Web first opens, with the same shape (not the same bytes).
//
// Assumed shape of Plex Web's first load (documented in bench/README.md): the HTML page
// (~8 KB), then 20 scripts and styles it names, fetched in parallel (12 scripts, 8 styles,
// ~3.8 MB: two large bundles, a few mid-size chunks, small ones), then, once the scripts have
// run, 15 API calls in parallel (JSON, 2–24 KB each) — about 4 MB in all. Nothing is compressed
// and every reply says `Cache-Control: no-store`; the benchmark uses a fresh browser context per
// load anyway, so nothing is cached.
//
// Also: GET /hello (the first-reply probe), and /identity and / as PMS answers them (JSON),
// so that the app's connect() can read the server's status as it does with a real server.
//
// Usage: node plex-web-target.mjs [port=32400]; prints "listening <port> <shape JSON>"; exits when stdin closes.
import { createServer } from 'node:http';

const KB = 1024;
const SCRIPTS = [1400, 900, 200, 200, 200, 200, 40, 40, 40, 40, 40, 40].map((kb, i) => ({ path: `/web/js/chunk-${i}.js`, bytes: kb * KB }));
const STYLES = [300, 20, 20, 20, 20, 20, 20, 20].map((kb, i) => ({ path: `/web/css/style-${i}.css`, bytes: kb * KB }));
const API = [
  ['/identity', 0], ['/', 0], ['/library/sections', 12], ['/hubs', 24], ['/hubs/continueWatching', 16],
  ['/hubs/promoted', 16], ['/playlists', 6], ['/media/providers', 20], ['/myplex/account', 2], ['/status/sessions', 2],
  ['/activities', 2], ['/library/onDeck', 16], ['/library/recentlyAdded', 24], ['/updater/status', 2], ['/accounts', 4],
].map(([path, kb]) => ({ path, bytes: kb * KB }));

const MACHINE = 'bench0000000000000000000000000000000000ab';
const identity = JSON.stringify({ MediaContainer: { size: 0, claimed: true, machineIdentifier: MACHINE, version: '1.41.0.0000-bench' } });
const root = JSON.stringify({ MediaContainer: { size: 0, friendlyName: 'bench', platform: 'Linux', myPlexSigninState: 'ok', myPlexMappingState: 'mapped', myPlexUsername: 'bench' } });

/** A valid script or style of exactly `bytes` bytes: one long comment and a statement. */
function filler(bytes, statement) {
  const head = `/*`;
  const tail = `*/\n${statement}\n`;
  return head + 'x'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail;
}

const apiCalls = JSON.stringify(API.map((a) => a.path));
// The last script starts the API calls once every script has run, as Plex Web's app bundle does.
const scriptBody = (i) => (i === SCRIPTS.length - 1
  ? `window.__apiDone = Promise.all(${apiCalls}.map((p) => fetch(p, { headers: { Accept: 'application/json' } }).then((r) => r.text()))).then((bodies) => ({ at: performance.now(), bytes: bodies.reduce((n, b) => n + b.length, 0) }));`
  : `window.__chunks = (window.__chunks || 0) + 1;`);
const files = new Map([
  ...SCRIPTS.map((s, i) => [s.path, { type: 'application/javascript', body: Buffer.from(filler(s.bytes, scriptBody(i))) }]),
  ...STYLES.map((s) => [s.path, { type: 'text/css', body: Buffer.from(filler(s.bytes, '.x{color:red}')) }]),
  ...API.map((a) => [a.path, {
    type: 'application/json',
    body: Buffer.from(a.path === '/identity' ? identity : a.path === '/' ? root : JSON.stringify({ MediaContainer: { size: 0, pad: 'x'.repeat(a.bytes) } })),
  }]),
]);
const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>Plex (benchmark stand-in)</title>
${STYLES.map((s) => `<link rel="stylesheet" href="${s.path}">`).join('\n')}
${SCRIPTS.map((s) => `<script defer src="${s.path}"></script>`).join('\n')}
</head><body><div id="plex">${'<!-- filler -->'.repeat(450)}</div></body></html>
`;
files.set('/web/index.html', { type: 'text/html; charset=utf-8', body: Buffer.from(html) });
files.set('/hello', { type: 'text/plain', body: Buffer.from('hello from the server') });

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const file = req.method === 'GET' ? files.get(path) : undefined;
  if (!file) {
    res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 }).end('not found\n');
    return;
  }
  res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length, 'cache-control': 'no-store' }).end(file.body);
});
server.keepAliveTimeout = 60_000;

/** Bytes of one first load (bodies only), for the report. */
const pageBytes = [...files.entries()].filter(([path]) => path !== '/hello').reduce((n, [, file]) => n + file.body.length, 0);
const shape = { pageBytes, scripts: SCRIPTS.length, styles: STYLES.length, apiCalls: API.length };

const port = Number(process.argv[2] ?? '32400');
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port} ${JSON.stringify(shape)}\n`));
const shutdown = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// The benchmark holds our stdin pipe: if it dies, we go too.
process.stdin.on('end', shutdown).on('error', shutdown).resume();
