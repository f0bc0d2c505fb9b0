import type { PmsClient, PmsIdentity, PmsSignIn } from './pms.js';

/** Is the server claimed, and by whom: /identity, plus the root container while it is readable. */
export async function readServerStatus(pms: PmsClient): Promise<{ identity: PmsIdentity; signIn?: PmsSignIn }> {
  const identity = await pms.identity();
  const signIn = await pms.signIn();
  return { identity, signIn: signIn === 'needs-token' ? undefined : signIn };
}
