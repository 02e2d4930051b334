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
// Group commit. An fsync covers every record written before it started, so
// waiters share them. Shared memory holds "written up to" and "durable up to"
// sequence numbers and a "sync in progress" flag. A thread waiting for record
// s that is not yet durable tries to become the leader (claims the flag): the
// leader reads "written up to" w, fsyncs, publishes "durable up to" w and
// wakes everyone. The others sleep until the leader is done; whoever is still
// not covered (it arrived during that fsync) competes to lead the next one,
// which covers all of them at once. So under `always` throughput grows with
// the number of concurrent writers, while each one pays at most two fsyncs.
//
// Two ways to wait, because threads differ. A worker thread, or the blocking
// model's thread, may block: `waitDurable` sleeps in Atomics.wait and leads
// with fdatasyncSync. The async model's main thread must never block:
// `waitDurableAsync` sleeps in Atomics.waitAsync and leads with the
// callback `fs.fdatasync`, which runs on libuv's thread pool. Never block a
// thread that is leading asynchronously: it would wait on itself. That is
// refused with an error rather than left to hang.
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
import { DEFAULT_MAX_RECORD_BYTES, encodeDelete, encodeSet, RecordTooLargeError } from './record.js';

export const FSYNC_POLICIES = ['always', 'everysec', 'no'] as const;
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number];

// Int32 cells (Atomics.wait needs them, and the mutex word lives here).
const I_LOCK = 0;
const I_FD = 1;
const I_SEGMENT = 2;
const I_LEADER = 3;
const I_EPOCH = 4; // bumped when a leader finishes: what waiters sleep on
const I_POLICY = 5;
const I_STATE = 6;
const I_COMPACTING = 7;
const INT_CELLS = 8;

// BigInt64 cells: sequence numbers and counters that could pass 2^31.
const B_WRITTEN = 0;
const B_DURABLE = 1;
const B_BYTES = 2;
const B_SEGMENT_BYTES = 3;
const B_LOG_BYTES = 4;
const B_FSYNCS = 5;
const B_GROUPED = 6;
const B_MAX_GROUP = 7;
const B_ACKS = 8;
const B_ACKS_NOT_DURABLE = 9;
const B_COMPACTIONS = 10;
const BIG_CELLS = 11;

const OPEN = 0;
const CLOSED = 1;
const FAILED = 2;

/** A waiter re-checks at least this often, so that a lost wake-up costs a pause, not a hang. */
const WAIT_SLICE_MS = 50;

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

export class LogUnavailableError extends Error {}

type Waiter = { seq: bigint; resolve: () => void; reject: (error: unknown) => void };

/** How many asynchronous leads this thread has in flight (module state is per thread). */
let asyncLeadsOnThisThread = 0;

export class WriteAheadLog {
  readonly handle: WalHandle;
  private readonly ints: Int32Array;
  private readonly big: BigInt64Array;
  private readonly mutex: SharedMutex;
  private readonly pending: Waiter[] = [];
  private driving = false;

