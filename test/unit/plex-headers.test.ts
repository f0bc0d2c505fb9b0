import { describe, expect, it, vi } from 'vitest';

// Plex lists Reclaim under Authorized Devices with the version these headers give: it must be
// the release's own, from package.json, not a copy that falls behind.

vi.mock('../../package.json', () => ({ default: { name: 'reclaim', version: '9.8.7' } }));

describe('the X-Plex headers', () => {
  it('name Reclaim with the version package.json gives', async () => {
    const { plexHeaders } = await import('../../electron/core/plex/headers.js');
    expect(plexHeaders('client-1')).toMatchObject({ 'X-Plex-Product': 'Reclaim', 'X-Plex-Version': '9.8.7', 'X-Plex-Client-Identifier': 'client-1' });
  });
});
