// POSIX `cksum`: the CRC every server has (coreutils, BusyBox, the BSDs, macOS), so Reclaim can
// check that what it read is every byte of a file and that what it wrote arrived whole, without
// sending the file twice.

const POLYNOMIAL = 0x04c11db7;

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ POLYNOMIAL : crc << 1;
    table[i] = crc >>> 0;
  }
  return table;
})();

/** "<crc> <size>", as `cksum FILE | { read c s f; echo "$c $s"; }` prints it. */
export function posixCksum(data: Uint8Array | string): string {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let crc = 0;
  const add = (byte: number) => {
    crc = ((crc << 8) ^ TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  };
  for (const byte of bytes) add(byte);
  // The length follows the data, least significant byte first, in as few bytes as it needs.
  for (let length = bytes.length; length > 0; length = Math.floor(length / 256)) add(length % 256);
  return `${(~crc) >>> 0} ${bytes.length}`;
}
