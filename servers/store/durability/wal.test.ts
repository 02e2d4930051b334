// Specification of the write-ahead log on one thread: what is appended is
// what recovery reads back, in order; each fsync policy syncs when it says it
// does and no more; asynchronous waiters share fsyncs (group commit); a
// rotation closes a segment whole; and the log refuses what it could not
// honour: records over the maximum, writes after close, and a blocking wait
// on a thread that is itself leading an asynchronous fsync.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { segmentName } from './files.js';
import { encodeSet, RecordTooLargeError } from './record.js';
import { del, recoveredState, set, stateAfter, temporaryDirectories } from './test-support/data-dirs.js';
import { FsyncPolicy, LogUnavailableError, WriteAheadLog } from './wal.js';

const tempDir = temporaryDirectories();

function openLog(fsync: FsyncPolicy, options: { maxRecordBytes?: number } = {}) {
  const dir = tempDir();
  return { dir, wal: WriteAheadLog.create({ dir, segment: 1, fsync, ...options }) };
}

describe('appending', () => {
  it('numbers records 1, 2, 3, … and recovery reads them back in that order', () => {
    const { dir, wal } = openLog('no');
    expect([wal.appendSet('a', '1'), wal.appendSet('b', '\x00\xff'), wal.appendDelete('a'), wal.appendSet('b', '3')]).toEqual([1, 2, 3, 4]);
    wal.close();
    expect(recoveredState(dir)).toEqual(stateAfter([set('a', '1'), set('b', '\x00\xff'), del('a'), set('b', '3')]));
  });

  it('puts each record in the page cache at once: a reader sees it before any fsync', () => {
    const { dir, wal } = openLog('no');
    wal.appendSet('k', 'v');
    expect(recoveredState(dir)).toEqual({ k: 'v' });
    expect(wal.stats().fsyncs).toBe(0);
    wal.close();
  });

  it('counts records and bytes appended', () => {
    const { wal } = openLog('no');
    wal.appendSet('key', 'value');
    wal.appendDelete('key');
    expect(wal.stats()).toMatchObject({ records: 2, bytes: 21 + 16, logBytes: 37, writtenSeq: 2 });
    wal.close();
  });

  it('refuses a record over the maximum size and writes nothing', () => {
    const { dir, wal } = openLog('no', { maxRecordBytes: 100 });
    expect(() => wal.appendSet('k', 'x'.repeat(100))).toThrow(RecordTooLargeError);
    expect(fs.statSync(path.join(dir, segmentName(1))).size).toBe(0);
    wal.close();
  });

  it('refuses to create a segment file that already exists', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, segmentName(1)), 'someone else');
    expect(() => WriteAheadLog.create({ dir, segment: 1, fsync: 'always' })).toThrow(/EEXIST/);
  });

  it('refuses appends after close, and close has made everything durable', () => {
    const { wal } = openLog('no');
    const seq = wal.appendSet('a', '1');
    wal.close();
    expect(wal.isDurable(seq)).toBe(true);
    expect(() => wal.appendSet('b', '2')).toThrow(LogUnavailableError);
  });
});

describe('fsync policies', () => {
  it('always: commit returns only once the record is durable, so no ack is ahead of an fsync', () => {
    const { wal } = openLog('always');
    for (let i = 0; i < 5; i++) {
      const seq = wal.appendSet('k', String(i));
      wal.commit(seq);
      expect(wal.isDurable(seq)).toBe(true);
    }
    expect(wal.stats()).toMatchObject({ fsyncs: 5, acks: 5, acksNotDurable: 0, durableSeq: 5 });
    wal.close();
  });

  it('everysec: commit does not wait, and counts each ack made before its record was durable', () => {
    const { wal } = openLog('everysec');
    for (let i = 0; i < 5; i++) wal.commit(wal.appendSet('k', String(i)));
    expect(wal.stats()).toMatchObject({ fsyncs: 0, acks: 5, acksNotDurable: 5, durableSeq: 0 });
    wal.syncNow();
    expect(wal.stats()).toMatchObject({ fsyncs: 1, durableSeq: 5, maxGroupSize: 5 });
    wal.close();
  });

  it('no: never fsyncs on its own, only at close', () => {
    const { wal } = openLog('no');
    for (let i = 0; i < 5; i++) wal.commit(wal.appendSet('k', String(i)));
    expect(wal.commitAsync(wal.appendSet('k', 'async'))).toBeUndefined();
    expect(wal.stats().fsyncs).toBe(0);
    wal.close();
    expect(wal.stats().fsyncs).toBe(1);
  });

  it('always, asynchronously: commitAsync resolves after the fsync that covers the record', async () => {
    const { wal } = openLog('always');
    const seq = wal.appendSet('k', 'v');
    const waiting = wal.commitAsync(seq);
    expect(waiting).toBeInstanceOf(Promise);
    expect(wal.isDurable(seq)).toBe(false);
    await waiting;
    expect(wal.isDurable(seq)).toBe(true);
    expect(wal.stats()).toMatchObject({ acks: 1, acksNotDurable: 0 });
    await wal.closeAsync();
  });

  it('a sync with nothing new written does not call fsync', () => {
    const { wal } = openLog('always');
    wal.commit(wal.appendSet('k', 'v'));
    wal.syncNow();
    wal.syncNow();
    expect(wal.stats().fsyncs).toBe(1);
    wal.close();
  });
});

