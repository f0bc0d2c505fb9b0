import type ssh2 from 'ssh2';

// Running one fixed command on the server over the existing SSH session. Output and time are
// bounded; the command text is always built by Reclaim with quoted values, never from something a
// person or a server typed. Anything secret the command needs (a sudo password) goes in on its
// standard input, never into the command line, where the server's other users could read it.

export interface RemoteResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** The output went past the cap and the command was cut off there. */
  truncated: boolean;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Written to the command's standard input, which is then closed. */
  stdin?: string;
  /** Bytes kept of stdout (and of stderr); past that the channel is closed. */
  maxOutputBytes?: number;
}

/** The command did not finish in time; its channel was closed. */
export class RemoteTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the command did not finish within ${Math.round(timeoutMs / 1000)} s`);
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_OUTPUT = 64 * 1024;

export function runRemote(client: ssh2.Client, command: string, options: RunOptions | number = {}): Promise<RemoteResult> {
  const { timeoutMs = DEFAULT_TIMEOUT_MS, stdin, maxOutputBytes = DEFAULT_MAX_OUTPUT } = typeof options === 'number' ? { timeoutMs: options } : options;
  return new Promise((resolve, reject) => {
    client.exec(command, (error, channel) => {
      if (error) {
        reject(error);
        return;
      }
      const stdout = new BoundedBuffer(maxOutputBytes);
      const stderr = new BoundedBuffer(maxOutputBytes);
      let finished = false;
      const finish = (outcome: () => void) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        outcome();
      };
      const timer = setTimeout(() => {
        finish(() => reject(new RemoteTimeoutError(timeoutMs)));
        channel.close();
      }, timeoutMs);
      const take = (into: BoundedBuffer) => (chunk: Buffer) => {
        // A command that floods its output is cut off rather than read to the end.
        if (!into.add(chunk)) channel.close();
      };
      channel.on('data', take(stdout));
      channel.stderr.on('data', take(stderr));
      channel.on('error', (channelError: Error) => finish(() => reject(channelError)));
      let exitCode: number | null = null;
      channel.on('exit', (code: number | null) => {
        exitCode = code;
      });
      channel.on('close', () => {
        finish(() => resolve({
          exitCode,
          stdout: stdout.text(),
          stderr: stderr.text(),
          truncated: stdout.overflowed || stderr.overflowed,
        }));
      });
      if (stdin !== undefined) channel.end(stdin);
      else channel.end();
    });
  });
}

class BoundedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  overflowed = false;

  constructor(private readonly limit: number) {}

  /** false once the limit is passed. */
  add(chunk: Buffer): boolean {
    if (this.overflowed) return false;
    const room = this.limit - this.size;
    if (chunk.length > room) {
      this.chunks.push(chunk.subarray(0, room));
      this.size = this.limit;
      this.overflowed = true;
      return false;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    return true;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Single-quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
