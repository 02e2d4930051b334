// Recovery: rebuild the store from the data directory at start-up, and say
// exactly what was found, kept and dropped.
//
// The state is the newest snapshot, then every segment from its number on
// (files.ts). Each record is checked before it is used (record.ts) and applied
// through the store's public `set` and `delete`, as a client's write would be.
//
// What a crash can leave, and what recovery does about it:
//
//   - a torn tail: the newest segment ends in a record cut short, zeros, or a
//     last record whose checksum fails, with nothing valid after it. That is
//     what a crash in the middle of an append, or a power failure before its
//     fsync, looks like. Every complete record before it is kept, the rest is
//     cut off the file, and the report says at which offset and how many
//     bytes. (Those bytes were never acknowledged under `always`.)
//   - damage in the middle: a bad record with valid records after it (in the
//     same segment, or any non-empty later one). A crash cannot do that, since
//     appends only ever extend the newest segment and a closed segment was
//     synced whole before the next got a record; it means the disk or someone
//     changed the file. Recovery stops with an error naming file and offset,
//     unless `repair` is given: then it cuts the log there, removes the later
//     segments, and reports everything dropped. Like `redis-check-aof --fix`,
//     repair is a decision for a person to make, never a default.
//   - leftovers of an interrupted compaction: a `.tmp` snapshot (never
//     renamed, so never part of the state), and snapshots or segments older
//     than the newest snapshot (already folded into it). They are removed, and
//     listed in the report.
//
// Nothing is skipped silently: a damaged snapshot, a gap in the segment
// numbers, or a record the store refuses (a store smaller than the data) stop
// recovery with an error; repair does not apply to them.

import fs from 'node:fs';
import path from 'node:path';
import { DataFile, listDataDirectory, nextSegmentId, planState, StatePlan, syncDirectory, truncateFile, withOpenFile } from './files.js';
import { DecodedRecord, DEFAULT_MAX_RECORD_BYTES, FileSource, RecordType, Scan, scanRecords } from './record.js';

/** What recovery writes into: SharedStore fits. */
export interface RecoveryTarget {
  set(key: string, value: string): void;
  delete(key: string): unknown;
}

export interface RecoveryOptions {
  /** Cut the log at damage in its middle instead of refusing to start. */
  repair?: boolean;
  maxRecordBytes?: number;
}

export interface FileRecovered {
  file: string;
  records: number;
  bytes: number;
}

export interface DroppedBytes {
  file: string;
  offset: number;
  bytes: number;
  reason: string;
}

export interface RecoveryReport {
  snapshot: FileRecovered | null;
  segments: FileRecovered[];
  /** Records and bytes applied, snapshot and segments together. */
  records: number;
  bytes: number;
  durationMs: number;
  dropped: DroppedBytes[];
  /** Leftovers of an interrupted compaction that were removed. */
  removed: string[];
  /** The segment the log should create next. */
  nextSegment: number;
  /** Bytes kept in the segments since the snapshot: where the compaction policy starts from. */
  logBytes: number;
}

export class CorruptLogError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
    advice: string,
  ) {
    super(`${file}: bad record at offset ${offset} (${reason}); ${advice}`);
  }
}

/** Rebuilds `target` from the files in `dir` and reports what it did. */
export function recover(dir: string, target: RecoveryTarget, options: RecoveryOptions = {}): RecoveryReport {
  const started = performance.now();
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const listing = listDataDirectory(dir);
  const plan = planState(dir, listing);
  const report: RecoveryReport = {
    snapshot: null,
    segments: [],
    records: 0,
    bytes: 0,
    durationMs: 0,
    dropped: [],
    removed: [],
    nextSegment: 0,
    logBytes: 0,
  };

  if (plan.snapshot) report.snapshot = readSnapshot(dir, plan.snapshot, (record) => target.set(record.key, record.value), maxRecordBytes);
  const apply = (record: DecodedRecord, file: string) => applyLogRecord(record, file, target);
  replaySegments(dir, plan.segments, apply, { repair: options.repair ?? false, maxRecordBytes }, report);
  removeLeftovers(dir, plan, listing.temporaries, report);
  if (report.dropped.length > 0 || report.removed.length > 0) syncDirectory(dir);

  for (const part of [report.snapshot, ...report.segments]) {
    report.records += part?.records ?? 0;
    report.bytes += part?.bytes ?? 0;
  }
  report.logBytes = report.segments.reduce((sum, segment) => sum + segment.bytes, 0);
  report.nextSegment = nextSegmentId(listDataDirectory(dir));
  report.durationMs = Math.round((performance.now() - started) * 100) / 100;
  return report;
}

