// Stand-in for "the thing on the server's 127.0.0.1:32400".
// Usage: node http-target-server.mjs <port>   (0 = any free port)
// Prints "listening <port>" on stdout once ready.
import { createServer } from 'node:http';

const CHUNK = Buffer.alloc(256 * 1024);
for (let i = 0; i < CHUNK.length; i++) CHUNK[i] = i % 251; // cheap, non-trivial pattern
const MAX_BYTES = 1024 ** 3;

/** Small complete response with an explicit length (no chunked encoding). */
function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'GET' && url.pathname === '/hello') {
    send(res, 200, 'text/plain', 'hello from the server');
  } else if (req.method === 'GET' && url.pathname === '/peer') {
    send(res, 200, 'application/json', JSON.stringify({ remoteAddress: req.socket.remoteAddress }));
  } else if (req.method === 'GET' && url.pathname === '/bytes') {
    const n = Number(url.searchParams.get('n') ?? '0');
    if (!Number.isInteger(n) || n < 0 || n > MAX_BYTES) {
      send(res, 400, 'text/plain', 'n must be an integer in [0, 1 GiB]\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
    let left = n;
    // Write until the socket buffer is full, then resume on 'drain' (no unbounded buffering).
    const pump = () => {
      while (left > 0) {
        const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
        left -= piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => (left = 0));
    pump();
  } else {
    send(res, 404, 'text/plain', 'not found\n');
  }
});
server.keepAliveTimeout = 60_000;

const port = Number(process.argv[2] ?? '32400');
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
const shutdown = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// The test process holds our stdin pipe: if it dies without stop(), we go too.
process.stdin.on('end', shutdown).on('error', shutdown).resume();
