// `npm run serve`: start one of the four server models from the command line.
//
// Prints one line once the socket is bound (`listening on HOST:PORT model=...`)
// so that people, tests and the benchmark suite all know where to connect and
// with which settings, and stops gracefully on SIGINT or SIGTERM.

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_PORT, DEFAULTS, describeSettings, MODELS, OFFLOAD_MODES, ServerConfig } from './config.js';
import { RunningServer, startServer } from './server.js';
import { MAX_STORE_MB } from './store/store.js';
import { DataDirectoryLockedError } from './store/durability/dir-lock.js';
import { CorruptLogError, RecoveryReport } from './store/durability/recovery.js';
import { FSYNC_POLICIES } from './store/durability/wal.js';

const MODEL_SUMMARY = `Models:
  blocking        one thread serves one connection at a time, to its end; everything blocks
  per-connection  a dedicated worker thread for each connection; the main thread relays bytes
  pool            an event loop does the I/O; a fixed piscina pool of worker threads runs requests
  async           one event loop for every connection; SLEEP is a timer, WORK stalls the loop`;

function parseArguments(argv: string[]): ServerConfig {
  const args = yargs(argv)
    .scriptName('npm run serve --')
    .usage('$0 --model=<name> [options]\n\nStarts a Server Pattern Lab server.\n\n' + MODEL_SUMMARY)
    .option('model', { choices: MODELS, demandOption: true, describe: 'which server model to run' })
    .option('host', { type: 'string', default: DEFAULTS.host, describe: 'address to bind' })
    .option('port', { type: 'number', default: DEFAULT_PORT, describe: 'port of the line protocol (0 picks a free one)' })
    .option('line', { type: 'boolean', default: true, describe: 'serve the line protocol (--no-line turns it off)' })
    .option('http-port', { type: 'number', describe: 'also serve HTTP/1.1 on this port (0 picks a free one)' })
    .option('max-connections', { type: 'number', default: DEFAULTS.maxConnections, describe: 'connections served at once' })
    .option('max-line', { type: 'number', default: DEFAULTS.maxLine, describe: 'longest request line, in bytes' })
    .option('max-output', { type: 'number', default: DEFAULTS.maxOutput, describe: 'unsent reply bytes per client before reading from it pauses' })
    .option('idle-timeout', { type: 'number', default: DEFAULTS.idleTimeoutMs, describe: 'ms of silence after which an idle connection is closed' })
    .option('test-hooks', { type: 'boolean', default: false, hidden: true, describe: 'enable DEBUG CRASH (fault tests only)' })
    .option('store-mb', { type: 'number', default: DEFAULTS.storeMb, describe: 'size of the shared key-value store, in MiB' })
    .option('workers', { type: 'number', default: DEFAULTS.workers, describe: 'pool: worker threads in the pool' })
    .option('offload', { choices: OFFLOAD_MODES, default: DEFAULTS.offload, describe: 'pool: all commands, or only WORK and SLEEP' })
    .option('queue', { type: 'number', default: DEFAULTS.queue, describe: 'pool: requests that may wait for a worker' })
    .option('max-workers', { type: 'number', default: DEFAULTS.maxWorkers, describe: 'per-connection: live worker threads allowed' })
    .option('shutdown-timeout', { type: 'number', default: DEFAULTS.shutdownTimeoutMs, describe: 'ms a graceful stop may take' })
    .option('data-dir', { type: 'string', describe: 'keep the store in a write-ahead log in this directory (default: memory only)' })
    .option('fsync', { choices: FSYNC_POLICIES, default: DEFAULTS.fsync, describe: 'with --data-dir: when a write is acknowledged' })
    .option('repair', { type: 'boolean', default: false, describe: 'with --data-dir: cut the log at damage in its middle instead of refusing' })
    .check((a) => {
      requireInteger('port', a.port, 0, 65535);
      if (a['http-port'] !== undefined) requireInteger('http-port', a['http-port'], 0, 65535);
      if (!a.line && a['http-port'] === undefined) throw new Error('--no-line needs --http-port: the server would have no way in');
      requireInteger('max-output', a['max-output'], 1024);
      requireInteger('idle-timeout', a['idle-timeout'], 1);
      requireInteger('max-connections', a['max-connections'], 1);
      requireInteger('max-line', a['max-line'], 16);
      requireInteger('workers', a.workers, 1, 1024);
      // At least 1: with no queue at all, piscina 5 rejects a task it cannot place yet still runs it
      // later, so a request answered `ERR server busy` would take effect anyway.
      requireInteger('queue', a.queue, 1);
      requireInteger('max-workers', a['max-workers'], 1);
      requireInteger('shutdown-timeout', a['shutdown-timeout'], 0);
      if (!(a['store-mb'] > 0 && a['store-mb'] <= MAX_STORE_MB))
        throw new Error(`--store-mb must be more than 0 and at most ${MAX_STORE_MB} (MiB), got ${a['store-mb']}`);
      if (a['data-dir'] !== undefined && a['data-dir'].trim() === '') throw new Error('--data-dir needs a directory');
      if (a['data-dir'] === undefined && a.repair) throw new Error('--repair needs --data-dir: there is no log to repair');
      return true;
    })
    .strict()
    .help()
    .version(false)
    .fail((message, error) => {
      console.error(`error: ${message ?? error?.message}`);
      console.error('run with --help to see the models and options');
      process.exit(2);
    })
    .parseSync();
  return {
    model: args.model,
    host: args.host,
    port: args.line ? args.port : null,
    httpPort: args['http-port'] ?? null,
    maxOutput: args['max-output'],
    idleTimeoutMs: args['idle-timeout'],
    testHooks: args['test-hooks'],
    maxConnections: args['max-connections'],
    maxLine: args['max-line'],
    storeMb: args['store-mb'],
    workers: args.workers,
    offload: args.offload,
    queue: args.queue,
    maxWorkers: args['max-workers'],
    shutdownTimeoutMs: args['shutdown-timeout'],
    dataDir: args['data-dir'] ?? null,
    fsync: args.fsync,
    repair: args.repair,
  };
}

