// Specification of recovery: the store comes back exactly as the log says;
// a torn tail (cut anywhere, zero-filled, or with a damaged last record) is
// cut off and reported, never replayed; damage in the middle of the log stops
// recovery with an error naming file and offset, unless repair is asked for;
// leftovers of an interrupted compaction are removed and listed.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SharedStore } from '../store.js';
import { MissingSegmentError, segmentName, snapshotName } from './files.js';
import { encodeEnd, encodeSet, RECORD_HEADER_BYTES } from './record.js';
import { CorruptLogError, recover } from './recovery.js';
import { del, encodeAll, filesIn, MapStore, set, stateAfter, temporaryDirectories, writeSegment } from './test-support/data-dirs.js';

const tempDir = temporaryDirectories();

const HISTORY = [set('a', '1'), set('b', 'two'), del('a'), set('c', '\x00\xff binary \r\n'), set('b', '2')];
const LAST = set('last', 'the record a crash may tear');

function recovered(dir: string, options = {}) {
  const store = new MapStore();
  const report = recover(dir, store, options);
  return { state: store.toObject(), report };
}

function expectCorruptAt(run: () => unknown, file: string, offset: number): CorruptLogError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptLogError);
    const corrupt = error as CorruptLogError;
    expect({ file: corrupt.file, offset: corrupt.offset }).toEqual({ file, offset });
    expect(corrupt.message).toContain(`${file}: bad record at offset ${offset}`);
    return corrupt;
  }
  throw new Error('recovery did not refuse');
}

describe('recovery of an intact log', () => {
  it('rebuilds the state the records describe, across segments, and reports records and bytes', () => {
    const dir = tempDir();
    const first = encodeAll(HISTORY.slice(0, 3));
    const second = encodeAll(HISTORY.slice(3));
    writeSegment(dir, 1, first);
    writeSegment(dir, 2, second);
    const { state, report } = recovered(dir);
    expect(state).toEqual(stateAfter(HISTORY));
    expect(report).toMatchObject({
      records: 5,
      bytes: first.length + second.length,
      dropped: [],
      removed: [],
      nextSegment: 3,
      logBytes: first.length + second.length,
    });
    expect(report.segments.map((segment) => segment.file)).toEqual([segmentName(1), segmentName(2)]);
    expect(report.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('rebuilds a real SharedStore through its public set and delete', () => {
    const dir = tempDir();
    writeSegment(dir, 1, encodeAll(HISTORY));
    const store = SharedStore.create(1);
    recover(dir, store);
    expect([store.get('a'), store.get('b'), store.get('c')]).toEqual([undefined, '2', '\x00\xff binary \r\n']);
  });

  it('starts from an empty directory with nothing to do and segment 1 next', () => {
    expect(recovered(tempDir()).report).toMatchObject({ records: 0, snapshot: null, segments: [], nextSegment: 1 });
  });

  it('starts from the newest snapshot and the segments from its number on', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, snapshotName(3)), Buffer.concat([encodeSet('a', 'from snapshot'), encodeSet('b', 'old'), encodeEnd(2)]));
    writeSegment(dir, 3, encodeAll([set('b', 'new'), del('a')]));
    writeSegment(dir, 4, encodeAll([set('d', '4')]));
    const { state, report } = recovered(dir);
    expect(state).toEqual({ b: 'new', d: '4' });
    expect(report.snapshot).toMatchObject({ file: snapshotName(3), records: 2 });
    expect(report.nextSegment).toBe(5);
  });
});

