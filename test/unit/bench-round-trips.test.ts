import { describe, expect, it } from 'vitest';
import { countRoundTrips, type RelayEvent, type RelayRecord } from '../../bench/lib/flights.js';

// The benchmark's "round trips by phase" table (npm run bench) is read from what its relay saw;
// these traces are shaped like real ones it recorded on a 100 ms link (times in ms from connect).

const ONE_WAY = 50;
const ns = (ms: number) => String(BigInt(Math.round(ms * 1e6)));
// Handed to the server half a ms short of one way after it arrived (the relay's timers run on a ms clock), never before 150 (the modelled TCP handshake).
const client = (t: number, kinds: string[]): RelayEvent => ({ dir: 'c', t: ns(t), n: 100, kinds, w: ns(Math.max(t + ONE_WAY - 0.5, 150)) });
const server = (t: number, kinds: string[] = ['encrypted']): RelayEvent => ({ dir: 's', t: ns(t), n: 100, kinds });
const record = (events: RelayEvent[]): RelayRecord => ({ id: 0, accept: ns(0), events, truncated: false });
const cuts = (signedIn: number, ready: number, firstReply: number) => ({ signedIn: BigInt(ns(signedIn)), ready: BigInt(ns(ready)), firstReply: BigInt(ns(firstReply)), oneWayNs: BigInt(ns(ONE_WAY)) });

// ssh -N -L: version, key exchange, four sign-in exchanges, no forward check, channel open + request.
const opensshStart = [
  client(0.2, ['version']), server(164, ['version']), server(167, ['kexinit']),
  client(219, ['kexinit']), client(334, ['kex']), server(416, ['kex', 'newkeys', 'encrypted']),
  client(535, ['newkeys']), client(536, ['encrypted']), server(594),
  client(651, ['encrypted']), server(708),
  client(763, ['encrypted']), server(815),
  client(867, ['encrypted']), server(925),
  server(937), // the server's own message after sign-in (host keys): nobody waited for it
  client(976, ['encrypted']), client(981, ['encrypted']), server(1032),
  client(1084, ['encrypted']), server(1135),
  client(1188, ['encrypted']),
];

describe('round trips by phase, as the benchmark counts them', () => {
  it('charges each wait for the server to the phase of the request it answered', () => {
    expect(countRoundTrips(record(opensshStart), cuts(924, 976, 1186))).toEqual({
      'TCP connect': 1, version: 1, 'key exchange': 1, 'sign-in': 4, 'forward check': 0, 'Plex status': 0, 'first channel': 2,
    });
  });

  it('counts exchanges that ran alongside another once, and stops at the first reply', () => {
    // Reclaim CLI: after sign-in a forward check, then the first channel opened together with
    // spare channels whose confirmations come back in the same flight.
    const reclaimStart = [
      client(5.6, ['version']), server(161.7, ['version']), server(163.5, ['kexinit']),
      client(213.9, ['kexinit']), client(217.3, ['kex']), server(277.4, ['kex', 'newkeys', 'encrypted']),
      client(335.2, ['newkeys']), client(336, ['encrypted']), server(385.7),
      client(437.3, ['encrypted']), server(494.1),
      client(550.2, ['encrypted']), server(602.1),
      client(654.7, ['encrypted']), server(721.3), server(729.5), server(731.4),
      client(773.3, ['encrypted']), client(783.2, ['encrypted']), server(824.6), server(834.4),
      ...[876.2, 877.2, 877.4, 877.6, 877.8, 877.9, 878.0, 878.3].map((t) => client(t, ['encrypted'])),
      server(926.8), server(927.4), server(928.0), server(929.7),
      client(980.6, ['encrypted']), server(1036.5),
      client(1090.7, ['encrypted']), server(1141),
    ];
    expect(countRoundTrips(record(reclaimStart), cuts(721.7, 882.8, 1089.4))).toEqual({
      'TCP connect': 1, version: 1, 'key exchange': 1, 'sign-in': 4, 'forward check': 1, 'Plex status': 0, 'first channel': 2,
    });
  });

  it('does not take a server message that left before the request arrived for its answer', () => {
    // The request reaches the server at 150 (it is held for the modelled TCP handshake); a
    // server chunk seen at 100 cannot answer it.
    const events = [client(10, ['version']), server(100, ['version']), server(200, ['kexinit'])];
    expect(countRoundTrips(record(events), cuts(1000, 1000, 1000)).version).toBe(1);
  });
});
