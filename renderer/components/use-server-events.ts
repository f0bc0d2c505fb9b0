import { useEffect } from 'react';
import type { ReclaimEvent } from '../../electron/shared/ipc-contract.js';

/** The events about one server that the window hands on to its page (claim steps, diagnose checks). */
export function useServerEvents(events: EventTarget, profileId: string, listener: (event: ReclaimEvent) => void): void {
  useEffect(() => {
    const handle = (event: Event) => {
      const detail = (event as CustomEvent<ReclaimEvent>).detail;
      if ('profileId' in detail && detail.profileId === profileId) listener(detail);
    };
    events.addEventListener('reclaim', handle);
    return () => events.removeEventListener('reclaim', handle);
  });
}
