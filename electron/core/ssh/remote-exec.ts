import type ssh2 from 'ssh2';

// Running one fixed command on the server over the existing SSH session, for diagnosis. Output
// and time are bounded; the command text is always built by Reclaim with quoted values, never
// from something a person or a server typed.

export interface RemoteResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

const MAX_OUTPUT = 64 * 1024;

export function runRemote(client: ssh2.Client, command: string, timeoutMs = 30_000): Promise<RemoteResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, channel) => {
      if (error) {
        reject(error);
        return;
      }
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => {
        channel.close();
        reject(new Error(`the command did not finish within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      channel.on('data', (chunk: Buffer) => {
        if (stdout.length < MAX_OUTPUT) stdout += chunk.toString('utf8');
      });
      channel.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < MAX_OUTPUT) stderr += chunk.toString('utf8');
      });
      channel.on('error', (channelError: Error) => {
        clearTimeout(timer);
        reject(channelError);
      });
      let exitCode: number | null = null;
      channel.on('exit', (code: number | null) => {
        exitCode = code;
      });
      channel.on('close', () => {
        clearTimeout(timer);
        resolve({ exitCode, stdout, stderr });
      });
    });
  });
}

/** Single-quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
