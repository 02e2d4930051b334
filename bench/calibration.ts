// Calibrating the load generator against one nobody here wrote.
//
// A load generator can be the bottleneck of its own measurement: if it cannot
// send requests faster than the server answers them, every model looks alike
// and the chart measures the client. To know how far our numbers can be
// trusted, the suite points our generator and redis-benchmark (the C tool that
// ships with Redis) at the same redis-server, with the same number of
// connections, one request in flight per connection, and records both
// throughputs and their ratio. A ratio near 1 says our generator keeps up with
// a mature native client at those connection counts; well below 1 says the
// lab's numbers at that level partly measure the generator.
//
// Throughput is half of it. Each side's latency is checked too, against
// Little's law: in a closed loop of N connections with no think time, the
// mean latency must be N / throughput. Our generator's mean meets it; a
// generator whose mean falls well short is leaving out part of each round
// trip, typically the time a reply waits in its own client before it is
// read (redis-benchmark times a request from its send to the moment its
// event loop gets to the reply, among many). A lesson about trusting any
// load tool: its throughput and its latency must agree.
//
// Simplifications, named: redis-benchmark sends SET and GET as RESP arrays,
// while our generator's redis dialect sends inline commands; both are one
// round trip per request, so the comparison is of client overhead per
// request, not of identical bytes. redis-benchmark is told to send as many
// requests as our generator completed, so the two runs last about as long.
//
// Nothing is installed here. If either Redis program is missing, the suite
// prints how to install it and records the calibration as skipped.

import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { runLoad, defaultLoadOptions, type LoadResult } from '../clients/load/index.js';
import { withDeadline } from './deadline.js';
import { findOnPath, pinnedCommand, type Placement } from './pin.js';
import { median } from './stats.js';

export const INSTALL_HINT =
  'calibration needs redis-server and redis-benchmark; install them with: apt-get install redis-server redis-tools ' +
  '(or run the suite with --no-calibration)';

export interface CalibrationMeasurement {
  command: 'SET' | 'GET';
  connections: number;
  redisBenchmark: {
    requestsPerSec: number;
    p50Ms: number | null;
    /** Its own mean latency, from its CSV (older versions print none). */
    meanMs?: number | null;
    /** What Little's law requires of the mean: connections / throughput. */
    littlesLawMs?: number;
    requests: number;
  } | null;
  ours: {
    requestsPerSec: number;
    p50Us: number;
    p99Us: number;
    meanUs?: number;
    /** What Little's law requires of the mean: connections / throughput. */
    littlesLawUs?: number;
    errors: number;
    clientCpuPercent: number;
    requests: number;
  } | null;
  /** Our throughput divided by redis-benchmark's; null when either side failed. */
  ratio: number | null;
  failure?: string;
}

export type CalibrationResult =
  | { skipped: true; reason: string; install?: string }
  | {
      skipped: false;
      redisServerVersion: string;
      redisBenchmarkPath: string;
      connections: number[];
      valueBytes: number;
      keys: number;
      measurements: CalibrationMeasurement[];
      /** The median of the measured ratios: the headline number. */
      medianRatio: number | null;
      interpretation: string;
      failure?: string;
    };

/** The parts of a run's settings the calibration runs with: its timing, and the kv workload's value size and key space. */
export interface CalibrationSettings {
  durationSec: number;
  warmupSec: number;
  timeoutMs: number;
  clientThreads: number;
  workloadParameters: { size: number; keys: number };
}

export interface CalibrationTools {
  redisServer: string;
  redisBenchmark: string;
}

/** Both Redis programs, or the reason the calibration cannot run. */
export function findCalibrationTools(): CalibrationTools | { missing: string[] } {
  const redisServer = findOnPath('redis-server');
  const redisBenchmark = findOnPath('redis-benchmark');
  if (redisServer && redisBenchmark) return { redisServer, redisBenchmark };
  return {
    missing: [redisServer ? null : 'redis-server', redisBenchmark ? null : 'redis-benchmark'].filter((x): x is string => x !== null),
  };
}

