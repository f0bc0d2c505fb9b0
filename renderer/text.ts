import type { ClaimStep, ConnectStep } from '../electron/shared/ipc-contract.js';

export const CONNECT_STEP_TEXT: Record<ConnectStep, string> = {
  connecting: 'Connecting to the server',
  'verifying-host-key': 'Checking the server\'s identity key',
  'signing-in': 'Signing in',
  'opening-forward': 'Opening the tunnel to Plex',
  'checking-plex': 'Checking Plex Media Server',
};

export const CLAIM_STEP_TEXT: Record<ClaimStep, string> = {
  checking: 'Checking the server',
  'signing-in': 'Waiting for you to sign in with Plex',
  'waiting-for-plex': 'Plex Media Server is starting up; waiting',
  'fetching-claim-token': 'Fetching a claim token from plex.tv',
  claiming: 'Claiming the server',
  retrying: 'The token was refused; retrying with a fresh one',
  verifying: 'Checking that the server is now claimed',
};
