// The part of a server that every model shares: the listening socket, the
// connection limit, the counters, and a graceful stop.
//
// A model only ever sees connections that were admitted. Admission is the
// first line of defence against overload, so it is done here, once, before any
// model spends a thread or a buffer on a connection: past `--max-connections`,
// a newcomer is told `ERR max connections` and closed at once.

import net from 'node:net';
import type { ServerConfig } from './config.js';
import type { ModelContext, ServerModel } from './models/model.js';
import { createAsyncModel } from './models/async.js';
import { createBlockingModel } from './models/blocking.js';
import { createPerConnectionModel } from './models/per-connection.js';
import { createPoolModel } from './models/pool.js';
import { SharedStore } from './store/store.js';
import { SharedCounters } from './stats.js';

const MODEL_FACTORIES: Record<ServerConfig['model'], (context: ModelContext) => ServerModel> = {
  blocking: createBlockingModel,
  'per-connection': createPerConnectionModel,
  pool: createPoolModel,
  async: createAsyncModel,
};

export interface RunningServer {
  host: string;
  port: number;
  /** Stops accepting, lets every connection finish what was read, then resolves. */
  stop(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const context: ModelContext = {
    config,
    store: SharedStore.create(config.storeMb),
    counters: new SharedCounters(),
    startedAt: Date.now(),
  };
  const model = MODEL_FACTORIES[config.model](context);
  // allowHalfOpen: a client that shuts its sending side still gets every reply.
  const listener = net.createServer({ allowHalfOpen: true, pauseOnConnect: model.pauseOnConnect });
  listener.on('connection', (socket) => admit(socket, context, model));

  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(config.port, config.host, () => resolve());
  });
  const address = listener.address() as net.AddressInfo;

  return {
    host: address.address,
    port: address.port,
    async stop() {
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      await model.shutdown();
      await closed;
    },
  };
}

function admit(socket: net.Socket, context: ModelContext, model: ServerModel): void {
  const { counters, config } = context;
  // A reset or broken pipe from one client is that client's problem: never the server's.
  socket.on('error', () => {});
  socket.setNoDelay(true);
  if (counters.get('connectionsOpen') >= config.maxConnections) {
    counters.add('connectionsRejected');
    socket.end('ERR max connections\n');
    return;
  }
  counters.add('connectionsOpen');
  counters.add('connectionsTotal');
  socket.once('close', () => counters.add('connectionsOpen', -1));
  model.accept(socket, 'line');
}
