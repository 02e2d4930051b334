// The blocking model: an iterative server. One thread serves one connection
// at a time, from its first request to its close, and only then looks at the
// next. Everything runs synchronously on that thread: WORK computes inline and
// SLEEP blocks the thread outright (Atomics.wait), the way a read() from a disk
// or a database blocks a thread in C.
//
// This is how the first network daemons were written, and it is still the
// right design when there is exactly one client at a time, or when requests
// are so short and connections so brief that nobody notices the queue. With
// many clients it shows the problem every other model exists to solve: a
// connection that is slow, idle or simply first makes everyone else wait.
//
// Simplification, named: Node has no blocking accept() or read() for sockets.
// So the accepting is done by the event loop, and newcomers are kept paused and
// unread (`pauseOnConnect`) in a first-come queue until their turn. The effect
// a client sees is the same as with a real iterative server: its connection is
// open, and nothing it sends is read until everyone before it has left.

import type { Socket } from 'node:net';
import type { ModelContext, ServerModel } from './model.js';
import { statsFor } from './model.js';
import { blockThread, handleCommand, Runtime, testHooksFor } from '../protocol/execute.js';
import type { CodecName } from '../protocol/codec.js';
import { closeConnection, SocketSessions } from '../protocol/socket-session.js';
import { eventLoopUtilization } from '../stats.js';
import { mainThreadLog } from '../persistence.js';

export function createBlockingModel(context: ModelContext): ServerModel {
  const waiting: { socket: Socket; protocol: CodecName }[] = [];
  let serving: Socket | undefined;

  const runtime: Runtime = {
    store: context.store,
    counters: context.counters,
    sleep: blockThread,
    testHooks: testHooksFor(context.config.testHooks, 'main'),
    // This thread may block, and does: each write waits for its own fsync, as nobody else can write meanwhile.
    log: mainThreadLog(context, 'block'),
    stats: statsFor({ ...context, model: 'blocking' }, () => ({
      threads: 1,
      waitingConnections: waiting.length,
      eventLoopUtilization: eventLoopUtilization(),
    })),
  };
  const sessions = new SocketSessions(context.counters, context.config);

  function serveNext(): void {
    const next = waiting.shift();
    serving = next?.socket;
    if (next === undefined) return;
    sessions.serve(next.socket, next.protocol, (command) => handleCommand(command, runtime), serveNext);
    next.socket.resume();
  }

  return {
    pauseOnConnect: true,
    accept(socket, protocol) {
      waiting.push({ socket, protocol });
      if (serving === undefined) serveNext();
    },
    async shutdown() {
      // Connections still waiting for their turn have had nothing read: close them.
      for (const { socket } of waiting.splice(0)) closeConnection(socket);
      await sessions.drainAll();
    },
  };
}