describe('recovery of a torn tail', () => {
  const prefix = encodeAll(HISTORY);
  const last = encodeAll([LAST]);

  it('keeps every complete record when the last one is cut short at any byte, and cuts the file there', () => {
    for (let cut = 0; cut < last.length; cut++) {
      const dir = tempDir();
      const file = writeSegment(dir, 1, Buffer.concat([prefix, last.subarray(0, cut)]));
      const { state, report } = recovered(dir);
      expect(state, `cut after ${cut} bytes`).toEqual(stateAfter(HISTORY));
      expect(report.dropped).toEqual(
        cut === 0 ? [] : [{ file: segmentName(1), offset: prefix.length, bytes: cut, reason: expect.stringMatching(/^torn tail: .*cut short/) }],
      );
      expect(fs.statSync(file).size).toBe(prefix.length);
    }
  });

  it('drops the last record when any one of its bytes is flipped', () => {
    for (let i = 0; i < last.length; i++) {
      const dir = tempDir();
      const damaged = Buffer.from(last);
      damaged[i] ^= 0x20;
      writeSegment(dir, 1, Buffer.concat([prefix, damaged]));
      const { state, report } = recovered(dir);
      expect(state, `byte ${i} flipped`).toEqual(stateAfter(HISTORY));
      expect(report.dropped).toEqual([
        { file: segmentName(1), offset: prefix.length, bytes: last.length, reason: expect.stringMatching(/^torn tail: /) },
      ]);
    }
  });

  it('drops a zero-filled tail, as a file system may leave after a crash that grew the file', () => {
    const dir = tempDir();
    writeSegment(dir, 1, Buffer.concat([prefix, Buffer.alloc(4096)]));
    const { state, report } = recovered(dir);
    expect(state).toEqual(stateAfter(HISTORY));
    expect(report.dropped).toEqual([{ file: segmentName(1), offset: prefix.length, bytes: 4096, reason: 'torn tail: unknown record type 0' }]);
  });

  it('drops a last record whose bytes were zeroed after its header', () => {
    const dir = tempDir();
    const zeroed = Buffer.from(last);
    zeroed.fill(0, RECORD_HEADER_BYTES);
    writeSegment(dir, 1, Buffer.concat([prefix, zeroed]));
    expect(recovered(dir).report.dropped).toEqual([
      { file: segmentName(1), offset: prefix.length, bytes: last.length, reason: 'torn tail: checksum mismatch' },
    ]);
  });

  it('treats damage at the end of a segment as a torn tail when every later segment is empty', () => {
    const dir = tempDir();
    writeSegment(dir, 1, Buffer.concat([prefix, last.subarray(0, 7)]));
    writeSegment(dir, 2, Buffer.alloc(0));
    const { state, report } = recovered(dir);
    expect(state).toEqual(stateAfter(HISTORY));
    expect(report.dropped).toMatchObject([{ file: segmentName(1), offset: prefix.length, bytes: 7 }]);
    expect(report.nextSegment).toBe(3);
  });

  it('recovers the same state a second time, with nothing more to drop', () => {
    const dir = tempDir();
    writeSegment(dir, 1, Buffer.concat([prefix, last.subarray(0, 20)]));
    recovered(dir);
    const again = recovered(dir);
    expect(again.state).toEqual(stateAfter(HISTORY));
    expect(again.report.dropped).toEqual([]);
  });
});

