// Durability as the models see it: each thread that executes commands gets a
// RuntimeLog (protocol/execute.ts), which says where its writes go and how it
// waits for them to be durable.
//
// The main thread owns the log (store/durability/durability.ts): it opened
// it, it syncs it once a second under `everysec`, and it runs every
// compaction. Its RuntimeLog uses the owner's own log. A worker thread is
// posted plain data (the log's handle, what start-up recovered, and a few
// shared cells), attaches to the same log by its shared memory, and hooks it
// into its store, so every write it makes is appended inside the store's
// lock (store.ts).
//
// Why a worker's `COMPACT` is carried out by the main thread rather than by
// the worker: a compaction opens the next segment's file, and Node closes
// the files a worker thread opened when that thread exits, so a log file
// opened by a per-connection thread would die with its connection. And a
// thread that exits mid-compaction would leave the log's "compacting" flag
// set for good. So the worker bumps a request count in shared memory and
// blocks until the main thread, woken by Atomics.waitAsync, reports that a
// compaction covering its request has ended, and how.

import type { ModelContext } from './models/model.js';
import type { RuntimeLog } from './protocol/execute.js';
import type { SharedCounters } from './stats.js';
import { CompactionBusyError } from './store/durability/compaction.js';
import type { Durability } from './store/durability/durability.js';
import { waitForChange, WalHandle, WriteAheadLog } from './store/durability/wal.js';
import type { SharedStore } from './store/store.js';

/** What start-up recovery did, as STATS shows it. */
export interface RecoverySummary {
  records: number;
  bytes: number;
  durationMs: number;
  droppedBytes: number;
}

/** What a worker thread needs to attach to the log: plain data, for workerData. */
export interface PersistenceData {
  handle: WalHandle;
  /** The cells of the compaction requests (see above). */
  requests: SharedArrayBuffer;
  recovery: RecoverySummary;
  testHooks: boolean;
}

/** The data to post to worker threads, or undefined for a server without a data directory. */
export function persistenceData(context: ModelContext): PersistenceData | undefined {
  const { durability } = context;
  if (!durability) return undefined;
  const { records, bytes, durationMs, dropped } = durability.recovery;
  return {
    handle: durability.handle,
    requests: requestCells(durability).buffer as SharedArrayBuffer,
    recovery: { records, bytes, durationMs, droppedBytes: dropped.reduce((sum, cut) => sum + cut.bytes, 0) },
    testHooks: context.config.testHooks,
  };
}

/** The main thread's log, waiting as `wait` says (an event loop must say 'async'). */
export function mainThreadLog(context: ModelContext, wait: RuntimeLog['wait']): RuntimeLog | undefined {
  const { durability } = context;
  const data = persistenceData(context);
  if (!durability || !data) return undefined;
  return hookedLog(
    context.store,
    context.counters,
    durability.wal,
    data,
    wait,
    () => durability.compactNow(),
    () => ownerDetails(durability),
  );
}

/** A worker thread's log, attached by its handle; worker threads may block, so they wait in `commit`. */
export function workerLog(store: SharedStore, counters: SharedCounters, data: PersistenceData | undefined): RuntimeLog | undefined {
  if (!data) return undefined;
  const wal = WriteAheadLog.attach(data.handle);
  const cells = new Int32Array(data.requests);
  return hookedLog(
    store,
    counters,
    wal,
    data,
    'block',
    () => requestCompaction(cells),
    () => ({}),
  );
}

// --- compaction on behalf of worker threads ---

const C_REQUESTED = 0;
const C_SERVED = 1;
const C_OUTCOME = 2;
const DONE = 0;
const BUSY = 1;
const FAILED = 2;

const cellsOf = new WeakMap<Durability, Int32Array>();

function requestCells(durability: Durability): Int32Array {
  let cells = cellsOf.get(durability);
  if (!cells) {
    cells = new Int32Array(new SharedArrayBuffer(3 * 4));
    cellsOf.set(durability, cells);
  }
  return cells;
}

/**
 * On the main thread: carries out the compactions worker threads ask for,
 * one at a time, until `stop`. Each compaction answers every request made
 * before it began. (Simplification, named: a thread that reads its outcome
 * late may read the next compaction's.)
 */
export function serveCompactionRequests(durability: Durability): { stop(): void } {
  const cells = requestCells(durability);
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const requested = Atomics.load(cells, C_REQUESTED);
      if (requested === Atomics.load(cells, C_SERVED)) {
        await waitForChange(cells, C_REQUESTED, requested, 1000);
        continue;
      }
      const outcome = await durability.compactNow().then(
        () => DONE,
        (error: unknown) => {
          if (error instanceof CompactionBusyError) return BUSY;
          console.error('a compaction asked for by COMPACT failed:', error);
          return FAILED;
        },
      );
      Atomics.store(cells, C_OUTCOME, outcome);
      Atomics.store(cells, C_SERVED, requested);
      Atomics.notify(cells, C_SERVED);
    }
  })();
  return {
    stop() {
      stopped = true;
    },
  };
}

/** On a worker thread: asks the main thread to compact, and blocks until it has. */
function requestCompaction(cells: Int32Array): Promise<unknown> {
  const ticket = Atomics.add(cells, C_REQUESTED, 1) + 1;
  Atomics.notify(cells, C_REQUESTED);
  for (;;) {
    const served = Atomics.load(cells, C_SERVED);
    if (served - ticket >= 0) break;
    Atomics.wait(cells, C_SERVED, served, 1000);
  }
  const outcome = Atomics.load(cells, C_OUTCOME);
  if (outcome === BUSY) return Promise.reject(new CompactionBusyError());
  if (outcome === FAILED) return Promise.reject(new Error('the compaction failed; see the server log'));
  return Promise.resolve();
}

function hookedLog(
  store: SharedStore,
  counters: SharedCounters,
  wal: WriteAheadLog,
  data: PersistenceData,
  wait: RuntimeLog['wait'],
  compact: () => Promise<unknown>,
  details: () => Record<string, unknown>,
): RuntimeLog {
  store.writeLog = wal;
  return { wal, wait, compact, stats: () => ({ ...durabilitySection(wal, store, data, counters), ...details() }) };
}

/** The `durability` section of STATS: the same figures from any thread, since they live in shared memory. */
function durabilitySection(wal: WriteAheadLog, store: SharedStore, data: PersistenceData, counters: SharedCounters): Record<string, unknown> {
  const s = wal.stats();
  return {
    dataDir: data.handle.dir,
    fsync: s.fsyncPolicy,
    segment: s.segment,
    logBytes: s.logBytes,
    liveBytes: store.usage().liveBytes,
    recordsWritten: s.records,
    bytesWritten: s.bytes,
    fsyncs: s.fsyncs,
    meanGroupSize: s.meanGroupSize,
    maxGroupSize: s.maxGroupSize,
    compactions: s.compactions,
    recovery: data.recovery,
    // The promise check (protocol/execute.ts), and the log's own count of the same at `commit`.
    ...(data.testHooks
      ? { acks: counters.get('acks'), acksNotDurable: counters.get('acksNotDurable'), logAcks: s.acks, logAcksNotDurable: s.acksNotDurable }
      : {}),
  };
}

/** What only the owner knows: whether its compaction runs, and the latest background failure. */
function ownerDetails(durability: Durability): Record<string, unknown> {
  const { compacting, lastCompaction, lastError } = durability.stats();
  return { compacting, lastCompaction, lastError };
}
