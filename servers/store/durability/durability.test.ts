// Specification of durability as a server turns it on: a directory is
// claimed, recovered and logged to; what was written comes back after a
// restart; a second server is refused; `everysec` syncs on its tick without
// anyone waiting; the compaction policy compacts on its own; and a start that
// fails leaves the directory free and unchanged.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirectoryLockedError } from './dir-lock.js';
import { Durability, DurabilityOptions, openDurability, parseFsyncPolicy } from './durability.js';
import { LOCK_FILE, segmentName } from './files.js';
import { encodeSet } from './record.js';
import { CorruptLogError } from './recovery.js';
import { MapStore, temporaryDirectories, writeSegment } from './test-support/data-dirs.js';
import { compiledModule } from './test-support/threads.js';

const tempDir = temporaryDirectories();

function open(dir: string, options: Partial<DurabilityOptions> = {}): { durability: Durability; store: MapStore } {
  const store = new MapStore();
  return { store, durability: openDurability({ dir, fsync: 'always', store, compaction: false, ...options }) };
}

async function eventually(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('durability for a server', () => {
  it('brings back after a restart everything written before it, and starts a new segment', async () => {
    const dir = path.join(tempDir(), 'not-yet-there');
    const first = open(dir);
    first.durability.wal.commit(first.durability.wal.appendSet('a', '1'));
    first.durability.wal.commit(first.durability.wal.appendSet('b', '2'));
    first.durability.wal.commit(first.durability.wal.appendDelete('a'));
    await first.durability.close();

    const second = open(dir);
    expect(second.store.toObject()).toEqual({ b: '2' });
    expect(second.durability.recovery).toMatchObject({ records: 3, dropped: [], nextSegment: 2 });
    expect(second.durability.stats()).toMatchObject({ segment: 2, dataDir: dir, fsyncPolicy: 'always' });
    await second.durability.close();
  });

  it('refuses a second server on the same directory while the first runs, and lets it in once the first has closed', async () => {
    const dir = tempDir();
    const first = open(dir);
    expect(() => open(dir)).toThrow(DataDirectoryLockedError);
    await first.durability.close();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    await open(dir).durability.close();
  });

  it('under everysec, syncs on its tick without anyone waiting', async () => {
    const { durability } = open(tempDir(), { fsync: 'everysec', tickMs: 20 });
    const seq = durability.wal.appendSet('k', 'v');
    durability.wal.commit(seq);
    expect(durability.wal.isDurable(seq)).toBe(false);
    await eventually(() => durability.wal.isDurable(seq));
    expect(durability.stats().fsyncs).toBeGreaterThanOrEqual(1);
    await durability.close();
  });

  it('under no, never syncs on its tick', async () => {
    const { durability } = open(tempDir(), { fsync: 'no', tickMs: 10 });
    durability.wal.appendSet('k', 'v');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(durability.stats().fsyncs).toBe(0);
    await durability.close();
  });

  it('compacts on its own once the log passes the policy, in a worker, and the data survives a restart', async () => {
    const dir = tempDir();
    const options = {
      tickMs: 10,
      fsync: 'no' as const,
      compaction: { ratio: 2, minBytes: 2000 },
      snapshotWorkerUrl: compiledModule('snapshot-worker.js'),
    };
    const { durability, store } = open(dir, options);
    for (let i = 0; i < 500; i++) {
      durability.wal.appendSet(`k${i % 5}`, String(i));
      store.set(`k${i % 5}`, String(i));
    }
    await eventually(() => durability.stats().compactions === 1);
    expect(durability.stats().lastCompaction).toMatchObject({ keys: 5 });
    expect(durability.stats().logBytes).toBeLessThan(2000);
    await durability.close();
    expect(open(dir, options).store.toObject()).toEqual(store.toObject());
  });

  it('compacts on request, and refuses a second request while one runs', async () => {
    const { durability } = open(tempDir(), { snapshotWorkerUrl: compiledModule('snapshot-worker.js') });
    durability.wal.appendSet('k', 'v');
    const running = durability.compactNow();
    await expect(durability.compactNow()).rejects.toThrow('a compaction is already running');
    expect((await running).keys).toBe(1);
    await durability.close();
  });

  it('releases the directory and changes no file when recovery refuses to start', async () => {
    const dir = tempDir();
    const damaged = Buffer.concat([encodeSet('a', '1'), encodeSet('b', '2')]);
    damaged[13] ^= 1; // the first record's key: the second record, intact, follows it
    writeSegment(dir, 1, damaged);
    expect(() => open(dir)).toThrow(CorruptLogError);
    expect(fs.readdirSync(dir)).toEqual([segmentName(1)]);
    const repaired = open(dir, { repair: true });
    expect(repaired.durability.recovery.dropped).toHaveLength(1);
    await repaired.durability.close();
  });

  it('reads the --fsync values, and refuses any other', () => {
    expect(['always', 'everysec', 'no'].map(parseFsyncPolicy)).toEqual(['always', 'everysec', 'no']);
    expect(() => parseFsyncPolicy('sometimes')).toThrow('--fsync must be one of always, everysec, no, got "sometimes"');
  });
});
