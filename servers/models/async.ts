// The async model: one thread, one event loop, every connection multiplexed.
//
// Nothing here ever blocks. Reading a socket, waiting for a SLEEP, writing a
// reply: each is a callback the loop runs when its event arrives, so thousands
// of idle or waiting connections cost a little memory each and no threads.
// This is the design of nginx, Redis and Node itself, and the answer most
// servers took to the C10K problem (Kegel's survey weighed several).
//
// Its weakness is the other side of the same coin: there is one thread, so a
// request that computes (WORK) holds the loop, and every other connection waits
// until it is done. That is deliberate here; it is the lesson. When the work is
// CPU-bound, use a pool (models/pool.ts) or put only that work in one
// (`--offload=heavy`).

import type { ModelContext, ServerModel } from './model.js';
import { statsFor } from './model.js';
import { handleCommand, Runtime, testHooksFor, timerSleep } from '../protocol/execute.js';
import { SocketSessions } from '../protocol/socket-session.js';
import { eventLoopUtilization } from '../stats.js';
import { mainThreadLog } from '../persistence.js';

export function createAsyncModel(context: ModelContext): ServerModel {
  const runtime: Runtime = {
    store: context.store,
    counters: context.counters,
    sleep: timerSleep,
    testHooks: testHooksFor(context.config.testHooks, 'main'),
    // The loop must never block: writes that arrive while an fsync runs on libuv's pool share the next one.
    log: mainThreadLog(context, 'async'),
    stats: statsFor({ ...context, model: 'async' }, () => ({ threads: 1, eventLoopUtilization: eventLoopUtilization() })),
  };
  const sessions = new SocketSessions(context.counters, context.config);

  return {
    pauseOnConnect: false,
    accept: (socket, protocol) => sessions.serve(socket, protocol, (command) => handleCommand(command, runtime)),
    shutdown: () => sessions.drainAll(),
  };
}
