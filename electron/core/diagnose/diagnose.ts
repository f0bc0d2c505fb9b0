import net from 'node:net';
import { asReclaimError, ReclaimError } from '../common/errors.js';
import { ForwardListener, probeForward } from '../tunnel/forward-listener.js';
import { LOOPBACK } from '../common/loopback.js';
import { describeNetworkError, httpRequest, networkErrorCode } from '../plex/http-request.js';
import { PmsClient } from '../plex/pms.js';
import { runRemote, shellQuote } from '../ssh/remote-exec.js';
import { connectRoute, type ConnectSettings, type SshConnection, type SshHop } from '../ssh/connect.js';
import { formatHostPort, type HostPort } from '../common/target.js';
import { DEFAULT_REMOTE } from '../tunnel/tunnel.js';
import { checkInstall, INSTALL_CHECK_TITLES, type InstallCheckId } from './install-checks.js';

// "Why do I see Not authorized?": the chain from this computer to a claimed server, checked link
// by link, each answer with a fix a person can follow (plex-claim.md §6). Later links are
// reported as not run when an earlier one they depend on failed, rather than as more failures.

export type CheckId =
  | 'ssh-login'
  | 'forwarding'
  | 'pms-listening'
  | 'pms-identity'
  | 'pms-local'
  | 'pms-claimed'
  | 'server-dns'
  | 'server-https'
  | 'server-clock'
  | InstallCheckId
  | 'local-plex-tv';

/** What each check is about, in a few words. */
export const CHECK_TITLES: Record<CheckId, string> = {
  'ssh-login': 'SSH login',
  forwarding: 'Port forwarding allowed',
  'pms-listening': 'Plex Media Server listening',
  'pms-identity': 'Plex Media Server answering',
  'pms-local': 'Tunnel seen as local',
  'pms-claimed': 'Server claimed',
  'server-dns': 'Server looks up plex.tv',
  'server-https': 'Server reaches plex.tv over HTTPS',
  'server-clock': 'Server clock',
  ...INSTALL_CHECK_TITLES,
  'local-plex-tv': 'This computer reaches plex.tv',
};

export interface Check {
  id: CheckId;
  /** true passed, false failed, null could not be run (an earlier check failed, or no tool). */
  ok: boolean | null;
  detail: string;
  fix?: string;
}

export interface DiagnoseOptions {
  route: SshHop[];
  connect: ConnectSettings;
  remote?: HostPort;
  plexTvUrl: string;
  plexHeaders: Record<string, string>;
  /** For the install checks' sudo; without it they use root only from the login or `sudo -n`. */
  sudoPassword?: string;
  onCheck?: (check: Check) => void;
}

const MAX_CLOCK_SKEW_S = 300;

export async function diagnose(options: DiagnoseOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const report = (check: Check) => {
    checks.push(check);
    options.onCheck?.(check);
  };
  const notRun = (id: CheckId, why: string) => report({ id, ok: null, detail: `Not checked: ${why}.` });
  const server = options.route[options.route.length - 1]!;
  const remote = options.remote ?? DEFAULT_REMOTE;

  let connection: SshConnection | undefined;
  try {
    connection = await connectRoute(options.route, options.connect);
    report({ id: 'ssh-login', ok: true, detail: `Signed in to ${server.user}@${formatHostPort(server.host, server.port)} (server key ${connection.hostKey.type} ${connection.hostKey.fingerprint}).` });
  } catch (error) {
    const failure = asReclaimError(error);
    report({ id: 'ssh-login', ok: false, detail: failure.message, fix: failure.fix });
  }

  if (connection) {
    try {
      await checkThroughTunnel(connection, server.label, remote, options.plexHeaders, report);
      await checkFromServer(connection, options.plexTvUrl, report);
      const installChecks = await checkInstall(connection.client, { plexTvUrl: options.plexTvUrl, plexHeaders: options.plexHeaders, remote, sudoPassword: options.sudoPassword });
      installChecks.forEach(report);
    } finally {
      await connection.close();
    }
  } else {
    for (const id of ['forwarding', 'pms-listening', 'pms-identity', 'pms-local', 'pms-claimed', 'server-dns', 'server-https', 'server-clock', 'server-sign-in', 'server-log', 'pms-starting'] as const) {
      notRun(id, 'the SSH login failed');
    }
  }
  report(await checkLocalPlexTv(options.plexTvUrl, options.plexHeaders));
  return checks;
}

