// Specification of the shared store on one thread: what it keeps, what it
// refuses when full, and that compaction never loses or mixes up live data.
// (store-threads.test.ts holds it to the same promises under real threads.)

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IncrementOverflowError, NotAnIntegerError, SharedStore, StoreFullError } from './store.js';

const MiB = 1024 * 1024;
/** The smallest store there is: 64 KiB, of which an eighth is index. */
const SMALLEST_MB = 64 / 1024;

/**
 * Bytes one entry takes in the heap, as the store's layout describes it: a
 * 16-byte record header, then key and value, padded to 4 bytes. `usage()`
 * reports live bytes in these terms, and a SET is refused exactly when they
 * would pass the capacity.
 */
function recordBytes(key: string, value: string): number {
  return (16 + key.length + value.length + 3) & ~3;
}

function refusesAsFull(write: () => unknown): boolean {
  try {
    write();
    return false;
  } catch (error) {
    if (error instanceof StoreFullError) return true;
    throw error;
  }
}

describe('SharedStore basics', () => {
  it('returns what was set, undefined for a missing key, and the latest value after an overwrite', () => {
    const store = SharedStore.create(1);
    expect(store.get('a')).toBeUndefined();
    store.set('a', 'one');
    store.set('b', 'two');
    expect(store.get('a')).toBe('one');
    store.set('a', 'three');
    expect(store.get('a')).toBe('three');
    expect(store.get('b')).toBe('two');
  });

  it('deletes a key, reporting whether it was there', () => {
    const store = SharedStore.create(1);
    store.set('a', 'one');
    expect(store.delete('a')).toBe(true);
    expect(store.get('a')).toBeUndefined();
    expect(store.delete('a')).toBe(false);
    store.set('a', 'again');
    expect(store.get('a')).toBe('again');
  });

  it('keeps every byte of binary keys and values, including NUL, 0xFF and the empty value', () => {
    const store = SharedStore.create(1);
    const everyByte = String.fromCharCode(...Array.from({ length: 256 }, (_, b) => b));
    store.set(everyByte, everyByte);
    store.set('\x00', '');
    store.set('\x00\x00', '\xff');
    expect(store.get(everyByte)).toBe(everyByte);
    expect(store.get('\x00')).toBe('');
    expect(store.get('\x00\x00')).toBe('\xff');
    expect(store.get('\x00\x00\x00')).toBeUndefined();
  });

  it('tells keys apart that share a hash bucket or a prefix', () => {
    const store = SharedStore.create(SMALLEST_MB);
    const keys = Array.from({ length: 500 }, (_, i) => `k${i}`).concat(['k', 'k1\x00', 'K1']);
    keys.forEach((key, i) => store.set(key, `v${i}`));
    keys.forEach((key, i) => expect(store.get(key)).toBe(`v${i}`));
  });

  it('increments a signed 64-bit integer, treating a missing key as 0', () => {
    const store = SharedStore.create(1);
    expect(store.increment('n')).toBe(1n);
    expect(store.increment('n')).toBe(2n);
    expect(store.get('n')).toBe('2');
    store.set('text', 'abc');
    expect(() => store.increment('text')).toThrow(NotAnIntegerError);
    store.set('max', '9223372036854775807');
    expect(() => store.increment('max')).toThrow(IncrementOverflowError);
    expect(store.get('max')).toBe('9223372036854775807');
  });

  it('shows the same data to a second view attached to the same buffer', () => {
    const store = SharedStore.create(1);
    const other = new SharedStore(store.buffer);
    store.set('shared', 'yes');
    expect(other.get('shared')).toBe('yes');
    other.increment('count');
    expect(store.get('count')).toBe('1');
  });

  it('reports its keys and the heap bytes they take, and a capacity inside the buffer', () => {
    const store = SharedStore.create(1);
    const empty = store.usage();
    expect(empty).toEqual({ keys: 0, liveBytes: 0, capacityBytes: empty.capacityBytes, compactions: 0, repairs: 0 });
    expect(empty.capacityBytes).toBeGreaterThan(0.8 * MiB);
    expect(empty.capacityBytes).toBeLessThan(MiB);
    store.set('a', 'x'.repeat(100));
    store.set('bb', 'y');
    expect(store.usage()).toEqual({ ...empty, keys: 2, liveBytes: recordBytes('a', 'x'.repeat(100)) + recordBytes('bb', 'y') });
    store.set('a', 'short');
    expect(store.usage().liveBytes).toBe(recordBytes('a', 'short') + recordBytes('bb', 'y'));
    store.delete('a');
    store.delete('bb');
    expect(store.usage()).toEqual(empty);
  });
});

