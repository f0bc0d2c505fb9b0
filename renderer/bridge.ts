import type { ReclaimBridge } from '../electron/shared/ipc-contract.js';

// The UI's only way out: the bridge the preload exposes (in the UI tests, a stand-in of the same
// shape backed by the real core).

declare global {
  interface Window {
    reclaim: ReclaimBridge;
  }
}

export const reclaim: ReclaimBridge = window.reclaim;
