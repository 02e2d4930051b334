// The write-ahead log: every write the store takes is appended here, and a
// write is acknowledged only once the `--fsync` policy says it may be.
//
// Appending. A record is appended with one `fs.writeSync` of a prebuilt
// buffer, under a small mutex of the log's own, and the server calls it from
// inside the store's critical section, so the order of records in the file is
// the order in which the store applied them (its linearization). File
// descriptors belong to the process, not to a thread, so the descriptor's
// number in shared memory is all a worker thread needs to append. Why a
// system call per record rather than an in-memory buffer that one thread
// flushes: the write costs a few microseconds against the ~210 µs of an
// fsync, needs no flusher thread, no buffer-full policy and no second copy,
// and once it returns the record is in the kernel's page cache, so a crash of
// the process (as opposed to the machine) loses nothing, whatever the policy.
//
// Durability. An fsync (fdatasync: the data and the size, not the times)
// makes everything written before it durable. The policies, as in Redis AOF:
//
//   always    a write is acknowledged only after an fsync that covers it;
//   everysec  one owner thread syncs once a second (see durability.ts), so a
//             power failure loses at most about the last second of writes;
//   no        never fsync on purpose; the kernel writes back when it likes.
//
// Waiting for an fsync, and sharing one among many writers (group commit),
// is the other half of the log: group-commit.ts. The shared cells both
// halves use are named in wal-cells.ts.
//
// Segments. Appends go to the newest segment file. `rotate` closes it and
// opens the next, at one instant in the log's order: it takes the leader's
// role (so no fsync is in flight on the old file), creates and fsyncs the new
// file's directory entry, then under the append mutex fsyncs the old segment
// and switches. So when any record reaches segment n+1, segment n is durable
// whole, and only the newest segment can ever have a torn tail. Compaction
// rotates and then folds the closed segments away (compaction.ts).
//
// Simplifications, named: sequence numbers count records since this process
// opened the log; they are not stored in the file. A thread that dies while
// it leads a sync leaves the flag set and later waiters stuck (as one that
// dies holding the store's lock would). After an fsync fails, the log refuses
// all further writes: what the kernel did with the dirty pages is unknown, and
// retrying the fsync can report success without the data being on disk.

import fs from 'node:fs';
import path from 'node:path';
import { SharedMutex } from '../lock.js';
import { segmentName, syncDirectory, writeFully } from './files.js';
import { GroupCommit, waitForChange } from './group-commit.js';
import { DEFAULT_MAX_RECORD_BYTES, encodeDelete, encodeSet, RecordTooLargeError } from './record.js';
import {
  allocateWalBuffer,
  B_BYTES,
  B_COMPACTIONS,
  B_ACKS,
  B_ACKS_NOT_DURABLE,
  B_DURABLE,
  B_FSYNCS,
  B_GROUPED,
  B_LOG_BYTES,
  B_MAX_GROUP,
  B_SEGMENT_BYTES,
  B_WRITTEN,
  CLOSED,
  FAILED,
  FSYNC_POLICIES,
  I_COMPACTING,
  I_FD,
  I_LOCK,
  I_POLICY,
  I_SEGMENT,
  I_STATE,
  LogUnavailableError,
  OPEN,
  refuseIfFailed,
  stopAfterFsyncFailure,
  viewWalCells,
  type FsyncPolicy,
  type WalCells,
} from './wal-cells.js';

export { FSYNC_POLICIES, LogUnavailableError, type FsyncPolicy };

/** Everything a thread needs to attach to the log: plain data, so it can be posted to a worker. */
export interface WalHandle {
  buffer: SharedArrayBuffer;
  dir: string;
  maxRecordBytes: number;
}

export interface WalOptions {
  dir: string;
  /** The segment to create and append to: one past every file in the directory. */
  segment: number;
  fsync: FsyncPolicy;
  /** Bytes already in the segments since the latest snapshot (what compaction would fold). */
  logBytes?: number;
  maxRecordBytes?: number;
}

export interface WalStats {
  fsyncPolicy: FsyncPolicy;
  segment: number;
  /** Records and bytes appended since the log was opened. */
  records: number;
  bytes: number;
  /** Bytes in all segments since the latest snapshot: what the compaction policy watches. */
  logBytes: number;
  fsyncs: number;
  /** Records newly made durable per fsync: the group commit's effect. */
  meanGroupSize: number;
  maxGroupSize: number;
  writtenSeq: number;
  durableSeq: number;
  /** Writes acknowledged (through commit), and how many of them were not yet durable when they were. */
  acks: number;
  acksNotDurable: number;
  compactions: number;
}

/** What a segment switch did. */
export interface Rotation {
  closedSegment: number;
  openedSegment: number;
  /** Records up to here are in closed segments (and durable). */
  boundarySeq: number;
  /** `logBytes` at the switch: what folding the closed segments removes. */
  logBytesBefore: number;
}

