// The one key-value store that all four server models share.
//
// It lives entirely inside one SharedArrayBuffer, so any thread that is handed
// the buffer sees the same data: the blocking and async models use it from the
// main thread, per-connection and pool from their worker threads. Every
// operation holds one SharedMutex, which makes each of them atomic and the
// store linearizable: an operation takes effect at one instant between its
// call and its return, whichever thread calls it.
//
// Memory is bounded because the buffer is: `--store-mb` is the whole buffer.
// When a SET would not fit, it fails with `store full` before touching
// anything, so nothing already stored is ever lost to make room.
//
// Layout of the buffer:
//
//   [ header: a few int32 counters and the lock word ]
//   [ index:  open-addressing hash table, one int32 record offset per slot,
//             plus a parallel uint32 array of hashes to skip probes cheaply ]
//   [ heap:   records appended one after another (a bump allocator)        ]
//
// A record is [hash, keyLength, valueLength, flags] as uint32s, then the key
// and value bytes, padded to 4 bytes. A write appends its new record first and
// only then points the key's index slot at it and marks the old record dead,
// so at every instant the heap, read from the start, holds each key's latest
// record last. When the heap's end is reached, `compact` slides the live
// records down over the dead ones and rebuilds the index (which also clears
// the tombstones that deletes leave in a linear-probing table).
//
// Compaction costs time in proportion to the whole heap, under the one lock.
// So it runs only when it pays: when at least a sixteenth of the heap is dead
// (or, for the index, a sixteenth of the slots are tombstones). A store that
// is full of live data answers `store full` at once rather than compacting on
// every write to win back a few bytes.
//
// A thread can die holding the lock (lock.ts). Nothing written so far is lost
// then: the thread that takes the lock over calls `repair`, which finishes a
// compaction the dead thread had started (its progress is kept in the header,
// and every step of it can be redone) and rebuilds the index and counters from
// the heap. A write the dead thread had not finished either took effect or did
// not, as for any unanswered request.
//
// Simplifications, named: one global lock rather than striped locks (the
// critical sections are short, and sharding is an exercise in docs/); a bump
// allocator with stop-the-world compaction rather than size classes (simple
// to read, and compaction is rare unless the store is nearly full of garbage);
// an overwrite needs room for its new record beside the old one until it is in
// place, so a store that is completely full of live data refuses overwrites.
//
// Keys and values are "binary strings": one JavaScript char per byte
// (latin1), so any bytes a client sends come back unchanged.
//
// Durability hooks in here (`writeLog`): each write is appended to the log
// inside the critical section, after every check that could refuse it and
// before the heap changes. So the log's order is the store's linearization,
// a write the store refuses is never logged, and a write the log refuses
// leaves the store as it was. The record's sequence number is left in
// `lastWriteSeq`, per thread, for the caller to wait on outside the lock.

import { SharedMutex } from './lock.js';

const HEADER_INTS = 24;
const H_LOCK = 0;
const H_LIVE_KEYS = 1;
const H_HEAP_TOP = 2;
const H_LIVE_BYTES = 3;
const H_TOMBSTONES = 4;
const H_SLOTS = 5;
const H_COMPACTIONS = 6;
const H_REPAIRS = 7;
/** Non-zero while a compaction slides records; its progress is in one of two slots below. */
const H_COMPACTING = 8;
/** Which progress slot is current: progress is written to the other one, then this flips. */
const H_PROGRESS_SLOT = 9;
const H_PROGRESS = 10;
const PROGRESS_INTS = 4;

const EMPTY = 0;
const TOMBSTONE = -1;
const RECORD_HEADER_BYTES = 16;
const FLAG_DEAD = 1;
const MAX_LOAD = 0.75;
/** Compaction must win back at least this share of the heap (or of the index) to be worth its cost. */
const MIN_RECLAIM_FRACTION = 1 / 16;
const MIN_STORE_BYTES = 64 * 1024;
/** Offsets and counters in the header are int32: the buffer must stay under 2 GiB. */
export const MAX_STORE_MB = 1024;

export class StoreFullError extends Error {
  constructor() {
    super('store full');
  }
}

