import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { reclaimDataDir } from '../common/app-paths.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { storageFailed } from '../common/errors.js';

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
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw storageFailed(file, error, 'read');
  }
  const fresh = randomUUID();
  await writeFileAtomic(file, `${fresh}\n`);
  return fresh;
}