export class WriteAheadLog {
  readonly handle: WalHandle;
  private readonly ints: Int32Array;
  private readonly big: BigInt64Array;
  private readonly cells: WalCells;
  private readonly mutex: SharedMutex;
  private readonly sync: GroupCommit;

  /** Creates segment `options.segment` (it must not exist) and a log that appends to it. */
  static create(options: WalOptions): WriteAheadLog {
    const buffer = allocateWalBuffer();
    const log = new WriteAheadLog({ buffer, dir: options.dir, maxRecordBytes: options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES });
    log.ints[I_FD] = createSegmentFile(options.dir, options.segment);
    log.ints[I_SEGMENT] = options.segment;
    log.ints[I_POLICY] = FSYNC_POLICIES.indexOf(options.fsync);
    log.big[B_LOG_BYTES] = BigInt(options.logBytes ?? 0);
    return log;
  }

  /** Attaches to a log another thread created. */
  static attach(handle: WalHandle): WriteAheadLog {
    return new WriteAheadLog(handle);
  }

  private constructor(handle: WalHandle) {
    this.handle = handle;
    this.cells = viewWalCells(handle.buffer);
    this.ints = this.cells.ints;
    this.big = this.cells.big;
    this.mutex = new SharedMutex(this.ints, I_LOCK);
    this.sync = new GroupCommit(this.cells);
  }

  get fsyncPolicy(): FsyncPolicy {
    return FSYNC_POLICIES[this.ints[I_POLICY]];
  }

  get segment(): number {
    return Atomics.load(this.ints, I_SEGMENT);
  }

  get logBytes(): number {
    return Number(Atomics.load(this.big, B_LOG_BYTES));
  }

  // --- appending: call with the store's lock held, so file order is store order ---

  appendSet(key: string, value: string): number {
    return this.append(encodeSet(key, value));
  }

  appendDelete(key: string): number {
    return this.append(encodeDelete(key));
  }

  /**
   * Appends one encoded record (record.ts) and returns its sequence number.
   * A write that fails is cut back off the file, so the log never keeps half
   * a record in its middle; the error then says the write did not happen.
   */
  append(record: Buffer): number {
    if (record.length > this.handle.maxRecordBytes) throw new RecordTooLargeError(record.length, this.handle.maxRecordBytes);
    this.mutex.lock();
    try {
      this.refuseIfUnusable();
      this.writeRecord(record);
      Atomics.add(this.big, B_SEGMENT_BYTES, BigInt(record.length));
      Atomics.add(this.big, B_BYTES, BigInt(record.length));
      Atomics.add(this.big, B_LOG_BYTES, BigInt(record.length));
      return Number(Atomics.add(this.big, B_WRITTEN, 1n) + 1n);
    } finally {
      this.mutex.unlock();
    }
  }

  private writeRecord(record: Buffer): void {
    const fd = Atomics.load(this.ints, I_FD);
    try {
      writeFully(fd, record);
    } catch (error) {
      this.cutBackTo(fd, Number(Atomics.load(this.big, B_SEGMENT_BYTES)));
      throw new LogUnavailableError(`cannot append to the log: ${(error as Error).message}`, { cause: error });
    }
  }

  /** After a failed write: drop whatever part of the record reached the file, or stop the log. */
  private cutBackTo(fd: number, size: number): void {
    try {
      fs.ftruncateSync(fd, size);
    } catch {
      Atomics.store(this.ints, I_STATE, FAILED);
    }
  }

  // --- acknowledging and waiting: group-commit.ts ---

  /** Before acknowledging record `seq`: waits (blocking) under `always` until it is durable. Counts the ack. */
  commit(seq: number): void {
    this.sync.commit(seq);
  }

  /** The same for a thread that must not block; undefined when there is nothing to wait for. */
  commitAsync(seq: number): Promise<void> | undefined {
    return this.sync.commitAsync(seq);
  }

  isDurable(seq: number): boolean {
    return this.sync.isDurable(seq);
  }

  /** The sequence number of the latest record appended, by any thread. */
  get writtenSeq(): number {
    return Number(Atomics.load(this.big, B_WRITTEN));
  }

  /** Blocks until record `seq` is durable, leading an fsync if nobody else is. */
  waitDurable(seq: number): void {
    this.sync.waitDurable(seq);
  }

  /** Resolves once record `seq` is durable; never blocks the calling thread. */
  waitDurableAsync(seq: number): Promise<void> {
    return this.sync.waitDurableAsync(seq);
  }

  /** Makes everything written so far durable (blocking). */
  syncNow(): void {
    this.sync.waitDurable(this.writtenSeq);
  }

  /** Makes everything written so far durable, without blocking. */
  syncNowAsync(): Promise<void> {
    return this.sync.waitDurableAsync(this.writtenSeq);
  }

