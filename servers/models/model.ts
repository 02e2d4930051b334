// What a server model is, in this lab: the part of a server that decides which
// thread runs a connection's requests and what may happen meanwhile.
//
// Everything else is shared and lives outside models/: accepting connections
// and the connection limit (server.ts), framing and ordering (protocol/),
// command semantics (protocol/execute.ts) and the store (store/). That is what
// lets the four model files be read side by side: they differ only where the
// models really differ.

import type { Socket } from 'node:net';
import type { ServerConfig } from '../config.js';
import type { CodecName } from '../protocol/codec.js';
import type { SharedStore } from '../store/store.js';
import type { Durability } from '../store/durability/durability.js';
import { ModelDetails, SharedCounters, statsReport } from '../stats.js';

/** What every model is given: the settings and the state all threads share. */
export interface ModelContext {
  config: ServerConfig;
  store: SharedStore;
  counters: SharedCounters;
  startedAt: number;
  /** With `--data-dir`: the log, owned by the main thread (servers/persistence.ts). */
  durability?: Durability;
}

export interface ServerModel {
  /** True for a model that wants new sockets left unread until it takes them. */
  readonly pauseOnConnect: boolean;
  /** Takes an accepted connection, speaking `protocol`, and serves it until it closes. */
  accept(socket: Socket, protocol: CodecName): void;
  /** Stops reading new requests, answers those already read, and closes every connection. */
  shutdown(): Promise<void>;
}

/** Builds the STATS object for a model from the shared counters and its own details. */
export function statsFor(context: Omit<ModelContext, 'config'> & { model: string }, details: () => ModelDetails) {
  return () =>
    statsReport({
      model: context.model,
      startedAt: context.startedAt,
      counters: context.counters,
      storeUsage: () => context.store.usage(),
      details,
    });
}
