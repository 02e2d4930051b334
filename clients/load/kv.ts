// Values that say who wrote them, so every GET can be checked.
//
// Many connections (and threads) of one run write the same keys at once, so a
// GET may legitimately return any value this run wrote for that key, not just
// the last one this connection wrote. Each SET therefore writes a value that
// names its run, key and version, and versions are handed out from one counter
// per key shared by all threads (a SharedArrayBuffer). A GET's value is
// accepted when it parses, belongs to this run and key, carries a version this
// run has already handed out, and is byte for byte the value that version
// stands for. A lost write, a value from another key, a truncated or corrupted
// value, or a leftover from an earlier run all fail the check.
//
// This checks that answers are values we wrote, not that the store is
// linearizable (an old version after a newer one was acknowledged would pass);
// the core's own tests pin that down.
//
// Simplification: a value needs room for its header (run tag, key, version:
// about 15 bytes), so values shorter than that are padded to it.

export class KvSpace {
  private readonly versions: Int32Array;
  private readonly filler: string;

  constructor(
    readonly keys: number,
    readonly size: number,
    readonly runTag: string,
    shared: SharedArrayBuffer,
  ) {
    this.versions = new Int32Array(shared);
    this.filler = 'v'.repeat(size);
  }

  /** Memory for the per-key version counters, to share between threads. */
  static allocate(keys: number): SharedArrayBuffer {
    return new SharedArrayBuffer(keys * Int32Array.BYTES_PER_ELEMENT);
  }

  /** Hand out the next version of `key` (the first is 1) and return its value. */
  nextValue(key: number): string {
    const version = Atomics.add(this.versions, key, 1) + 1;
    return this.valueOf(key, version);
  }

  /** The exact value that version `version` of `key` stands for. */
  valueOf(key: number, version: number): string {
    const header = `${this.runTag}.${key.toString(36)}.${version.toString(36)}.`;
    return header.length >= this.size ? header : header + this.filler.slice(header.length);
  }

  /** Whether `value` is one this run wrote for `key`. */
  isValueWrittenFor(key: number, value: string): boolean {
    const parts = value.split('.', 3);
    if (parts.length < 3 || parts[0] !== this.runTag || parts[1] !== key.toString(36)) return false;
    const version = parseInt(parts[2], 36);
    if (!(version >= 1 && version <= Atomics.load(this.versions, key))) return false;
    return value === this.valueOf(key, version);
  }
}

/** A short random tag that tells this run's values from any earlier run's. */
export function newRunTag(): string {
  return Math.random().toString(36).slice(2, 8).padEnd(6, '0');
}