  // --- segments ---

  /** Closes the current segment and appends to the next from now on (blocking). */
  rotate(): Rotation {
    this.sync.waitToLead();
    return this.sync.asLeader(() => this.switchSegment());
  }

  /** The same, waiting for the leader's role without blocking; the switch itself blocks for one fsync. */
  async rotateAsync(): Promise<Rotation> {
    await this.sync.waitToLeadAsync();
    return this.sync.asLeader(() => this.switchSegment());
  }

  /** With the leader's role held: no fsync is in flight, and none can start. */
  private switchSegment(): Rotation {
    this.refuseIfUnusable();
    const closedSegment = this.segment;
    const openedSegment = closedSegment + 1;
    const newFd = createSegmentFile(this.handle.dir, openedSegment);
    this.mutex.lock();
    let oldFd: number;
    let rotation: Rotation;
    try {
      oldFd = Atomics.load(this.ints, I_FD);
      const target = Atomics.load(this.big, B_WRITTEN);
      try {
        fs.fdatasyncSync(oldFd);
      } catch (error) {
        fs.closeSync(newFd);
        throw stopAfterFsyncFailure(this.cells, error);
      }
      this.sync.publishDurable(target);
      rotation = { closedSegment, openedSegment, boundarySeq: Number(target), logBytesBefore: Number(Atomics.load(this.big, B_LOG_BYTES)) };
      Atomics.store(this.ints, I_FD, newFd);
      Atomics.store(this.ints, I_SEGMENT, openedSegment);
      Atomics.store(this.big, B_SEGMENT_BYTES, 0n);
    } finally {
      this.mutex.unlock();
    }
    fs.closeSync(oldFd);
    return rotation;
  }

  // --- compaction's bookkeeping (compaction.ts) ---

  /** Claims the right to compact; false if a compaction is already running. */
  claimCompaction(): boolean {
    return Atomics.compareExchange(this.ints, I_COMPACTING, 0, 1) === 0;
  }

  /** Ends a compaction; after a successful one, the folded bytes no longer count as log. */
  finishCompaction(folded: Rotation | null): void {
    if (folded) {
      Atomics.sub(this.big, B_LOG_BYTES, BigInt(folded.logBytesBefore));
      Atomics.add(this.big, B_COMPACTIONS, 1n);
    }
    Atomics.store(this.ints, I_COMPACTING, 0);
  }

  // --- closing ---

  /** Makes everything durable and closes the file (blocking). Appends after this are refused. */
  close(): void {
    this.sync.waitToLead();
    this.sync.asLeader(() => this.closeAsLeader());
  }

  async closeAsync(): Promise<void> {
    await this.sync.waitToLeadAsync();
    this.sync.asLeader(() => this.closeAsLeader());
  }

  private closeAsLeader(): void {
    const fd = Atomics.load(this.ints, I_FD);
    if (fd < 0) return;
    this.mutex.withLock(() => {
      if (this.ints[I_STATE] === OPEN) this.ints[I_STATE] = CLOSED;
    });
    try {
      if (Atomics.load(this.ints, I_STATE) === CLOSED) this.sync.syncWritten();
    } finally {
      Atomics.store(this.ints, I_FD, -1);
      fs.closeSync(fd);
    }
  }

  stats(): WalStats {
    const read = (cell: number) => Number(Atomics.load(this.big, cell));
    const fsyncs = read(B_FSYNCS);
    return {
      fsyncPolicy: this.fsyncPolicy,
      segment: this.segment,
      records: read(B_WRITTEN),
      bytes: read(B_BYTES),
      logBytes: read(B_LOG_BYTES),
      fsyncs,
      meanGroupSize: fsyncs === 0 ? 0 : Math.round((read(B_GROUPED) / fsyncs) * 100) / 100,
      maxGroupSize: read(B_MAX_GROUP),
      writtenSeq: read(B_WRITTEN),
      durableSeq: read(B_DURABLE),
      acks: read(B_ACKS),
      acksNotDurable: read(B_ACKS_NOT_DURABLE),
      compactions: read(B_COMPACTIONS),
    };
  }

  private refuseIfUnusable(): void {
    refuseIfFailed(this.cells);
    if (Atomics.load(this.ints, I_STATE) === CLOSED) throw new LogUnavailableError('the log is closed');
  }
}

/** Creates a segment file that must not exist yet, and makes its directory entry durable. */
export function createSegmentFile(dir: string, id: number): number {
  const { O_WRONLY, O_CREAT, O_EXCL, O_APPEND } = fs.constants;
  const fd = fs.openSync(path.join(dir, segmentName(id)), O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0o644);
  syncDirectory(dir);
  return fd;
}

// The wait other modules use on the log's cells (and on their own) lives with the group commit.
export { waitForChange };
