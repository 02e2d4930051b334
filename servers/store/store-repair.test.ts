// Specification of what the store does when the thread inside it dies.
//
// A thread can be stopped between any two statements of a write or of a
// compaction, holding the lock. The thread that takes the lock over runs
// `repair` (lock.ts explains how it finds out). These tests stop a write at
// every step it takes, and a compaction at every step of its slide, by making
// the step throw where a real thread would simply stop, and then check that
// the repair loses nothing that was stored before, leaves the interrupted
// write either done or not done, and leaves a store that works.
//
// They call the store's internals directly (`put`, `repair`), without the
// lock, because a thread that dies never releases it: store-threads.test.ts
// shows the lock being taken over from a real thread that was terminated.

import { describe, expect, it } from 'vitest';
import { SharedStore } from './store.js';

/** Thrown where a real thread would stop dead. */
class Stopped extends Error {}

type Internals = Record<string, (...args: unknown[]) => unknown> & { heap: Buffer; header: Int32Array };
/** The header word that holds the heap's end (see store.ts). */
const H_HEAP_TOP = 2;

/** Runs `operation`, stopping it at the `stopAt`-th call (from 0) of `step`; answers how many calls there were, and whether it stopped. */
function stopDuring(object: object, step: string, stopAt: number, operation: () => void): { calls: number; stopped: boolean } {
  const target = object as Record<string, unknown>;
  const original = target[step] as (...args: unknown[]) => unknown;
  const ownBefore = Object.prototype.hasOwnProperty.call(object, step);
  let calls = 0;
  target[step] = function (this: unknown, ...args: unknown[]) {
    if (calls++ === stopAt) throw new Stopped();
    return original.apply(this, args);
  };
  try {
    operation();
    return { calls, stopped: false };
  } catch (error) {
    if (error instanceof Stopped) return { calls, stopped: true };
    throw error;
  } finally {
    if (ownBefore) target[step] = original;
    else delete target[step];
  }
}

const internals = (store: SharedStore) => store as unknown as Internals;

/**
 * A 64 KiB store laid out so that a write of `big` bytes must compact: records
 * of many sizes, small dead ones between them (so that records move in several
 * pieces), and more than a sixteenth of the heap dead. Returns the store, what
 * it must hold, and the value that does not fit at the heap's end.
 */
function storeAboutToCompact(): { store: SharedStore; expected: Map<string, string>; big: string } {
  const store = SharedStore.create(64 / 1024);
  const { heap, header } = internals(store);
  const expected = new Map<string, string>();
  const put = (key: string, value: string) => {
    store.set(key, value);
    expected.set(key, value);
  };
  for (let i = 0; header[H_HEAP_TOP] < heap.length - 3000; i++) {
    put(`key${i}`, `${i}:`.padEnd(i % 7 === 0 ? 4 : 200 + ((i * 37) % 900), String.fromCharCode(97 + (i % 26))));
    if (i % 7 === 0 && i > 0) {
      store.delete(`key${i - 7}`);
      expected.delete(`key${i - 7}`);
    }
  }
  for (let i = 1; i < 40; i += 3) if (expected.has(`key${i}`)) put(`key${i}`, `rewritten ${i}`);
  return { store, expected, big: 'n'.repeat(heap.length - header[H_HEAP_TOP] + 50) };
}

function expectHolds(store: SharedStore, expected: Map<string, string>): void {
  for (const [key, value] of expected) expect(store.get(key), key).toBe(value);
  let liveBytes = 0;
  for (const [key, value] of expected) liveBytes += (16 + key.length + value.length + 3) & ~3;
  expect(store.usage()).toMatchObject({ keys: expected.size, liveBytes });
}

describe('SharedStore repair after a thread died inside a compaction', () => {
  it('finishes the slide and loses no record, wherever the slide stopped', () => {
    const probe = storeAboutToCompact();
    const { calls } = stopDuring(probe.store, 'saveProgress', -1, () => internals(probe.store).put('incoming', probe.big));
    expect(probe.store.usage().compactions, 'the scenario compacts').toBe(1);
    expect(calls, 'records move in pieces').toBeGreaterThan(50);
    for (let stopAt = 0; stopAt < calls; stopAt++) {
      const { store, expected, big } = storeAboutToCompact();
      const { stopped } = stopDuring(store, 'saveProgress', stopAt, () => internals(store).put('incoming', big));
      expect(stopped).toBe(true);
      internals(store).repair();
      expectHolds(store, expected);
      expect(store.get('incoming')).toBeUndefined();
      store.set('incoming', big);
      expect(store.get('incoming')).toBe(big);
      expect(store.usage().repairs).toBe(1);
    }
  });

  it('redoes a piece whose copy was interrupted before its progress was saved', () => {
    const probe = storeAboutToCompact();
    const { calls } = stopDuring(internals(probe.store).heap, 'copyWithin', -1, () => internals(probe.store).put('incoming', probe.big));
    expect(calls).toBeGreaterThan(50);
    for (let stopAt = 0; stopAt < calls; stopAt++) {
      const { store, expected, big } = storeAboutToCompact();
      stopDuring(internals(store).heap, 'copyWithin', stopAt, () => internals(store).put('incoming', big));
      internals(store).repair();
      expectHolds(store, expected);
    }
  });
});

describe('SharedStore repair after a thread died inside a write', () => {
  for (const step of ['writeRecord', 'replaceAt', 'markDead', 'claimNewSlot'] as const) {
    it(`keeps every other key, and the written key either old or new, when the write stops at ${step}`, () => {
      for (const key of ['key1', 'brand-new']) {
        const { store, expected } = storeAboutToCompact();
        const old = expected.get(key);
        const { stopped } = stopDuring(store, step, 0, () => internals(store).put(key, 'short new value'));
        internals(store).repair();
        const after = store.get(key);
        if (stopped) expect([old, 'short new value']).toContain(after);
        else expect(after).toBe('short new value');
        if (after === undefined) expected.delete(key);
        else expected.set(key, after);
        expectHolds(store, expected);
      }
    });
  }
});
