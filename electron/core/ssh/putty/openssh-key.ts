import { randomBytes } from 'node:crypto';
import { badInput } from '../../common/errors.js';
import { WireError, WireReader, WireWriter } from '../wire.js';
import type { PpkFile } from './ppk.js';

// A PuTTY key, once unlocked, rewritten as an unencrypted OpenSSH private key (PROTOCOL.key in
// OpenSSH's source), which ssh2 signs with for every key type it supports. It is built in memory
// for one sign-in and never written anywhere.
//
// PuTTY stores only what its public blob lacks (appendix C of its manual; for EdDSA the private
// value is a fixed-length little-endian string, which is the 32-byte seed OpenSSH keeps):
//   ssh-rsa:  mpint d, p, q, iqmp          OpenSSH: n, e, d, iqmp, p, q
//   ecdsa-*:  mpint d                      OpenSSH: curve, Q, d
//   ssh-ed25519: string seed               OpenSSH: public, seed || public

const ED25519_BYTES = 32;

export function ppkToOpenSsh(ppk: PpkFile, privateBlob: Buffer): string {
  const section = new WireWriter();
  // Two equal random words that OpenSSH uses to tell a wrong passphrase from a right one.
  const check = randomBytes(4);
  section.raw(check).raw(check).string(ppk.algorithm);
  try {
    const pub = new WireReader(ppk.publicBlob);
    const priv = new WireReader(privateBlob);
    pub.text();
    if (ppk.algorithm === 'ssh-rsa') {
      const e = pub.mpint();
      const n = pub.mpint();
      const [d, p, q, iqmp] = [priv.mpint(), priv.mpint(), priv.mpint(), priv.mpint()];
      section.mpint(n).mpint(e).mpint(d).mpint(iqmp).mpint(p).mpint(q);
    } else if (ppk.algorithm.startsWith('ecdsa-sha2-')) {
      section.string(pub.string()).string(pub.string()).mpint(priv.mpint());
    } else {
      const publicKey = pub.string();
      const seed = priv.string();
      if (publicKey.length !== ED25519_BYTES || seed.length !== ED25519_BYTES) throw new WireError('wrong Ed25519 key length');
      section.string(publicKey).string(Buffer.concat([seed, publicKey]));
    }
  } catch (error) {
    if (!(error instanceof WireError)) throw error;
    // The MAC matched, so PuTTYgen wrote it this way: a key PuTTY itself could not load either.
    throw badInput(`The PuTTY key file ${ppk.file} holds a malformed ${ppk.algorithm} key.`, 'Make a new key with PuTTYgen and put its public key in ~/.ssh/authorized_keys on the server.', { file: ppk.file });
  }
  section.string(ppk.comment);
  // Padded with 1, 2, 3, … to the cipher block size, which is 8 for an unencrypted key.
  const unpadded = section.toBuffer();
  const padding = Buffer.from(Array.from({ length: (8 - (unpadded.length % 8)) % 8 }, (_, index) => index + 1));

  const body = new WireWriter()
    .raw(Buffer.from('openssh-key-v1\0', 'latin1'))
    .string('none')
    .string('none')
    .string('')
    .uint32(1)
    .string(ppk.publicBlob)
    .string(Buffer.concat([unpadded, padding]))
    .toBuffer()
    .toString('base64');
  const lines = body.match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}
