import crypto from 'node:crypto';
import { argon2d, argon2i, argon2id } from 'hash-wasm';

// Argon2, which PuTTY's format 3 key files use to turn a passphrase into the keys that unlock
// them. Node has it built in only from 24.7 (crypto.argon2); Reclaim's command line runs on Node 20
// and the app's Electron may have either, so the built-in one is used when it is there and
// hash-wasm otherwise: a maintained WASM build of the reference implementation, with no native
// module to compile for each platform and Electron version (its WASM is embedded in its JS, so it
// loads the same from dist/ and from the Vite bundle).

export type Argon2Flavour = 'argon2d' | 'argon2i' | 'argon2id';

export interface Argon2Parameters {
  flavour: Argon2Flavour;
  password: Buffer;
  salt: Buffer;
  /** KiB */
  memory: number;
  passes: number;
  parallelism: number;
  tagLength: number;
}

type NodeArgon2 = (
  algorithm: Argon2Flavour,
  parameters: { message: Buffer; nonce: Buffer; parallelism: number; tagLength: number; memory: number; passes: number },
  callback: (error: Error | null, tag: ArrayBuffer | Buffer) => void,
) => void;

export async function argon2(parameters: Argon2Parameters): Promise<Buffer> {
  const builtIn = (crypto as unknown as { argon2?: NodeArgon2 }).argon2;
  if (typeof builtIn === 'function') {
    return new Promise((resolve, reject) => {
      builtIn(parameters.flavour, {
        message: parameters.password,
        nonce: parameters.salt,
        parallelism: parameters.parallelism,
        tagLength: parameters.tagLength,
        memory: parameters.memory,
        passes: parameters.passes,
      }, (error, tag) => (error ? reject(error) : resolve(Buffer.from(tag as ArrayBuffer))));
    });
  }
  const run = { argon2d, argon2i, argon2id }[parameters.flavour];
  const tag = await run({
    password: parameters.password,
    salt: parameters.salt,
    iterations: parameters.passes,
    parallelism: parameters.parallelism,
    memorySize: parameters.memory,
    hashLength: parameters.tagLength,
    outputType: 'binary',
  });
  return Buffer.from(tag);
}