describe('SharedStore size', () => {
  it('is exactly the size asked for, in MiB: the store never grows past it', () => {
    expect(SharedStore.create(1).buffer.byteLength).toBe(MiB);
    expect(SharedStore.create(3).buffer.byteLength).toBe(3 * MiB);
    expect(SharedStore.create(0.5).buffer.byteLength).toBe(MiB / 2);
  });

  it('is never smaller than 64 KiB, however small a positive size asked for', () => {
    expect(SharedStore.create(0.001).buffer.byteLength).toBe(64 * 1024);
    expect(SharedStore.create(0.01).buffer.byteLength).toBe(64 * 1024);
  });

  it('refuses a size of zero or less instead of guessing one', () => {
    expect(() => SharedStore.create(0)).toThrow(RangeError);
    expect(() => SharedStore.create(-1)).toThrow(RangeError);
  });

  // Offsets and counters in the header are int32, so 2 GiB and up cannot be addressed.
  it('refuses, rather than silently shrinking, a size of 2 GiB or more that its int32 offsets cannot address', () => {
    expect(() => SharedStore.create(2048)).toThrow();
    expect(() => SharedStore.create(4096)).toThrow();
  });
});

describe('SharedStore when full', () => {
  it('refuses with store full a SET that does not fit, and keeps every earlier key with its value', () => {
    const store = SharedStore.create(SMALLEST_MB);
    const value = (i: number) => `${i}:`.padEnd(1000, String.fromCharCode(97 + (i % 26)));
    let stored = 0;
    while (!refusesAsFull(() => store.set(`key${stored}`, value(stored)))) stored++;
    expect(stored).toBeGreaterThan(40);
    const before = store.usage();
    expect(store.get(`key${stored}`)).toBeUndefined();
    for (let i = 0; i < stored; i++) expect(store.get(`key${i}`)).toBe(value(i));
    // Refusing again changes nothing either.
    expect(refusesAsFull(() => store.set('another', value(0)))).toBe(true);
    expect(store.usage()).toEqual(before);
  });

  it('when full of live data, refuses an overwrite at once and keeps the old value: the new record needs room beside the old', () => {
    const store = SharedStore.create(SMALLEST_MB);
    let stored = 0;
    while (!refusesAsFull(() => store.set(`key${stored}`, 'a'.repeat(1000)))) stored++;
    expect(refusesAsFull(() => store.set('key0', 'b'.repeat(1000)))).toBe(true);
    expect(store.get('key0')).toBe('a'.repeat(1000));
    expect(store.usage().compactions).toBe(0);
  });

  it('overwrites in a full heap once a sixteenth of it is dead, compacting once to make room for many writes', () => {
    const store = SharedStore.create(SMALLEST_MB);
    let stored = 0;
    while (!refusesAsFull(() => store.set(`key${stored}`, 'a'.repeat(1000)))) stored++;
    const { capacityBytes } = store.usage();
    const freed = Math.ceil(capacityBytes / 16 / recordBytes('key00', 'a'.repeat(1000)));
    for (let i = 0; i < freed; i++) store.delete(`key${i}`);
    for (let i = freed; i < freed + 3; i++) store.set(`key${i}`, 'b'.repeat(1000));
    store.set(`key${freed + 3}`, 'small');
    expect(store.usage().compactions).toBe(1);
    expect(store.get(`key${freed}`)).toBe('b'.repeat(1000));
    expect(store.get(`key${freed + 3}`)).toBe('small');
    expect(store.get(`key${stored - 1}`)).toBe('a'.repeat(1000));
  });

  it('when full, refuses to grow a key past what fits and keeps its old value', () => {
    const store = SharedStore.create(SMALLEST_MB);
    let stored = 0;
    while (!refusesAsFull(() => store.set(`key${stored}`, 'a'.repeat(1000)))) stored++;
    expect(refusesAsFull(() => store.set('key3', 'c'.repeat(20_000)))).toBe(true);
    expect(store.get('key3')).toBe('a'.repeat(1000));
    expect(store.usage().keys).toBe(stored);
  });

  it('refuses an INCR that would need a new key in a full store, and keeps the rest', () => {
    const store = SharedStore.create(SMALLEST_MB);
    let stored = 0;
    while (!refusesAsFull(() => store.set(`key${stored}`, 'a'.repeat(1000)))) stored++;
    // Top the heap up to its last bytes so that not even a counter fits.
    let filler = 0;
    while (!refusesAsFull(() => store.set(`f${filler}`, ''))) filler++;
    expect(() => store.increment('counter')).toThrow(StoreFullError);
    expect(store.get('counter')).toBeUndefined();
    expect(store.get('key0')).toBe('a'.repeat(1000));
  });

  it('makes room again when keys are deleted', () => {
    const store = SharedStore.create(SMALLEST_MB);
    let stored = 0;
    while (!refusesAsFull(() => store.set(`key${stored}`, 'a'.repeat(1000)))) stored++;
    for (let i = 0; i < 10; i++) store.delete(`key${i}`);
    for (let i = 0; i < 10; i++) store.set(`new${i}`, 'n'.repeat(1000));
    for (let i = 0; i < 10; i++) expect(store.get(`new${i}`)).toBe('n'.repeat(1000));
    for (let i = 10; i < stored; i++) expect(store.get(`key${i}`)).toBe('a'.repeat(1000));
  });

  it('refuses a new key once its index is three quarters full, but still overwrites and deletes', () => {
    const store = SharedStore.create(SMALLEST_MB);
    let keys = 0;
    while (!refusesAsFull(() => store.set(`${keys}`, ''))) keys++;
    // 64 KiB of store has 1024 index slots: at most 768 in use.
    expect(keys).toBe(768);
    expect(store.usage().liveBytes).toBeLessThan(store.usage().capacityBytes / 2);
    store.set('0', 'overwritten');
    expect(store.get('0')).toBe('overwritten');
    expect(store.delete('1')).toBe(true);
    for (let i = 2; i < keys; i++) expect(store.get(`${i}`)).toBe('');
  });

  it('lets new keys into a full index again once deletes leave tombstones worth clearing (a sixteenth of its slots)', () => {
    const store = SharedStore.create(SMALLEST_MB);
    let keys = 0;
    while (!refusesAsFull(() => store.set(`${keys}`, ''))) keys++;
    const deleted = 192;
    for (let i = 0; i < deleted; i++) expect(store.delete(`${i}`)).toBe(true);
    for (let i = 0; i < deleted; i++) store.set(`fresh${i}`, 'fits again');
    expect(store.usage().keys).toBe(768);
    for (let i = deleted; i < keys; i++) expect(store.get(`${i}`)).toBe('');
    for (let i = 0; i < deleted; i++) expect(store.get(`fresh${i}`)).toBe('fits again');
  });

  it('pays for an overwrite on a full index about what it pays on a half-full one: no compaction per write', () => {
    const costOfOverwrites = (fill: number) => {
      const store = SharedStore.create(1);
      for (let i = 0; i < fill; i++) store.set(`k${i}`, 'v');
      const started = performance.now();
      for (let round = 0; round < 2000; round++) store.set(`k${round % 50}`, `${round}`);
      return { ms: performance.now() - started, compactions: store.usage().compactions };
    };
    // 1 MiB of store has 16,384 index slots, 12,288 of them usable: fill them all.
    const full = costOfOverwrites(12_288);
    const half = costOfOverwrites(6_144);
    expect(full.compactions).toBe(0);
    expect(full.ms).toBeLessThan(Math.max(10 * half.ms, 20));
  });
});

