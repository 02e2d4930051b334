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
// Simplification, named: Node 20 cannot hand a socket to a worker thread. So
// the main thread accepts and relays: bytes read from the socket are posted to
// the connection's worker, and replies posted back are written to the socket.
// The main thread only moves bytes; framing and execution happen in the worker.

import type { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { ModelContext, ServerModel } from './model.js';
import type { CodecName } from '../protocol/codec.js';
import { refusal } from '../protocol/codecs.js';
import type { FromWorker, PerConnectionWorkerData, ToWorker } from './per-connection-worker.js';

export function createPerConnectionModel(context: ModelContext): ServerModel {
  const { config, counters } = context;
  const relays = new Map<Socket, Worker>();
  const workerData: Omit<PerConnectionWorkerData, 'protocol'> = {
    storeBuffer: context.store.buffer,
    countersBuffer: counters.buffer,
    startedAt: context.startedAt,
    maxLine: config.maxLine,
    maxWorkers: config.maxWorkers,
  };
  const stopPublishing = publishMainLoopUtilization(context);

  function startWorker(socket: Socket, protocol: CodecName): void {
    const worker = new Worker(new URL('./per-connection-worker.js', import.meta.url), {
      workerData: { ...workerData, protocol },
    });
    counters.add('workersLive');
    counters.add('workersStarted');
    relays.set(socket, worker);
    worker.on('message', (message: FromWorker) => {
      if (message === 'close') socket.end();
      else socket.write(message, 'latin1');
    });
    worker.on('error', (error) => {
      counters.add('workerFailures');
      counters.add('errors');
      console.error('per-connection worker failed:', error);
      socket.end('ERR internal error\n');
    });
    worker.on('exit', () => counters.add('workersLive', -1));

    socket.on('data', (chunk: Buffer) => send(worker, new Uint8Array(chunk)));
    socket.on('end', () => send(worker, 'end'));
    socket.on('close', () => {
      relays.delete(socket);
      void worker.terminate();
    });
  }

  return {
    pauseOnConnect: false,
    accept(socket, protocol) {
      if (counters.get('workersLive') >= config.maxWorkers) {
        counters.add('connectionsRejected');
        socket.end(refusal(protocol, 'max workers'));
        return;
      }
      startWorker(socket, protocol);
    },
    async shutdown() {
      stopPublishing();
      const closing = [...relays].map(([socket, worker]) => {
        const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
        socket.pause();
        socket.removeAllListeners('data');
        send(worker, 'end');
        return closed;
      });
      await Promise.all(closing);
    },
  };
}

/** Posts to a worker; a byte chunk is copied into its own buffer and moved, not cloned. */
function send(worker: Worker, message: ToWorker): void {
  if (message instanceof Uint8Array) worker.postMessage(message, [message.buffer as ArrayBuffer]);
  else worker.postMessage(message);
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
