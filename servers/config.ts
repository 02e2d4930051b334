// The settings a server runs with. One shape for every model, so that the
// command line, the tests and the benchmark suite all describe a server the
// same way; each model reads the fields that concern it.

import { availableParallelism } from 'node:os';
import { DEFAULT_FSYNC_POLICY } from './store/durability/durability.js';
import type { FsyncPolicy } from './store/durability/wal.js';

export const MODELS = ['blocking', 'per-connection', 'pool', 'async'] as const;
export type ModelName = (typeof MODELS)[number];

export const OFFLOAD_MODES = ['all', 'heavy'] as const;
export type OffloadMode = (typeof OFFLOAD_MODES)[number];

export interface ServerConfig {
  model: ModelName;
  host: string;
  /** Port of the line protocol; null when it is turned off. */
  port: number | null;
  /** Port of the HTTP/1.1 front; null when it is turned off (the default). */
  httpPort: number | null;
  /** Longest request line accepted, in bytes (without its newline); for HTTP, the longest body. */
  maxLine: number;
  /** Unsent reply bytes one client may have before the server stops reading from it. */
  maxOutput: number;
  /** A connection with nothing to answer and nothing received for this long is closed. */
  idleTimeoutMs: number;
  /** Enables `DEBUG CRASH`, which makes the thread running it fail: for fault tests only. */
  testHooks: boolean;
  /** Connections served at once; past it a newcomer gets `ERR max connections`. */
  maxConnections: number;
  /** Size of the shared store, in MiB. */
  storeMb: number;
  /** pool: threads in the pool. */
  workers: number;
  /** pool: which commands go to the pool. */
  offload: OffloadMode;
  /** pool: requests allowed to wait for a worker before `ERR server busy`. */
  queue: number;
  /** per-connection: live worker threads allowed at once. */
  maxWorkers: number;
  /** How long a graceful shutdown may take before the process exits anyway. */
  shutdownTimeoutMs: number;
  /** Where the store's log and snapshots live; null: memory only, nothing survives a restart. */
  dataDir: string | null;
  /** With a data directory: when a write may be acknowledged (durability/wal.ts). */
  fsync: FsyncPolicy;
  /** With a data directory: cut the log at damage in its middle instead of refusing to start. */
  repair: boolean;
}

export const DEFAULT_PORT = 7070;

export const DEFAULTS: Omit<ServerConfig, 'model'> = {
  host: '127.0.0.1',
  port: DEFAULT_PORT,
  httpPort: null,
  maxLine: 65536,
  maxOutput: 4 * 1024 * 1024,
  idleTimeoutMs: 300_000,
  testHooks: false,
  maxConnections: 10_000,
  storeMb: 64,
  workers: availableParallelism(),
  offload: 'all',
  queue: 1024,
  maxWorkers: 256,
  shutdownTimeoutMs: 10_000,
  dataDir: null,
  fsync: DEFAULT_FSYNC_POLICY,
  repair: false,
};

/** The settings worth printing on the `listening on` line for each model. */
export function describeSettings(config: ServerConfig): string {
  const common =
    `max-connections=${config.maxConnections} max-line=${config.maxLine} max-output=${config.maxOutput} ` +
    `idle-timeout=${config.idleTimeoutMs} store-mb=${config.storeMb}` +
    (config.dataDir === null ? '' : ` data-dir=${config.dataDir} fsync=${config.fsync}${config.repair ? ' repair=on' : ''}`) +
    (config.testHooks ? ' test-hooks=on' : '');
  switch (config.model) {
    case 'pool':
      return `workers=${config.workers} offload=${config.offload} queue=${config.queue} ${common}`;
    case 'per-connection':
      return `max-workers=${config.maxWorkers} ${common}`;
    default:
      return common;
  }
}
