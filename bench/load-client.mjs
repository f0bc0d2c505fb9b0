// Connection-rate load client, run as its own process so it never shares an event loop with a
// tunnel. Every request is a fresh TCP connection carrying one `GET <path>` with
// `Connection: close`, like Node's http.get({ agent: false }): a request counts as done (and the
// client closes its end) once the status line, headers and Content-Length bytes of body are in.
// With --wait-server-close it instead waits for the server to close the connection first.
//
// Usage: node load-client.mjs --port N --requests N --concurrency N
//          [--path /hello] [--expect 'hello from the server'] [--timeout-ms 120000] [--wait-server-close]
// Prints one JSON object on stdout. Bounded: per-request timeout 10 s, overall --timeout-ms.
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    requests: { type: 'string' },
    concurrency: { type: 'string' },
    path: { type: 'string', default: '/hello' },
    expect: { type: 'string', default: 'hello from the server' },
    'timeout-ms': { type: 'string', default: '120000' },
    'wait-server-close': { type: 'boolean', default: false },
  },
});
const port = Number(values.port);
const total = Number(values.requests);
const concurrency = Number(values.concurrency);
const overallTimeoutMs = Number(values['timeout-ms']);
const waitServerClose = values['wait-server-close'];
const expected = values.expect;
const PER_REQUEST_TIMEOUT_MS = 10_000;
if (!(port > 0 && port < 65536 && total > 0 && concurrency > 0 && overallTimeoutMs > 0)) {
  process.stderr.write('usage: node load-client.mjs --port N --requests N --concurrency N [--path P] [--expect BODY] [--timeout-ms MS] [--wait-server-close]\n');
  process.exit(2);
}

const request = Buffer.from(`GET ${values.path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
let started = 0;
let finished = 0;
let ok = 0;
const errors = {};
const latencies = [];
const slowest = []; // the 5 slowest successful requests, with their phases
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
let done;
const allDone = new Promise((resolve) => (done = resolve));

/** Checks a complete response; returns 'ok' or a failure kind. */
function judge(status, body) {
  if (status !== '200') return `status-${status ?? 'unparsable'}`;
  return body === expected ? 'ok' : 'wrong-body';
}

function one() {
  if (started >= total) return;
  started++;
  const begin = process.hrtime.bigint();
  let buffered = Buffer.alloc(0);
  let settled = false;
  let head; // { status, length, bodyStart } once the headers are in
  let tConnect = 0;
  let tFirstByte = 0;
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  const finish = (kind) => {
    if (settled) return;
    settled = true;
    socket.destroy(); // after a complete response there is nothing unread: a plain FIN
    if (kind === 'ok') {
      ok++;
      const ms = Number(process.hrtime.bigint() - begin) / 1e6;
      latencies.push(ms);
      if (slowest.length < 5 || ms > slowest[slowest.length - 1].totalMs) {
        slowest.push({ totalMs: ms, connectMs: tConnect, firstByteMs: tFirstByte });
        slowest.sort((a, b) => b.totalMs - a.totalMs);
        slowest.length = Math.min(slowest.length, 5);
      }
    } else errors[kind] = (errors[kind] ?? 0) + 1;
    finished++;
    if (finished >= total) done();
    else one();
  };
  const parseHead = () => {
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) return;
    const text = buffered.subarray(0, end).toString('latin1');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1];
    head = { status, length: length === undefined ? undefined : Number(length), bodyStart: end + 4 };
  };
  socket.setTimeout(PER_REQUEST_TIMEOUT_MS, () => finish('timeout'));
  socket.on('connect', () => {
    tConnect = Number(process.hrtime.bigint() - begin) / 1e6;
    socket.write(request);
  });
  socket.on('data', (d) => {
    if (!tFirstByte) tFirstByte = Number(process.hrtime.bigint() - begin) / 1e6;
    buffered = buffered.length ? Buffer.concat([buffered, d]) : d;
    if (!head) parseHead();
    if (!head || waitServerClose) return;
    if (head.length === undefined) return finish('no-content-length');
    if (buffered.length - head.bodyStart >= head.length) {
      finish(judge(head.status, buffered.subarray(head.bodyStart, head.bodyStart + head.length).toString('latin1')));
    }
  });
  socket.on('error', (e) => finish(e.code ?? 'error'));
  socket.on('end', () => {
    if (!head) return finish(buffered.length === 0 ? 'empty-response' : 'truncated-response');
    if (!waitServerClose) return finish('truncated-body');
    finish(judge(head.status, buffered.subarray(head.bodyStart).toString('latin1')));
  });
  socket.on('close', () => finish('closed-without-end'));
}

const overall = setTimeout(() => {
  errors['overall-timeout'] = total - finished;
  done();
}, overallTimeoutMs);

for (let i = 0; i < Math.min(concurrency, total); i++) one();
await allDone;
clearTimeout(overall);
const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
const cpu = process.cpuUsage(cpu0);
latencies.sort((a, b) => a - b);
const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] : null);
process.stdout.write(`${JSON.stringify({
  requests: total,
  concurrency,
  waitServerClose,
  ok,
  failed: total - ok,
  errors,
  elapsedMs,
  reqPerSec: ok / (elapsedMs / 1000),
  latencyMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: latencies.at(-1) ?? null },
  slowest,
  clientCpuSec: (cpu.user + cpu.system) / 1e6,
})}\n`);
process.exit(0);
