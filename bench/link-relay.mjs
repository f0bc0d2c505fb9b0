// A WAN link between this computer and the SSH server, in user space (the kernel here has no
// netem): every chunk waits ONE_WAY_MS in each direction, and a new connection reaches the server
// only 1.5 round trips after the client connected (SYN, SYN-ACK, ACK), with the client's early
// bytes held until then. So the server's first byte reaches the client two round trips after
// connect(), as on a real link, although the client's own connect() to this relay returns at once.
//
// It also records what it carried, for counting round trips by phase (see lib/flights.ts): per
// connection, every chunk with its direction, size, arrival time here and (client → server) the
// time it was handed to the server, plus which SSH messages it held while the stream was still
// plaintext (version line, KEXINIT, key exchange, NEWKEYS; after NEWKEYS only "encrypted").
// Times are process.hrtime.bigint() (CLOCK_MONOTONIC), which other processes on this machine
// share, as nanoseconds in decimal strings.
//
// Usage: node link-relay.mjs <oneWayMs> <targetHost> <targetPort> [listenAddress=127.0.0.1]
// stdout: "listening <port>", then one JSON line per connection event:
//   {"event":"accept","id":N,"t":"<ns>"}   when a client connects (its SYN, as the client sees it)
//   {"event":"record","id":N,...}          when the connection has closed (both ends)
// Exits when stdin closes.
import net from 'node:net';

const [delayText, targetHost, targetPortText, listenAddress = '127.0.0.1'] = process.argv.slice(2);
const oneWayMs = Number(delayText);
const targetPort = Number(targetPortText);
if (!(oneWayMs >= 0 && oneWayMs <= 5_000 && targetPort > 0 && targetPort < 65536 && targetHost)) {
  process.stderr.write('usage: node link-relay.mjs <oneWayMs 0..5000> <targetHost> <targetPort>\n');
  process.exit(2);
}
const MAX_EVENTS = 50_000;
const now = () => process.hrtime.bigint();
const emit = (object) => process.stdout.write(`${JSON.stringify(object, (_, v) => (typeof v === 'bigint' ? String(v) : v))}\n`);

/**
 * Follows one direction of an SSH stream while it is plaintext: the version line, then binary
 * packets (uint32 length, padding length, message number) until this side's NEWKEYS (21).
 */
class PlaintextReader {
  buffered = Buffer.alloc(0);
  state = 'version';

  /** The kinds of message that start or continue in this chunk. */
  read(chunk) {
    if (this.state === 'encrypted') return ['encrypted'];
    const kinds = new Set();
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.state !== 'encrypted') {
      if (this.state === 'version') {
        const end = this.buffered.indexOf('\n');
        if (end < 0) break;
        const line = this.buffered.subarray(0, end).toString('latin1');
        this.buffered = this.buffered.subarray(end + 1);
        if (line.startsWith('SSH-')) {
          kinds.add('version');
          this.state = 'packets';
        }
        continue;
      }
      if (this.buffered.length < 6) break;
      const length = this.buffered.readUInt32BE(0);
      if (length > 256 * 1024) {
        this.state = 'encrypted'; // not SSH as we know it: stop reading rather than guess
        break;
      }
      const type = this.buffered[5];
      kinds.add(type === 20 ? 'kexinit' : type === 21 ? 'newkeys' : type >= 30 && type <= 49 ? 'kex' : `msg${type}`);
      if (this.buffered.length < 4 + length) break;
      this.buffered = this.buffered.subarray(4 + length);
      if (type === 21) this.state = 'encrypted';
    }
    if (this.state === 'encrypted' && this.buffered.length > 0) kinds.add('encrypted');
    if (this.state === 'encrypted') this.buffered = Buffer.alloc(0);
    return [...kinds];
  }
}

let nextId = 0;
const server = net.createServer({ noDelay: true, pauseOnConnect: false }, (client) => {
  const id = nextId++;
  const accepted = now();
  emit({ event: 'accept', id, t: accepted });
  const record = { event: 'record', id, accept: accepted, upstreamConnected: undefined, events: [], truncated: false, error: undefined };
  const readers = { c: new PlaintextReader(), s: new PlaintextReader() };
  let upstream;
  let upstreamReady = false;
  const heldForUpstream = [];
  let closedSides = 0;
  const closed = () => {
    if (++closedSides === 2) emit(record);
  };

  const note = (dir, chunk) => {
    const event = { dir, t: now(), n: chunk.length, kinds: readers[dir].read(chunk), w: undefined };
    if (record.events.length < MAX_EVENTS) record.events.push(event);
    else record.truncated = true;
    return event;
  };
  const toServer = (chunk, event) => {
    event.w = now();
    upstream.write(chunk);
  };

  client.on('data', (chunk) => {
    const event = note('c', chunk);
    setTimeout(() => {
      if (upstreamReady) toServer(chunk, event);
      else heldForUpstream.push([chunk, event]);
    }, oneWayMs);
  });
  client.on('end', () => setTimeout(() => (upstreamReady ? upstream.end() : heldForUpstream.push(['end'])), oneWayMs));
  client.on('error', (error) => {
    record.error ??= `client: ${error.message}`;
    upstream?.destroy();
  });
  client.on('close', () => {
    setTimeout(() => upstream?.destroy(), oneWayMs + 1);
    closed();
  });

  // SYN, SYN-ACK and the ACK: the server accepts 1.5 round trips after the client's connect().
  setTimeout(() => {
    if (client.destroyed && heldForUpstream.length === 0) {
      closed();
      return;
    }
    upstream = net.connect({ host: targetHost, port: targetPort, noDelay: true });
    upstream.on('connect', () => {
      record.upstreamConnected = now();
      upstreamReady = true;
      for (const [chunk, event] of heldForUpstream.splice(0)) {
        if (chunk === 'end') upstream.end();
        else toServer(chunk, event);
      }
    });
    upstream.on('data', (chunk) => {
      note('s', chunk);
      setTimeout(() => client.write(chunk), oneWayMs);
    });
    upstream.on('end', () => setTimeout(() => client.end(), oneWayMs));
    upstream.on('error', (error) => {
      record.error ??= `server: ${error.message}`;
      client.destroy();
    });
    upstream.on('close', () => {
      setTimeout(() => client.destroy(), oneWayMs + 1);
      closed();
    });
  }, 3 * oneWayMs);
});
server.listen(0, listenAddress, () => process.stdout.write(`listening ${server.address().port}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