export class NotAnIntegerError extends Error {
  constructor() {
    super('value is not an integer');
  }
}

export class IncrementOverflowError extends Error {
  constructor() {
    super('increment would overflow');
  }
}

export interface StoreUsage {
  keys: number;
  liveBytes: number;
  capacityBytes: number;
  /** Compactions run since the store was created. */
  compactions: number;
  /** Times a thread took the lock over from a thread that died holding it, and repaired the store. */
  repairs: number;
}

/** Where a compaction has got to: enough to resume it after its thread died. */
interface CompactionProgress {
  read: number;
  write: number;
  /** Bytes of the record at `read` already copied to `write` (0 between records). */
  copied: number;
  /** That record's size, kept because its header may already be overwritten. */
  size: number;
}

/** Where the store reports its writes, inside its critical section (durability/wal.ts fits). Returns a sequence number. */
export interface WriteLog {
  appendSet(key: string, value: string): number;
  appendDelete(key: string): number;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export class SharedStore {
  readonly buffer: SharedArrayBuffer;
  private readonly header: Int32Array;
  private readonly slots: Int32Array;
  private readonly slotHashes: Uint32Array;
  private readonly heap: Buffer;
  private readonly heapWords: Uint32Array;
  private readonly slotMask: number;
  private readonly mutex: SharedMutex;
  /** Set by a server with a data directory: every write is appended here before it takes effect. */
  writeLog?: WriteLog;
  /** The sequence number of this thread's latest logged write (0 before any). */
  lastWriteSeq = 0;

  /** Creates a fresh store of `megabytes` MiB (the whole shared buffer). */
  static create(megabytes: number): SharedStore {
    if (!(megabytes > 0 && megabytes <= MAX_STORE_MB))
      throw new RangeError(`store size must be more than 0 and at most ${MAX_STORE_MB} MiB, got ${megabytes}`);
    const bytes = Math.max(MIN_STORE_BYTES, Math.floor(megabytes * 1024 * 1024) & ~7);
    const buffer = new SharedArrayBuffer(bytes);
    const header = new Int32Array(buffer, 0, HEADER_INTS);
    header[H_SLOTS] = slotCountFor(bytes);
    return new SharedStore(buffer);
  }

  /** Attaches to a store another thread created. */
  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.header = new Int32Array(buffer, 0, HEADER_INTS);
    const slotCount = this.header[H_SLOTS];
    this.slotMask = slotCount - 1;
    let offset = HEADER_INTS * 4;
    this.slots = new Int32Array(buffer, offset, slotCount);
    offset += slotCount * 4;
    this.slotHashes = new Uint32Array(buffer, offset, slotCount);
    offset += slotCount * 4;
    this.heap = Buffer.from(buffer, offset, buffer.byteLength - offset);
    this.heapWords = new Uint32Array(buffer, offset, this.heap.length >>> 2);
    this.mutex = new SharedMutex(this.header, H_LOCK, () => this.repair());
  }

  get(key: string): string | undefined {
    return this.critical(() => {
      const slot = this.findSlot(key, hashOf(key));
      return slot < 0 ? undefined : this.valueAt(this.slots[slot] - 1);
    });
  }

  set(key: string, value: string): void {
    this.critical(() => this.put(key, value));
  }

  /** Removes `key`; answers whether it was there. */
  delete(key: string): boolean {
    return this.critical(() => {
      const slot = this.findSlot(key, hashOf(key));
      if (slot < 0) return false;
      if (this.writeLog) this.lastWriteSeq = this.writeLog.appendDelete(key);
      this.removeAt(slot);
      return true;
    });
  }

  /** Adds one to the signed 64-bit integer stored at `key` (missing = 0). */
  increment(key: string): bigint {
    return this.critical(() => {
      const slot = this.findSlot(key, hashOf(key));
      const current = slot < 0 ? 0n : parseInt64(this.valueAt(this.slots[slot] - 1));
      const next = current + 1n;
      if (next > INT64_MAX) throw new IncrementOverflowError();
      this.put(key, next.toString());
      return next;
    });
  }

