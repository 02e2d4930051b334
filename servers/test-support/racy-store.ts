// A store with a deliberate race, kept to show that the linearizability check
// would catch a real one.
//
// RacyStore's INCR is the textbook lost update: it reads the counter, waits a
// little, and writes back one more than it read. Each step is a locked store
// operation, so the data structure stays sound; what is missing is a lock
// around the whole read-modify-write, which is what SharedStore.increment
// holds. Two threads that read the same value both write the same successor,
// and one increment is lost: a history in which two INCRs answer the same
// number, which no sequential store can produce.
//
// Why not simply drop the lock (override `critical`)? Then two threads can
// append to the heap at the same offset and claim two index slots for one key:
// the store is corrupted, not merely racy, and the failure is louder but
// teaches less. The race kept here is the one a careful programmer can still
// write.
//
// The experiment runs on real worker threads. Threads run JavaScript only, so
// the compiled store comes from dist/ and this file is handed to each thread
// transpiled (TypeScript's transpileModule) as a `data:` module, with its one
// import pointed at the compiled store.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SharedStore } from '../store/store.js';
import type { Operation } from './linearizability.js';

export class RacyStore extends SharedStore {
  private readonly pauseCell = new Int32Array(new SharedArrayBuffer(4));

  /** `windowMs`: how long INCR waits between its read and its write. */
  constructor(
    buffer: SharedArrayBuffer,
    private readonly windowMs = 0.2,
  ) {
    super(buffer);
  }

  override increment(key: string): bigint {
    const current = BigInt(this.get(key) ?? '0');
    Atomics.wait(this.pauseCell, 0, 0, this.windowMs);
    const next = current + 1n;
    this.set(key, `${next}`);
    return next;
  }
}

/** The compiled store. (A function: inside a thread this module's own URL is a `data:` URL, with no path to resolve from.) */
const compiledStore = () => new URL('../../dist/servers/store/store.js', import.meta.url).href;

let loadable: string | undefined;

/** This module as JavaScript a worker thread can import: a `data:` URL. */
function racyStoreModuleUrl(): string {
  if (loadable) return loadable;
  // Loaded with Node's own require: a test runner's module pipeline would make it several times slower.
  const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
  const source = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const javascript = outputText.replace(/(['"])\.\.\/store\/store\.js\1/, JSON.stringify(compiledStore()));
  loadable = `data:text/javascript;base64,${Buffer.from(javascript).toString('base64')}`;
  return loadable;
}

export interface CounterExperiment {
  /** Which store the threads share: the real one, or the racy one. */
  store: 'locked' | 'racy';
  threads: number;
  /** Operations per thread: three INCRs to every GET, all on one key. */
  operations: number;
}

/**
 * Runs `threads` worker threads against one shared store, each performing
 * INCR and GET on one key, and returns the history they recorded. Times are
 * `performance.timeOrigin + performance.now()`: each thread has its own
 * performance clock, and the sum puts them all on the same (wall) timeline.
 * Threads wait at a gate and start together, so their operations overlap.
 */
export async function counterHistory(experiment: CounterExperiment): Promise<Operation[]> {
  const store = SharedStore.create(1);
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const workerData = {
    storeModule: experiment.store === 'racy' ? racyStoreModuleUrl() : compiledStore(),
    storeBuffer: store.buffer,
    gate: gate.buffer,
    operations: experiment.operations,
  };
  const workers = Array.from(
    { length: experiment.threads },
    (_, thread) => new Worker(THREAD_CODE, { eval: true, workerData: { ...workerData, thread } }),
  );
  try {
    const ready = workers.map((worker) => new Promise<void>((resolve) => worker.once('message', () => resolve())));
    const histories = workers.map(
      (worker) =>
        new Promise<Operation[]>((resolve, reject) => {
          worker.on('message', (message: Operation[] | 'ready') => message !== 'ready' && resolve(message));
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`thread exited with ${code} before reporting`)));
        }),
    );
    await Promise.all(ready);
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    return (await Promise.all(histories)).flat();
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** One thread of the experiment (plain JavaScript: threads cannot run TypeScript). */
const THREAD_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.storeModule).then((lib) => {
  const store = lib.RacyStore ? new lib.RacyStore(workerData.storeBuffer) : new lib.SharedStore(workerData.storeBuffer);
  const now = () => performance.timeOrigin + performance.now();
  parentPort.postMessage('ready');
  Atomics.wait(new Int32Array(workerData.gate), 0, 0);
  const history = [];
  for (let i = 0; i < workerData.operations; i++) {
    const command = (i + workerData.thread) % 4 === 0 ? 'GET' : 'INCR';
    const call = now();
    let reply;
    if (command === 'GET') {
      const value = store.get('counter');
      reply = value === undefined ? 'NIL' : 'VALUE ' + value;
    } else {
      reply = 'VALUE ' + store.increment('counter');
    }
    history.push({ client: workerData.thread, command, key: 'counter', reply, call, return: now() });
  }
  parentPort.postMessage(history);
});
`;