async function checkThroughTunnel(
  connection: SshConnection,
  serverLabel: string,
  remote: HostPort,
  headers: Record<string, string>,
  report: (check: Check) => void,
): Promise<void> {
  const target = formatHostPort(remote.host, remote.port);
  const skip = (ids: CheckId[], why: string) => ids.forEach((id) => report({ id, ok: null, detail: `Not checked: ${why}.` }));
  try {
    await probeForward(connection.client, serverLabel, remote);
    report({ id: 'forwarding', ok: true, detail: 'The SSH server allows this account to forward connections.' });
    report({ id: 'pms-listening', ok: true, detail: `Something listens on ${target} on the server.` });
  } catch (error) {
    const failure = asReclaimError(error);
    if (failure.code === 'REMOTE_NOT_LISTENING') {
      report({ id: 'forwarding', ok: true, detail: 'The SSH server allows this account to forward connections.' });
      report({ id: 'pms-listening', ok: false, detail: failure.message, fix: failure.fix });
    } else {
      report({ id: 'forwarding', ok: false, detail: failure.message, fix: failure.fix });
      skip(['pms-listening'], 'forwarding is not allowed');
    }
    skip(['pms-identity', 'pms-local', 'pms-claimed'], 'Plex Media Server cannot be reached through the tunnel');
    return;
  }

  const listener = await ForwardListener.onLoopback(0, remote);
  listener.use(connection.client);
  const pms = new PmsClient(`http://${LOOPBACK}:${listener.port}`, headers);
  try {
    let claimed: boolean;
    try {
      const identity = await pms.identity();
      claimed = identity.claimed;
      report({ id: 'pms-identity', ok: true, detail: `Plex Media Server ${identity.version} answers (machine ${identity.machineIdentifier}).` });
    } catch (error) {
      const failure = asReclaimError(error);
      report({ id: 'pms-identity', ok: false, detail: failure.message, fix: failure.fix });
      skip(['pms-local', 'pms-claimed'], 'Plex Media Server did not answer /identity');
      return;
    }
    const signIn = await pms.signIn().catch((error: unknown) => asReclaimError(error));
    if (claimed) {
      report({ id: 'pms-local', ok: null, detail: 'Not checked: a claimed server asks everyone for a token, so this cannot be told from here.' });
      report({
        id: 'pms-claimed',
        ok: true,
        detail: 'The server is claimed. If you still see "Not authorized", it belongs to another Plex account, or its sign-in went stale.',
        fix: 'Sign in to Plex Web (through the tunnel) with the account that should own it. If it belongs to an old account or its sign-in went stale, repair it: press Repair in the app, or run reclaim repair <server> (it backs up the Preferences, signs the server out and claims it for you; undo puts the backup back).',
      });
      return;
    }
    if (signIn === 'needs-token') {
      report({
        id: 'pms-local',
        ok: false,
        detail: 'The server is unclaimed, but it does not treat requests arriving through the tunnel as local.',
        fix: 'This happens when Plex runs in Docker with bridge networking (requests arrive from the Docker gateway). Let Reclaim claim it offline (Repair in the app, or reclaim repair <server> --mode offline), or claim it with the PLEX_CLAIM variable (docker compose up -d --force-recreate), or switch the container to host networking for the claim.',
      });
    } else if (signIn instanceof ReclaimError) {
      report({ id: 'pms-local', ok: false, detail: signIn.message, fix: signIn.fix });
    } else {
      report({ id: 'pms-local', ok: true, detail: 'Plex treats requests through the tunnel as coming from the server itself.' });
    }
    const states = signIn !== 'needs-token' && !(signIn instanceof ReclaimError)
      ? ` (Plex reports sign-in state "${signIn.signInState ?? 'unknown'}", mapping state "${signIn.mappingState ?? 'unknown'}")`
      : '';
    report({
      id: 'pms-claimed',
      ok: false,
      detail: `The server is not claimed: it belongs to no Plex account, which is why Plex apps say "Not authorized"${states}.`,
      fix: 'Claim it: press Claim this server in the app (or run reclaim claim <server>) and sign in with Plex, or use a claim token from https://www.plex.tv/claim (--token on the command line).',
    });
  } finally {
    await pms.close();
    await listener.close();
  }
}