function applyLogRecord(record: DecodedRecord, file: string, target: RecoveryTarget): void {
  if (record.type === RecordType.SET) target.set(record.key, record.value);
  else if (record.type === RecordType.DEL) target.delete(record.key);
  else throw new CorruptLogError(file, record.offset, 'an END record inside a log segment', 'the file is not a segment this server wrote');
}

function replaySegments(
  dir: string,
  segments: DataFile[],
  apply: (record: DecodedRecord, file: string) => void,
  options: { repair: boolean; maxRecordBytes: number },
  report: RecoveryReport,
): void {
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const scan = readFile(dir, segment.name, (record) => apply(record, segment.name), options.maxRecordBytes);
    report.segments.push({ file: segment.name, records: scan.records, bytes: scan.validBytes });
    if (!scan.damage) continue;
    const later = segments.slice(i + 1);
    const { offset, reason } = scan.damage;
    const isTornTail = scan.damage.nextValidOffset === null && later.every((file) => file.size === 0);
    if (!isTornTail && !options.repair) {
      const where =
        scan.damage.nextValidOffset !== null ? `a valid record follows at offset ${scan.damage.nextValidOffset}` : 'later segments hold records';
      throw new CorruptLogError(
        segment.name,
        offset,
        reason,
        `${where}, so this is damage in the middle of the log, not a torn tail; start with the repair option to cut the log here, losing what follows`,
      );
    }
    truncateFile(path.join(dir, segment.name), offset);
    report.dropped.push({
      file: segment.name,
      offset,
      bytes: segment.size - offset,
      reason: isTornTail ? `torn tail: ${reason}` : `repair: ${reason}`,
    });
    if (isTornTail) continue;
    for (const file of later) {
      fs.rmSync(path.join(dir, file.name));
      report.dropped.push({ file: file.name, offset: 0, bytes: file.size, reason: `repair: the whole segment, after damage in ${segment.name}` });
    }
    return;
  }
}

function removeLeftovers(dir: string, plan: StatePlan, temporaries: string[], report: RecoveryReport): void {
  for (const name of [...plan.obsolete.map((file) => file.name), ...temporaries]) {
    fs.rmSync(path.join(dir, name), { force: true });
    report.removed.push(name);
  }
}

/** Reads one file from its start; stops at the first damage, which the scan describes. */
export function readFile(dir: string, name: string, visit: (record: DecodedRecord) => void, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES): Scan {
  return withOpenFile(path.join(dir, name), 'r', (fd) => scanRecords(new FileSource(fd), visit, maxRecordBytes));
}

/**
 * Reads a snapshot, which must be whole: SET records, then one END record
 * that counts them, then nothing. A snapshot is only ever renamed into place
 * complete and synced, so any damage here is damage, never a torn write.
 */
export function readSnapshot(
  dir: string,
  snapshot: DataFile,
  visit: (record: DecodedRecord) => void,
  maxRecordBytes = DEFAULT_MAX_RECORD_BYTES,
): FileRecovered {
  const refuse = (offset: number, reason: string) =>
    new CorruptLogError(
      snapshot.name,
      offset,
      reason,
      'a snapshot is never written in place, so it cannot be repaired by cutting it; restore the directory from a copy',
    );
  let end: DecodedRecord | undefined;
  const scan = readFile(
    dir,
    snapshot.name,
    (record) => {
      if (end) throw refuse(record.offset, 'a record after the END record');
      if (record.type === RecordType.END) end = record;
      else if (record.type === RecordType.SET) visit(record);
      else throw refuse(record.offset, 'a DEL record in a snapshot');
    },
    maxRecordBytes,
  );
  if (scan.damage) throw refuse(scan.damage.offset, scan.damage.reason);
  if (!end) throw refuse(scan.validBytes, 'the END record is missing');
  if (end.value !== String(scan.records - 1))
    throw refuse(end.offset, `the END record counts ${end.value} records, the file has ${scan.records - 1}`);
  return { file: snapshot.name, records: scan.records - 1, bytes: scan.validBytes };
}
