// The pool model: an event loop in front, a fixed pool of worker threads
// behind it.
//
// The main thread does what an event loop is good at: it accepts, reads,
// frames and parses, and writes replies, for every connection at once. The
// requests themselves run on one of `--workers` threads (piscina), so a
// computation or a blocking wait occupies a worker, not the loop. This is the
// shape of Apache's worker MPM, of Java's servlet containers, and of libuv's
// own threadpool behind Node's file system calls.
//
// The pool's size is the whole story of its behaviour: W workers run W
// requests at once, whatever they do. Eight SLEEP 200s on two workers take
// four rounds. CPU work scales until W reaches the number of cores, then
// stops. And every request pays a hand-off between threads, which a cheap
// request (GET, PING) feels more than it gains: hence `--offload=heavy`, which
// keeps cheap commands on the loop and sends only WORK and SLEEP to the pool,
// as tokio's spawn_blocking or Node's own fs calls do.
//
// A bounded queue sits in front of the pool (`--queue`). When every worker is
// busy and the queue is full, a request gets `ERR server busy` at once: a fast
// "no" the client can act on, rather than memory and latency growing without
// limit. Each connection has at most one request in the pool at a time,
// because its requests must execute in order (protocol/session.ts).

import { Piscina } from 'piscina';
import type { ModelContext, ServerModel } from './model.js';
import { statsFor } from './model.js';
import type { Command, CommandName } from '../protocol/commands.js';
import { errorReply, handleCommand, Reply, Runtime, testHooksFor, timerSleep } from '../protocol/execute.js';
import { refusal } from '../protocol/refusals.js';
import { SocketSessions } from '../protocol/socket-session.js';
import { eventLoopUtilization, round3 } from '../stats.js';
import { mainThreadLog, persistenceData } from '../persistence.js';

/** Commands that need the main thread's view of the server, whatever the offload mode. */
const ALWAYS_ON_MAIN_THREAD: ReadonlySet<CommandName> = new Set(['STATS', 'QUIT', 'COMPACT']);
/** The commands worth a thread hand-off under `--offload=heavy` (and the fault hook, so it always reaches a worker). */
const HEAVY: ReadonlySet<CommandName> = new Set(['WORK', 'SLEEP', 'DEBUG']);

/**
 * piscina's two ways of saying "every worker is busy and there is no room to
 * wait". Only the message tells them apart from other failures: piscina 5
 * builds them from an `Errors` table that its package does not export (only
 * the main entry is), and the errors it builds carry no code or class of
 * their own. So they are matched by their text, here alone; the pool flood
 * test (faults.test.ts) fails if a piscina release rewords them.
 */
function isPoolFull(error: Error): boolean {
  return error.message === 'Task queue is at limit' || error.message.startsWith('No task queue available');
}

export function createPoolModel(context: ModelContext): ServerModel {
  const { config, counters } = context;
  const pool = new Piscina({
    filename: new URL('./pool-worker.js', import.meta.url).href,
    // Both bounds set: a fixed pool. (minThreads alone defaults to half the CPUs.)
    minThreads: config.workers,
    maxThreads: config.workers,
    maxQueue: config.queue,
    // The default 'sync' mode: an idle worker sleeps in Atomics.wait for its next
    // task, which hands off faster than a message event. Its own event loop is
    // frozen between tasks, which suits us: pool tasks are synchronous.
    atomics: 'sync',
    workerData: {
      storeBuffer: context.store.buffer,
      countersBuffer: counters.buffer,
      testHooks: config.testHooks,
      persistence: persistenceData(context),
    },
  });

  const mainRuntime: Runtime = {
    store: context.store,
    counters,
    sleep: timerSleep,
    testHooks: testHooksFor(config.testHooks, 'main'),
    // Under --offload=heavy writes run here, on the loop, which must not block.
    log: mainThreadLog(context, 'async'),
    stats: statsFor({ ...context, model: 'pool' }, () => ({
      workers: pool.threads.length,
      offload: config.offload,
      queueDepth: pool.queueSize,
      queueLimit: config.queue,
      busyRejections: counters.get('busyRejections'),
      workerFailures: counters.get('workerFailures'),
      poolUtilization: round3(pool.utilization),
      eventLoopUtilization: eventLoopUtilization(),
    })),
  };
  const sessions = new SocketSessions(counters, config);

  function runsOnMainThread(command: Command): boolean {
    return ALWAYS_ON_MAIN_THREAD.has(command.name) || (config.offload === 'heavy' && !HEAVY.has(command.name));
  }

  function runInPool(command: Command): Promise<Reply> {
    return pool.run(command).then(
      (reply: Reply) => reply,
      (error: Error) => {
        if (isPoolFull(error)) {
          counters.add('busyRejections');
          counters.add('errors');
          return refusal('busy');
        }
        if (/worker exited/i.test(error.message)) counters.add('workerFailures');
        return errorReply(error, counters);
      },
    );
  }

  function handle(command: Command): Reply | Promise<Reply> {
    return runsOnMainThread(command) ? handleCommand(command, mainRuntime) : runInPool(command);
  }

  return {
    pauseOnConnect: false,
    accept: (socket, protocol) => sessions.serve(socket, protocol, handle),
    async shutdown() {
      await sessions.drainAll();
      await pool.destroy();
    },
  };
}
