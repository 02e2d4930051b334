// The per-connection model: a dedicated thread for every connection.
//
// Each accepted connection gets a worker thread of its own, started when it
// connects and ended when it closes, and every request of that connection runs
// there. A thread may block as much as it likes (SLEEP is Atomics.wait) because
// it blocks no one else: this is the thread-per-connection server of the 1990s
// and of classic Java, and fork-per-connection inetd before it. It is simple to
// write, because each connection's code is plain sequential code.
//
// Its costs are per connection: starting a thread (a fresh V8 isolate in Node,
// tens of milliseconds and megabytes), its memory while it lives, and the
// scheduler juggling more threads than cores. Short connections pay the start
// every time, and thousands of connections mean thousands of threads, which is
// why `--max-workers` caps them: past it, a newcomer gets `ERR max workers`.
//
// Simplifications, named:
//   - Node 20 cannot hand a socket to a worker thread. So the main thread
//     accepts and relays: bytes read from the socket are posted to the
//     connection's worker, and replies posted back are written to the socket.
//     The main thread only moves bytes; framing and execution happen in the
//     worker. The relay takes the socket's events in a session's place
//     (socket-session.ts), so the idle timeout, the full close and the
//     graceful stop are the other models' code.
//   - Flow control is by the chunk rather than by the request: the main thread
//     stops reading from a client while the worker has more than a few chunks
//     waiting, or its session has as many requests queued as it takes, or the
//     client has more than `--max-output` bytes of replies unread (the worker
//     also stops executing then, as every model's session does). Nothing
//     polls: replies, 'drain', and a 'room' note the worker posts only while
//     this thread waits for one (RelayState.MAIN_WAITING) prompt the next look.
//   - When a worker dies, the request it was running is answered
//     `ERR internal error` and a fresh worker takes over the connection; any
//     requests pipelined behind the failed one had been relayed to the dead
//     worker and are lost. (Over HTTP, the connection is closed instead.)
//
// A worker is never killed while it may be inside the shared store: when its
// client goes, it is asked to stop and stops itself between two requests
// (per-connection-worker.ts). Only a worker that has not stopped within
// EXIT_GRACE_MS (it is computing a long WORK) is terminated, and then only
// while this thread holds the store's lock, so that it cannot be holding it.

import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { ModelContext, ServerModel } from './model.js';
import type { CodecName } from '../protocol/codec.js';
import { connectionRefusal } from '../protocol/codecs.js';
import type { SessionOutput } from '../protocol/session.js';
import { closeConnection, Conversation, SocketSessions } from '../protocol/socket-session.js';
import { FromWorker, PerConnectionWorkerData, RelayState, ToWorker, unsentBytes } from './per-connection-worker.js';
import { persistenceData } from '../persistence.js';

const WORKER_FILE = new URL('./per-connection-worker.js', import.meta.url);
/** Chunks relayed to a worker but not yet taken up by it, past which reading pauses. */
const MAX_WAITING_CHUNKS = 16;
/** How long a worker whose client left may take to stop by itself before it is terminated. */
const EXIT_GRACE_MS = 1000;

export function createPerConnectionModel(context: ModelContext): ServerModel {
  const { config, counters } = context;
  const sessions = new SocketSessions(counters, config);
  const stopPublishing = publishMainLoopUtilization(context);

  return {
    pauseOnConnect: false,
    accept(socket, protocol) {
      if (counters.get('workersLive') >= config.maxWorkers) {
        counters.add('connectionsRejected');
        closeConnection(socket, connectionRefusal(protocol, 'maxWorkers'));
        return;
      }
      sessions.converse(socket, protocol, (output) => new Relay(output, protocol, context));
    },
    async shutdown() {
      stopPublishing();
      await sessions.drainAll();
    },
  };
}

/** One connection: its socket's events on the main thread, passed on to the worker thread that serves it. */
class Relay implements Conversation {
  private worker!: Worker;
  private exited!: Promise<void>;
  /** What this thread and the worker share about the connection (see RelayState). */
  private readonly state = new Int32Array(new SharedArrayBuffer(RelayState.INTS * 4));
  private ending = false;
  private inputPaused = false;

  constructor(
    private readonly output: SessionOutput,
    private readonly protocol: CodecName,
    private readonly context: ModelContext,
  ) {
    this.startWorker();
  }

  receive(chunk: Buffer): void {
    this.send(new Uint8Array(chunk));
  }

  endInput(): void {
    this.send('end');
  }

  outputDrained(): void {
    this.controlFlow();
  }

  get busy(): boolean {
    return Atomics.load(this.state, RelayState.RELAYED) !== Atomics.load(this.state, RelayState.FINISHED);
  }

