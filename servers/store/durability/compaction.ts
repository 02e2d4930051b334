// Compaction: replace a long log with a snapshot of the live data, online,
// with writes going on, and safely against a crash at any instant.
//
// A log only grows: a key set a million times is a million records. When the
// segments since the last snapshot pass a stated multiple of the live data
// (by default twice it, and at least 4 MiB: Redis's auto-aof-rewrite has the
// same two knobs), or when asked, compaction runs:
//
//   1. rotate: appends switch to a new segment n (wal.ts). That instant is a
//      cut in the store's order: every write before it is in segments < n,
//      every write after it in segment n or later. Writes go on meanwhile.
//   2. fold the state before the cut (the old snapshot, then segments < n)
//      into one map, key by key, and write it as `snapshot-n.snap.tmp`;
//   3. fsync it, rename it to `snapshot-n.snap`, fsync the directory: from
//      this instant recovery reads snapshot n and segments from n on;
//   4. delete the old snapshot and segments < n, which it replaces.
//
// Before step 3's directory fsync, a crash leaves the old snapshot and every
// segment in place (a `.tmp` is never read): the old state. After it, the new
// snapshot is durable and recovery ignores, then removes, the older files: the
// new state. The two states hold the same data, and the segments from n on
// sit on top of either, so no acknowledged write is lost across a compaction.
//
// Why fold files rather than copy the store under its lock: the closed
// segments never change, so folding them needs no lock at all, can run on
// another thread (`compactInBackground` runs it in a worker, so the async
// model's event loop is never stalled), and never holds up a client. The cost,
// named: folding rereads the log, and holds a second copy of the live data in
// memory while it runs.

import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { listDataDirectory, planState, snapshotName, syncDirectory, temporaryName, withOpenFile, writeFully } from './files.js';
import { DecodedRecord, DEFAULT_MAX_RECORD_BYTES, encodeEnd, encodeSet, RecordType } from './record.js';
import { CorruptLogError, readFile, readSnapshot } from './recovery.js';
import type { Rotation, WriteAheadLog } from './wal.js';

export interface CompactionPolicy {
  /** Compact when the log is more than this many times the live data... */
  ratio: number;
  /** ...and at least this many bytes. */
  minBytes: number;
}

export const DEFAULT_COMPACTION_POLICY: CompactionPolicy = { ratio: 2, minBytes: 4 * 1024 * 1024 };

/** The moments a compaction passes through, in order; a step hook sees each one just after it happens. */
export const COMPACTION_STEPS = [
  'rotated',
  'snapshot-written',
  'snapshot-synced',
  'snapshot-renamed',
  'directory-synced',
  'old-file-removed',
  'old-files-removed',
] as const;
export type CompactionStep = (typeof COMPACTION_STEPS)[number];
export type StepHook = (step: CompactionStep) => void;

export interface SnapshotResult {
  snapshot: string;
  keys: number;
  snapshotBytes: number;
  /** The files it replaced (and removed). */
  folded: string[];
  foldedBytes: number;
}

export interface CompactionReport extends SnapshotResult {
  rotation: Rotation;
  durationMs: number;
}

export class CompactionBusyError extends Error {
  constructor() {
    super('a compaction is already running');
  }
}

/** Whether the log has grown enough, relative to the live data, to be worth compacting. */
export function compactionDue(logBytes: number, liveBytes: number, policy: CompactionPolicy = DEFAULT_COMPACTION_POLICY): boolean {
  return logBytes >= policy.minBytes && logBytes > policy.ratio * liveBytes;
}

/** Compacts on this thread, blocking it for the whole fold. `onStep` is for crash tests. */
export function compact(wal: WriteAheadLog, options: { onStep?: StepHook } = {}): CompactionReport {
  const started = claim(wal);
  try {
    const rotation = wal.rotate();
    options.onStep?.('rotated');
    const result = writeSnapshot(wal.handle.dir, rotation.openedSegment, { maxRecordBytes: wal.handle.maxRecordBytes, onStep: options.onStep });
    return completed(wal, rotation, result, started);
  } catch (error) {
    wal.finishCompaction(null);
    throw error;
  }
}

/**
 * Compacts without blocking this thread: rotates (which blocks for one
 * fsync), then folds and writes the snapshot in a worker thread. `workerUrl`
 * is the compiled snapshot-worker.js; the default is the one beside this file.
 */
