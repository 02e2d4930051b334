// The part of a server that every model shares: the listening sockets, the
// connection limit, the counters, and a graceful stop.
//
// A model only ever sees connections that were admitted. Admission is the
// first line of defence against overload, so it is done here, once, before any
// model spends a thread or a buffer on a connection: past `--max-connections`,
// a newcomer is told `ERR max connections` and closed at once.
//
// A server may listen twice: the line protocol on `--port` and HTTP/1.1 on
// `--http-port`. Both feed the same model; the port only decides the codec.

import net from 'node:net';
import type { ServerConfig } from './config.js';
import type { ModelContext, ServerModel } from './models/model.js';
import type { CodecName } from './protocol/codec.js';
import { connectionRefusal } from './protocol/codecs.js';
import { closeConnection } from './protocol/socket-session.js';
import { createAsyncModel } from './models/async.js';
import { createBlockingModel } from './models/blocking.js';
import { createPerConnectionModel } from './models/per-connection.js';
import { createPoolModel } from './models/pool.js';
import { SharedStore } from './store/store.js';
import { SharedCounters } from './stats.js';
import { Durability, openDurability } from './store/durability/durability.js';
import type { RecoveryReport } from './store/durability/recovery.js';
import { serveCompactionRequests } from './persistence.js';

const MODEL_FACTORIES: Record<ServerConfig['model'], (context: ModelContext) => ServerModel> = {
  blocking: createBlockingModel,
  'per-connection': createPerConnectionModel,
  pool: createPoolModel,
  async: createAsyncModel,
};

export interface Endpoint {
  host: string;
  port: number;
}

export interface RunningServer {
  /** Where the line protocol listens, unless it is turned off. */
  line?: Endpoint;
  /** Where the HTTP front listens, when it is on. */
  http?: Endpoint;
  /** With a data directory: what start-up recovered. */
  recovery?: RecoveryReport;
  /** Stops accepting, lets every connection finish what was read, closes the log, then resolves. */
  stop(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const store = SharedStore.create(config.storeMb);
  // Recovery comes first: no connection is accepted before the store holds what the directory does.
  const durability = config.dataDir === null ? undefined : openDurability({ dir: config.dataDir, fsync: config.fsync, repair: config.repair, store });
  const compactions = durability && serveCompactionRequests(durability);
  const context: ModelContext = {
    config,
    store,
    counters: new SharedCounters(),
    startedAt: Date.now(),
    durability,
  };
  const model = MODEL_FACTORIES[config.model](context);
  const listeners: net.Server[] = [];
  const listenOn = async (port: number, protocol: CodecName): Promise<Endpoint> => {
    const listener = await listen(port, config.host, model.pauseOnConnect, (socket) => admit(socket, protocol, context, model));
    listeners.push(listener);
    const address = listener.address() as net.AddressInfo;
    return { host: address.address, port: address.port };
  };
  try {
    const line = config.port === null ? undefined : await listenOn(config.port, 'line');
    const http = config.httpPort === null ? undefined : await listenOn(config.httpPort, 'http');
    return {
      line,
      http,
      recovery: durability?.recovery,
      async stop() {
        const closed = listeners.map((listener) => new Promise<void>((resolve) => listener.close(() => resolve())));
        await model.shutdown();
        await Promise.all(closed);
        compactions?.stop();
        await durability?.close();
      },
    };
  } catch (error) {
    for (const listener of listeners) listener.close();
    await model.shutdown();
    compactions?.stop();
    await closeQuietly(durability);
    throw error;
  }
}

/** After a failed start: free the directory, keeping the start's own error as the one reported. */
async function closeQuietly(durability: Durability | undefined): Promise<void> {
  await durability?.close().catch(() => {});
}

function listen(port: number, host: string, pauseOnConnect: boolean, onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  // allowHalfOpen: a client that shuts its sending side still gets every reply.
  const listener = net.createServer({ allowHalfOpen: true, pauseOnConnect }, onConnection);
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(port, host, () => resolve(listener));
  });
}

function admit(socket: net.Socket, protocol: CodecName, context: ModelContext, model: ServerModel): void {
  const { counters, config } = context;
  // A reset or broken pipe from one client is that client's problem: never the server's.
  socket.on('error', () => {});
  socket.setNoDelay(true);
  if (counters.get('connectionsOpen') >= config.maxConnections) {
    counters.add('connectionsRejected');
    closeConnection(socket, connectionRefusal(protocol, 'maxConnections'));
    return;
  }
  counters.add('connectionsOpen');
  counters.add('connectionsTotal');
  socket.once('close', () => counters.add('connectionsOpen', -1));
  model.accept(socket, protocol);
}
