// Durability for one server, put together: what `--data-dir` and `--fsync`
// turn on.
//
// At start-up, on the main thread: claim the directory (dir-lock.ts), rebuild
// the store from it (recovery.ts), and open a new log segment after the last
// one (wal.ts). While the server runs, the main thread is the owner: once a
// tick (a second) it syncs the log under `everysec`, and checks whether the
// log has grown enough to compact (compaction.ts), which then runs in a
// worker thread. Every other thread only attaches to the log by its handle,
// appends, and waits for durability when the policy says so.
//
// Simplification, named: the tick is a timer on the owner's event loop. On
// the blocking model that loop is the thread that runs requests, so a long
// `SLEEP` or `WORK` delays the `everysec` sync by as long (the log is still
// written; only the fsync waits). A dedicated syncing thread would not be
// delayed; a timer keeps the moving parts to the ones the lab already has.

import fs from 'node:fs';
import {
  CompactionBusyError,
  compactInBackground,
  CompactionPolicy,
  compactionDue,
  CompactionReport,
  DEFAULT_COMPACTION_POLICY,
} from './compaction.js';
import { DirectoryLock, lockDataDirectory } from './dir-lock.js';
import { recover, RecoveryReport, RecoveryTarget } from './recovery.js';
import { FSYNC_POLICIES, FsyncPolicy, WalHandle, WalStats, WriteAheadLog } from './wal.js';

export const DEFAULT_FSYNC_POLICY: FsyncPolicy = 'everysec';

export interface DurabilityOptions {
  dir: string;
  fsync: FsyncPolicy;
  /** The store to rebuild, and to measure live data against for the compaction policy. */
  store: RecoveryTarget & { usage(): { liveBytes: number } };
  /** Cut the log at damage in its middle instead of refusing to start (recovery.ts). */
  repair?: boolean;
  /** When to compact on its own; false: only when asked. */
  compaction?: CompactionPolicy | false;
  maxRecordBytes?: number;
  /** How often the owner syncs (under everysec) and checks the compaction policy. */
  tickMs?: number;
  /** The compiled snapshot-worker.js, when not beside this file. */
  snapshotWorkerUrl?: URL;
}

export interface DurabilityStats extends WalStats {
  dataDir: string;
  compacting: boolean;
  lastCompaction: { snapshot: string; keys: number; foldedBytes: number; durationMs: number } | null;
  /** The latest failure of a background sync or compaction, if any. */
  lastError: string | null;
}

export interface Durability {
  readonly wal: WriteAheadLog;
  /** What other threads pass to `WriteAheadLog.attach`. */
  readonly handle: WalHandle;
  readonly recovery: RecoveryReport;
  stats(): DurabilityStats;
  /** Compacts now, in a worker thread (refused while one runs). */
  compactNow(): Promise<CompactionReport>;
  /** Stops the tick, lets a running compaction finish, syncs and closes the log, and frees the directory. */
  close(): Promise<void>;
}

export function parseFsyncPolicy(text: string): FsyncPolicy {
  if ((FSYNC_POLICIES as readonly string[]).includes(text)) return text as FsyncPolicy;
  throw new Error(`--fsync must be one of ${FSYNC_POLICIES.join(', ')}, got ${JSON.stringify(text)}`);
}

/** Claims `dir`, rebuilds `store` from it, and opens the log. Call on the main thread, before serving. */
export function openDurability(options: DurabilityOptions): Durability {
  fs.mkdirSync(options.dir, { recursive: true });
  const lock = lockDataDirectory(options.dir);
  let recovery: RecoveryReport;
  let wal: WriteAheadLog;
  try {
    recovery = recover(options.dir, options.store, { repair: options.repair, maxRecordBytes: options.maxRecordBytes });
    wal = WriteAheadLog.create({
      dir: options.dir,
      segment: recovery.nextSegment,
      fsync: options.fsync,
      logBytes: recovery.logBytes,
      maxRecordBytes: options.maxRecordBytes,
    });
  } catch (error) {
    lock.release();
    throw error;
  }
  return ownedDurability(options, lock, recovery, wal);
}

function ownedDurability(options: DurabilityOptions, lock: DirectoryLock, recovery: RecoveryReport, wal: WriteAheadLog): Durability {
  const policy = options.compaction === undefined ? DEFAULT_COMPACTION_POLICY : options.compaction;
  let running: Promise<unknown> | null = null;
  let lastCompaction: DurabilityStats['lastCompaction'] = null;
  let lastError: string | null = null;
  const noteError = (error: unknown) => {
    lastError = (error as Error).message;
  };

  const compactNow = (): Promise<CompactionReport> => {
    if (running) return Promise.reject(new CompactionBusyError());
    const compaction = compactInBackground(wal, { workerUrl: options.snapshotWorkerUrl });
    running = compaction.then((report) => {
      lastCompaction = { snapshot: report.snapshot, keys: report.keys, foldedBytes: report.foldedBytes, durationMs: report.durationMs };
    }, noteError);
    void running.finally(() => (running = null));
    return compaction;
  };

  const tick = () => {
    if (wal.fsyncPolicy === 'everysec') wal.syncNowAsync().catch(noteError);
    if (policy && running === null && compactionDue(wal.logBytes, options.store.usage().liveBytes, policy)) compactNow().catch(() => {});
  };
  const timer = setInterval(tick, options.tickMs ?? 1000);
  timer.unref();

  let closed: Promise<void> | null = null;
  return {
    wal,
    handle: wal.handle,
    recovery,
    compactNow,
    stats: () => ({ ...wal.stats(), dataDir: options.dir, compacting: running !== null, lastCompaction, lastError }),
    close() {
      closed ??= (async () => {
        clearInterval(timer);
        await running;
        try {
          await wal.closeAsync();
        } finally {
          lock.release();
        }
      })();
      return closed;
    },
  };
}
