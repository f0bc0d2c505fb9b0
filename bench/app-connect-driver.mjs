// The desktop app's side of "start → first reply", without Electron: a Node process that has
// already started (the built core is loaded and one unmeasured connect has run, as in an app
// that is open), then, per command, times AppService.connect() — what the window's Connect
// button calls: resolve the route, log in, check the forward, read Plex's status through the
// tunnel — and a first GET /hello through the tunnel once connect() resolved, as the Plex view
// then loads. Disconnects after each.
//
// Usage: node app-connect-driver.mjs <workDir> <knownHostsFile>   (the benchmark writes commands to stdin;
// it adds each relay's [127.0.0.1]:port line to knownHostsFile before naming that port)
// stdin, one JSON per line:  {"id":N,"host":"127.0.0.1","port":P,"user":U,"keyPath":K}
// stdout, one JSON per line: {"event":"started"} once, then per command
//   {"id":N,"ok":true,"connectCalled":"<ns>","tunnelOpen":"<ns>","connected":"<ns>","firstReply":"<ns>","status":"ok"|"<error code>"}
// (tunnelOpen: the "checking-plex" step, emitted once the tunnel serves and Plex's status is read next)
// Times are process.hrtime.bigint() (CLOCK_MONOTONIC, shared with the benchmark and the relay).
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const core = (file) => import(pathToFileURL(path.join(REPO, 'dist/electron/core', file)).href);
const [{ AppService }, { plexHeaders }, { openLog }] = await Promise.all([
  core('app/app-service.js'), core('plex/headers.js'), core('common/log.js'),
]);

const [workDir, knownHosts] = process.argv.slice(2);
if (!workDir || !knownHosts) {
  process.stderr.write('usage: node app-connect-driver.mjs <workDir> <knownHostsFile>\n');
  process.exit(2);
}
const now = () => process.hrtime.bigint();
const send = (object) => process.stdout.write(`${JSON.stringify(object, (_, v) => (typeof v === 'bigint' ? String(v) : v))}\n`);

// As the app's main does first thing.
openLog({ file: path.join(workDir, 'reclaim-app.log'), source: 'app' });
const noVault = { canSave: async () => false, load: async () => undefined, save: async () => {}, forget: async () => {}, has: async () => false };
let tunnelOpen;
const service = new AppService({
  emit: (event) => {
    if (event.type === 'connect-step' && event.step === 'checking-plex') tunnelOpen = now();
  },
  profilesFile: path.join(workDir, 'servers.json'),
  hostKeys: { trustFiles: [knownHosts], recordFile: knownHosts },
  plexTvUrl: 'http://127.0.0.1:9/',
  plexHeaders: plexHeaders('reclaim-bench-0000-0000-000000000000'),
  findAgent: () => undefined,
  sshConfig: { configFile: path.join(workDir, 'no-ssh-config'), homeDir: workDir },
  host: {
    vault: noVault,
    openExternal: async () => {},
    openSignInWindow: () => () => {},
    copyText: () => {},
    chooseFile: async () => undefined,
    showPlexView: () => {},
    closePlexView: () => {},
    focusPlexView: () => {},
  },
});

function getHello(port) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/hello', agent: false, timeout: 30_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 && body === 'hello from the server' ? resolve() : reject(new Error(`GET /hello: ${res.statusCode} ${body.slice(0, 100)}`))));
    });
    req.on('timeout', () => req.destroy(new Error('GET /hello timed out')));
    req.on('error', reject);
  });
}

async function connectOnce(command) {
  const profile = await service.saveProfile(null, {
    name: `bench ${command.id}`, host: command.host, sshPort: command.port, user: command.user, auth: 'key',
    keyPath: command.keyPath, jump: '', localPort: 0, remote: '127.0.0.1:32400',
  });
  try {
    tunnelOpen = undefined;
    const connectCalled = now();
    const connection = await service.connect(profile.id);
    const connected = now();
    await getHello(connection.localPort);
    const firstReply = now();
    return { connectCalled, tunnelOpen, connected, firstReply, status: connection.status ? 'ok' : connection.statusError?.code ?? 'none' };
  } finally {
    await service.disconnect(profile.id).catch(() => {});
    await service.deleteProfile(profile.id).catch(() => {});
  }
}

send({ event: 'started' });
const lines = readline.createInterface({ input: process.stdin });
// One at a time, in order.
let queue = Promise.resolve();
lines.on('line', (line) => {
  queue = queue.then(async () => {
    let command;
    try {
      command = JSON.parse(line);
      send({ id: command.id, ok: true, ...(await connectOnce(command)) });
    } catch (error) {
      send({ id: command?.id, ok: false, error: `${error?.code ?? ''} ${error?.message ?? String(error)}`.trim() });
    }
  });
});
lines.on('close', () => void queue.then(() => process.exit(0)));
