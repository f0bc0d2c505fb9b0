import type { PmsClient, PmsIdentity, PmsSignIn } from './pms.js';

/** Is the server claimed, and by whom: /identity, plus the root container while it is readable. */
export async function readServerStatus(pms: PmsClient): Promise<{ identity: PmsIdentity; signIn?: PmsSignIn }> {
  // Both questions go at once: over a slow link each costs a round trip through the tunnel, and
  // neither answer depends on the other. /identity's failure is still the one reported, as it
  // says best what is wrong (nothing answers, or not Plex).
  const signInAnswer = pms.signIn();
  signInAnswer.catch(() => {});
  const identity = await pms.identity();
  const signIn = await signInAnswer;
  return { identity, signIn: signIn === 'needs-token' ? undefined : signIn };
}
