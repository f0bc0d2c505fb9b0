import { spawn } from 'node:child_process';

// Opening the Plex sign-in page in the person's browser. The URL is always one Reclaim built
// (https://app.plex.tv/...) and is passed as an argument, never through a shell.

export function openInBrowser(url: string): boolean {
  if (!/^https:\/\//.test(url)) return false;
  const [command, args] = process.platform === 'darwin'
    ? ['open', [url]]
    : process.platform === 'win32'
      ? ['rundll32', ['url.dll,FileProtocolHandler', url]]
      : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { detached: true, stdio: 'ignore' });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