  /** Reads from the client only while the worker keeps up and the client takes its replies. */
  private controlFlow(): void {
    this.tellWorkerIfDrained();
    if (this.ending) return;
    let room = this.workerHasRoom();
    if (!room) {
      // Ask for a 'room' note, then look again: a chunk taken meanwhile is seen here or by the worker (RelayState.MAIN_WAITING).
      Atomics.store(this.state, RelayState.MAIN_WAITING, 1);
      room = this.workerHasRoom();
    }
    if (room) Atomics.store(this.state, RelayState.MAIN_WAITING, 0);
    room &&= !this.output.backlogged();
    if (room === !this.inputPaused) return;
    this.inputPaused = !room;
    if (room) this.output.resumeInput();
    else this.output.pauseInput();
  }

  private workerHasRoom(): boolean {
    const waiting = Atomics.load(this.state, RelayState.RELAYED) - Atomics.load(this.state, RelayState.TAKEN);
    return waiting < MAX_WAITING_CHUNKS && Atomics.load(this.state, RelayState.INPUT_PAUSED) === 0;
  }

  /** A worker that stopped on the client's backlog goes on once that is sent. */
  private tellWorkerIfDrained(): void {
    if (Atomics.load(this.state, RelayState.WANTS_DRAIN) === 0 || unsentBytes(this.state) > this.context.config.maxOutput) return;
    if (Atomics.exchange(this.state, RelayState.WANTS_DRAIN, 0) !== 0) this.send('drained');
  }

  private startWorker(): void {
    const { config, counters, store, startedAt } = this.context;
    const workerData: PerConnectionWorkerData = {
      storeBuffer: store.buffer,
      countersBuffer: counters.buffer,
      relayBuffer: this.state.buffer as SharedArrayBuffer,
      startedAt,
      maxLine: config.maxLine,
      maxOutput: config.maxOutput,
      maxWorkers: config.maxWorkers,
      testHooks: config.testHooks,
      protocol: this.protocol,
      persistence: persistenceData(this.context),
    };
    const worker = new Worker(WORKER_FILE, { workerData });
    this.worker = worker;
    counters.add('workersLive');
    counters.add('workersStarted');
    worker.on('message', (message: FromWorker) => this.deliver(message));
    // An uncaught exception in the worker: 'exit' follows, and handles it.
    worker.on('error', (error) => console.error('per-connection worker failed:', error));
    this.exited = new Promise((resolve) =>
      worker.once('exit', () => {
        counters.add('workersLive', -1);
        if (!this.ending) this.replaceFailedWorker();
        resolve();
      }),
    );
  }

  private deliver(message: FromWorker): void {
    if (message === 'close') {
      this.ending = true;
      this.output.end();
      return;
    }
    if (message !== 'room') {
      this.output.write(message, () => {
        Atomics.add(this.state, RelayState.SENT_BYTES, message.length);
        this.tellWorkerIfDrained();
      });
    }
    this.controlFlow();
  }

  private replaceFailedWorker(): void {
    const { counters } = this.context;
    counters.add('workerFailures');
    counters.add('errors');
    const relayed = Atomics.load(this.state, RelayState.RELAYED);
    Atomics.store(this.state, RelayState.TAKEN, relayed);
    Atomics.store(this.state, RelayState.FINISHED, relayed);
    Atomics.store(this.state, RelayState.INPUT_PAUSED, 0);
    Atomics.store(this.state, RelayState.WANTS_DRAIN, 0);
    this.output.write(connectionRefusal(this.protocol, 'internal'));
    if (this.protocol === 'http') {
      this.ending = true;
      this.output.end();
      return;
    }
    this.startWorker();
    this.controlFlow();
  }

  /**
   * The client is gone: ask the worker to stop (it does so between requests,
   * and a SLEEP wakes for it), and terminate it only if it has not stopped in
   * time, holding the store's lock meanwhile so that it cannot be inside.
   */
  abandon(): void {
    this.ending = true;
    Atomics.store(this.state, RelayState.ABANDONED, 1);
    Atomics.notify(this.state, RelayState.ABANDONED);
    this.send('abandon');
    const { store } = this.context;
    const fallback = setTimeout(() => void store.whileLocked(() => this.worker.terminate()), EXIT_GRACE_MS);
    void this.exited.then(() => clearTimeout(fallback));
  }

  /** Posts to the worker; a byte chunk is copied into its own buffer and moved, not cloned. */
  private send(message: ToWorker): void {
    Atomics.add(this.state, RelayState.RELAYED, 1);
    if (message instanceof Uint8Array) this.worker.postMessage(message, [message.buffer as ArrayBuffer]);
    else this.worker.postMessage(message);
    this.controlFlow();
  }
}

/**
 * Workers answer STATS, but the main thread's event-loop utilization is only
 * visible on the main thread: publish it where the workers can read it.
 */
function publishMainLoopUtilization(context: ModelContext): () => void {
  const timer = setInterval(() => {
    context.counters.set('mainLoopUtilizationPpm', performance.eventLoopUtilization().utilization * 1e6);
  }, 250);
  timer.unref();
  return () => clearInterval(timer);
}
