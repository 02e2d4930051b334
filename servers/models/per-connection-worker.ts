// The thread behind one connection of the per-connection model.
//
// It receives the connection's bytes from the main thread, runs them through
// the same Session as every other model (framing, ordering, closing rules),
// and posts the replies back. Blocking here is fine, and is the point: SLEEP
// waits in Atomics.wait and stalls this connection only.

import { parentPort, workerData as rawWorkerData } from 'node:worker_threads';
import { statsFor } from './model.js';
import { blockThread, handleCommand, Runtime, testHooksFor } from '../protocol/execute.js';
import type { CodecName } from '../protocol/codec.js';
import { createCodec } from '../protocol/codecs.js';
import { Session } from '../protocol/session.js';
import { SharedStore } from '../store/store.js';
import { round3, SharedCounters } from '../stats.js';

export interface PerConnectionWorkerData {
  storeBuffer: SharedArrayBuffer;
  countersBuffer: SharedArrayBuffer;
  /**
   * Three int32s: messages relayed to this worker, taken up, and finished.
   * "Taken" is counted before a chunk's replies are posted, so that the main
   * thread, on receiving them, already sees the room they made.
   */
  progressBuffer: SharedArrayBuffer;
  testHooks: boolean;
  startedAt: number;
  maxLine: number;
  maxWorkers: number;
  protocol: CodecName;
}

/** Main thread to worker: bytes from the client, or 'end' when no more will come. */
export type ToWorker = Uint8Array | 'end';
/** Worker to main thread: replies as a binary string, or 'close' to end the connection.
 *  (No reply is ever the bare word 'close': line replies end in a newline, HTTP ones open with a status line.) */
export type FromWorker = string | 'close';

const TAKEN = 1;
const FINISHED = 2;

if (parentPort) serveRelayedConnection(parentPort, rawWorkerData as PerConnectionWorkerData);

function serveRelayedConnection(port: NonNullable<typeof parentPort>, data: PerConnectionWorkerData): void {
  const store = new SharedStore(data.storeBuffer);
  const counters = new SharedCounters(data.countersBuffer);
  const runtime: Runtime = {
    store,
    counters,
    sleep: blockThread,
    testHooks: testHooksFor(data.testHooks, 'worker'),
    stats: statsFor({ model: 'per-connection', startedAt: data.startedAt, store, counters }, () => ({
      workers: counters.get('workersLive'),
      maxWorkers: data.maxWorkers,
      workersStarted: counters.get('workersStarted'),
      workerFailures: counters.get('workerFailures'),
      eventLoopUtilization: round3(counters.get('mainLoopUtilizationPpm') / 1e6),
    })),
  };
  const session = new Session(
    { write: (text) => port.postMessage(text satisfies FromWorker), end: () => port.postMessage('close' satisfies FromWorker), backlogged: () => false, pauseInput: () => {}, resumeInput: () => {} },
    (command) => handleCommand(command, runtime),
    counters,
    createCodec(data.protocol, data),
  );
  const progress = new Int32Array(data.progressBuffer);
  port.on('message', (message: ToWorker) => {
    Atomics.add(progress, TAKEN, 1);
    if (message === 'end') session.endInput();
    else session.receive(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
    Atomics.add(progress, FINISHED, 1);
  });
}
