import type ssh2 from 'ssh2';
import { LOOPBACK } from '../common/loopback.js';
import type { HostPort } from '../common/target.js';

// Every new connection through an SSH tunnel normally waits one round trip to the server for its
// channel to open (sshd connects to Plex, then confirms). Plex Web opens many short connections,
// so while the tunnel is in use a few channels are opened ahead of need and handed out at once.
// They are plain direct-tcpip channels to the same target the person asked for; each is an idle
// TCP connection to Plex on the server, kept only for a few seconds and only while connections
// keep arriving, so an idle tunnel holds none.

export interface WarmChannelOptions {
  /** How many channels to keep open ahead of need while the tunnel is busy. */
  size?: number;
  /** A warm channel older than this is closed instead of used: servers drop idle connections. */
  maxAgeMs?: number;
  /** No new connection for this long means idle: stop refilling. */
  idleAfterMs?: number;
  /** Told how many channels are ready each time one opens (lets tests wait for it, not guess). */
  onReady?: (available: number) => void;
}

interface Warm {
  channel: ssh2.ClientChannel;
  timer: NodeJS.Timeout;
}

// A browser opens up to 6 connections per host at once; 8 covers such a burst plus the channels
// being replaced while they open. On a 20 ms link this cut the median new-connection time from
// 47 to 28 ms in the benchmark; size 4 left most of a burst waiting.
const DEFAULT_SIZE = 8;
const DEFAULT_MAX_AGE_MS = 5_000;
const DEFAULT_IDLE_AFTER_MS = 10_000;

export class WarmChannels {
  private readonly ready: Warm[] = [];
  private opening = 0;
  private lastDemand = 0;
  private closed = false;
  private readonly size: number;
  private readonly maxAgeMs: number;
  private readonly idleAfterMs: number;

  constructor(private readonly client: ssh2.Client, private readonly remote: HostPort, private readonly options: WarmChannelOptions = {}) {
    this.size = options.size ?? DEFAULT_SIZE;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.idleAfterMs = options.idleAfterMs ?? DEFAULT_IDLE_AFTER_MS;
  }

  /** A channel opened ahead of time, or undefined; either way the pool refills for what comes next. */
  take(): ssh2.ClientChannel | undefined {
    this.lastDemand = Date.now();
    let warm = this.ready.shift();
    // Skip any the server has already ended (Plex restarted, or dropped the idle connection).
    while (warm && !stillOpen(warm.channel)) {
      clearTimeout(warm.timer);
      warm.channel.close();
      warm = this.ready.shift();
    }
    if (warm) clearTimeout(warm.timer);
    this.refill();
    return warm?.channel;
  }

  /** Closing a channel only sends the server a message, so this is done once it has been sent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const warm of this.ready.splice(0)) {
      clearTimeout(warm.timer);
      warm.channel.close();
    }
  }

  private refill(): void {
    while (!this.closed && this.ready.length + this.opening < this.size && Date.now() - this.lastDemand < this.idleAfterMs) {
      this.opening++;
      try {
        this.client.forwardOut(LOOPBACK, 0, this.remote.host, this.remote.port, (error, channel) => {
          this.opening--;
          if (error) return; // the connection that needs a channel will open its own and report why
          if (this.closed) {
            channel.close();
            return;
          }
          this.keep(channel);
        });
      } catch {
        this.opening--;
        return; // the SSH link is down; the tunnel reconnects and starts a new pool
      }
    }
  }

  private keep(channel: ssh2.ClientChannel): void {
    const warm: Warm = {
      channel,
      timer: setTimeout(() => {
        this.drop(warm);
        channel.close();
        this.refill();
      }, this.maxAgeMs),
    };
    // A server that gives up on an idle connection closes it: never hand that one out.
    channel.once('close', () => this.drop(warm));
    channel.on('error', () => {});
    this.ready.push(warm);
    this.options.onReady?.(this.ready.length);
  }

  private drop(warm: Warm): void {
    clearTimeout(warm.timer);
    const index = this.ready.indexOf(warm);
    if (index >= 0) this.ready.splice(index, 1);
  }
}

/**
 * Whether the server may still send on this channel. Nobody reads a warm channel, so its 'end'
 * and 'close' events wait until someone does; ssh2 records the server's EOF or close at once in
 * `incoming.state`, which its typings leave as unknown.
 */
function stillOpen(channel: ssh2.ClientChannel): boolean {
  return !channel.destroyed && (channel.incoming as { state?: string } | undefined)?.state === 'open';
}
