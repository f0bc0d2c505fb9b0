import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { API_METHODS, channelFor, type ReclaimHandlers, type Result } from '../shared/ipc-contract.js';
import { routeRequest } from '../core/app/request-router.js';

// Typed IPC with sender checks (security checklist item 17): a request is served only when it
// comes from the top frame of Reclaim's own window showing Reclaim's own page. The Plex view,
// sign-in windows and any frame inside them are never trusted senders.

export interface SenderFacts {
  senderId: number;
  /** The frame's URL, or undefined when the frame is gone. */
  frameUrl: string | undefined;
  isTopFrame: boolean;
}

export function isTrustedSender(facts: SenderFacts, trustedId: number | undefined, isAppPage: (url: string) => boolean): boolean {
  return trustedId !== undefined && facts.senderId === trustedId && facts.isTopFrame && facts.frameUrl !== undefined && isAppPage(facts.frameUrl);
}

export const UNTRUSTED_SENDER: Result<never> = {
  ok: false,
  error: { code: 'BAD_INPUT', message: 'A request from a page that is not Reclaim\'s own window was refused.', fix: 'Use Reclaim\'s main window.' },
};

function senderFacts(event: IpcMainInvokeEvent): SenderFacts {
  const frame = event.senderFrame;
  return { senderId: event.sender.id, frameUrl: frame?.url, isTopFrame: frame !== null && frame.parent === null };
}

export function registerIpc(service: ReclaimHandlers, trustedId: () => number | undefined, isAppPage: (url: string) => boolean): void {
  for (const method of API_METHODS) {
    ipcMain.handle(channelFor(method), (event, ...args: unknown[]) => {
      if (!isTrustedSender(senderFacts(event), trustedId(), isAppPage)) return UNTRUSTED_SENDER;
      return routeRequest(service, method, args);
    });
  }
}
