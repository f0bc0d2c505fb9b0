import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_METHODS, channelFor, EVENT_CHANNEL, SANDBOX_OFF_ARGUMENT, type ReclaimBridge, type ReclaimEvent } from '../shared/ipc-contract.js';

// The whole of what Reclaim's own page gets from Electron: one function per request in the
// contract, one way to hear events, and the shell's fixed facts. Never ipcRenderer itself, never
// the IPC event object (security checklist item 20).

const requests = Object.fromEntries(
  API_METHODS.map((method) => [method, (...args: unknown[]) => ipcRenderer.invoke(channelFor(method), ...args)]),
);

const bridge = {
  ...requests,
  onEvent(listener: (event: ReclaimEvent) => void): () => void {
    const forward = (_event: IpcRendererEvent, event: ReclaimEvent) => listener(event);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => ipcRenderer.removeListener(EVENT_CHANNEL, forward);
  },
  shell: Object.freeze({ sandboxed: !process.argv.includes(SANDBOX_OFF_ARGUMENT) }),
} as ReclaimBridge;

contextBridge.exposeInMainWorld('reclaim', bridge);
