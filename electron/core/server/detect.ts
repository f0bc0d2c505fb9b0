import { detectFreeBsdHost, detectFreeBsdJails, detectMac } from './detect-bsd-mac.js';
import { containerListDenied, detectHostContainers, detectInsideContainer } from './detect-containers.js';
import { detectLinuxPackage, detectSnap } from './detect-linux.js';
import { detectAsustor, detectQnap, detectReadyNas, detectSynology, detectWd, unraidVersion } from './detect-nas.js';
import type { ServerFacts } from './facts.js';
import type { PlexInstall } from './install.js';

// Every Plex install the probe's facts show, in the order plex-repair.md §6 gives: containers
// first, then NAS packages, then Linux packages (snap, deb/rpm, Arch), FreeBSD and its jails,
// then macOS. (Windows is told apart before the probe runs; see windows.ts.)

export function detectInstalls(facts: ServerFacts): PlexInstall[] {
  const single = (install: PlexInstall | undefined) => (install ? [install] : []);
  return [
    ...detectHostContainers(facts, unraidVersion(facts)),
    ...single(detectInsideContainer(facts)),
    ...single(detectSynology(facts)),
    ...single(detectQnap(facts)),
    ...single(detectAsustor(facts)),
    ...single(detectReadyNas(facts)),
    ...single(detectWd(facts)),
    ...single(detectSnap(facts)),
    ...single(detectLinuxPackage(facts)),
    ...single(detectFreeBsdHost(facts)),
    ...detectFreeBsdJails(facts),
    ...single(detectMac(facts)),
  ];
}

/** What this account could not see that root could: the reason, in words, or undefined. */
export function whyRootWouldSeeMore(facts: ServerFacts): string | undefined {
  if (containerListDenied(facts)) return 'list the Plex containers (your account may not use Docker or Podman)';
  if ([...facts.denied].some((path) => /^\/proc\/\d+\/environ$/.test(path))) return 'read where the running Plex keeps its data (its environment)';
  if (facts.denied.size > 0) return `read ${[...facts.denied][0]}`;
  return undefined;
}

/** One key per install, so what root sees replaces what the SSH user saw of the same install. */
export function installKey(install: PlexInstall): string {
  if (install.container) return `${install.platform}:${install.container.id}`;
  if (install.jail) return `jail:${install.jail.name}`;
  return install.platform;
}