  usage(): StoreUsage {
    return {
      keys: Atomics.load(this.header, H_LIVE_KEYS),
      liveBytes: Atomics.load(this.header, H_LIVE_BYTES),
      capacityBytes: this.heap.length,
      compactions: Atomics.load(this.header, H_COMPACTIONS),
      repairs: Atomics.load(this.header, H_REPAIRS),
    };
  }

  /**
   * Holds the store's lock until `action` has settled, across its awaits: for
   * stopping a thread from outside, which must never happen while that thread
   * is inside the store. The calling thread must not use the store meanwhile.
   */
  async whileLocked(action: () => Promise<unknown>): Promise<void> {
    this.mutex.lock();
    try {
      await action();
    } finally {
      this.mutex.unlock();
    }
  }

  /**
   * Runs one operation under the store's lock. Everything that reads or writes
   * the buffer goes through here, which is what makes operations atomic; tests
   * override it to show what a store without the lock gets wrong.
   */
  protected critical<T>(operation: () => T): T {
    return this.mutex.withLock(operation);
  }

  // --- everything below runs with the lock held ---

  private put(key: string, value: string): void {
    const hash = hashOf(key);
    let existing = this.findSlot(key, hash);
    const size = recordSize(key.length, value.length);
    this.ensureRoom(size, existing < 0);
    if (this.header[H_HEAP_TOP] + size > this.heap.length) {
      this.compactOrRefuse();
      existing = this.findSlot(key, hash);
    }
    if (existing < 0 && this.wouldUseEmptySlot(hash) && this.slotsInUse() + 1 > this.maxSlotsInUse()) this.clearTombstonesOrRefuse();
    // Past every refusal, before the heap changes: see `writeLog` above.
    if (this.writeLog) this.lastWriteSeq = this.writeLog.appendSet(key, value);
    const offset = this.header[H_HEAP_TOP];
    this.writeRecord(offset, hash, key, value);
    this.header[H_HEAP_TOP] = offset + size;
    if (existing >= 0) this.replaceAt(existing, offset);
    else this.claimNewSlot(hash, offset);
    this.header[H_LIVE_BYTES] += size;
  }

  /**
   * Refuses, before anything changes, a write that could not fit even after
   * compaction. The old record of an overwritten key still counts: it stays
   * live until the new one is in place.
   */
  private ensureRoom(size: number, isNewKey: boolean): void {
    if (this.header[H_LIVE_BYTES] + size > this.heap.length) throw new StoreFullError();
    if (isNewKey && this.header[H_LIVE_KEYS] + 1 > this.maxSlotsInUse()) throw new StoreFullError();
  }

  /** The heap's end is reached: compact if that wins back enough, else refuse at once. */
  private compactOrRefuse(): void {
    const dead = this.header[H_HEAP_TOP] - this.header[H_LIVE_BYTES];
    if (dead < this.heap.length * MIN_RECLAIM_FRACTION) throw new StoreFullError();
    this.compact();
  }

  /** The index is at its load limit with tombstones in it: rebuild it if that wins back enough, else refuse. */
  private clearTombstonesOrRefuse(): void {
    if (this.header[H_TOMBSTONES] < this.slots.length * MIN_RECLAIM_FRACTION) throw new StoreFullError();
    this.rebuildIndex({ resolveDuplicates: false });
  }

  /** Points an existing key's slot at its new record, then lets the old one die. */
  private replaceAt(slot: number, offset: number): void {
    const old = this.slots[slot] - 1;
    this.slots[slot] = offset + 1;
    this.markDead(old);
  }

  private removeAt(slot: number): void {
    this.markDead(this.slots[slot] - 1);
    this.header[H_LIVE_KEYS] -= 1;
    this.slots[slot] = TOMBSTONE;
    this.header[H_TOMBSTONES] += 1;
  }

  private markDead(offset: number): void {
    this.heapWords[(offset >>> 2) + 3] |= FLAG_DEAD;
    this.header[H_LIVE_BYTES] -= this.recordSizeAt(offset);
  }

  private findSlot(key: string, hash: number): number {
    for (let slot = hash & this.slotMask; ; slot = (slot + 1) & this.slotMask) {
      const entry = this.slots[slot];
      if (entry === EMPTY) return -1;
      if (entry !== TOMBSTONE && this.slotHashes[slot] === hash && this.keyAt(entry - 1) === key) return slot;
    }
  }

