// Specification of the checksum: it is CRC-32C as the standards define it
// (the check value of the CRC catalogue, and the test vectors of RFC 3720,
// iSCSI), and the eight-bytes-at-a-time loop agrees with the plain bytewise
// definition on every length and alignment.

import { describe, expect, it } from 'vitest';
import { crc32c } from './crc32c.js';

/** The textbook definition, one bit at a time: slow and obviously right. */
function bitwiseCrc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c ^= byte;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('gives the catalogue check value 0xE3069283 for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789', 'ascii'))).toBe(0xe3069283);
  });

  it('gives the RFC 3720 values for 32 zero bytes, 32 0xFF bytes, and 0..31 ascending and descending', () => {
    expect(crc32c(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)))).toBe(0x113fdb5c);
  });

  it('gives 0 for no bytes', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('agrees with the bitwise definition on every length from 0 to 100 and at odd offsets into a buffer', () => {
    const bytes = Buffer.from(Array.from({ length: 140 }, (_, i) => (i * 151 + 7) & 0xff));
    for (let start = 0; start < 8; start++) {
      for (let length = 0; length <= 100; length++) {
        const piece = bytes.subarray(start, start + length);
        expect(crc32c(piece)).toBe(bitwiseCrc32c(piece));
      }
    }
  });

  it('continues over a second piece: crc32c(b, crc32c(a)) is the checksum of a then b', () => {
    const whole = Buffer.from('the quick brown fox jumps over the lazy dog', 'ascii');
    for (let cut = 0; cut <= whole.length; cut++) {
      expect(crc32c(whole.subarray(cut), crc32c(whole.subarray(0, cut)))).toBe(crc32c(whole));
    }
  });

  it('changes when any single bit of the input flips', () => {
    const bytes = Buffer.from('SET key value', 'latin1');
    const original = crc32c(bytes);
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = Buffer.from(bytes);
      flipped[bit >> 3] ^= 1 << (bit & 7);
      expect(crc32c(flipped)).not.toBe(original);
    }
  });
});
