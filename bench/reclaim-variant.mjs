// The Reclaim CLI with one or more experimental tweaks applied at run time, to measure what a
// change to electron/core (or to how it drives ssh2) would gain — without editing electron/.
// It patches the very module instances the CLI uses (ssh2, net, ForwardListener), then runs the
// CLI. The patches wrap rather than replace Reclaim's own functions, so they keep working while
// forward.ts evolves.
//
//   RECLAIM_VARIANT=end-once,random-pool node bench/reclaim-variant.mjs tunnel <args as for the CLI>
//
// Variants (comma-separated; `none` = the unmodified CLI through this wrapper):
//   end-once        socket.end() on a socket that has already ended returns at once. forward.ts (as
//                   of e668a4d) calls socket.end() on every channel 'close', after pipe() already
//                   ended the socket, so Node builds an ERR_STREAM_ALREADY_FINISHED NodeError, stack
//                   trace included, that nobody reads — once per connection.
//   random-pool     serve ssh2's per-packet randomFillSync(padding) calls (4–19 bytes each, one
//                   native RandomBytesJob + getpid() per packet) from a 64 KiB CSPRNG pool refilled
//                   by one randomFillSync call; in practice a small ssh2 patch/upstream change.
//   cork-transport  coalesce all SSH packets ssh2 writes to the transport socket within one tick
//                   into a single writev (ssh2 issues one write() per packet).
//   local-hwm       accepted sockets get a 1 MiB writable highWaterMark (default 16 KiB, smaller
//                   than one 32 KiB SSH packet, so pipe() pauses and resumes on every packet);
//                   in core this is net.createServer({ highWaterMark }).
//   cork-local      local-hwm + coalesce what is written to each accepted socket within one tick
//                   (one writev per transport read instead of one write per 32 KiB packet).
//   tunnel-only     run only the `tunnel` command module instead of dist/electron/cli/main.js, which
//                   (since the status/claim/diagnose commands) statically imports undici and the Plex
//                   clients: a bigger heap that keeps hitting V8's old-space limit, i.e. a full
//                   mark-compact every ~40 ms during a download. Simulates lazy command imports.
//   chacha20        offer only chacha20-poly1305@openssh.com (what OpenSSH picks) instead of
//                   ssh2's default aes128-gcm@openssh.com.
import crypto from 'node:crypto';
import net from 'node:net';

const variants = new Set((process.env.RECLAIM_VARIANT ?? '').split(',').map((v) => v.trim()).filter(Boolean));
const KNOWN = ['none', 'end-once', 'random-pool', 'cork-transport', 'local-hwm', 'cork-local', 'tunnel-only', 'chacha20'];
for (const v of variants) {
  if (!KNOWN.includes(v)) {
    process.stderr.write(`unknown RECLAIM_VARIANT "${v}" (known: ${KNOWN.join(', ')})\n`);
    process.exit(2);
  }
}

/** Returns a function that corks `stream` until the next tick: writes in between become one writev. */
function corkPerTick(stream) {
  let pending = false;
  const uncork = () => {
    pending = false;
    stream.uncork();
  };
  return () => {
    if (pending) return;
    pending = true;
    stream.cork();
    process.nextTick(uncork);
  };
}

function corkWrites(stream) {
  const write = stream.write;
  const cork = corkPerTick(stream);
  stream.write = function corkedWrite(...args) {
    cork();
    return write.apply(this, args);
  };
}

if (variants.has('random-pool')) {
  // Must be in place before ssh2 loads: it destructures randomFillSync from 'crypto' at require time.
  const fill = crypto.randomFillSync;
  const pool = Buffer.allocUnsafe(64 * 1024);
  let used = pool.length;
  crypto.randomFillSync = function pooledRandomFillSync(buf, offset = 0, size) {
    if (!Buffer.isBuffer(buf)) return fill(buf, offset, size);
    const n = size ?? buf.length - offset;
    if (n > 256) return fill(buf, offset, size);
    if (used + n > pool.length) {
      fill(pool);
      used = 0;
    }
    pool.copy(buf, offset, used, used + n); // every pool byte is handed out once
    used += n;
    return buf;
  };
}

if (variants.has('end-once')) {
  const end = net.Socket.prototype.end;
  net.Socket.prototype.end = function endOnce(data, encoding, callback) {
    // Same outcome as Node's own path minus the unused error object.
    if (this.writableEnded && data === undefined && encoding === undefined && callback === undefined) return this;
    return end.call(this, data, encoding, callback);
  };
}

const { default: ssh2 } = await import('ssh2');
const originalConnect = ssh2.Client.prototype.connect;
ssh2.Client.prototype.connect = function connect(cfg) {
  let config = cfg;
  if (variants.has('chacha20')) {
    config = { ...config, algorithms: { ...config.algorithms, cipher: ['chacha20-poly1305@openssh.com'] } };
  }
  if (variants.has('cork-transport') && config.sock) corkWrites(config.sock);
  return originalConnect.call(this, config);
};

if (variants.has('local-hwm') || variants.has('cork-local')) {
  const { ForwardListener } = await import('../dist/electron/core/tunnel/forward-listener.js');
  const accept = ForwardListener.prototype.accept;
  if (typeof accept !== 'function') throw new Error('ForwardListener.prototype.accept not found: update bench/reclaim-variant.mjs');
  ForwardListener.prototype.accept = function acceptVariant(socket) {
    socket._writableState.highWaterMark = 1024 * 1024;
    if (variants.has('cork-local')) corkWrites(socket);
    return accept.call(this, socket);
  };
}

if (variants.has('tunnel-only')) {
  const { createOutput, exitCodeFor } = await import('../dist/electron/cli/output.js');
  const { runTunnel } = await import('../dist/electron/cli/tunnel-command.js');
  const { isReclaimError } = await import('../dist/electron/core/common/errors.js');
  const args = process.argv.slice(2);
  if (args[0] !== 'tunnel') throw new Error('tunnel-only: the first argument must be "tunnel"');
  const output = createOutput(args.includes('--json'));
  try {
    process.exitCode = await runTunnel(args.slice(1), output);
  } catch (error) {
    if (!isReclaimError(error)) throw error;
    output.error(error);
    process.exitCode = exitCodeFor(error);
  }
} else {
  await import('../dist/electron/cli/main.js');
}