  /** The first free slot on a hash's probe path: an empty one, or a tombstone to reuse. */
  private freeSlotFor(hash: number): number {
    let slot = hash & this.slotMask;
    while (this.slots[slot] > 0) slot = (slot + 1) & this.slotMask;
    return slot;
  }

  private wouldUseEmptySlot(hash: number): boolean {
    return this.slots[this.freeSlotFor(hash)] === EMPTY;
  }

  private claimNewSlot(hash: number, offset: number): void {
    this.claimSlot(hash, offset);
    this.header[H_LIVE_KEYS] += 1;
  }

  private claimSlot(hash: number, offset: number): void {
    const slot = this.freeSlotFor(hash);
    if (this.slots[slot] === TOMBSTONE) this.header[H_TOMBSTONES] -= 1;
    this.slots[slot] = offset + 1;
    this.slotHashes[slot] = hash;
  }

  /** Slides live records over dead ones, then rebuilds the index without tombstones. */
  private compact(): void {
    this.saveProgress({ read: 0, write: 0, copied: 0, size: 0 });
    Atomics.store(this.header, H_COMPACTING, 1);
    this.slideLiveRecords(this.loadProgress());
    this.rebuildIndex({ resolveDuplicates: false });
    this.header[H_COMPACTIONS] += 1;
  }

  /**
   * Moves every live record down to the next free byte, from `progress` on.
   * Progress is saved after every step, and every step can be redone: a record
   * is copied in pieces no longer than the gap between its old and new place,
   * so no piece overwrites bytes that a later piece still has to read.
   */
  private slideLiveRecords(progress: CompactionProgress): void {
    const end = this.header[H_HEAP_TOP];
    let { read, write, copied } = progress;
    while (read < end) {
      const resuming = copied > 0;
      const size = resuming ? progress.size : this.recordSizeAt(read);
      const live = resuming || (this.heapWords[(read >>> 2) + 3] & FLAG_DEAD) === 0;
      if (live && write !== read) this.moveRecord(read, write, size, copied);
      if (live) write += size;
      read += size;
      copied = 0;
      this.saveProgress({ read, write, copied: 0, size: 0 });
    }
    this.header[H_HEAP_TOP] = write;
    Atomics.store(this.header, H_COMPACTING, 0);
  }

  private moveRecord(read: number, write: number, size: number, alreadyCopied: number): void {
    const gap = read - write;
    for (let copied = alreadyCopied; copied < size;) {
      const length = Math.min(gap, size - copied);
      this.heap.copyWithin(write + copied, read + copied, read + copied + length);
      copied += length;
      if (copied < size) this.saveProgress({ read, write, copied, size });
    }
  }

  /** Writes progress into the slot not in use, then makes it current with one atomic store. */
  private saveProgress(progress: CompactionProgress): void {
    const next = 1 - Atomics.load(this.header, H_PROGRESS_SLOT);
    const base = H_PROGRESS + next * PROGRESS_INTS;
    this.header[base] = progress.read;
    this.header[base + 1] = progress.write;
    this.header[base + 2] = progress.copied;
    this.header[base + 3] = progress.size;
    Atomics.store(this.header, H_PROGRESS_SLOT, next);
  }

  private loadProgress(): CompactionProgress {
    const base = H_PROGRESS + Atomics.load(this.header, H_PROGRESS_SLOT) * PROGRESS_INTS;
    const [read, write, copied, size] = this.header.subarray(base, base + PROGRESS_INTS);
    return { read, write, copied, size };
  }