/** `127.0.0.1:7070`, `127.0.0.1:7070 http=127.0.0.1:7080`, or `http=127.0.0.1:7080`. */
function listeningOn(server: RunningServer): string {
  const line = server.line ? `${server.line.host}:${server.line.port}` : undefined;
  const http = server.http ? `http=${server.http.host}:${server.http.port}` : undefined;
  return [line, http].filter(Boolean).join(' ');
}

/**
 * What start-up recovered, as `name=value` words for the `listening on` line
 * (nothing without a data directory): records, bytes and time, and each cut
 * as `dropped=FILE@OFFSET+BYTES`. Why each cut was made goes to stderr.
 */
function recoveredFrom(report: RecoveryReport | undefined): string {
  if (!report) return '';
  for (const cut of report.dropped) console.error(`recovery dropped ${cut.bytes} bytes of ${cut.file} at offset ${cut.offset}: ${cut.reason}`);
  for (const name of report.removed) console.error(`recovery removed ${name}, left by an interrupted compaction`);
  const droppedBytes = report.dropped.reduce((sum, cut) => sum + cut.bytes, 0);
  return (
    ` recovered-records=${report.records} recovered-bytes=${report.bytes} recovery-ms=${report.durationMs} dropped-bytes=${droppedBytes}` +
    report.dropped.map((cut) => ` dropped=${cut.file}@${cut.offset}+${cut.bytes}`).join('')
  );
}

/** Why start-up failed, in words a person can act on. */
function startFailure(config: ServerConfig, error: NodeJS.ErrnoException): string {
  if (error instanceof CorruptLogError) return `cannot recover ${config.dataDir}: ${error.message}`;
  if (error instanceof DataDirectoryLockedError) return `cannot use ${config.dataDir}: ${error.message}`;
  if (config.dataDir !== null && error.syscall !== 'listen') return `cannot open ${config.dataDir}: ${error.message}`;
  return `cannot listen on ${config.host}: ${error.code ?? error.message}`;
}

function requireInteger(flag: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`--${flag} must be a whole number from ${min} to ${max}, got ${value}`);
  }
}

async function main(): Promise<void> {
  const config = parseArguments(hideBin(process.argv));
  const server = await startServer(config).catch((error: NodeJS.ErrnoException) => {
    console.error(`error: ${startFailure(config, error)}`);
    process.exit(1);
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: finishing requests already read, then exiting`);
    const deadline = setTimeout(() => {
      console.error(`shutdown took longer than ${config.shutdownTimeoutMs} ms; exiting anyway`);
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    void server.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Only now: whoever reads this line may signal at once, and must find the handlers in place.
  console.log(`listening on ${listeningOn(server)} model=${config.model} ${describeSettings(config)}${recoveredFrom(server.recovery)}`);
}

void main();