  /** Creates segment `options.segment` (it must not exist) and a log that appends to it. */
  static create(options: WalOptions): WriteAheadLog {
    const buffer = new SharedArrayBuffer(INT_CELLS * 4 + BIG_CELLS * 8);
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
    this.ints = new Int32Array(handle.buffer, 0, INT_CELLS);
    this.big = new BigInt64Array(handle.buffer, INT_CELLS * 4, BIG_CELLS);
    this.mutex = new SharedMutex(this.ints, I_LOCK);
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

  // --- acknowledging ---

  /**
   * What a server calls, outside the store's lock, before it acknowledges
   * record `seq`: under `always` it waits (blocking) until the record is
   * durable; under the other policies it returns at once. Counts the ack.
   */
  commit(seq: number): void {
    if (this.fsyncPolicy === 'always') this.waitDurable(seq);
    this.countAck(seq);
  }

  /** The same for a thread that must not block; undefined when there is nothing to wait for. */
  commitAsync(seq: number): Promise<void> | undefined {
    if (this.fsyncPolicy !== 'always' || this.isDurable(seq)) {
      this.countAck(seq);
      return undefined;
    }
    return this.waitDurableAsync(seq).then(() => this.countAck(seq));
  }

  /**
   * The promise check: at each acknowledgement, was the record already
   * covered by a completed fsync? Under `always` the answer must always be
   * yes, and tests assert that `acksNotDurable` stays 0.
   */
  private countAck(seq: number): void {
    Atomics.add(this.big, B_ACKS, 1n);
    if (!this.isDurable(seq)) Atomics.add(this.big, B_ACKS_NOT_DURABLE, 1n);
  }

  isDurable(seq: number): boolean {
    return Atomics.load(this.big, B_DURABLE) >= BigInt(seq);
  }

  /** The sequence number of the latest record appended, by any thread. */
  get writtenSeq(): number {
    return Number(Atomics.load(this.big, B_WRITTEN));
  }

  // --- waiting for durability: blocking ---

  /** Blocks until record `seq` is durable, leading an fsync if nobody else is. */
  waitDurable(seq: number): void {
    refuseBlockingWhileLeadingAsync();
    const wanted = BigInt(seq);
    for (;;) {
      const epoch = Atomics.load(this.ints, I_EPOCH);
      if (Atomics.load(this.big, B_DURABLE) >= wanted) return;
      this.refuseIfFailed();
      if (this.tryLead()) this.leadOnce(() => this.syncWritten());
      else Atomics.wait(this.ints, I_EPOCH, epoch, WAIT_SLICE_MS);
    }
  }

  /** Makes everything written so far durable (blocking). */
  syncNow(): void {
    this.waitDurable(this.writtenSeq);
  }

  private syncWritten(): void {
    const target = Atomics.load(this.big, B_WRITTEN);
    if (target <= Atomics.load(this.big, B_DURABLE)) return;
    try {
      fs.fdatasyncSync(Atomics.load(this.ints, I_FD));
    } catch (error) {
      throw this.stopAfterFsyncFailure(error);
    }
    this.publishDurable(target);
  }

  // --- waiting for durability: asynchronous, for a thread that must not block ---

  /** Resolves once record `seq` is durable; never blocks the calling thread. */
  waitDurableAsync(seq: number): Promise<void> {
    if (this.isDurable(seq)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.pending.push({ seq: BigInt(seq), resolve, reject });
      if (!this.driving) void this.drivePending();
    });
  }

  /** Makes everything written so far durable, without blocking. */
  syncNowAsync(): Promise<void> {
    return this.waitDurableAsync(this.writtenSeq);
  }

  /** One loop per thread serves all of its asynchronous waiters: lead a sync, or wait for one. */
  private async drivePending(): Promise<void> {
    this.driving = true;
    try {
      for (;;) {
        const epoch = Atomics.load(this.ints, I_EPOCH);
        this.settleDurableWaiters();
        if (this.pending.length === 0) return;
        this.refuseIfFailed();
        if (this.tryLead()) await this.leadOnceAsync(() => this.syncWrittenAsync());
        else await waitForChange(this.ints, I_EPOCH, epoch, WAIT_SLICE_MS);
      }
    } catch (error) {
      for (const waiter of this.pending.splice(0)) waiter.reject(error);
    } finally {
      this.driving = false;
    }
  }

  private settleDurableWaiters(): void {
    const durable = Atomics.load(this.big, B_DURABLE);
    let kept = 0;
    for (const waiter of this.pending) {
      if (waiter.seq <= durable) waiter.resolve();
      else this.pending[kept++] = waiter;
    }
    this.pending.length = kept;
  }

  private async syncWrittenAsync(): Promise<void> {
    const target = Atomics.load(this.big, B_WRITTEN);
    if (target <= Atomics.load(this.big, B_DURABLE)) return;
    try {
      await fdatasyncAsync(Atomics.load(this.ints, I_FD));
    } catch (error) {
      throw this.stopAfterFsyncFailure(error);
    }
    this.publishDurable(target);
  }

  // --- the leader's role ---

  private tryLead(): boolean {
    return Atomics.compareExchange(this.ints, I_LEADER, 0, 1) === 0;
  }

  private leadOnce<T>(work: () => T): T {
    try {
      return work();
    } finally {
      this.stopLeading();
    }
  }

  private async leadOnceAsync<T>(work: () => Promise<T>): Promise<T> {
    asyncLeadsOnThisThread += 1;
    try {
      return await work();
    } finally {
      asyncLeadsOnThisThread -= 1;
      this.stopLeading();
    }
  }

