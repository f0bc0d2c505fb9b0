import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AuthMethod, ProfileFields } from '../../shared/ipc-contract.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { OneAtATime } from '../common/one-at-a-time.js';
import { checkIdentityFile } from '../ssh/auth.js';
import { ReclaimError, badInput, isReclaimError, storageFailed } from '../common/errors.js';
import { listHostAliases, resolveHostConfig, type ResolveOptions } from '../ssh/config/ssh-config.js';
import { parseHostPort, parseJumpList, parseSshAddress, validateHost } from '../common/target.js';

// The desktop app's saved servers: what the person typed into the server form, checked field by
// field, kept in one JSON file in Reclaim's folder. No secret is ever part of a profile; saved
// passwords live only in the OS-encrypted vault.

const AUTH_METHODS: readonly AuthMethod[] = ['auto', 'key', 'password'];
const STORE_VERSION = 1;

/** Throws BAD_INPUT naming the first wrong field (details.field); returns the tidied fields. */
export async function checkProfileFields(input: ProfileFields): Promise<ProfileFields> {
  const onField = async <T>(field: keyof ProfileFields, check: () => T | Promise<T>): Promise<T> => {
    try {
      return await check();
    } catch (error) {
      if (isReclaimError(error) && error.code === 'BAD_INPUT') throw badInput(error.message, error.fix, { field });
      throw error;
    }
  };
  const host = input.host.trim();
  await onField('host', () => {
    if (host === '') throw badInput('The server address is empty.', 'Type the server name or IP address, for example myserver.example.com or 192.168.1.20, or a Host name from your ~/.ssh/config.');
    if (/[@\s]/.test(host)) throw badInput(`Server "${host}" contains "@" or a space.`, 'Type only the server name or IP address here, and the user name in the User field.');
    return validateHost(host.replace(/^\[(.*)\]$/, '$1'), 'Server');
  });
  const sshPort = await onField('sshPort', () => wholePort(input.sshPort, 'SSH port', 1));
  const user = input.user.trim();
  if (user !== '') await onField('user', () => parseSshAddress(`${user}@localhost`));
  const auth = await onField('auth', () => {
    if (!AUTH_METHODS.includes(input.auth)) throw badInput(`Sign-in method "${String(input.auth)}" is not one Reclaim knows.`, 'Choose Automatic, Key file or Password.');
    return input.auth;
  });
  // ~ as people write it (and as the form's example shows), on every system.
  const keyPath = input.keyPath.trim().replace(/^~(?=$|[\\/])/, os.homedir());
  if (auth === 'key') {
    await onField('keyPath', async () => {
      if (keyPath === '') throw badInput('No key file was chosen.', 'Choose your private key file (for example ~/.ssh/id_ed25519, not the .pub file), or pick another sign-in method.');
      if (!path.isAbsolute(keyPath)) throw badInput(`Key file "${keyPath}" is not a full path.`, 'Choose the file with Browse, or type its full path (~/.ssh/id_ed25519 works too).');
      await checkIdentityFile(keyPath);
    });
  }
  const jump = input.jump.trim();
  if (jump !== '') await onField('jump', () => parseJumpList(jump));
  const localPort = await onField('localPort', () => wholePort(input.localPort, 'Local port', 0));
  const remote = input.remote.trim();
  await onField('remote', () => parseHostPort(remote, 'Plex address on the server'));
  const name = input.name.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 80) || host;
  return { name, host, sshPort, user, auth, keyPath: auth === 'key' ? keyPath : '', jump, localPort, remote };
}

function wholePort(value: unknown, what: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 65535) {
    throw badInput(`${what} "${String(value)}" is not a port number.`, `Use a whole number from ${min} to 65535${min === 0 ? ' (0 picks any free port)' : ''}.`);
  }
  return value;
}

/** Server forms filled in from the Host entries of ~/.ssh/config (nothing is saved). */
export async function profilesFromSshConfig(options: ResolveOptions = {}): Promise<ProfileFields[]> {
  const aliases = await listHostAliases(options);
  const forms: ProfileFields[] = [];
  for (const alias of aliases) {
    const config = await resolveHostConfig(alias, options);
    // ProxyCommand is never run, so such an entry cannot be used; it is left out rather than offered.
    if (config.proxyCommand) continue;
    forms.push({
      name: alias,
      host: alias,
      sshPort: config.port ?? 22,
      user: config.user ?? '',
      auth: 'auto',
      keyPath: '',
      jump: config.proxyJump ?? '',
      localPort: 8888,
      remote: '127.0.0.1:32400',
    });
  }
  return forms;
}

interface StoredProfile extends ProfileFields {
  id: string;
}

export class ProfileStore {
  private readonly changes = new OneAtATime();

  constructor(private readonly file: string) {}

  async list(): Promise<StoredProfile[]> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw storageFailed(this.file, error, 'read');
    }
    try {
      const parsed = JSON.parse(text) as { version?: unknown; servers?: unknown };
      if (parsed.version !== STORE_VERSION || !Array.isArray(parsed.servers)) throw new Error('unknown layout');
      return parsed.servers.filter(isStoredProfile);
    } catch {
      // Keep the damaged file for the person (nothing is lost) and start a fresh list.
      const aside = `${this.file}.damaged-${Date.now()}`;
      await fs.rename(this.file, aside);
      throw new ReclaimError(
        'STORAGE_FAILED',
        `Reclaim's list of saved servers was damaged and could not be read. It was moved to ${aside}.`,
        'Add your servers again (or import them from ~/.ssh/config). The old file is kept in case you want to look at it.',
        { file: aside },
      );
    }
  }

  save(id: string | null, fields: ProfileFields): Promise<StoredProfile> {
    return this.changes.run(async () => {
      const profiles = await this.list();
      const profile: StoredProfile = { ...fields, id: id ?? randomUUID() };
      const index = profiles.findIndex((existing) => existing.id === id);
      if (id !== null && index < 0) throw notFound(id);
      if (index >= 0) profiles[index] = profile;
      else profiles.push(profile);
      await this.write(profiles);
      return profile;
    });
  }

  remove(id: string): Promise<void> {
    return this.changes.run(async () => {
      const profiles = await this.list();
      await this.write(profiles.filter((profile) => profile.id !== id));
    });
  }

  async get(id: string): Promise<StoredProfile> {
    const profile = (await this.list()).find((candidate) => candidate.id === id);
    if (!profile) throw notFound(id);
    return profile;
  }

  private async write(profiles: StoredProfile[]): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify({ version: STORE_VERSION, servers: profiles }, null, 2)}\n`);
  }
}

function notFound(id: string): ReclaimError {
  return badInput(`There is no saved server with id ${id}.`, 'It may have been deleted in another window; choose a server from the list.');
}

function isStoredProfile(value: unknown): value is StoredProfile {
  const profile = value as Partial<StoredProfile> | null;
  return typeof profile === 'object' && profile !== null && typeof profile.id === 'string' && typeof profile.host === 'string'
    && typeof profile.name === 'string' && typeof profile.sshPort === 'number' && typeof profile.user === 'string'
    && typeof profile.auth === 'string' && typeof profile.keyPath === 'string' && typeof profile.jump === 'string'
    && typeof profile.localPort === 'number' && typeof profile.remote === 'string';
}
