// `npm run load -- --port 7070 --workload kv --connections 64`
//
// Drives a server with the chosen workload, prints a summary table and, with
// --json, writes every figure to a file. Bad flags exit with code 2 and a
// message; a server that cannot be reached exits with code 1.
import { writeFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ARRIVALS } from './arrivals.js';
import { OPEN_LOOP_MODES } from './types.js';
import {
  defaultLoadOptions,
  formatSummary,
  LoadOptionsError,
  parseMix,
  runLoad,
  ServerCheckError,
  type LoadOptions,
  type Workload,
} from './index.js';

const d = defaultLoadOptions;

function usageError(message: string): never {
  process.stderr.write(`load: ${message}\nRun with --help for the flags.\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('npm run load --')
    .usage('$0 --port PORT [options]\n\nDrive a lab server (or Redis) with load and measure latency, throughput, errors and fairness.')
    .option('host', { type: 'string', default: d.host, describe: 'server address' })
    .option('port', { type: 'number', demandOption: true, describe: 'server port' })
    .option('workload', { choices: ['echo', 'kv', 'cpu', 'sleep', 'mixed'] as const, default: d.workload, describe: 'what each request asks for' })
    .option('connections', { alias: 'c', type: 'number', default: d.connections, describe: 'concurrent connections' })
    .option('duration', { alias: 'd', type: 'number', describe: `measured seconds (default ${d.durationSec}, or unlimited with --requests)` })
    .option('warmup', { type: 'number', default: d.warmupSec, describe: 'seconds of unmeasured traffic first' })
    .option('requests', { alias: 'n', type: 'number', describe: 'stop after this many measured requests' })
    .option('pipeline', { type: 'number', default: d.pipeline, describe: 'requests in flight per connection (closed loop)' })
    .option('rate', { alias: 'R', type: 'number', describe: 'open loop: total requests per second, sent on schedule' })
    .option('arrivals', { choices: ARRIVALS, describe: 'open loop: when requests are due (default poisson: independent users)' })
    .option('open-loop', {
      choices: OPEN_LOOP_MODES,
      describe: 'open loop: idle = each request on a connection with nothing in flight (default); pipelined = request i on connection i mod n',
    })
    .option('reconnect', { type: 'boolean', default: d.reconnect, describe: 'a new connection for every request (connect time counts)' })
    .option('size', { type: 'number', default: d.size, describe: 'ECHO payload / kv value bytes' })
    .option('read-ratio', { type: 'number', default: d.readRatio, describe: 'kv: fraction of GETs' })
    .option('keys', { type: 'number', default: d.keys, describe: 'kv: keyspace size (filled before measuring)' })
    .option('key-distribution', { choices: ['uniform', 'zipfian'] as const, default: d.keyDistribution, describe: 'kv: key popularity' })
    .option('work', { type: 'number', default: d.work, describe: 'cpu: n of WORK n' })
    .option('sleep', { type: 'number', default: d.sleepMs, describe: 'sleep: ms of SLEEP ms' })
    .option('mix', { type: 'string', describe: 'mixed: weights, e.g. "echo=5,kv=3,cpu=1"' })
    .option('threads', { type: 'number', default: d.threads, describe: 'worker threads to spread connections over' })
    .option('dialect', { choices: ['lab', 'redis'] as const, default: d.dialect, describe: 'lab protocol, or Redis inline commands + RESP' })
    .option('timeout', { type: 'number', default: d.timeoutMs, describe: 'ms before a request counts as timed out' })
    .option('json', { type: 'string', describe: 'write the full result as JSON to this file' })
    .strict()
    .version(false)
    .help()
    .fail((message, error) => {
      usageError(message ?? error?.message ?? 'invalid arguments');
    })
    .parseAsync();

  const options: LoadOptions = {
    host: argv.host,
    port: argv.port,
    workload: argv.workload as Workload,
    connections: argv.connections,
    durationSec: argv.duration ?? (argv.requests === undefined ? d.durationSec : undefined),
    warmupSec: argv.warmup,
    requests: argv.requests,
    pipeline: argv.pipeline,
    rate: argv.rate,
    ...(argv.arrivals === undefined ? {} : { arrivals: argv.arrivals }),
    ...(argv['open-loop'] === undefined ? {} : { openLoopMode: argv['open-loop'] }),
    reconnect: argv.reconnect,
    size: argv.size,
    readRatio: argv['read-ratio'],
    keys: argv.keys,
    keyDistribution: argv['key-distribution'],
    work: argv.work,
    sleepMs: argv.sleep,
    threads: argv.threads,
    dialect: argv.dialect,
    timeoutMs: argv.timeout,
  };
  try {
    if (argv.mix !== undefined) options.mix = parseMix(argv.mix);
    if (options.mix !== undefined && options.workload !== 'mixed') usageError('--mix needs --workload mixed');
    const result = await runLoad(options);
    process.stdout.write(`${formatSummary(result)}\n`);
    if (argv.json !== undefined) {
      writeFileSync(argv.json, `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(`\nwrote ${argv.json}\n`);
    }
  } catch (error) {
    if (error instanceof LoadOptionsError) usageError(error.message);
    if (error instanceof ServerCheckError) {
      process.stderr.write(`load: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`load: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
