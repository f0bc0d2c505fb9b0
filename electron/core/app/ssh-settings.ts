import type { ProfileFields } from '../../shared/ipc-contract.js';
import type { AuthSettings } from '../ssh/auth.js';
import type { ResolveOptions } from '../ssh/config/ssh-config.js';
import type { ConnectSettings, SshHop } from '../ssh/connect.js';
import type { HostKeyStore } from '../ssh/host-keys/policy.js';
import type { Prompter } from '../ssh/prompter.js';
import { resolveRoute } from '../ssh/route.js';

// A saved server as the SSH layer needs it: the hops to it (with ~/.ssh/config applied) and how
// to log in. Connecting and Diagnose both start from here, so they sign in the same way.

export interface SshSettingsOptions {
  /** known_hosts files trusted and the one new keys are recorded in (and PuTTY's trusted keys, read only). */
  hostKeys: Omit<HostKeyStore, 'acceptNew'>;
  findAgent(): string | undefined;
  sshConfig?: ResolveOptions;
}

export class SshSettings {
  constructor(private readonly options: SshSettingsOptions) {}

  route(profile: ProfileFields): Promise<SshHop[]> {
    return resolveRoute({
      target: profile.user ? `${profile.user}@${profile.host}` : profile.host,
      // 22 in the form means "the usual": a Port from ~/.ssh/config still applies then.
      port: profile.sshPort === 22 ? undefined : profile.sshPort,
      jump: profile.jump || undefined,
      config: this.options.sshConfig ?? {},
    });
  }

  /** New keys are never accepted silently here: the person is asked through `prompter`. */
  connect(profile: ProfileFields, prompter: Prompter, signal: AbortSignal, onProgress?: ConnectSettings['onProgress']): ConnectSettings {
    const agent = profile.auth === 'password' ? undefined : this.options.findAgent();
    const auth: Omit<AuthSettings, 'configIdentityFiles'> = profile.auth === 'key'
      ? { identityFile: profile.keyPath, agent }
      : profile.auth === 'password' ? { keys: false } : { agent };
    return { auth, hostKeys: { ...this.options.hostKeys, acceptNew: false }, prompter, signal, onProgress };
  }
}
