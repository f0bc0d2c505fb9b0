import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { storageFailed } from './errors.js';

/**
 * Replace one of Reclaim's own files so that a reader (or a crash) sees the old contents or the
 * new, never half: write a temporary file beside it, flush it, then rename it over the original.
 * Fails with STORAGE_FAILED, naming the file.
 */
export async function writeFileAtomic(file: string, data: string, mode = 0o600): Promise<void> {
  try {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await fs.open(temporary, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.rename(temporary, file);
    } catch (error) {
      await fs.rm(temporary, { force: true });
      throw error;
    }
  } catch (error) {
    throw storageFailed(file, error);
  }
}