export async function compactInBackground(wal: WriteAheadLog, options: { workerUrl?: URL } = {}): Promise<CompactionReport> {
  const workerUrl = options.workerUrl ?? new URL('./snapshot-worker.js', import.meta.url);
  const started = claim(wal);
  try {
    const rotation = await wal.rotateAsync();
    const result = await inWorker(workerUrl, { dir: wal.handle.dir, snapshotId: rotation.openedSegment, maxRecordBytes: wal.handle.maxRecordBytes });
    return completed(wal, rotation, result, started);
  } catch (error) {
    wal.finishCompaction(null);
    throw error;
  }
}

/** One compaction at a time: returns when it started. */
function claim(wal: WriteAheadLog): number {
  if (!wal.claimCompaction()) throw new CompactionBusyError();
  return performance.now();
}

/** The log's byte count drops only once the snapshot is in place. */
function completed(wal: WriteAheadLog, rotation: Rotation, result: SnapshotResult, started: number): CompactionReport {
  wal.finishCompaction(rotation);
  return { ...result, rotation, durationMs: Math.round(performance.now() - started) };
}

export interface SnapshotJob {
  dir: string;
  snapshotId: number;
  maxRecordBytes: number;
}

function inWorker(workerUrl: URL, job: SnapshotJob): Promise<SnapshotResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl, { workerData: job });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the snapshot worker exited with ${code} before reporting`)));
  });
}

/**
 * Steps 2 to 4: folds the state as it was when segment `snapshotId` was
 * opened into `snapshot-<snapshotId>.snap`, then removes the files it
 * replaces. Touches only closed files, so it may run on any thread.
 */
export function writeSnapshot(dir: string, snapshotId: number, options: { maxRecordBytes?: number; onStep?: StepHook } = {}): SnapshotResult {
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const step = options.onStep ?? (() => {});
  const plan = planState(dir, listDataDirectory(dir), snapshotId);
  const live = foldState(dir, plan, maxRecordBytes);

  const finalName = snapshotName(snapshotId);
  const temporary = path.join(dir, temporaryName(finalName));
  let snapshotBytes: number;
  try {
    snapshotBytes = writeSyncedFile(temporary, live, step);
    fs.renameSync(temporary, path.join(dir, finalName));
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  step('snapshot-renamed');
  syncDirectory(dir);
  step('directory-synced');

  const replaced = [...(plan.snapshot ? [plan.snapshot] : []), ...plan.segments, ...plan.obsolete];
  for (const file of replaced) {
    fs.rmSync(path.join(dir, file.name), { force: true });
    step('old-file-removed');
  }
  syncDirectory(dir);
  step('old-files-removed');
  return {
    snapshot: finalName,
    keys: live.size,
    snapshotBytes,
    folded: replaced.map((file) => file.name),
    foldedBytes: replaced.reduce((sum, file) => sum + file.size, 0),
  };
}

/** The live data before the cut: the old snapshot, then each closed segment, which must all be whole. */
function foldState(dir: string, plan: ReturnType<typeof planState>, maxRecordBytes: number): Map<string, string> {
  const live = new Map<string, string>();
  if (plan.snapshot) readSnapshot(dir, plan.snapshot, (record) => live.set(record.key, record.value), maxRecordBytes);
  for (const segment of plan.segments) {
    const scan = readFile(dir, segment.name, (record) => foldRecord(live, record, segment.name), maxRecordBytes);
    if (scan.damage) {
      throw new CorruptLogError(
        segment.name,
        scan.damage.offset,
        scan.damage.reason,
        'a closed segment should be whole; compaction stopped and changed nothing',
      );
    }
  }
  return live;
}

function foldRecord(live: Map<string, string>, record: DecodedRecord, file: string): void {
  if (record.type === RecordType.SET) live.set(record.key, record.value);
  else if (record.type === RecordType.DEL) live.delete(record.key);
  else throw new CorruptLogError(file, record.offset, 'an END record inside a log segment', 'compaction stopped and changed nothing');
}

const CHUNK_BYTES = 1024 * 1024;

/** Writes every entry as a SET record, then END, and fsyncs: returns the file's size. */
function writeSyncedFile(file: string, live: Map<string, string>, step: StepHook): number {
  return withOpenFile(file, 'w', (fd) => {
    let size = 0;
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    const flush = () => {
      writeFully(fd, Buffer.concat(chunk, chunkBytes));
      size += chunkBytes;
      chunk = [];
      chunkBytes = 0;
    };
    const add = (record: Buffer) => {
      chunk.push(record);
      chunkBytes += record.length;
      if (chunkBytes >= CHUNK_BYTES) flush();
    };
    for (const [key, value] of live) add(encodeSet(key, value));
    add(encodeEnd(live.size));
    flush();
    step('snapshot-written');
    fs.fdatasyncSync(fd);
    step('snapshot-synced');
    return size;
  });
}
