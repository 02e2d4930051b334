// The thread behind one connection of the per-connection model.
//
// It receives the connection's bytes from the main thread, runs them through
// the same Session as every other model (framing, ordering, closing rules),
// and posts the replies back. Blocking here is fine, and is the point: SLEEP
// waits in Atomics.wait and stalls this connection only.
//
// The thread ends itself. When the client goes, the main thread raises a flag
// in memory both threads share; the session sees it between two requests (and
// a SLEEP is woken by it), drops what is queued and the thread exits, at a
// moment when it is certainly not inside the store. Killing it from outside
// instead could stop it while it holds the store's lock (see store/lock.ts).
// The same shared memory carries the backlog: how many reply bytes this
// thread has posted that the main thread has not yet sent to the kernel, so
// that `--max-output` holds here as on the other models. And it carries the
// main thread's flow control without any polling: a main thread that has
// paused its reading for want of room raises a flag, and this thread, on
// taking a message or making room for more requests, posts a 'room' note
// while that flag is up, and only then (see RelayState.MAIN_WAITING).

import { parentPort, workerData as rawWorkerData } from 'node:worker_threads';
import { statsFor } from './model.js';
import { handleCommand, Runtime, testHooksFor } from '../protocol/execute.js';
import type { CodecName } from '../protocol/codec.js';
import { createCodec } from '../protocol/codecs.js';
import { Session } from '../protocol/session.js';
import { SharedStore } from '../store/store.js';
import { round3, SharedCounters } from '../stats.js';
import { PersistenceData, workerLog } from '../persistence.js';

export interface PerConnectionWorkerData {
  storeBuffer: SharedArrayBuffer;
  countersBuffer: SharedArrayBuffer;
  /** The connection's shared state: see RelayState. */
  relayBuffer: SharedArrayBuffer;
  testHooks: boolean;
  startedAt: number;
  maxLine: number;
  maxOutput: number;
  maxWorkers: number;
  protocol: CodecName;
  /** With `--data-dir`: the log to attach to (servers/persistence.ts). */
  persistence?: PersistenceData;
}

/** Main thread to worker: bytes from the client, 'end' when no more will come, 'drained' when its replies have left. */
export type ToWorker = Uint8Array | 'end' | 'drained' | 'abandon';
/** Worker to main thread: replies as a binary string, 'close' to end the connection, or 'room' when it may read again.
 *  (No reply is ever a bare word like 'close': line replies end in a newline, HTTP ones open with a status line.) */
export type FromWorker = string | 'close' | 'room';

/**
 * The int32s a connection's two threads share. The message counts are bumped
 * by the side that sends or takes a message; "taken" is counted before a
 * chunk's replies are posted, so that the main thread, on receiving them,
 * already sees the room they made. Byte counts wrap around; only their
 * difference is read.
 */
export const RelayState = {
  /** Messages relayed to the worker. */
  RELAYED: 0,
  /** Messages the worker has begun to handle. */
  TAKEN: 1,
  /** Messages the worker has finished handling. */
  FINISHED: 2,
  /** Non-zero once the client is gone: the worker stops and exits. */
  ABANDONED: 3,
  /** Reply bytes the worker has posted. */
  POSTED_BYTES: 4,
  /** Reply bytes the main thread has handed to the kernel. */
  SENT_BYTES: 5,
  /** Non-zero while the worker waits for a 'drained' message before it executes more. */
  WANTS_DRAIN: 6,
  /** Non-zero while the worker has as many requests queued as it will take: relay no more. */
  INPUT_PAUSED: 7,
  /**
   * Non-zero while the main thread has paused reading until the worker makes
   * room. The main thread raises it and then looks at the counts once more;
   * the worker, after bumping TAKEN or clearing INPUT_PAUSED, swaps it to zero
   * and posts 'room' if it was raised. Both sides write first and read
   * second, so however they interleave, one of them sees the other's write:
   * a room made is never missed, and no note is posted while nobody waits.
   */
  MAIN_WAITING: 8,
  INTS: 9,
} as const;

/** Reply bytes posted by the worker and not yet sent by the main thread. */
export function unsentBytes(state: Int32Array): number {
  return (Atomics.load(state, RelayState.POSTED_BYTES) - Atomics.load(state, RelayState.SENT_BYTES)) | 0;
}

if (parentPort) serveRelayedConnection(parentPort, rawWorkerData as PerConnectionWorkerData);

function serveRelayedConnection(port: NonNullable<typeof parentPort>, data: PerConnectionWorkerData): void {
  const store = new SharedStore(data.storeBuffer);
  const counters = new SharedCounters(data.countersBuffer);
  const state = new Int32Array(data.relayBuffer);
  const runtime: Runtime = {
    store,
    counters,
    // A SLEEP waits on the "abandoned" flag, so the client's leaving cuts it short.
    sleep: (ms) => void Atomics.wait(state, RelayState.ABANDONED, 0, ms),
    testHooks: testHooksFor(data.testHooks, 'worker'),
    // Each connection's thread waits in `commit`; threads whose writes meet share one leader's fsync.
    log: workerLog(store, counters, data.persistence),
    stats: statsFor({ model: 'per-connection', startedAt: data.startedAt, store, counters }, () => ({
      workers: counters.get('workersLive'),
      maxWorkers: data.maxWorkers,
      workersStarted: counters.get('workersStarted'),
      workerFailures: counters.get('workerFailures'),
      eventLoopUtilization: round3(counters.get('mainLoopUtilizationPpm') / 1e6),
    })),
  };
  const gone = () => Atomics.load(state, RelayState.ABANDONED) !== 0;
  const wakeMain = () => {
    if (Atomics.exchange(state, RelayState.MAIN_WAITING, 0) !== 0) port.postMessage('room' satisfies FromWorker);
  };
  const session = new Session(
    {
      write(text) {
        Atomics.add(state, RelayState.POSTED_BYTES, text.length);
        port.postMessage(text satisfies FromWorker);
      },
      end: () => port.postMessage('close' satisfies FromWorker),
      backlogged() {
        if (unsentBytes(state) <= data.maxOutput) return false;
        Atomics.store(state, RelayState.WANTS_DRAIN, 1);
        return true;
      },
      gone,
      // The main thread reads from the socket, and pauses it while this is set.
      pauseInput: () => Atomics.store(state, RelayState.INPUT_PAUSED, 1),
      resumeInput() {
        Atomics.store(state, RelayState.INPUT_PAUSED, 0);
        wakeMain();
      },
    },
    (command) => handleCommand(command, runtime),
    counters,
    createCodec(data.protocol, data),
  );
  port.on('message', (message: ToWorker) => {
    Atomics.add(state, RelayState.TAKEN, 1);
    wakeMain();
    if (message === 'end') session.endInput();
    else if (message === 'drained') session.outputDrained();
    else if (message instanceof Uint8Array) session.receive(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
    Atomics.add(state, RelayState.FINISHED, 1);
    // Here, between messages, the thread is outside the store: the one safe place to stop.
    if (gone()) process.exit(0);
  });
}
