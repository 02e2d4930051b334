// Running a piece of plain JavaScript on several worker threads at once, each
// attached to the same write-ahead log, for the tests that need real threads.
//
// Worker threads run JavaScript, not TypeScript, so each one imports the
// compiled log from dist/ (`npm test` builds it first; `npm run build` does
// too). The threads wait at a gate and start together, so they really
// contend.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WalHandle } from '../wal.js';

const COMPILED = new URL('../../../../dist/servers/store/durability/', import.meta.url);

/** The compiled module `name` (e.g. 'wal.js'), or an error that says how to build it. */
export function compiledModule(name: string): URL {
  const url = new URL(name, COMPILED);
  if (!fs.existsSync(fileURLToPath(url))) throw new Error(`${fileURLToPath(url)} is missing: run \`npm run build\` first`);
  return url;
}

const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.walModule).then(({ WriteAheadLog }) => {
  const wal = WriteAheadLog.attach(workerData.handle);
  const gate = new Int32Array(workerData.gate);
  parentPort.postMessage('ready');
  Atomics.wait(gate, 0, 0);
  const part = (/* PART */);
  parentPort.postMessage({ result: part(wal, workerData.input) });
});
`;

export interface Threads<T> {
  /** Resolves once every thread is attached and waiting at the gate. */
  ready: Promise<void>;
  /** Opens the gate: every thread starts its part at once. */
  start(): void;
  /** Each thread's result, in the order of the inputs. */
  results: Promise<T[]>;
  stop(): Promise<void>;
}

/** Starts one thread per input, each to run `part`: JavaScript source of `(wal, input) => result`. */
export function onThreads<T>(handle: WalHandle, part: string, inputs: unknown[]): Threads<T> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const code = THREAD.replace('/* PART */', () => part);
  const workerData = (input: unknown) => ({ walModule: compiledModule('wal.js').href, handle, gate: gate.buffer, input });
  const workers = inputs.map((input) => new Worker(code, { eval: true, workerData: workerData(input) }));
  const settled = workers.map((worker) => {
    let readied: () => void = () => {};
    const ready = new Promise<void>((resolve) => (readied = resolve));
    const result = new Promise<T>((resolve, reject) => {
      worker.on('message', (message: 'ready' | { result: T }) => (message === 'ready' ? readied() : resolve(message.result)));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`a thread exited with ${code} before reporting`)));
    });
    return { ready, result };
  });
  return {
    ready: Promise.all(settled.map((thread) => thread.ready)).then(() => undefined),
    start() {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    },
    results: Promise.all(settled.map((thread) => thread.result)),
    stop: () => Promise.all(workers.map((worker) => worker.terminate())).then(() => undefined),
  };
}
