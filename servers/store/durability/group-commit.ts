// Group commit: many writers, one fsync. An fsync covers every record written
// before it started, so the threads waiting for their records to be durable
// can share one. Shared memory (wal-cells.ts) holds "written up to" and
// "durable up to" sequence numbers and a leader flag. A thread waiting for
// record s that is not yet durable tries to become the leader (claims the
// flag): the leader reads "written up to" w, fsyncs, publishes "durable up to"
// w and wakes everyone. The others sleep until the leader is done; whoever is
// still not covered (it arrived during that fsync) competes to lead the next
// one, which covers all of them at once. So under `always` throughput grows
// with the number of concurrent writers, while each one pays at most two
// fsyncs.
//
// Two ways to wait, because threads differ. A worker thread, or the blocking
// model's thread, may block: `waitDurable` sleeps in Atomics.wait and leads
// with fdatasyncSync. The async model's main thread must never block:
// `waitDurableAsync` sleeps in Atomics.waitAsync and leads with the callback
// `fs.fdatasync`, which runs on libuv's thread pool. Never block a thread
// that is leading asynchronously: it would wait on itself. That is refused
// with an error rather than left to hang.
//
// The leader's role is also how the log gets a quiet moment for work that no
// fsync may overlap: switching segments and closing (wal.ts) take it first.

import fs from 'node:fs';
import {
  B_ACKS,
  B_ACKS_NOT_DURABLE,
  B_DURABLE,
  B_FSYNCS,
  B_GROUPED,
  B_MAX_GROUP,
  B_WRITTEN,
  I_EPOCH,
  I_FD,
  I_LEADER,
  I_POLICY,
  FSYNC_POLICIES,
  refuseIfFailed,
  stopAfterFsyncFailure,
  type WalCells,
} from './wal-cells.js';

/** A waiter re-checks at least this often, so that a lost wake-up costs a pause, not a hang. */
const WAIT_SLICE_MS = 50;

type Waiter = { seq: bigint; resolve: () => void; reject: (error: unknown) => void };

/** How many asynchronous leads this thread has in flight (module state is per thread). */
let asyncLeadsOnThisThread = 0;

export class GroupCommit {
  private readonly ints: Int32Array;
  private readonly big: BigInt64Array;
  private readonly pending: Waiter[] = [];
  private driving = false;

  constructor(private readonly cells: WalCells) {
    this.ints = cells.ints;
    this.big = cells.big;
  }

  // --- acknowledging ---

  /**
   * What a server calls, outside the store's lock, before it acknowledges
   * record `seq`: under `always` it waits (blocking) until the record is
   * durable; under the other policies it returns at once. Counts the ack.
   */
  commit(seq: number): void {
    if (this.waitsForFsync()) this.waitDurable(seq);
    this.countAck(seq);
  }

  /** The same for a thread that must not block; undefined when there is nothing to wait for. */
  commitAsync(seq: number): Promise<void> | undefined {
    if (!this.waitsForFsync() || this.isDurable(seq)) {
      this.countAck(seq);
      return undefined;
    }
    return this.waitDurableAsync(seq).then(() => this.countAck(seq));
  }

  private waitsForFsync(): boolean {
    return FSYNC_POLICIES[this.ints[I_POLICY]] === 'always';
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

  // --- waiting for durability: blocking ---

  /** Blocks until record `seq` is durable, leading an fsync if nobody else is. */
  waitDurable(seq: number): void {
    refuseBlockingWhileLeadingAsync();
    const wanted = BigInt(seq);
    for (;;) {
      const epoch = Atomics.load(this.ints, I_EPOCH);
      if (Atomics.load(this.big, B_DURABLE) >= wanted) return;
      refuseIfFailed(this.cells);
      if (this.tryLead()) this.asLeader(() => this.syncWritten());
      else Atomics.wait(this.ints, I_EPOCH, epoch, WAIT_SLICE_MS);
    }
  }

  /** As the leader: fsyncs the current segment if anything written is not yet durable. */
  syncWritten(): void {
    const target = Atomics.load(this.big, B_WRITTEN);
    if (target <= Atomics.load(this.big, B_DURABLE)) return;
    try {
      fs.fdatasyncSync(Atomics.load(this.ints, I_FD));
    } catch (error) {
      throw stopAfterFsyncFailure(this.cells, error);
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

  /** One loop per thread serves all of its asynchronous waiters: lead a sync, or wait for one. */
  private async drivePending(): Promise<void> {
    this.driving = true;
    try {
      for (;;) {
        const epoch = Atomics.load(this.ints, I_EPOCH);
        this.settleDurableWaiters();
        if (this.pending.length === 0) return;
        refuseIfFailed(this.cells);
        if (this.tryLead()) await this.asLeaderAsync(() => this.syncWrittenAsync());
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
      throw stopAfterFsyncFailure(this.cells, error);
    }
    this.publishDurable(target);
  }

  /**
   * As the leader, after an fsync of everything up to `target`: counts the
   * group and publishes the new "durable up to". Only the leader writes these
   * counters, so the read-then-store of the maximum is safe.
   */
  publishDurable(target: bigint): void {
    const group = target - Atomics.load(this.big, B_DURABLE);
    Atomics.add(this.big, B_FSYNCS, 1n);
    Atomics.add(this.big, B_GROUPED, group);
    if (group > Atomics.load(this.big, B_MAX_GROUP)) Atomics.store(this.big, B_MAX_GROUP, group);
    Atomics.store(this.big, B_DURABLE, target);
  }

  // --- the leader's role ---

  private tryLead(): boolean {
    return Atomics.compareExchange(this.ints, I_LEADER, 0, 1) === 0;
  }

  /** Waits (blocking) until this thread holds the leader's role; release it with `asLeader`. */
  waitToLead(): void {
    refuseBlockingWhileLeadingAsync();
    for (;;) {
      const epoch = Atomics.load(this.ints, I_EPOCH);
      if (this.tryLead()) return;
      Atomics.wait(this.ints, I_EPOCH, epoch, WAIT_SLICE_MS);
    }
  }

  /** The same without blocking. */
  async waitToLeadAsync(): Promise<void> {
    for (;;) {
      const epoch = Atomics.load(this.ints, I_EPOCH);
      if (this.tryLead()) return;
      await waitForChange(this.ints, I_EPOCH, epoch, WAIT_SLICE_MS);
    }
  }

  /** Runs `work` with the leader's role already held, then gives the role up and wakes the waiters. */
  asLeader<T>(work: () => T): T {
    try {
      return work();
    } finally {
      this.stopLeading();
    }
  }

  private async asLeaderAsync<T>(work: () => Promise<T>): Promise<T> {
    asyncLeadsOnThisThread += 1;
    try {
      return await work();
    } finally {
      asyncLeadsOnThisThread -= 1;
      this.stopLeading();
    }
  }

  private stopLeading(): void {
    Atomics.store(this.ints, I_LEADER, 0);
    Atomics.add(this.ints, I_EPOCH, 1);
    Atomics.notify(this.ints, I_EPOCH);
  }
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
