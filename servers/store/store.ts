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
// and value bytes, padded to 4 bytes. Overwriting or deleting a key marks its
// old record dead; when the heap's end is reached, `compact` slides the live
// records down over the dead ones and rebuilds the index (which also clears
// the tombstones that deletes leave in a linear-probing table).
//
// Simplifications, named: one global lock rather than striped locks (the
// critical sections are short, and sharding is an exercise in docs/); a bump
// allocator with stop-the-world compaction rather than size classes (simple
// to read, and compaction is rare unless the store is nearly full of garbage).
//
// Keys and values are "binary strings": one JavaScript char per byte
// (latin1), so any bytes a client sends come back unchanged.

import { SharedMutex } from './lock.js';

const HEADER_INTS = 8;
const H_LOCK = 0;
const H_LIVE_KEYS = 1;
const H_HEAP_TOP = 2;
const H_LIVE_BYTES = 3;
const H_TOMBSTONES = 4;
const H_SLOTS = 5;

const EMPTY = 0;
const TOMBSTONE = -1;
const RECORD_HEADER_BYTES = 16;
const FLAG_DEAD = 1;
const MAX_LOAD = 0.75;
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

  /** Creates a fresh store of `megabytes` MiB (the whole shared buffer). */
  static create(megabytes: number): SharedStore {
    if (!(megabytes > 0 && megabytes <= MAX_STORE_MB)) throw new RangeError(`store size must be more than 0 and at most ${MAX_STORE_MB} MiB, got ${megabytes}`);
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
    this.mutex = new SharedMutex(this.header, H_LOCK);
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
    };
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
    const existing = this.findSlot(key, hash);
    const size = recordSize(key.length, value.length);
    const freed = existing < 0 ? 0 : this.recordSizeAt(this.slots[existing] - 1);
    this.ensureRoom(size - freed, existing < 0);
    if (existing >= 0) this.removeAt(existing);
    if (this.header[H_HEAP_TOP] + size > this.heap.length || this.slotsInUse() + 1 > this.maxSlotsInUse()) {
      this.compact();
    }
    const offset = this.header[H_HEAP_TOP];
    this.writeRecord(offset, hash, key, value);
    this.header[H_HEAP_TOP] = offset + size;
    this.claimSlot(hash, offset);
    this.header[H_LIVE_BYTES] += size;
    this.header[H_LIVE_KEYS] += 1;
  }

  /** Refuses, before anything changes, a write that could not fit even after compaction. */
  private ensureRoom(extraBytes: number, isNewKey: boolean): void {
    if (this.header[H_LIVE_BYTES] + extraBytes > this.heap.length) throw new StoreFullError();
    if (isNewKey && this.header[H_LIVE_KEYS] + 1 > this.maxSlotsInUse()) throw new StoreFullError();
  }

  private removeAt(slot: number): void {
    const offset = this.slots[slot] - 1;
    this.heapWords[(offset >>> 2) + 3] |= FLAG_DEAD;
    this.header[H_LIVE_BYTES] -= this.recordSizeAt(offset);
    this.header[H_LIVE_KEYS] -= 1;
    this.slots[slot] = TOMBSTONE;
    this.header[H_TOMBSTONES] += 1;
  }

  private findSlot(key: string, hash: number): number {
    for (let slot = hash & this.slotMask; ; slot = (slot + 1) & this.slotMask) {
      const entry = this.slots[slot];
      if (entry === EMPTY) return -1;
      if (entry !== TOMBSTONE && this.slotHashes[slot] === hash && this.keyAt(entry - 1) === key) return slot;
    }
  }

  private claimSlot(hash: number, offset: number): void {
    let slot = hash & this.slotMask;
    while (this.slots[slot] > 0) slot = (slot + 1) & this.slotMask;
    if (this.slots[slot] === TOMBSTONE) this.header[H_TOMBSTONES] -= 1;
    this.slots[slot] = offset + 1;
    this.slotHashes[slot] = hash;
  }

  /** Slides live records over dead ones and rebuilds the index without tombstones. */
  private compact(): void {
    this.slots.fill(EMPTY);
    this.header[H_TOMBSTONES] = 0;
    const end = this.header[H_HEAP_TOP];
    let write = 0;
    for (let read = 0; read < end; ) {
      const size = this.recordSizeAt(read);
      if ((this.heapWords[(read >>> 2) + 3] & FLAG_DEAD) === 0) {
        if (write !== read) this.heap.copyWithin(write, read, read + size);
        this.claimSlot(this.heapWords[write >>> 2], write);
        write += size;
      }
      read += size;
    }
    this.header[H_HEAP_TOP] = write;
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

function parseInt64(text: string): bigint {
  if (!/^-?\d{1,19}$/.test(text)) throw new NotAnIntegerError();
  const value = BigInt(text);
  if (value < INT64_MIN || value > INT64_MAX) throw new NotAnIntegerError();
  return value;
}
