import { keyValues, type ServerFacts } from './facts.js';
import type { ContainerFacts, ContainerImage, PlexInstall, ServiceControl } from './install.js';

// Plex in Docker or Podman (plex-repair.md §1.4): on a host that runs the containers, and from
// inside one of them. Each image keeps Preferences and logs in its own place under /config and
// has its own service inside, which is how Plex is stopped without stopping the container.

interface Mount {
  Type?: string;
  Source?: string;
  Destination?: string;
}

const APP_SUPPORT = 'Library/Application Support/Plex Media Server';

/** Where each image keeps the "Plex Media Server" directory, relative to /config. */
const DATA_IN_CONFIG: Record<ContainerImage, string> = {
  plexinc: APP_SUPPORT,
  linuxserver: APP_SUPPORT,
  truenas: APP_SUPPORT,
  other: APP_SUPPORT,
  hotio: '',
  binhex: 'Plex Media Server',
};

const RUNS_AS: Record<ContainerImage, string | undefined> = {
  plexinc: 'plex',
  truenas: 'plex',
  linuxserver: 'abc',
  hotio: 'hotio',
  binhex: 'nobody',
  other: undefined,
};

const IMAGE_NAMES: Record<ContainerImage, string> = {
  plexinc: 'Plex Inc\'s image',
  truenas: 'TrueNAS SCALE\'s Plex app',
  linuxserver: 'LinuxServer\'s image',
  hotio: 'hotio\'s image',
  binhex: 'binhex\'s image',
  other: 'an image Reclaim does not know (read as Plex Inc\'s layout)',
};

function imageKind(image: string, name: string, labels: Record<string, string>): ContainerImage {
  const lower = image.toLowerCase();
  if ((labels['com.docker.compose.project'] ?? '').startsWith('ix-') || /^\/?ix-plex/.test(name)) return 'truenas';
  if (lower.includes('pms-docker')) return 'plexinc';
  if (/(^|\/)linuxserver\/plex(:|$)/.test(lower)) return 'linuxserver';
  if (/(^|\/)hotio\/plex(:|$)/.test(lower)) return 'hotio';
  if (/(^|\/)binhex\/arch-plex(pass)?(:|$)/.test(lower)) return 'binhex';
  return 'other';
}

/** The image's own way to stop and start Plex inside the container (§1.4 table). */
function serviceFor(kind: ContainerImage, runtime: string, name: string): ServiceControl {
  const inside = (words: string[]) => [runtime, 'exec', name, ...words];
  switch (kind) {
    case 'plexinc':
    case 'truenas':
      return { manager: 'the container\'s s6 service plex', stop: inside(['s6-svc', '-d', '/var/run/s6/services/plex']), start: inside(['s6-svc', '-u', '/var/run/s6/services/plex']) };
    case 'linuxserver':
      return { manager: 'the container\'s s6 service svc-plex', stop: inside(['s6-svc', '-d', '/run/service/svc-plex']), start: inside(['s6-svc', '-u', '/run/service/svc-plex']) };
    case 'hotio':
      return { manager: 'the container\'s s6 service service-plex', stop: inside(['s6-svc', '-d', '/run/service/service-plex']), start: inside(['s6-svc', '-u', '/run/service/service-plex']) };
    case 'binhex':
      // binhex renamed its supervisor program to start-script in September 2025 (plex-repair.md §1.4).
      return { manager: 'the container\'s supervisord program start-script', stop: inside(['supervisorctl', 'stop', 'start-script']), start: inside(['supervisorctl', 'start', 'start-script']) };
    case 'other':
      return { manager: `${runtime} (the whole container)`, stop: [runtime, 'stop', name], start: [runtime, 'start', name] };
  }
}

export function detectHostContainers(facts: ServerFacts, platformNote?: string): PlexInstall[] {
  const installs: PlexInstall[] = [];
  for (const runtime of ['docker', 'podman'] as const) {
    for (const run of facts.commands.get(`${runtime}-inspect`) ?? []) {
      if (run.exit !== 0) continue;
      const container = parseInspect(runtime, run.output);
      if (container) installs.push(containerInstall(container, platformNote));
    }
  }
  return installs;
}

/** true when `docker ps` (or podman) was refused to this account: root would see more. */
export function containerListDenied(facts: ServerFacts): boolean {
  return ['docker-ps', 'podman-ps'].some((name) => facts.commands.get(name)?.some((run) => run.exit !== 0 && /permission denied/i.test(run.output)));
}

interface Inspected extends ContainerFacts {
  status: string;
  mounts: Mount[];
}

