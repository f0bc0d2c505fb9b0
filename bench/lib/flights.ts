// Round trips by phase, from what bench/link-relay.mjs saw on one SSH connection.
//
// A round trip is the client waiting for the server: the server sends something after it has
// been handed bytes from the client (a reply can only come once the request reached it). Each
// such server → client chunk completes one round trip, charged to the phase of the latest client
// chunk the server had by then (the request it answered). Server chunks that left before the
// server had any unanswered client bytes (its version line, messages crossing in flight) are no
// round trip. Nor is a reply to a request the client sent before the previous counted reply
// reached it: that exchange ran alongside (say, a spare channel opened while the first one
// waits), so it costs no time of its own; the count is the longest chain of waits.
// The TCP handshake is one more, which the relay models (see link-relay.mjs).
//
// Phases of the client's request: "version" while it carried only the version line, "key
// exchange" while it carried plaintext key-exchange messages (KEXINIT, ECDH, NEWKEYS); once
// encrypted, the relay cannot read it, so three times from outside cut the rest:
//   signedIn   sshd logged "Accepted publickey" (it sends USERAUTH_SUCCESS then);
//   ready      the tunnel said it serves (Reclaim's {"event":"ready"}, ssh -v's
//              "Entering interactive session."), less one one-way delay: the stamp is taken
//              when the line is read here, and a request that follows it at once (a browser's
//              connection held while Reclaim logged in) must still count as "first channel";
//   statusRead (the app only) its connect() resolved, having read Plex's status through the tunnel;
//   firstReply the first HTTP reply arrived through the tunnel; later requests are not counted.
// Encrypted requests before signedIn are "sign-in", before ready "forward check", before
// statusRead "Plex status", else "first channel".

export const PHASES = ['TCP connect', 'version', 'key exchange', 'sign-in', 'forward check', 'Plex status', 'first channel'] as const;
export type Phase = (typeof PHASES)[number];

export interface RelayEvent {
  dir: 'c' | 's';
  /** Arrival at the relay, ns (decimal string). */
  t: string;
  n: number;
  kinds: string[];
  /** Client → server: when it was handed to the server, ns. */
  w?: string;
}

export interface RelayRecord {
  id: number;
  accept: string;
  upstreamConnected?: string;
  events: RelayEvent[];
  truncated: boolean;
  error?: string;
}

export interface PhaseCuts {
  signedIn: bigint;
  ready: bigint;
  /** The app's connect() resolved; absent for the CLI and OpenSSH (then no "Plex status" phase). */
  statusRead?: bigint;
  firstReply: bigint;
  oneWayNs: bigint;
}

export function countRoundTrips(record: RelayRecord, cuts: PhaseCuts): Record<Phase, number> {
  const counts = Object.fromEntries(PHASES.map((phase) => [phase, 0])) as Record<Phase, number>;
  counts['TCP connect'] = 1;
  const readyCut = cuts.ready - cuts.oneWayNs;
  const phaseOf = (request: RelayEvent): Phase => {
    if (!request.kinds.includes('encrypted')) {
      return request.kinds.every((kind) => kind === 'version') ? 'version' : 'key exchange';
    }
    const t = BigInt(request.t);
    if (t < cuts.signedIn) return 'sign-in';
    if (t < readyCut) return 'forward check';
    if (cuts.statusRead !== undefined && t < cuts.statusRead) return 'Plex status';
    return 'first channel';
  };
  const pending: RelayEvent[] = [];
  let lastReplyAtClient = 0n;
  // The relay's timers run on a millisecond clock and may deliver up to ~1 ms early.
  const slack = cuts.oneWayNs / 2n < 2_000_000n ? cuts.oneWayNs / 2n : 2_000_000n;
  for (const event of record.events) {
    if (BigInt(event.t) > cuts.firstReply) break;
    if (event.dir === 'c') {
      pending.push(event);
      continue;
    }
    const arrived = BigInt(event.t);
    const answered = pending.filter((request) => request.w !== undefined && BigInt(request.w) <= arrived);
    if (answered.length === 0) continue;
    const request = answered[answered.length - 1]!;
    if (BigInt(request.t) >= lastReplyAtClient - slack) {
      counts[phaseOf(request)]++;
      lastReplyAtClient = arrived + cuts.oneWayNs;
    }
    pending.splice(0, pending.length, ...pending.filter((request) => !answered.includes(request)));
  }
  return counts;
}

/**
 * Where the time went, ms from the client's connect() (the SYN) to the end of each phase: the
 * client's first key-exchange message after the servers' KEXINIT ends "TCP connect + version",
 * its NEWKEYS ends "key exchange", then the cuts as above.
 */
export type TimedPhase = 'TCP connect + version' | 'key exchange' | 'sign-in' | 'forward check' | 'Plex status' | 'first channel';

export function phaseTimes(record: RelayRecord, cuts: PhaseCuts): Record<TimedPhase, number> {
  const accept = BigInt(record.accept);
  const ms = (t: bigint) => Number(t - accept) / 1e6;
  const clientSent = (kind: string) => record.events.find((e) => e.dir === 'c' && e.kinds.includes(kind));
  const kexStart = BigInt(clientSent('kex')?.t ?? record.accept);
  const kexEnd = BigInt(clientSent('newkeys')?.t ?? clientSent('encrypted')?.t ?? String(kexStart));
  const ready = cuts.ready < cuts.firstReply ? cuts.ready : cuts.firstReply;
  const signedIn = cuts.signedIn < ready ? cuts.signedIn : ready;
  const statusRead = cuts.statusRead ?? ready;
  return {
    'TCP connect + version': ms(kexStart),
    'key exchange': ms(kexEnd) - ms(kexStart),
    'sign-in': ms(signedIn) - ms(kexEnd),
    'forward check': ms(ready) - ms(signedIn),
    'Plex status': ms(statusRead) - ms(ready),
    'first channel': ms(cuts.firstReply) - ms(statusRead),
  };
}