/** Seconds the calibration should take, for the suite's estimate. */
export function estimateCalibrationSeconds(connections: readonly number[], settings: Pick<CalibrationSettings, 'durationSec' | 'warmupSec'>): number {
  // Per connection count: our SET and GET runs, then redis-benchmark's two, each about one measurement long.
  return 2 + connections.length * (2 * (settings.warmupSec + settings.durationSec + 0.5) + 2 * settings.durationSec);
}

/**
 * Parses `redis-benchmark --csv` output into requests per second (and the
 * median latency, when the version prints it) by test name. Newer versions
 * start with a header row; older ones print only `"NAME","rps"` rows.
 */
export function parseRedisBenchmarkCsv(text: string): Map<string, { requestsPerSec: number; p50Ms: number | null; meanMs: number | null }> {
  const rows = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.startsWith('"'))
    .map((line) => line.split(',').map((cell) => cell.replace(/^"|"$/g, '')));
  const out = new Map<string, { requestsPerSec: number; p50Ms: number | null; meanMs: number | null }>();
  let p50Column = -1;
  let meanColumn = -1;
  const numberAt = (row: string[], column: number) => {
    const value = column >= 0 ? Number(row[column]) : NaN;
    return Number.isFinite(value) ? value : null;
  };
  for (const row of rows) {
    if (row[0] === 'test') {
      p50Column = row.indexOf('p50_latency_ms');
      meanColumn = row.indexOf('avg_latency_ms');
      continue;
    }
    const rps = Number(row[1]);
    if (!Number.isFinite(rps)) continue;
    out.set(row[0].toUpperCase(), { requestsPerSec: rps, p50Ms: numberAt(row, p50Column), meanMs: numberAt(row, meanColumn) });
  }
  return out;
}

/** The mean latency, in ms, that a closed loop of `connections` with no think time must show at `requestsPerSec`. */
export function littlesLawMean(connections: number, requestsPerSec: number): number {
  return requestsPerSec > 0 ? Math.round((connections / requestsPerSec) * 1e6) / 1000 : Infinity;
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const port = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(port));
    });
  });
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => finish(false), 500);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: string) => finish(d.startsWith('+PONG')));
    socket.on('error', () => finish(false));
  });
}

