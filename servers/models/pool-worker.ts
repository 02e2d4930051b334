// One thread of the pool model's piscina pool. It attaches to the shared store
// and counters, then executes whatever parsed command the main thread sends.
// Its tasks are synchronous: SLEEP blocks this thread, as a blocking call in a
// thread pool does, and that is exactly the cost a pool is sized to absorb.

import { workerData } from 'node:worker_threads';
import type { Command } from '../protocol/commands.js';
import { blockThread, handleCommand, Reply, Runtime, testHooksFor } from '../protocol/execute.js';
import { SharedStore } from '../store/store.js';
import { SharedCounters } from '../stats.js';
import { workerLog } from '../persistence.js';

const store = new SharedStore(workerData.storeBuffer);
const counters = new SharedCounters(workerData.countersBuffer);

const runtime: Runtime = {
  store,
  counters,
  sleep: blockThread,
  testHooks: testHooksFor(workerData.testHooks, 'worker'),
  // A worker may block: it waits in `commit`, and the pool's threads share whichever fsync one of them leads.
  log: workerLog(store, counters, workerData.persistence),
  stats: () => {
    throw new Error('STATS is answered by the main thread');
  },
};

export default function execute(command: Command): Reply | Promise<Reply> {
  return handleCommand(command, runtime);
}
