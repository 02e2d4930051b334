// The record format of the write-ahead log and of snapshots, and a reader that
// never trusts a byte it has not checked.
//
// One record, little-endian:
//
//   [ crc32c: u32 ][ type: u8 ][ keyLength: u32 ][ valueLength: u32 ][ key ][ value ]
//    \__ 4 bytes _/ \_______________ covered by the checksum _____________________/
//
// Types: 1 = SET key value, 2 = DEL key (no value), 3 = END (closes a
// snapshot; its value is the number of SET records before it, in decimal).
// Type 0 is never written, so a zero-filled region (what a file system may
// leave after a crash that extended a file but not its data) never reads as a
// record. Keys and values are the store's binary strings: one char per byte.
// INCR is logged as the SET of its result, so replay needs no arithmetic.
//
// Reading is defensive in a fixed order: is there room for a header; is the
// type one we know; are the lengths under the maximum record size; does the
// record end inside the file; does the checksum match. Only then is a length
// used. A damaged record is reported with its offset and the reason, and the
// reader can look further for the next record that checks out, which is how
// recovery tells a torn tail (nothing valid after it) from damage in the
// middle of the log (valid records follow it).
//
// Simplification, named: there is no file header or per-file magic number;
// the file's name says what it is (files.ts). A record carries no sequence
// number either: order in the file is the order of the store's operations.

import { crc32c } from './crc32c.js';
import fs from 'node:fs';

export const RECORD_HEADER_BYTES = 13;
/** The largest record written or read unless told otherwise: far above the protocol's default line. */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

export const RecordType = { SET: 1, DEL: 2, END: 3 } as const;
export type RecordTypeCode = (typeof RecordType)[keyof typeof RecordType];

export type LogRecord = { type: 'SET'; key: string; value: string } | { type: 'DEL'; key: string };

/** A record as read back: its type code, key and value, where it starts and where the next one does. */
export interface DecodedRecord {
  type: RecordTypeCode;
  key: string;
  value: string;
  offset: number;
  end: number;
}

/** Why the bytes at an offset are not a record. */
export interface Damage {
  offset: number;
  reason: string;
}

export type Decoded = { ok: true; record: DecodedRecord } | { ok: false; damage: Damage };

export class RecordTooLargeError extends Error {
  constructor(bytes: number, max: number) {
    super(`a log record of ${bytes} bytes is over the maximum of ${max}`);
  }
}

export function encodeSet(key: string, value: string): Buffer {
  return encodeRecord(RecordType.SET, key, value);
}

export function encodeDelete(key: string): Buffer {
  return encodeRecord(RecordType.DEL, key, '');
}

export function encodeEnd(setRecords: number): Buffer {
  return encodeRecord(RecordType.END, '', String(setRecords));
}

export function encodeLogRecord(record: LogRecord): Buffer {
  return record.type === 'SET' ? encodeSet(record.key, record.value) : encodeDelete(record.key);
}

function encodeRecord(type: RecordTypeCode, key: string, value: string): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + key.length + value.length);
  record[4] = type;
  record.writeUInt32LE(key.length, 5);
  record.writeUInt32LE(value.length, 9);
  record.write(key, RECORD_HEADER_BYTES, 'latin1');
  record.write(value, RECORD_HEADER_BYTES + key.length, 'latin1');
  record.writeUInt32LE(crc32c(record.subarray(4)), 0);
  return record;
}

/** Bytes that can be read at any offset: a file, or a buffer in tests. */
export interface ByteSource {
  readonly size: number;
  /** `length` bytes from `offset`; the caller has checked they lie inside `size`. */
  read(offset: number, length: number): Buffer;
}

export class BufferSource implements ByteSource {
  constructor(private readonly bytes: Buffer) {}
  get size(): number {
    return this.bytes.length;
  }
  read(offset: number, length: number): Buffer {
    return this.bytes.subarray(offset, offset + length);
  }
}

/**
 * A file read through a window of a megabyte or so, so that a log of any size
 * is read in large sequential pieces and never loaded whole.
 */
