// Specification of the record format: what goes in comes out byte for byte,
// and the reader refuses, with a reason and an offset, anything it has not
// checked: short headers, unknown types, lengths past the file or the maximum,
// and checksum mismatches. After damage it finds the next record that checks
// out, which is how recovery tells a torn tail from damage in the middle.

import { describe, expect, it } from 'vitest';
import {
  BufferSource,
  decodeRecordAt,
  DecodedRecord,
  encodeDelete,
  encodeEnd,
  encodeSet,
  nextValidRecord,
  RECORD_HEADER_BYTES,
  RecordType,
  scanRecords,
} from './record.js';

const EVERY_BYTE = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));

function decodeAll(bytes: Buffer): DecodedRecord[] {
  const records: DecodedRecord[] = [];
  const scan = scanRecords(new BufferSource(bytes), (record) => records.push(record));
  expect(scan.damage).toBeUndefined();
  return records;
}

describe('record encoding', () => {
  it('reads back SET, DEL and END records exactly, with any bytes in keys and values', () => {
    const bytes = Buffer.concat([encodeSet('k\x00\xff', EVERY_BYTE), encodeDelete('gone'), encodeSet('', ''), encodeEnd(2)]);
    const records = decodeAll(bytes);
    expect(records.map(({ type, key, value }) => ({ type, key, value }))).toEqual([
      { type: RecordType.SET, key: 'k\x00\xff', value: EVERY_BYTE },
      { type: RecordType.DEL, key: 'gone', value: '' },
      { type: RecordType.SET, key: '', value: '' },
      { type: RecordType.END, key: '', value: '2' },
    ]);
    expect(records.at(-1)?.end).toBe(bytes.length);
  });

  it('takes a 13-byte header plus the key and value bytes, nothing more', () => {
    expect(encodeSet('key', 'value').length).toBe(RECORD_HEADER_BYTES + 3 + 5);
    expect(encodeDelete('key').length).toBe(RECORD_HEADER_BYTES + 3);
  });
});

describe('record decoding refuses what it has not checked', () => {
  const record = encodeSet('key', 'value');
  const decode = (bytes: Buffer, max?: number) => decodeRecordAt(new BufferSource(bytes), 0, max);
  const reasonFor = (bytes: Buffer, max?: number) => {
    const decoded = decode(bytes, max);
    return decoded.ok ? 'accepted' : decoded.damage.reason;
  };

  it('refuses a header cut short', () => {
    expect(reasonFor(record.subarray(0, 12))).toMatch(/header cut short \(12 of 13 bytes\)/);
  });

  it('refuses a record whose lengths run past the end of the file', () => {
    expect(reasonFor(record.subarray(0, record.length - 1))).toMatch(/cut short/);
  });

  it('refuses zeros as a record: type 0 is never written', () => {
    expect(reasonFor(Buffer.alloc(64))).toBe('unknown record type 0');
  });

  it('refuses a length over the maximum record size before reading that far', () => {
    const huge = Buffer.from(record);
    huge.writeUInt32LE(0xffffffff, 9);
    expect(reasonFor(huge)).toMatch(/over the maximum/);
    expect(reasonFor(record, 10)).toMatch(/record length 21 is over the maximum of 10/);
  });

  it('refuses a record with any single byte changed, by checksum, type or length', () => {
    for (let i = 0; i < record.length; i++) {
      const damaged = Buffer.from(record);
      damaged[i] ^= 0x01;
      expect(decode(damaged).ok, `byte ${i} flipped`).toBe(false);
    }
  });

  it('refuses a DEL record that carries a value', () => {
    const del = Buffer.from(encodeSet('key', 'v'));
    del[4] = RecordType.DEL;
    expect(reasonFor(del)).toBe('a DEL record with a value');
  });
});

describe('scanning a log', () => {
  const first = encodeSet('a', '1');
  const second = encodeSet('b', '2');

  it('stops at damage and says where it is and where the next valid record starts', () => {
    const damaged = Buffer.from(second);
    damaged[RECORD_HEADER_BYTES] ^= 0xff;
    const third = encodeDelete('a');
    const bytes = Buffer.concat([first, damaged, third]);
    const seen: string[] = [];
    const scan = scanRecords(new BufferSource(bytes), (record) => seen.push(record.key));
    expect(seen).toEqual(['a']);
    expect(scan).toEqual({
      records: 1,
      validBytes: first.length,
      damage: { offset: first.length, reason: 'checksum mismatch', nextValidOffset: first.length + second.length },
    });
  });

  it('finds nothing valid in a tail of zeros or of a cut record', () => {
    expect(nextValidRecord(new BufferSource(Buffer.alloc(100)), 0)).toBeNull();
    expect(nextValidRecord(new BufferSource(second.subarray(0, second.length - 1)), 0)).toBeNull();
  });
});
