// Calibration only: a plain Node TCP relay, 127.0.0.1:<free port> -> 127.0.0.1:<to-port>, set up
// like Reclaim's listener (allowHalfOpen, pauseOnConnect, noDelay, pipe() both ways) but with a
// TCP connection where Reclaim has an ssh2 channel. Put in front of an OpenSSH tunnel, its own CPU
// per request is what Node's socket/stream machinery costs per connection, without any SSH.
//
// Usage: node node-relay.mjs <to-port>   — prints {"event":"ready","localPort":N}; SIGTERM stops it.
import net from 'node:net';

const toPort = Number(process.argv[2]);
if (!(toPort > 0 && toPort < 65536)) {
  process.stderr.write('usage: node node-relay.mjs <to-port>\n');
  process.exit(2);
}
const live = new Set();
const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) => {
  live.add(socket);
  socket.once('close', () => live.delete(socket));
  socket.on('error', () => socket.destroy());
  const upstream = net.connect({ host: '127.0.0.1', port: toPort, allowHalfOpen: true, noDelay: true });
  upstream.on('error', () => {
    upstream.destroy();
    socket.destroy();
  });
  upstream.once('connect', () => {
    socket.pipe(upstream).pipe(socket);
    upstream.once('close', () => socket.destroy());
    socket.once('close', () => upstream.destroy());
  });
});
server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
  process.stdout.write(`${JSON.stringify({ event: 'ready', localPort: server.address().port })}\n`);
});
process.once('SIGTERM', () => {
  for (const s of live) s.destroy();
  server.close(() => {
    process.stdout.write('{"event":"closed"}\n');
    process.exit(0);
  });
});
