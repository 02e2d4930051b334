// Specification of compaction: it replaces the folded log with a snapshot of
// the same data; writes made between any two of its steps survive it; a crash
// at any step leaves either the old files or the new ones, each of which
// recovers to the same data; a compaction that fails part-way leaves the log
// working; and the policy says when a log is worth compacting.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compact, compactInBackground, COMPACTION_STEPS, CompactionBusyError, compactionDue, CompactionStep, writeSnapshot } from './compaction.js';
import { segmentName, snapshotName } from './files.js';
import { copyDirectory, filesIn, MapStore, recoveredState, temporaryDirectories } from './test-support/data-dirs.js';
import { WriteAheadLog } from './wal.js';

const tempDir = temporaryDirectories();

/** A log with some history: 30 keys overwritten many times, a few deleted. */
function logWithHistory(fsync: 'always' | 'no' = 'no') {
  const dir = tempDir();
  const wal = WriteAheadLog.create({ dir, segment: 1, fsync });
  const expected = new MapStore();
  const write = (key: string, value: string | null) => {
    if (value === null) {
      wal.appendDelete(key);
      expected.delete(key);
    } else {
      wal.appendSet(key, value);
      expected.set(key, value);
    }
  };
  for (let i = 0; i < 600; i++) write(`key${i % 30}`, i % 11 === 0 ? null : `value ${i} \x00\xff`);
  return { dir, wal, expected, write };
}

describe('compaction', () => {
  it('replaces the closed segments with one snapshot of the same data, and the log keeps appending after it', () => {
    const { dir, wal, expected, write } = logWithHistory();
    const before = wal.logBytes;
    const report = compact(wal);
    expect(report).toMatchObject({
      snapshot: snapshotName(2),
      keys: Object.keys(expected.toObject()).length,
      folded: [segmentName(1)],
      foldedBytes: before,
    });
    expect(filesIn(dir)).toEqual([snapshotName(2), segmentName(2)]);
    expect(wal.logBytes).toBe(0);
    expect(wal.stats().compactions).toBe(1);
    write('after', 'compaction');
    wal.close();
    expect(recoveredState(dir)).toEqual(expected.toObject());
  });

  it('folds the previous snapshot too, so compacting twice leaves one snapshot', () => {
    const { dir, wal, expected, write } = logWithHistory();
    compact(wal);
    write('key1', 'newer');
    write('key2', null);
    compact(wal);
    expect(filesIn(dir)).toEqual([snapshotName(3), segmentName(3)]);
    wal.close();
    expect(recoveredState(dir)).toEqual(expected.toObject());
  });

  it('loses no write made between any two of its steps', () => {
    const { dir, wal, expected, write } = logWithHistory();
    let n = 0;
    compact(wal, { onStep: (step) => write(`during-${step}`, String(n++)) });
    // Every step once: 'old-file-removed' comes once per folded file, and there is one here.
    expect(n).toBe(COMPACTION_STEPS.length);
    wal.close();
    expect(recoveredState(dir)).toEqual(expected.toObject());
  });

  it('refuses a second compaction while one is running', async () => {
    const { wal, dir, expected } = logWithHistory();
    const running = compactInBackground(wal, { workerUrl: new URL('file:///nonexistent/snapshot-worker.js') });
    expect(() => compact(wal)).toThrow(CompactionBusyError);
    await expect(running).rejects.toThrow();
    // The failed one released its claim, and changed nothing a recovery cannot read.
    expect(() => compact(wal)).not.toThrow();
    wal.close();
    expect(recoveredState(dir)).toEqual(expected.toObject());
  });
});

