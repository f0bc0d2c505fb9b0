import { useState } from 'react';
import type { ClaimOutcome, ClaimStep, Connection, ErrorInfo, Result } from '../../electron/shared/ipc-contract.js';
import { useServerEvents } from './use-server-events.js';

/** One claim attempt as both claim panels show it: its steps, then what came of it. */
export function useClaimRun(props: { profileId: string; events: EventTarget; connection: Connection; onClaimed(connection: Connection): void }) {
  const [steps, setSteps] = useState<ClaimStep[]>([]);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<ErrorInfo | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const [signInUrl, setSignInUrl] = useState<string | undefined>();

  useServerEvents(props.events, props.profileId, (event) => {
    if (event.type === 'claim-step') setSteps((all) => [...all, event.step]);
    if (event.type === 'signin-url') setSignInUrl(event.url);
  });

  const run = async (claim: () => Promise<Result<ClaimOutcome>>): Promise<boolean> => {
    setSteps([]);
    setError(undefined);
    setDone(undefined);
    setSignInUrl(undefined);
    setRunning(true);
    const result = await claim();
    setRunning(false);
    if (!result.ok) {
      setError(result.error);
      return false;
    }
    props.onClaimed({ ...props.connection, status: result.value.status, statusError: undefined });
    const by = result.value.outcome === 'claimed' && result.value.account ? ` by ${result.value.account}` : '';
    setDone(result.value.outcome === 'already-claimed'
      ? 'This server is already claimed; nothing was changed.'
      : `Done: the server is now claimed${by}. Plex apps signed in to that account will see it again.`);
    return true;
  };

  return { steps, running, error, done, signInUrl, run };
}