function parseInspect(runtime: 'docker' | 'podman', output: string): Inspected | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output.trim().split('\n')[0] ?? '');
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length < 6) return undefined;
  const [id, rawName, image, status, mounts, labels] = parsed as unknown[];
  if (typeof id !== 'string' || !/^[0-9a-f]{12,64}$/i.test(id) || typeof rawName !== 'string' || typeof image !== 'string') return undefined;
  const name = rawName.replace(/^\//, '');
  const labelMap = labels && typeof labels === 'object' && !Array.isArray(labels) ? (labels as Record<string, string>) : {};
  return {
    runtime,
    id,
    name,
    image,
    kind: imageKind(image, name, labelMap),
    status: typeof status === 'string' ? status : 'unknown',
    mounts: Array.isArray(mounts) ? (mounts.filter((m) => m && typeof m === 'object') as Mount[]) : [],
  };
}

function containerInstall(container: Inspected, platformNote?: string): PlexInstall {
  const { runtime, kind, name } = container;
  const relative = DATA_IN_CONFIG[kind];
  const config = container.mounts.find((mount) => mount.Destination === '/config' && typeof mount.Source === 'string' && mount.Source);
  const logsMount = container.mounts.find((mount) => mount.Destination === `/config/${APP_SUPPORT}/Logs` && mount.Source);
  const notes: string[] = [];
  let dataDir: string;
  let files: PlexInstall['files'];
  if (config) {
    dataDir = join(config.Source!, relative);
    files = { via: 'host' };
  } else {
    dataDir = join('/config', relative);
    files = { via: 'container', runtime, id: container.id };
    notes.push('Its /config is not a volume or bind mount, so its files live inside the container: recreating the container would lose them.');
  }
  if (kind === 'truenas' && logsMount) notes.push('TrueNAS keeps its logs on a separate volume, which may be temporary.');
  if (kind === 'binhex') notes.push('binhex\'s image clears the Plex sign-in and claims again at every start while CLAIM_SERVER=yes: leave that off once claimed.');
  return {
    platform: runtime,
    description: `${runtime === 'docker' ? 'Docker' : 'Podman'} container "${name}" (${container.image}, ${IMAGE_NAMES[kind]})${platformNote ? ` on ${platformNote}` : ''}`,
    dataDir,
    dataDirSource: config ? `the container's /config mount (${config.Type ?? 'mount'} ${config.Source})` : undefined,
    preferences: { kind: 'file', path: `${dataDir}/Preferences.xml` },
    logDir: logsMount?.Source ?? `${dataDir}/Logs`,
    runsAs: RUNS_AS[kind],
    running: container.status === 'running',
    service: serviceFor(kind, runtime, name),
    files,
    container: { runtime, id: container.id, name, image: container.image, kind },
    notes,
  };
}

/** Reclaim's SSH session is itself inside a Plex container (§1.1 #10). */
export function detectInsideContainer(facts: ServerFacts): PlexInstall | undefined {
  const cgroup = facts.files.get('/proc/1/cgroup') ?? '';
  const containerised = /docker|libpod|kube/.test(cgroup) || cgroup.trim() === '0::/';
  if (!containerised) return undefined;
  let kind: ContainerImage | undefined;
  if (facts.markers.has('hotio')) kind = 'hotio';
  else if (facts.markers.has('binhex') && keyValues(facts.files.get('/etc/os-release') ?? '').get('IMAGE_ID') === 'archlinux') kind = 'binhex';
  else if (facts.dirs.has(`/config/${APP_SUPPORT}`)) kind = 'plexinc';
  else if (facts.markers.has('binhex') && facts.dirs.has('/config/Plex Media Server')) kind = 'binhex';
  if (!kind) return undefined;
  const dataDir = join('/config', DATA_IN_CONFIG[kind]);
  const process = facts.processes[0];
  const service = serviceFor(kind, 'docker', '<container>');
  const strip = (words: readonly string[]) => words.slice(3);
  return {
    platform: 'container',
    description: `inside a Plex container (${IMAGE_NAMES[kind]})`,
    dataDir,
    preferences: { kind: 'file', path: `${dataDir}/Preferences.xml` },
    logDir: `${dataDir}/Logs`,
    runsAs: process?.user ?? RUNS_AS[kind],
    running: facts.processes.length > 0,
    pid: process?.pid,
    service: { manager: service.manager, stop: strip(service.stop), start: strip(service.start) },
    files: { via: 'host' },
    notes: ['Reclaim is signed in inside the container itself. A health check may restart the container if Plex stays stopped for long.'],
  };
}

function join(base: string, relative: string): string {
  return relative ? `${base.replace(/\/+$/, '')}/${relative}` : base.replace(/\/+$/, '') || '/';
}