describe('compaction and crashes', () => {
  /** The files, by kind: which snapshot is the newest, and whether older files are still there. */
  function layout(dir: string) {
    const names = filesIn(dir);
    return {
      snapshots: names.filter((name) => name.endsWith('.snap')),
      temporaries: names.filter((name) => name.endsWith('.tmp')),
      segments: names.filter((name) => name.endsWith('.log')),
    };
  }

  it('leaves, after a crash at any step, the old files or the new ones, each recovering to the same data', () => {
    const { dir, wal, expected } = logWithHistory();
    compact(wal); // so that there is an old snapshot to replace, too
    for (let i = 0; i < 50; i++) {
      wal.appendSet(`key${i % 30}`, `second round ${i}`);
      expected.set(`key${i % 30}`, `second round ${i}`);
    }
    const images = tempDir();
    const crashAt: string[] = [];
    copyDirectory(dir, path.join(images, '0-before'));
    crashAt.push('0-before');
    compact(wal, {
      onStep: (step) => {
        const name = `${crashAt.length}-${step}`;
        copyDirectory(dir, path.join(images, name));
        crashAt.push(name);
      },
    });
    wal.close();
    expect(crashAt.map((name) => name.replace(/^\d+-/, ''))).toEqual([
      'before',
      'rotated',
      'snapshot-written',
      'snapshot-synced',
      'snapshot-renamed',
      'directory-synced',
      'old-file-removed',
      'old-file-removed',
      'old-files-removed',
    ]);

    for (const name of crashAt) {
      const image = path.join(images, name);
      const files = layout(image);
      // A .tmp is never read: make it garbage, as a crash before its fsync may leave it.
      for (const temporary of files.temporaries) fs.writeFileSync(path.join(image, temporary), 'torn');
      const isNewState = files.snapshots.includes(snapshotName(3));
      const isOldState = !isNewState && files.snapshots.join() === snapshotName(2) && files.segments.includes(segmentName(2));
      expect(isNewState || isOldState, `${name}: ${filesIn(image).join(' ')}`).toBe(true);
      expect(recoveredState(image), name).toEqual(expected.toObject());
      const after = layout(image);
      expect(after.temporaries, name).toEqual([]);
      expect(after.snapshots, name).toEqual(isNewState ? [snapshotName(3)] : [snapshotName(2)]);
    }
  });

  it('leaves a working log and a recoverable directory when a compaction fails at any step', () => {
    for (const failing of COMPACTION_STEPS) {
      const { dir, wal, expected, write } = logWithHistory();
      const failAt = (step: CompactionStep) => {
        if (step === failing) throw new Error(`failure injected at ${step}`);
      };
      expect(() => compact(wal, { onStep: failAt }), failing).toThrow(`failure injected at ${failing}`);
      write('after the failure', failing);
      expect(() => compact(wal), `a later compaction after ${failing}`).not.toThrow();
      write('after the retry', failing);
      wal.close();
      expect(recoveredState(dir), failing).toEqual(expected.toObject());
    }
  });

  it('refuses to fold a closed segment that is damaged, and changes nothing', () => {
    const { dir, wal } = logWithHistory();
    wal.rotate();
    const segment = path.join(dir, segmentName(1));
    const bytes = fs.readFileSync(segment);
    bytes[100] ^= 0xff;
    fs.writeFileSync(segment, bytes);
    const filesBefore = filesIn(dir);
    expect(() => writeSnapshot(dir, 2)).toThrow(/wal-0000000001\.log: bad record at offset \d+ .*compaction stopped and changed nothing/);
    expect(filesIn(dir)).toEqual(filesBefore);
    wal.close();
  });
});

describe('the compaction policy', () => {
  const policy = { ratio: 2, minBytes: 1000 };

  it('compacts a log past twice the live data and past the minimum size', () => {
    expect(compactionDue(5000, 2000, policy)).toBe(true);
  });

  it('leaves a log at or under twice the live data', () => {
    expect(compactionDue(4000, 2000, policy)).toBe(false);
  });

  it('leaves a log under the minimum size however much of it is garbage', () => {
    expect(compactionDue(999, 0, policy)).toBe(false);
  });
});