describe('group commit on one thread', () => {
  it('covers a hundred waiting writes with two fsyncs at most: one in flight, one for everyone who came during it', async () => {
    const { wal } = openLog('always');
    const commits: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) commits.push(wal.commitAsync(wal.appendSet(`k${i}`, 'v')) ?? Promise.resolve());
    await Promise.all(commits);
    const stats = wal.stats();
    expect(stats.fsyncs).toBeLessThanOrEqual(2);
    expect(stats).toMatchObject({ acks: 100, acksNotDurable: 0, durableSeq: 100 });
    expect(stats.meanGroupSize).toBeGreaterThanOrEqual(50);
    await wal.closeAsync();
  });

  it('lets writes that arrive while an fsync is in flight join the next one', async () => {
    const { wal } = openLog('always');
    const first = wal.waitDurableAsync(wal.appendSet('first', '1'));
    // The first fsync is now in flight; these three arrive during it.
    const during = [wal.appendSet('a', '1'), wal.appendSet('b', '2'), wal.appendSet('c', '3')].map((seq) => wal.waitDurableAsync(seq));
    await Promise.all([first, ...during]);
    expect(wal.stats()).toMatchObject({ fsyncs: 2, maxGroupSize: 3, meanGroupSize: 2 });
    await wal.closeAsync();
  });

  it('refuses a blocking wait on a thread that is leading an asynchronous fsync, rather than wait on itself', async () => {
    const { wal } = openLog('always');
    const leading = wal.waitDurableAsync(wal.appendSet('a', '1'));
    const later = wal.appendSet('b', '2');
    expect(() => wal.waitDurable(later)).toThrow(/would wait on itself/);
    await leading;
    wal.waitDurable(later);
    wal.close();
  });
});

describe('rotation', () => {
  it('closes the current segment durable and whole, and appends to the next one from then on', () => {
    const { dir, wal } = openLog('no');
    wal.appendSet('a', '1');
    wal.appendSet('b', '2');
    const rotation = wal.rotate();
    expect(rotation).toMatchObject({ closedSegment: 1, openedSegment: 2, boundarySeq: 2 });
    expect(wal.isDurable(2)).toBe(true);
    wal.appendSet('a', 'after');
    wal.close();
    expect(fs.readFileSync(path.join(dir, segmentName(1)))).toEqual(Buffer.concat([encodeSet('a', '1'), encodeSet('b', '2')]));
    expect(fs.readFileSync(path.join(dir, segmentName(2)))).toEqual(encodeSet('a', 'after'));
    expect(recoveredState(dir)).toEqual({ a: 'after', b: '2' });
  });

  it('rotates without blocking the caller, from an async function', async () => {
    const { dir, wal } = openLog('always');
    wal.appendSet('a', '1');
    const rotation = await wal.rotateAsync();
    expect(rotation.openedSegment).toBe(2);
    wal.commit(wal.appendSet('b', '2'));
    await wal.closeAsync();
    expect(recoveredState(dir)).toEqual({ a: '1', b: '2' });
  });
});

describe('attaching', () => {
  it('lets a second handle on the same shared state append to the same file, in one sequence', () => {
    const { dir, wal } = openLog('always');
    const other = WriteAheadLog.attach(wal.handle);
    expect([wal.appendSet('a', '1'), other.appendSet('b', '2'), wal.appendDelete('a')]).toEqual([1, 2, 3]);
    other.commit(3);
    expect(wal.isDurable(3)).toBe(true);
    wal.close();
    expect(recoveredState(dir)).toEqual({ b: '2' });
  });
});
