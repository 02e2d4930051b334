// Specification of the shared store under real worker threads: the lock makes
// every operation atomic, so no increment is lost, no read sees half a write,
// and a store filled from many threads at once stays within its buffer and
// keeps every write it acknowledged.
//
// Worker threads run JavaScript, not TypeScript, so each thread imports the
// compiled store from dist/ (the test command builds it first) and runs a few
// lines of plain JavaScript given here as text. All threads of a test wait at
// a gate and start together, so that they really contend for the lock.

import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SharedStore } from './store.js';

const STORE_MODULE = new URL('../../dist/servers/store/store.js', import.meta.url).href;

/** What every thread does around its part: attach to the store, wait at the gate, run, report. */
const THREAD_PRELUDE = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.storeModule).then((lib) => {
  const store = new lib.SharedStore(workerData.storeBuffer);
  const gate = new Int32Array(workerData.gate);
  parentPort.postMessage({ ready: true });
  Atomics.wait(gate, 0, 0);
  const part = (/* PART */);
  parentPort.postMessage({ result: part(store, workerData.input, lib, gate) });
});
`;

/**
 * Runs `part` (JavaScript source of `(store, input, lib, gate) => result`) on
 * one thread per input, all started at once, and resolves with their results.
 */
async function onThreads<T>(store: SharedStore, part: string, inputs: unknown[]): Promise<T[]> {
  const gate = new Int32Array(new SharedArrayBuffer(16));
  const code = THREAD_PRELUDE.replace('/* PART */', () => part);
  const workers = inputs.map(
    (input) => new Worker(code, { eval: true, workerData: { storeModule: STORE_MODULE, storeBuffer: store.buffer, gate: gate.buffer, input } }),
  );
  try {
    const results = workers.map(
      (worker) =>
        new Promise<T>((resolve, reject) => {
          worker.on('message', (message: { ready?: true; result?: T }) => {
            if (!message.ready) resolve(message.result as T);
          });
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`thread exited with ${code} before reporting`)));
        }),
    );
    await Promise.all(
      workers.map((worker) => new Promise<void>((resolve) => worker.on('message', (message: { ready?: true }) => message.ready && resolve()))),
    );
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    return await Promise.all(results);
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

describe('SharedStore under worker threads', () => {
  it('loses no INCR: four threads each incrementing one key 5,000 times leave it at 20,000, each value handed out once', async () => {
    const store = SharedStore.create(1);
    const threads = 4;
    const perThread = 5_000;
    const part = `(store, input) => {
      const seen = [];
      for (let i = 0; i < input.count; i++) seen.push(Number(store.increment('counter')));
      return seen;
    }`;
    const results = await onThreads<number[]>(store, part, Array(threads).fill({ count: perThread }));
    expect(store.get('counter')).toBe(String(threads * perThread));
    const handedOut = results.flat().sort((a, b) => a - b);
    expect(handedOut).toEqual(Array.from({ length: threads * perThread }, (_, i) => i + 1));
    // Each thread saw its own increments in increasing order.
    for (const seen of results) expect(seen.every((value, i) => i === 0 || value > seen[i - 1])).toBe(true);
  });

  it('loses no INCR while another thread churns large values and forces compactions', async () => {
    const store = SharedStore.create(1);
    const part = `(store, input) => {
      if (input.churn) {
        for (let i = 0; i < 400; i++) store.set('churn' + (i % 5), String.fromCharCode(97 + (i % 26)).repeat(30000 + i));
        return 0;
      }
      for (let i = 0; i < 3000; i++) store.increment('counter');
      return 3000;
    }`;
    const results = await onThreads<number>(store, part, [{ churn: false }, { churn: false }, { churn: true }]);
    // 400 writes of 30 kB each are twelve times the 1 MiB store: it compacted many times meanwhile.
    expect(store.get('counter')).toBe(String(results[0] + results[1]));
  });

  it('never lets a reader see a torn value while writers on other threads overwrite it', async () => {
    const store = SharedStore.create(4);
    store.set('stable', 'unchanged');
    const part = `(store, input, lib, gate) => {
      if (input.writer) {
        for (let i = 0; i < 300; i++) {
          const fill = String.fromCharCode(97 + ((i * 7 + input.writer) % 26));
          store.set('big', fill.repeat(40000 + ((i * 131) % 17) * 1000));
        }
        Atomics.add(gate, 1, 1);
        return { reads: 0, torn: [] };
      }
      let reads = 0;
      const torn = [];
      while (Atomics.load(gate, 1) < input.writers && reads < 20000) {
        const value = store.get('big');
        reads++;
        if (value === undefined) continue;
        const lengthOk = value.length >= 40000 && value.length <= 56000 && value.length % 1000 === 0;
        if (!lengthOk || value !== value[0].repeat(value.length)) torn.push(value.length);
        if (store.get('stable') !== 'unchanged') torn.push('stable');
      }
      return { reads, torn };
    }`;
    const results = await onThreads<{ reads: number; torn: unknown[] }>(store, part, [{ writer: 1 }, { writer: 2 }, { writers: 2 }, { writers: 2 }]);
    const readers = results.slice(2);
    expect(readers.flatMap((reader) => reader.torn)).toEqual([]);
    expect(readers.reduce((sum, reader) => sum + reader.reads, 0)).toBeGreaterThan(50);
  });

  it('stays within the MiB it was given when threads fill it at once, and keeps every write it acknowledged', async () => {
    const store = SharedStore.create(1);
    const part = `(store, input, lib) => {
      const kept = [];
      for (let i = 0; ; i++) {
        const key = input.prefix + i;
        try {
          store.set(key, key.padEnd(500, '.'));
          kept.push(key);
        } catch (error) {
          if (error instanceof lib.StoreFullError) return kept;
          throw error;
        }
      }
    }`;
    const results = await onThreads<string[]>(
      store,
      part,
      ['a', 'b', 'c', 'd'].map((prefix) => ({ prefix })),
    );
    expect(store.buffer.byteLength).toBe(1024 * 1024);
    const kept = results.flat();
    expect(kept.length).toBeGreaterThan(1000);
    for (const key of kept) expect(store.get(key)).toBe(key.padEnd(500, '.'));
    const usage = store.usage();
    expect(usage.keys).toBe(kept.length);
    expect(usage.liveBytes).toBeLessThanOrEqual(usage.capacityBytes);
    // Nearly full: every thread stopped because the store was, not for any other reason.
    expect(usage.liveBytes).toBeGreaterThan(usage.capacityBytes - 600);
  });
});

/** Starts a thread that takes the store's lock, says so, and then holds it for `holdMs` (or for ever) without a `finally`. */
async function threadHoldingTheLock(store: SharedStore, holdMs: number | 'for ever'): Promise<Worker> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.storeModule).then((lib) => {
      const store = new lib.SharedStore(workerData.storeBuffer);
      store.mutex.lock();
      parentPort.postMessage('holding');
      const until = workerData.holdMs === 'for ever' ? Infinity : Date.now() + workerData.holdMs;
      while (Date.now() < until) {}
      store.mutex.unlock();
    });`;
  const worker = new Worker(code, { eval: true, workerData: { storeModule: STORE_MODULE, storeBuffer: store.buffer, holdMs } });
  await new Promise((resolve) => worker.once('message', resolve));
  return worker;
}

describe('SharedStore when the thread holding its lock dies', () => {
  it('lets the next thread take the lock over from a thread terminated inside it, repair, and go on', async () => {
    const store = SharedStore.create(1);
    store.set('kept', 'before');
    const holder = await threadHoldingTheLock(store, 'for ever');
    await holder.terminate();
    const started = performance.now();
    expect(store.get('kept')).toBe('before');
    store.set('after', 'works');
    expect(store.get('after')).toBe('works');
    expect(store.usage()).toMatchObject({ keys: 2, repairs: 1 });
    // It waited about one holder check (100 ms), not for ever.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('waits for a live thread that holds the lock for a long time, and takes nothing over from it', async () => {
    const store = SharedStore.create(1);
    const holder = await threadHoldingTheLock(store, 400);
    const started = performance.now();
    store.set('waited', 'yes');
    expect(performance.now() - started).toBeGreaterThan(200);
    expect(store.usage().repairs).toBe(0);
    await holder.terminate();
  });
});
