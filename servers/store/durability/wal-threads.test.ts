// Specification of the log under real worker threads, as the per-connection
// and pool models will use it: under `always`, concurrent writers share
// fsyncs (fewer fsyncs than records) and every acknowledgement is covered by
// a completed fsync; and compaction, blocking or in the background, runs
// while writers keep writing and loses none of their writes.
//
// Threads import the compiled modules from dist/ (see test-support/threads.ts).

import { describe, expect, it } from 'vitest';
import { compact, compactInBackground, CompactionReport } from './compaction.js';
import { MapStore, recoveredState, temporaryDirectories } from './test-support/data-dirs.js';
import { compiledModule, onThreads } from './test-support/threads.js';
import { WriteAheadLog } from './wal.js';

const tempDir = temporaryDirectories();

/** Each thread writes its own keys, and returns the state its writes leave, to compare with recovery. */
const WRITER = `(wal, input) => {
  const expected = {};
  let ackedBeforeDurable = 0;
  for (let i = 0; i < input.count; i++) {
    const key = 't' + input.thread + ':' + (i % input.keys);
    let seq;
    if (i % 7 === 6) {
      seq = wal.appendDelete(key);
      delete expected[key];
    } else {
      seq = wal.appendSet(key, String(i));
      expected[key] = String(i);
    }
    wal.commit(seq);
    if (!wal.isDurable(seq)) ackedBeforeDurable++;
  }
  return { expected, ackedBeforeDurable };
}`;

type WriterResult = { expected: Record<string, string>; ackedBeforeDurable: number };

function mergedExpectations(results: WriterResult[]): Record<string, string> {
  const store = new MapStore();
  for (const { expected } of results) for (const [key, value] of Object.entries(expected)) store.set(key, value);
  return store.toObject();
}

/**
 * Starts one WRITER thread per input on a fresh `always` log, lets them go at
 * once, runs `meanwhile` on this thread until they are done, then closes the
 * log and returns their results with what recovery rebuilds.
 */
async function withWriters<M>(inputs: object[], meanwhile: (wal: WriteAheadLog, writing: () => boolean) => Promise<M>) {
  const dir = tempDir();
  const wal = WriteAheadLog.create({ dir, segment: 1, fsync: 'always' });
  const threads = onThreads<WriterResult>(wal.handle, WRITER, inputs);
  try {
    await threads.ready;
    threads.start();
    let writing = true;
    void threads.results.finally(() => (writing = false));
    const during = await meanwhile(wal, () => writing);
    const results = await threads.results;
    const stats = wal.stats();
    wal.close();
    return { results, stats, during, recovered: recoveredState(dir), expected: mergedExpectations(results) };
  } finally {
    await threads.stop();
  }
}

describe('the log under worker threads', () => {
  it('under always, four threads writing at once share fsyncs, and every ack was covered by a completed fsync', async () => {
    const inputs = [0, 1, 2, 3].map((thread) => ({ thread, count: 300, keys: 1000 }));
    const { results, stats, recovered, expected } = await withWriters(inputs, async () => {});
    expect(stats.records).toBe(1200);
    expect(stats.fsyncs).toBeLessThan(stats.records);
    expect(stats.maxGroupSize).toBeGreaterThan(1);
    expect(stats.acks).toBe(1200);
    expect(stats.acksNotDurable).toBe(0);
    expect(results.map((result) => result.ackedBeforeDurable)).toEqual([0, 0, 0, 0]);
    expect(recovered).toEqual(expected);
  });

  it('loses no write when the main thread compacts again and again while three threads keep writing', async () => {
    const inputs = [0, 1, 2].map((thread) => ({ thread, count: 3000, keys: 40 }));
    const {
      stats,
      during: compactions,
      recovered,
      expected,
    } = await withWriters(inputs, async (wal, writing) => {
      const compactions: { report: CompactionReport; writtenAfter: number }[] = [];
      while (writing() || compactions.length < 3) {
        const report = compact(wal);
        compactions.push({ report, writtenAfter: wal.writtenSeq });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return compactions;
    });
    // Writes went on during a compaction: records arrived after its cut, before it returned.
    expect(compactions.some(({ report, writtenAfter }) => writtenAfter > report.rotation.boundarySeq)).toBe(true);
    expect(stats.acksNotDurable).toBe(0);
    expect(recovered).toEqual(expected);
  });

  it('loses no write when a compaction runs in a worker while this thread keeps writing', async () => {
    const dir = tempDir();
    const wal = WriteAheadLog.create({ dir, segment: 1, fsync: 'everysec' });
    const expected = new MapStore();
    const write = (i: number) => {
      const key = `k${i % 50}`;
      wal.appendSet(key, String(i));
      expected.set(key, String(i));
    };
    for (let i = 0; i < 5000; i++) write(i);
    let finished = false;
    const compaction = compactInBackground(wal, { workerUrl: compiledModule('snapshot-worker.js') }).finally(() => (finished = true));
    let during = 0;
    while (!finished) {
      write(5000 + during++);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const report = await compaction;
    expect(during).toBeGreaterThan(0);
    expect(report.keys).toBe(50);
    expect(wal.stats()).toMatchObject({ compactions: 1 });
    await wal.closeAsync();
    expect(recoveredState(dir)).toEqual(expected.toObject());
  });
});
