import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { posixCksum } from '../../electron/core/server/repair/posix-cksum.js';

// The CRC Reclaim checks transfers with, on a server whose only checksum tool is cksum, must be
// the one that cksum prints.

describe('posixCksum', () => {
  it.each([
    ['empty', Buffer.alloc(0)],
    ['text', Buffer.from('<Preferences a="1"/>\n')],
    ['256 bytes', randomBytes(256)],
    ['70000 bytes', randomBytes(70_000)],
  ])('agrees with cksum: %s', (_, data) => {
    const printed = execFileSync('cksum', { input: data }).toString().trim().split(/\s+/).slice(0, 2).join(' ');
    expect(posixCksum(data)).toBe(printed);
  });
});