  /**
   * Rebuilds the index and the counters from the heap, oldest record first.
   * After a thread died mid-write the heap may hold a key twice (the new
   * record written, the old one not yet marked dead): with
   * `resolveDuplicates`, the later record wins and the earlier one is marked
   * dead. A compaction never leaves duplicates, so it skips that check.
   */
  private rebuildIndex({ resolveDuplicates }: { resolveDuplicates: boolean }): void {
    this.slots.fill(EMPTY);
    this.header[H_TOMBSTONES] = 0;
    let keys = 0;
    let liveBytes = 0;
    const end = this.header[H_HEAP_TOP];
    for (let offset = 0; offset < end; offset += this.recordSizeAt(offset)) {
      if (!this.isWholeRecordAt(offset, end)) {
        // Only a bug can leave this; keep what comes before rather than loop or fail.
        this.header[H_HEAP_TOP] = offset;
        break;
      }
      if ((this.heapWords[(offset >>> 2) + 3] & FLAG_DEAD) !== 0) continue;
      const hash = this.heapWords[offset >>> 2];
      const earlier = resolveDuplicates ? this.findSlot(this.keyAt(offset), hash) : -1;
      if (earlier >= 0) {
        const old = this.slots[earlier] - 1;
        this.heapWords[(old >>> 2) + 3] |= FLAG_DEAD;
        liveBytes -= this.recordSizeAt(old);
        this.slots[earlier] = offset + 1;
      } else {
        this.claimSlot(hash, offset);
        keys += 1;
      }
      liveBytes += this.recordSizeAt(offset);
    }
    this.header[H_LIVE_KEYS] = keys;
    this.header[H_LIVE_BYTES] = liveBytes;
  }

  /**
   * Called by the lock, with the lock held, when the thread that held it
   * before died: finishes its compaction if it was in one, then trusts only
   * the heap and rebuilds everything else from it.
   */
  private repair(): void {
    if (Atomics.load(this.header, H_COMPACTING) !== 0) this.slideLiveRecords(this.loadProgress());
    this.rebuildIndex({ resolveDuplicates: true });
    this.header[H_REPAIRS] += 1;
  }

  private writeRecord(offset: number, hash: number, key: string, value: string): void {
    const word = offset >>> 2;
    this.heapWords[word] = hash;
    this.heapWords[word + 1] = key.length;
    this.heapWords[word + 2] = value.length;
    this.heapWords[word + 3] = 0;
    this.heap.write(key, offset + RECORD_HEADER_BYTES, 'latin1');
    this.heap.write(value, offset + RECORD_HEADER_BYTES + key.length, 'latin1');
  }

  private keyAt(offset: number): string {
    const start = offset + RECORD_HEADER_BYTES;
    return this.heap.toString('latin1', start, start + this.heapWords[(offset >>> 2) + 1]);
  }

  private valueAt(offset: number): string {
    const start = offset + RECORD_HEADER_BYTES + this.heapWords[(offset >>> 2) + 1];
    return this.heap.toString('latin1', start, start + this.heapWords[(offset >>> 2) + 2]);
  }

  private isWholeRecordAt(offset: number, end: number): boolean {
    const size = this.recordSizeAt(offset);
    return offset + RECORD_HEADER_BYTES <= end && size >= RECORD_HEADER_BYTES && offset + size <= end;
  }

  private recordSizeAt(offset: number): number {
    const word = offset >>> 2;
    return recordSize(this.heapWords[word + 1], this.heapWords[word + 2]);
  }

  private slotsInUse(): number {
    return this.header[H_LIVE_KEYS] + this.header[H_TOMBSTONES];
  }

  private maxSlotsInUse(): number {
    return Math.floor(this.slots.length * MAX_LOAD);
  }
}

function recordSize(keyLength: number, valueLength: number): number {
  return (RECORD_HEADER_BYTES + keyLength + valueLength + 3) & ~3;
}

/** One index slot (8 bytes) per 64 bytes of store: the index takes an eighth. */
function slotCountFor(bytes: number): number {
  let slots = 1;
  while (slots * 2 * 64 <= bytes) slots *= 2;
  return slots;
}

/** FNV-1a over the key's bytes: short, well known, good enough for a hash table. */
function hashOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Only the canonical decimal form counts as an integer, as in Redis: no
 * leading zeros, no "-0", no sign on zero, at most 19 digits. So a value INCR
 * accepts is the value it would itself have written.
 */
function parseInt64(text: string): bigint {
  if (!/^(0|-?[1-9]\d{0,18})$/.test(text)) throw new NotAnIntegerError();
  const value = BigInt(text);
  if (value < INT64_MIN || value > INT64_MAX) throw new NotAnIntegerError();
  return value;
}
