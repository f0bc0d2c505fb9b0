import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { reclaimDataDir } from '../common/app-paths.js';

// plex.tv wants one random identifier per installed app, kept and reused ("A random string or
// UUID is sufficient"), so Authorized Devices shows one Reclaim, not one per run.

const FILE_NAME = 'plex-client-id';
const VALID = /^[0-9a-f-]{36}$/;

export async function clientIdentifier(dataDir = reclaimDataDir()): Promise<string> {
  const file = path.join(dataDir, FILE_NAME);
  try {
    const stored = (await fs.readFile(file, 'utf8')).trim();
    if (VALID.test(stored)) return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const fresh = randomUUID();
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  // Written to a temporary name first, so a crash never leaves a half-written identifier.
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, `${fresh}\n`, { mode: 0o600 });
  await fs.rename(temporary, file);
  return fresh;
}