async function startRedis(tools: CalibrationTools, placement: Placement) {
  const port = await freeLoopbackPort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  const { command, args: argv } = pinnedCommand(placement, tools.redisServer, args);
  const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 5000;
  while (!(await redisPing(port))) {
    if (gone || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}: ${stderr.trim() || 'no output'}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    async stop() {
      if (gone) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function runRedisBenchmark(path: string, port: number, connections: number, requests: number, valueBytes: number, keys: number) {
  const args = [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-c',
    String(connections),
    '-n',
    String(requests),
    '-d',
    String(valueBytes),
    '-r',
    String(keys),
    '-t',
    'set,get',
    '-q',
    '--csv',
  ];
  return new Promise<Map<string, { requestsPerSec: number; p50Ms: number | null }>>((resolve, reject) => {
    const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', (err) => reject(err));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const parsed = parseRedisBenchmarkCsv(stdout);
      if (code === 0 && parsed.size > 0) resolve(parsed);
      else reject(new Error(`redis-benchmark failed (code ${code}, signal ${signal}): ${stderr.trim() || stdout.trim()}`));
    });
  });
}

async function runOurs(
  port: number,
  connections: number,
  readRatio: number,
  settings: CalibrationSettings,
  valueBytes: number,
  keys: number,
): Promise<LoadResult> {
  const deadlineMs = (settings.warmupSec + settings.durationSec + settings.timeoutMs / 1000 + 15) * 1000;
  const run = runLoad({
    ...defaultLoadOptions,
    host: '127.0.0.1',
    port,
    dialect: 'redis',
    workload: 'kv',
    connections,
    durationSec: settings.durationSec,
    warmupSec: settings.warmupSec,
    pipeline: 1,
    readRatio,
    size: valueBytes,
    keys,
    keyDistribution: 'uniform',
    threads: settings.clientThreads,
    timeoutMs: settings.timeoutMs,
  });
  return withDeadline(run, deadlineMs, 'our generator against redis-server');
}

function interpret(ratio: number | null): string {
  if (ratio === null) return 'no ratio could be measured';
  const pct = Math.round(ratio * 100);
  if (ratio >= 0.8)
    return `our generator reached ${pct}% of redis-benchmark's throughput: it keeps up with a native client, so the lab's numbers at these connection counts measure the servers`;
  if (ratio >= 0.5)
    return `our generator reached ${pct}% of redis-benchmark's throughput: figures near that level may be partly limited by the generator`;
  return `our generator reached only ${pct}% of redis-benchmark's throughput: fast cells are likely limited by the generator, compare models at high rates with care`;
}

export async function runCalibration(
  tools: CalibrationTools,
  connectionCounts: readonly number[],
  settings: CalibrationSettings,
  placement: Placement,
  log: (line: string) => void,
): Promise<CalibrationResult> {
  const version = spawnSync(tools.redisServer, ['--version'], { encoding: 'utf8' }).stdout?.trim() || 'unknown';
  const valueBytes = settings.workloadParameters.size;
  const keys = settings.workloadParameters.keys;
  const measurements: CalibrationMeasurement[] = [];
  const base = {
    skipped: false as const,
    redisServerVersion: version,
    redisBenchmarkPath: tools.redisBenchmark,
    connections: [...connectionCounts],
    valueBytes,
    keys,
    measurements,
  };
  let redis: Awaited<ReturnType<typeof startRedis>>;
  try {
    redis = await startRedis(tools, placement);
  } catch (err) {
    return { ...base, medianRatio: null, interpretation: interpret(null), failure: (err as Error).message };
  }
  try {
    for (const connections of connectionCounts) {
      log(`calibration: ${connections} connections`);
      const ours = new Map<'SET' | 'GET', LoadResult | Error>();
      for (const [command, readRatio] of [
        ['SET', 0],
        ['GET', 1],
      ] as const) {
        ours.set(command, await runOurs(redis.port, connections, readRatio, settings, valueBytes, keys).catch((e: Error) => e));
      }
      const completed = [...ours.values()].map((r) => (r instanceof Error ? 0 : r.requests));
      const requests = Math.min(500_000, Math.max(2_000, ...completed));
      const theirs = await runRedisBenchmark(tools.redisBenchmark, redis.port, connections, requests, valueBytes, keys).catch((e: Error) => e);
      for (const command of ['SET', 'GET'] as const) {
        const mine = ours.get(command)!;
        const other = theirs instanceof Error ? undefined : theirs.get(command);
        const failures = [
          mine instanceof Error ? `our generator: ${mine.message}` : null,
          theirs instanceof Error ? theirs.message : other ? null : `redis-benchmark printed no ${command} row`,
        ].filter(Boolean);
        const oursFigures =
          mine instanceof Error
            ? null
            : {
                requestsPerSec: mine.throughput.requestsPerSec,
                p50Us: mine.latency.p50Us,
                p99Us: mine.latency.p99Us,
                meanUs: mine.latency.meanUs,
                littlesLawUs: littlesLawMean(connections, mine.throughput.requestsPerSec) * 1000,
                errors: mine.errors.total,
                clientCpuPercent: mine.client.cpuPercent,
                requests: mine.requests,
              };
        const theirFigures = other ? { ...other, littlesLawMs: littlesLawMean(connections, other.requestsPerSec), requests } : null;
        measurements.push({
          command,
          connections,
          redisBenchmark: theirFigures,
          ours: oursFigures,
          ratio: oursFigures && theirFigures && theirFigures.requestsPerSec > 0 ? oursFigures.requestsPerSec / theirFigures.requestsPerSec : null,
          ...(failures.length > 0 ? { failure: failures.join('; ') } : {}),
        });
      }
    }
  } finally {
    await redis.stop();
  }
  const ratios = measurements.flatMap((m) => (m.ratio === null ? [] : [m.ratio]));
  const medianRatio = ratios.length > 0 ? median(ratios) : null;
  return { ...base, medianRatio, interpretation: interpret(medianRatio) };
}
