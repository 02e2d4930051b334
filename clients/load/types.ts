// The vocabulary of the load generator, shared by the CLI, the worker threads
// and the comparison suite that calls it as a library.
//
// A run is described completely by `LoadOptions` and reported completely by
// `LoadResult`, so a result file always says how it was produced: the options
// travel inside the result.

import type { Arrivals } from './arrivals.js';

export const OPEN_LOOP_MODES = ['idle', 'pipelined'] as const;
export type OpenLoopMode = (typeof OPEN_LOOP_MODES)[number];

/** What each request asks the server to do. `mixed` draws from the others by weight. */
export type Workload = 'echo' | 'kv' | 'cpu' | 'sleep' | 'mixed';

/** The single-command workloads that `mixed` can draw from. */
export type SimpleWorkload = Exclude<Workload, 'mixed'>;

export interface LoadOptions {
  host: string;
  port: number;
  workload: Workload;
  /** TCP connections kept open (or, with `reconnect`, concurrent request slots). */
  connections: number;
  /** Measured seconds, after the warmup. With `requests` as well, whichever ends first ends the run. */
  durationSec?: number;
  /** Seconds of traffic before measuring starts; nothing sent then is counted. */
  warmupSec: number;
  /** Stop after this many measured requests instead of after `durationSec`. */
  requests?: number;
  /** Requests kept in flight per connection in closed loop. */
  pipeline: number;
  /** Open loop: total requests per second sent on schedule, whatever the replies do. */
  rate?: number;
  /** Open loop: when requests are due; Poisson (independent users) unless told otherwise. */
  arrivals?: Arrivals;
  /**
   * Open loop: `idle` sends each due request on a connection with nothing in
   * flight (one request per connection, as independent users would), and
   * queues it in the generator when every connection is busy; `pipelined`
   * sends request i on connection i mod n whatever it has in flight.
   */
  openLoopMode?: OpenLoopMode;
  /** A fresh TCP connection for every request; connect time counts as latency. */
  reconnect: boolean;
  /** ECHO payload bytes, or kv value bytes. */
  size: number;
  /** kv: fraction of requests that are GETs. */
  readRatio: number;
  /** kv: size of the keyspace, filled before measuring. */
  keys: number;
  keyDistribution: 'uniform' | 'zipfian';
  /** cpu: the n of `WORK n`. */
  work: number;
  /** sleep: the ms of `SLEEP ms`. */
  sleepMs: number;
  /** mixed: relative weights of the simple workloads. */
  mix?: Partial<Record<SimpleWorkload, number>>;
  /** Worker threads the connections are spread over (1 = main thread only). */
  threads: number;
  /** `lab` speaks the lab protocol; `redis` sends inline commands and parses RESP. */
  dialect: 'lab' | 'redis';
  /** A request without a reply after this long counts as a timeout. */
  timeoutMs: number;
}

export interface LatencySummary {
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  meanUs: number;
  /**
   * Timed-out requests counted in these figures, each at no less than the
   * timeout. Leaving them out would let a server that stalls long enough to
   * time requests out show better percentiles than one that answers late.
   */
  timeouts: number;
  /** The latency at each of a fixed list of percentiles, for distribution charts. */
  distribution: { percentile: number; valueUs: number }[];
}

export interface ErrorCounts {
  /** `ERR ...` replies other than `ERR server busy`. */
  errReply: number;
  /** `ERR server busy`: the server shed load on purpose. */
  busy: number;
  /** No reply within `timeoutMs`. */
  timeout: number;
  /** ECONNREFUSED, and `ERR max connections`. */
  refused: number;
  /** ECONNRESET, EPIPE, or the server closing while requests were in flight. */
  reset: number;
  /** A reply that is not what the request must produce. */
  wrongReply: number;
  total: number;
}

export interface LoadResult {
  options: LoadOptions;
  startedAt: string;
  measuredSec: number;
  /**
   * Measured requests that ended: answered right, answered wrong or with ERR, or
   * lost (timeout, refused, reset). `errors.total` can exceed `requests - ok` by
   * connections that broke with no request in flight.
   */
  requests: number;
  /** Measured requests answered correctly. Throughput, latency and fairness count these only. */
  ok: number;
  bytesSent: number;
  bytesReceived: number;
  /**
   * Good replies per second: for a timed run, the good replies that arrived
   * inside the planned measured window divided by its length (the steady-state
   * rate, whatever the latency); for a run by request count, all good replies
   * over the time they took. Bytes per second in both directions.
   */
  throughput: { requestsPerSec: number; bytesPerSec: number };
  /** Latency of good replies and of timed-out requests: from send (closed loop) or from the scheduled time (open loop). */
  latency: LatencySummary;
  /** The full latency histogram, HDR compressed base64, so runs can be merged or re-analysed. */
  latencyHistogram: string;
  errors: ErrorCounts;
  /** Good replies each connection got, so starvation shows. */
  perConnection: { min: number; max: number; jainFairness: number; counts: number[] };
  /** Per second of the measured window (by completion time): good replies and their p99. */
  timeline: { second: number; requests: number; p99Us: number }[];
  /**
   * The generator's own cost over the measured window (whole process, all threads).
   * `cpuPercent` is of one core: 100 per fully busy thread.
   */
  client: { cpuUserMs: number; cpuSystemMs: number; cpuPercent: number; threads: number; osThreads?: number };
  openLoop?: {
    targetRate: number;
    /** Good replies per second of the measured window: the same as throughput. */
    achievedRate: number;
    /** Measured requests actually written per second, from the first to the last. */
    sentRate: number;
    /** The latest a request was sent after its scheduled time: large values mean the generator fell behind. */
    maxSendLagMs: number;
    /** How late, on average, the generator took up a due request (its timer's lateness, charged to latency). */
    meanSendLagMs: number;
    arrivals: Arrivals;
    mode: OpenLoopMode;
    /**
     * `idle` mode: due requests that found every connection busy and waited in
     * the generator for one (their wait counts as latency). Many mean the
     * connections were too few for the rate: by Little's law a rate R with
     * latency W keeps R × W requests in flight. That is itself a sign of
     * saturation.
     */
    waitedForConnection: number;
  };
}

/** Everything but the port has a sensible default; the port must always be chosen. */
export const defaultLoadOptions: Omit<LoadOptions, 'port'> = {
  host: '127.0.0.1',
  workload: 'echo',
  connections: 16,
  durationSec: 10,
  warmupSec: 1,
  pipeline: 1,
  reconnect: false,
  size: 64,
  readRatio: 0.9,
  keys: 1000,
  keyDistribution: 'uniform',
  work: 1000,
  sleepMs: 10,
  threads: 1,
  dialect: 'lab',
  timeoutMs: 5000,
};