/** One POSIX sh script, so the server is asked once: its clock, a name lookup, an HTTPS request. */
function serverScript(plexTvUrl: string): string {
  const url = new URL(plexTvUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const probe = `${plexTvUrl}/api/v2/user`;
  return [
    'echo "clock $(date -u +%s)"',
    // getent on an address does a reverse lookup, which says nothing about reaching plex.tv.
    net.isIP(host)
      ? 'echo "dns address"'
      : `if command -v getent >/dev/null 2>&1; then if getent hosts ${shellQuote(host)} >/dev/null 2>&1; then echo "dns ok"; else echo "dns fail"; fi; else echo "dns unknown"; fi`,
    `if command -v curl >/dev/null 2>&1; then out=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 15 ${shellQuote(probe)} 2>&1); echo "curl $? $out" | tr '\\n' ' '; echo;`,
    `elif command -v wget >/dev/null 2>&1; then out=$(wget -q -O /dev/null -T 15 ${shellQuote(probe)} 2>&1); echo "wget $? $out" | tr '\\n' ' '; echo;`,
    'else echo "https unknown"; fi',
  ].join('\n');
}

async function checkFromServer(connection: SshConnection, plexTvUrl: string, report: (check: Check) => void): Promise<void> {
  let output: string;
  try {
    output = (await runRemote(connection.client, serverScript(plexTvUrl))).stdout;
  } catch (error) {
    for (const id of ['server-dns', 'server-https', 'server-clock'] as const) {
      report({ id, ok: null, detail: `Not checked: Reclaim could not run commands on the server (${(error as Error).message}).`, fix: 'These checks need a shell for your SSH account; the tunnel itself does not.' });
    }
    return;
  }
  const url = new URL(plexTvUrl);
  interpretServerReport(output, url.hostname.replace(/^\[|\]$/g, ''), Date.now(), url.protocol === 'http:' ? 'HTTP' : 'HTTPS').forEach(report);
}

/** Turns what serverScript printed into the three server-side checks. */
export function interpretServerReport(output: string, host: string, nowMs: number, scheme = 'HTTPS'): Check[] {
  const line = (prefix: string) => output.split('\n').find((l) => l.startsWith(`${prefix} `))?.slice(prefix.length + 1).trim();
  const checks: Check[] = [];
  const dns = line('dns');
  const transfer = line('curl') ?? line('wget');
  const tool = line('curl') !== undefined ? 'curl' : 'wget';
  const [exitText = '', ...rest] = (transfer ?? '').split(' ');
  const exit = Number(exitText);
  const said = rest.join(' ').replace(/\s*\d{3}$/, '').trim();
  const dnsFailed = !net.isIP(host) && (dns === 'fail' || (tool === 'curl' && exit === 6) || (tool === 'wget' && exit === 4 && /resolv/i.test(said)));
  if (net.isIP(host)) {
    checks.push({ id: 'server-dns', ok: true, detail: `${host} is an address; no name lookup needed.` });
  } else if (dnsFailed) {
    checks.push({
      id: 'server-dns', ok: false,
      detail: `The server cannot look up ${host} (DNS). Plex Media Server needs it to claim and to sign in.`,
      fix: 'Fix the server\'s DNS: check /etc/resolv.conf (or the NAS/container network settings) and its default gateway; for Docker, check the container\'s DNS.',
    });
  } else if (dns === 'ok' || (transfer !== undefined && exit === 0)) {
    checks.push({ id: 'server-dns', ok: true, detail: `The server can look up ${host}.` });
  } else {
    checks.push({ id: 'server-dns', ok: null, detail: 'Not checked: the server has no getent, curl or wget to test with.' });
  }

  checks.push(httpsCheck(host, tool, transfer === undefined ? undefined : exit, said, dnsFailed, scheme));

  const clock = Number(line('clock'));
  if (!line('clock') || !Number.isFinite(clock)) {
    checks.push({ id: 'server-clock', ok: null, detail: 'Not checked: the server did not report its time.' });
  } else {
    const skew = Math.round(clock - nowMs / 1000);
    checks.push(Math.abs(skew) <= MAX_CLOCK_SKEW_S
      ? { id: 'server-clock', ok: true, detail: `The server's clock agrees with this computer's (off by ${Math.abs(skew)} s).` }
      : {
          id: 'server-clock', ok: false,
          detail: `The server's clock is off by ${Math.round(Math.abs(skew) / 60)} minutes. Secure connections to plex.tv fail when clocks disagree.`,
          fix: 'Set the server\'s time automatically (e.g. sudo timedatectl set-ntp true, or the NAS time settings), then try again.',
        });
  }
  return checks;
}

function httpsCheck(host: string, tool: string, exit: number | undefined, said: string, dnsFailed: boolean, scheme: string): Check {
  if (exit === undefined) {
    return { id: 'server-https', ok: null, detail: 'Not checked: the server has neither curl nor wget.' };
  }
  if (dnsFailed) return { id: 'server-https', ok: false, detail: `The server cannot reach ${host}: the name lookup fails.`, fix: 'Fix the server\'s DNS first (see above).' };
  const certificate = tool === 'curl' ? [35, 51, 58, 60, 77, 83, 90, 91].includes(exit) : exit === 5;
  // wget treats plex.tv's 401 for a token-less request as an error (GNU wget exit 8, BusyBox
  // exit 1 with "server returned error"), but an HTTP answer means the server got through.
  if (exit === 0 || (tool === 'wget' && (exit === 8 || /server returned error|HTTP\/1\.[01] \d{3}/i.test(said)))) {
    return { id: 'server-https', ok: true, detail: `The server reaches ${host} over ${scheme}.` };
  }
  if (certificate) {
    return {
      id: 'server-https', ok: false,
      detail: `The server reaches ${host}, but does not trust the certificate it gets (${said || `${tool} exit ${exit}`}). Something on its network is intercepting secure connections, or its certificate store is broken.`,
      fix: 'Turn off TLS/HTTPS inspection for the server in your firewall, antivirus or proxy, or repair its CA certificates (e.g. sudo apt install --reinstall ca-certificates).',
    };
  }
  const timedOut = tool === 'curl' ? exit === 28 : exit === 4;
  return {
    id: 'server-https', ok: false,
    detail: `The server cannot reach ${host} over ${scheme} (${timedOut ? 'no answer in time' : said || `${tool} exit ${exit}`}).`,
    fix: 'Check the server\'s internet access: its default gateway, firewall rules for outgoing HTTPS (port 443), and any proxy settings.',
  };
}

async function checkLocalPlexTv(plexTvUrl: string, headers: Record<string, string>): Promise<Check> {
  try {
    const reply = await httpRequest(`${plexTvUrl}/api/v2/user`, { headers: { ...headers, Accept: 'application/json' }, timeoutMs: 15_000 });
    if (reply.status >= 500) {
      return { id: 'local-plex-tv', ok: false, detail: `plex.tv answers this computer with HTTP ${reply.status}: it seems to be having trouble.`, fix: 'Wait and try again later; status.plex.tv shows outages.' };
    }
    return { id: 'local-plex-tv', ok: true, detail: 'This computer reaches plex.tv.' };
  } catch (error) {
    return {
      id: 'local-plex-tv', ok: false,
      detail: `This computer cannot reach plex.tv (${describeNetworkError(networkErrorCode(error), error)}).`,
      fix: 'Check this computer\'s internet connection, VPN or proxy. You can still claim with a token from https://www.plex.tv/claim fetched on another device.',
    };
  }
}