export class FileSource implements ByteSource {
  readonly size: number;
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly fd: number,
    private readonly windowBytes = 1024 * 1024,
  ) {
    this.size = fs.fstatSync(fd).size;
  }

  read(offset: number, length: number): Buffer {
    const inWindow = offset >= this.windowStart && offset + length <= this.windowStart + this.window.length;
    if (!inWindow) this.fill(offset, length);
    return this.window.subarray(offset - this.windowStart, offset - this.windowStart + length);
  }

  private fill(offset: number, length: number): void {
    const want = Math.min(Math.max(length, this.windowBytes), this.size - offset);
    const window = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = fs.readSync(this.fd, window, got, want - got, offset + got);
      if (n === 0) throw new Error(`file shrank while being read (at ${offset + got} of ${this.size})`);
      got += n;
    }
    this.window = window;
    this.windowStart = offset;
  }
}

/** Reads the record at `offset`, checking everything before using it. */
export function decodeRecordAt(source: ByteSource, offset: number, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES): Decoded {
  const damaged = (reason: string): Decoded => ({ ok: false, damage: { offset, reason } });
  const remaining = source.size - offset;
  if (remaining < RECORD_HEADER_BYTES) return damaged(`a record header cut short (${remaining} of ${RECORD_HEADER_BYTES} bytes)`);
  const header = source.read(offset, RECORD_HEADER_BYTES);
  const type = header[4];
  if (!isRecordType(type)) return damaged(`unknown record type ${type}`);
  const keyLength = header.readUInt32LE(5);
  const valueLength = header.readUInt32LE(9);
  const total = RECORD_HEADER_BYTES + keyLength + valueLength;
  if (total > maxRecordBytes) return damaged(`record length ${total} is over the maximum of ${maxRecordBytes}`);
  if (total > remaining) return damaged(`a record of ${total} bytes cut short (${remaining} bytes left in the file)`);
  if (type === RecordType.DEL && valueLength !== 0) return damaged('a DEL record with a value');
  const bytes = source.read(offset, total);
  if (crc32c(bytes.subarray(4)) !== bytes.readUInt32LE(0)) return damaged('checksum mismatch');
  return {
    ok: true,
    record: {
      type,
      key: bytes.toString('latin1', RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + keyLength),
      value: bytes.toString('latin1', RECORD_HEADER_BYTES + keyLength, total),
      offset,
      end: offset + total,
    },
  };
}

function isRecordType(type: number): type is RecordTypeCode {
  return type === RecordType.SET || type === RecordType.DEL || type === RecordType.END;
}

/** What reading a file from its start found. */
export interface Scan {
  records: number;
  /** Bytes of complete, checked records from the start: where damage begins, or the size. */
  validBytes: number;
  damage?: Damage & {
    /** Offset of the first record after the damage that checks out, or null: nothing valid follows. */
    nextValidOffset: number | null;
  };
}

/**
 * Reads every record from the start of `source`, handing each to `visit`, and
 * stops at the first damage, which it describes. `visit` may throw to stop.
 */
export function scanRecords(source: ByteSource, visit: (record: DecodedRecord) => void, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES): Scan {
  let offset = 0;
  let records = 0;
  while (offset < source.size) {
    const decoded = decodeRecordAt(source, offset, maxRecordBytes);
    if (!decoded.ok) {
      return { records, validBytes: offset, damage: { ...decoded.damage, nextValidOffset: nextValidRecord(source, offset + 1, maxRecordBytes) } };
    }
    visit(decoded.record);
    records += 1;
    offset = decoded.record.end;
  }
  return { records, validBytes: offset };
}

/**
 * The first offset at or after `from` where a whole record checks out, or
 * null. Looks at every byte offset, because after damage nothing says where
 * the next record starts. A false match needs a known type, plausible lengths
 * and a matching 32-bit checksum at once. (A value that itself holds the bytes
 * of a valid record can still be found here: then a torn tail reads as damage
 * in the middle, and recovery refuses rather than guesses, the safe side.)
 */
export function nextValidRecord(source: ByteSource, from: number, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES): number | null {
  for (let offset = from; offset + RECORD_HEADER_BYTES <= source.size; offset++) {
    if (!isRecordType(source.read(offset + 4, 1)[0])) continue;
    if (decodeRecordAt(source, offset, maxRecordBytes).ok) return offset;
  }
  return null;
}