  /** Waits (blocking) until this thread holds the leader's role. */
  private leadBlocking(): void {
    refuseBlockingWhileLeadingAsync();
    for (;;) {
      const epoch = Atomics.load(this.ints, I_EPOCH);
      if (this.tryLead()) return;
      Atomics.wait(this.ints, I_EPOCH, epoch, WAIT_SLICE_MS);
    }
  }

  private async leadAsync(): Promise<void> {
    for (;;) {
      const epoch = Atomics.load(this.ints, I_EPOCH);
      if (this.tryLead()) return;
      await waitForChange(this.ints, I_EPOCH, epoch, WAIT_SLICE_MS);
    }
  }

  private stopLeading(): void {
    Atomics.store(this.ints, I_LEADER, 0);
    Atomics.add(this.ints, I_EPOCH, 1);
    Atomics.notify(this.ints, I_EPOCH);
  }

  /** After a failed fsync the log stops taking writes for good (see the simplifications). */
  private stopAfterFsyncFailure(error: unknown): LogUnavailableError {
    Atomics.store(this.ints, I_STATE, FAILED);
    return new LogUnavailableError(`fsync of the log failed, so it takes no more writes: ${(error as Error).message}`, { cause: error });
  }

  /** Only the leader calls this, so plain stores of the counters it alone writes are safe. */
  private publishDurable(target: bigint): void {
    const group = target - Atomics.load(this.big, B_DURABLE);
    Atomics.add(this.big, B_FSYNCS, 1n);
    Atomics.add(this.big, B_GROUPED, group);
    if (group > Atomics.load(this.big, B_MAX_GROUP)) Atomics.store(this.big, B_MAX_GROUP, group);
    Atomics.store(this.big, B_DURABLE, target);
  }

  // --- segments ---

  /** Closes the current segment and appends to the next from now on (blocking). */
  rotate(): Rotation {
    this.leadBlocking();
    return this.leadOnce(() => this.switchSegment());
  }

  /** The same, waiting for the leader's role without blocking; the switch itself blocks for one fsync. */
  async rotateAsync(): Promise<Rotation> {
    await this.leadAsync();
    return this.leadOnce(() => this.switchSegment());
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
        throw this.stopAfterFsyncFailure(error);
      }
      this.publishDurable(target);
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
    this.leadBlocking();
    this.leadOnce(() => this.closeAsLeader());
  }

  async closeAsync(): Promise<void> {
    await this.leadAsync();
    this.leadOnce(() => this.closeAsLeader());
  }

  private closeAsLeader(): void {
    const fd = Atomics.load(this.ints, I_FD);
    if (fd < 0) return;
    this.mutex.withLock(() => {
      if (this.ints[I_STATE] === OPEN) this.ints[I_STATE] = CLOSED;
    });
    try {
      if (Atomics.load(this.ints, I_STATE) === CLOSED) this.syncWritten();
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
    this.refuseIfFailed();
    if (Atomics.load(this.ints, I_STATE) === CLOSED) throw new LogUnavailableError('the log is closed');
  }

  private refuseIfFailed(): void {
    if (Atomics.load(this.ints, I_STATE) === FAILED)
      throw new LogUnavailableError('an earlier fsync or write of the log failed, so it takes no more writes');
  }
}

/** Creates a segment file that must not exist yet, and makes its directory entry durable. */
export function createSegmentFile(dir: string, id: number): number {
  const { O_WRONLY, O_CREAT, O_EXCL, O_APPEND } = fs.constants;
  const fd = fs.openSync(path.join(dir, segmentName(id)), O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0o644);
  syncDirectory(dir);
  return fd;
}

function refuseBlockingWhileLeadingAsync(): void {
  if (asyncLeadsOnThisThread > 0) {
    throw new Error('this thread is leading an asynchronous fsync of the log; a blocking wait here would wait on itself');
  }
}

function fdatasyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync(cells: Int32Array, index: number, value: number, timeoutMs: number): WaitAsyncResult })
  .waitAsync;

/** Resolves when cells[index] may no longer hold `value` (or after the timeout). */
export async function waitForChange(cells: Int32Array, index: number, value: number, timeoutMs: number): Promise<void> {
  const result = waitAsync(cells, index, value, timeoutMs);
  if (result.async) await result.value;
}