describe('recovery of damage in the middle of the log', () => {
  const records = [...HISTORY, LAST];
  const encoded = records.map((record) => encodeAll([record]));
  const offsetOf = (index: number) => encoded.slice(0, index).reduce((sum, bytes) => sum + bytes.length, 0);
  const withSecondRecordDamaged = () => {
    const bytes = Buffer.concat(encoded);
    bytes[offsetOf(1) + RECORD_HEADER_BYTES] ^= 0x01;
    return bytes;
  };

  it('refuses to start, naming the file and the offset of the bad record, when valid records follow it', () => {
    const dir = tempDir();
    writeSegment(dir, 1, withSecondRecordDamaged());
    const error = expectCorruptAt(() => recovered(dir), segmentName(1), offsetOf(1));
    expect(error.message).toMatch(new RegExp(`a valid record follows at offset ${offsetOf(2)}.*repair`));
  });

  it('changes no file when it refuses', () => {
    const dir = tempDir();
    const bytes = withSecondRecordDamaged();
    const file = writeSegment(dir, 1, bytes);
    expect(() => recovered(dir)).toThrow(CorruptLogError);
    expect(fs.readFileSync(file)).toEqual(bytes);
  });

  it('with repair, keeps the records before the damage, cuts the log there and reports every byte dropped', () => {
    const dir = tempDir();
    const bytes = withSecondRecordDamaged();
    const file = writeSegment(dir, 1, bytes);
    const { state, report } = recovered(dir, { repair: true });
    expect(state).toEqual(stateAfter(records.slice(0, 1)));
    expect(report.dropped).toEqual([
      { file: segmentName(1), offset: offsetOf(1), bytes: bytes.length - offsetOf(1), reason: 'repair: checksum mismatch' },
    ]);
    expect(fs.statSync(file).size).toBe(offsetOf(1));
  });

  it('refuses damage at the end of a segment when a later segment holds records', () => {
    const dir = tempDir();
    const prefix = encodeAll(HISTORY);
    writeSegment(dir, 1, Buffer.concat([prefix, encodeAll([LAST]).subarray(0, 10)]));
    writeSegment(dir, 2, encodeAll([set('later', 'x')]));
    const error = expectCorruptAt(() => recovered(dir), segmentName(1), prefix.length);
    expect(error.message).toContain('later segments hold records');
  });

  it('with repair, removes the later segments too and reports them dropped', () => {
    const dir = tempDir();
    const prefix = encodeAll(HISTORY);
    const later = encodeAll([set('later', 'x')]);
    writeSegment(dir, 1, Buffer.concat([prefix, Buffer.from('garbage!!!!!!!!')]));
    writeSegment(dir, 2, later);
    const { state, report } = recovered(dir, { repair: true });
    expect(state).toEqual(stateAfter(HISTORY));
    expect(report.dropped).toEqual([
      { file: segmentName(1), offset: prefix.length, bytes: 15, reason: expect.stringMatching(/^repair: /) },
      { file: segmentName(2), offset: 0, bytes: later.length, reason: `repair: the whole segment, after damage in ${segmentName(1)}` },
    ]);
    expect(filesIn(dir)).toEqual([segmentName(1)]);
  });

  it('refuses a gap in the segment numbers, repair or not', () => {
    const dir = tempDir();
    writeSegment(dir, 1, encodeAll([set('a', '1')]));
    writeSegment(dir, 3, encodeAll([set('b', '2')]));
    expect(() => recovered(dir, { repair: true })).toThrow(MissingSegmentError);
    expect(() => recovered(dir)).toThrow(`${segmentName(2)} is missing`);
  });

  it('refuses an END record inside a segment', () => {
    const dir = tempDir();
    const before = encodeAll([set('a', '1')]);
    writeSegment(dir, 1, Buffer.concat([before, encodeEnd(1), encodeAll([set('b', '2')])]));
    expectCorruptAt(() => recovered(dir), segmentName(1), before.length);
  });
});

describe('recovery of snapshots and compaction leftovers', () => {
  const snapshot = Buffer.concat([encodeSet('a', '1'), encodeSet('b', '2'), encodeEnd(2)]);

  it('removes and lists older snapshots, folded segments and unfinished .tmp snapshots', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, snapshotName(1)), encodeEnd(0));
    writeSegment(dir, 1, encodeAll([set('a', 'old')]));
    writeSegment(dir, 2, encodeAll([set('b', 'old')]));
    fs.writeFileSync(path.join(dir, snapshotName(3)), snapshot);
    writeSegment(dir, 3, encodeAll([set('c', '3')]));
    fs.writeFileSync(path.join(dir, `${snapshotName(4)}.tmp`), 'half a snap');
    const { state, report } = recovered(dir);
    expect(state).toEqual({ a: '1', b: '2', c: '3' });
    expect(report.removed.sort()).toEqual([snapshotName(1), `${snapshotName(4)}.tmp`, segmentName(1), segmentName(2)].sort());
    expect(filesIn(dir)).toEqual([snapshotName(3), segmentName(3)]);
  });

  it('refuses a damaged snapshot, even with repair: a snapshot is never torn, only damaged', () => {
    for (const damage of [(b: Buffer) => (b[20] ^= 1), (b: Buffer) => b.fill(0, b.length - 3)]) {
      const dir = tempDir();
      const bytes = Buffer.from(snapshot);
      damage(bytes);
      fs.writeFileSync(path.join(dir, snapshotName(2)), bytes);
      expect(() => recovered(dir, { repair: true })).toThrow(/snapshot.*bad record at offset \d+.*cannot be repaired/);
    }
  });

  it('refuses a snapshot without its END record, or with a count that does not match', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, snapshotName(2)), encodeSet('a', '1'));
    expect(() => recovered(dir)).toThrow(/END record is missing/);
    fs.writeFileSync(path.join(dir, snapshotName(2)), Buffer.concat([encodeSet('a', '1'), encodeEnd(5)]));
    expect(() => recovered(dir)).toThrow(/counts 5 records, the file has 1/);
  });
});