describe('SharedStore compaction', () => {
  it('reclaims the space of overwritten values: writing a hundred times its capacity never fills it', () => {
    const store = SharedStore.create(SMALLEST_MB);
    const keys = 20;
    const rounds = 300;
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < keys; k++) store.set(`k${k}`, `${round}:`.padEnd(1000 + ((round * 7 + k) % 50), 'v'));
    }
    expect(rounds * keys * 1000).toBeGreaterThan(90 * store.usage().capacityBytes);
    for (let k = 0; k < keys; k++) expect(store.get(`k${k}`)).toBe(`${rounds - 1}:`.padEnd(1000 + (((rounds - 1) * 7 + k) % 50), 'v'));
  });

  it('clears the tombstones deleted keys leave: ten thousand keys can come and go through a 768-key index', () => {
    const store = SharedStore.create(SMALLEST_MB);
    store.set('resident', 'stays');
    for (let i = 0; i < 10_000; i++) {
      store.set(`temp${i}`, `${i}`);
      if (i >= 100) expect(store.delete(`temp${i - 100}`)).toBe(true);
    }
    expect(store.usage().keys).toBe(101);
    expect(store.get('resident')).toBe('stays');
    for (let i = 9_900; i < 10_000; i++) expect(store.get(`temp${i}`)).toBe(`${i}`);
    expect(store.get('temp9899')).toBeUndefined();
  });

  it('agrees with a Map under any sequence of sets, deletes and increments, refusing only writes that do not fit with room to spare', () => {
    type Op =
      | { kind: 'set'; key: number; length: number; fill: number }
      | { kind: 'delete'; key: number }
      | { kind: 'increment'; key: number }
      | { kind: 'get'; key: number };
    const key = fc.integer({ min: 0, max: 40 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), key, length: fc.nat({ max: 3000 }), fill: fc.nat({ max: 255 }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('increment' as const), key }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('get' as const), key }) },
    );
    const keyName = (k: number) => (k % 5 === 0 ? `\x00bin\xff${k}` : `key:${k}`);

    fc.assert(
      fc.property(fc.array(op, { minLength: 50, maxLength: 800, size: 'max' }), (ops) => {
        const store = SharedStore.create(SMALLEST_MB);
        const { capacityBytes } = store.usage();
        const model = new Map<string, string>();
        let modelBytes = 0;
        // A write is refused when the live data, its old record included, and
        // its new record would leave less than a sixteenth of the heap free,
        // and never when they leave more than that.
        const write = (name: string, value: string, doWrite: () => void) => {
          const old = model.get(name);
          const after = modelBytes - (old === undefined ? 0 : recordBytes(name, old)) + recordBytes(name, value);
          const refused = refusesAsFull(doWrite);
          if (after > capacityBytes) expect(refused).toBe(true);
          if (modelBytes + recordBytes(name, value) <= (capacityBytes * 15) / 16) expect(refused).toBe(false);
          if (refused) return;
          model.set(name, value);
          modelBytes = after;
        };
        ops.forEach((step, index) => {
          const name = keyName(step.key);
          switch (step.kind) {
            case 'set': {
              const value = `${index}:${String.fromCharCode(step.fill).repeat(step.length)}`;
              write(name, value, () => store.set(name, value));
              break;
            }
            case 'delete': {
              const old = model.get(name);
              expect(store.delete(name)).toBe(old !== undefined);
              if (old !== undefined) modelBytes -= recordBytes(name, old);
              model.delete(name);
              break;
            }
            case 'increment': {
              const old = model.get(name);
              if (old !== undefined && !/^-?\d{1,19}$/.test(old)) {
                expect(() => store.increment(name)).toThrow(NotAnIntegerError);
                break;
              }
              const next = `${BigInt(old ?? '0') + 1n}`;
              write(name, next, () => expect(store.increment(name)).toBe(BigInt(next)));
              break;
            }
            case 'get':
              expect(store.get(name)).toBe(model.get(name));
          }
          expect(store.usage()).toMatchObject({ keys: model.size, liveBytes: modelBytes, capacityBytes });
        });
        for (const [name, value] of model) expect(store.get(name)).toBe(value);
      }),
      { numRuns: 60 },
    );
  });
});
