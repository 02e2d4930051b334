// Driving the HTTP front with autocannon.
//
// The lab's own load generator speaks the line protocol. For HTTP the suite
// uses autocannon, the load tool most Node developers already know, through
// its programmatic API, and drives the same models with the same workloads at
// the same connection counts. A line cell and its HTTP twin then differ in the
// framing, which is what the comparison is for, and also in the client, which
// is what a careful reader keeps in mind.
//
// The workloads become routes:
//   echo   POST /echo with a body of `size` bytes   the body must come back
//   kv     GET or PUT /kv/<key>, `readRatio` GETs     a GET must return a value this run wrote
//   cpu    POST /work/<n>                             the digest must come back
//   sleep  POST /sleep/<ms>                           OK must come back
// Keys are the line generator's (`key:17`), percent-encoded in the path, and
// the keyspace is filled with PUTs before anything is measured, so a GET that
// finds nothing is a fault, not a cold cache.
//
// Where autocannon differs from our generator, named rather than hidden:
//   - It records latency in whole milliseconds (its histogram holds integers),
//     so a request answered in 0.4 ms reads 0. Its figures are recorded as it
//     reports them, in `latency` (converted to µs for the shared schema) and
//     in `autocannon.latencyMs`. The time it passes with each `response` event
//     is not rounded; the per-second timeline and `responseTimeUs` come from
//     those, at microsecond resolution.
//   - It has no warmup within a run, so a separate short run warms the server
//     first, on connections of its own.
//   - Its `errors` already include its `timeouts`. The total here counts each
//     failed request once: connection errors, timeouts, non-2xx answers (503
//     is the pool shedding load: `busy`) and 2xx answers with a wrong body.
//   - On a timeout it closes the connection and opens a new one. Against the
//     blocking model, which serves one keep-alive connection to its end, that
//     is all the other connections ever do: the lesson, recorded as it is.
//   - It speaks only HTTP, and our generator only the line protocol, so the
//     two transports are never measured by the same client.

import http from 'node:http';
import { createRequire } from 'node:module';
import autocannon from 'autocannon';
import type { ErrorCounts, LatencySummary } from '../clients/load/index.js';
import { jainFairness } from '../clients/load/fairness.js';
import { createLatencyHistogram, p99Of, recordLatency, summarizeLatency, type Histogram } from '../clients/load/histogram.js';
import { KvSpace, newRunTag } from '../clients/load/kv.js';
import { keyName } from '../clients/load/ops.js';
import { workDigest } from '../clients/load/workloads.js';
import { ZipfSampler } from '../clients/load/zipf.js';
import type { BenchWorkload } from './matrix.js';

export const AUTOCANNON_VERSION: string = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;

/** autocannon samples its counters this often; it also checks for the end of the run this often. */
const SAMPLE_INTERVAL_MS = 100;

export interface HttpLoadOptions {
  tool: 'autocannon';
  /** The server's HTTP address, `http://127.0.0.1:<port>`. */
  url: string;
  workload: BenchWorkload;
  connections: number;
  durationSec: number;
  warmupSec: number;
  /** autocannon's per-request timeout, in seconds; it accepts nothing under 1. */
  timeoutSec: number;
  /** Requests in flight per connection: one, as in the line-protocol cells. */
  pipeline: 1;
  size: number;
  readRatio: number;
  keys: number;
  keyDistribution: 'uniform' | 'zipfian';
  work: number;
  sleepMs: number;
}

/**
 * One HTTP run, in the same shape as the line generator's `LoadResult` where
 * the figures mean the same thing, plus autocannon's own report.
 */
export interface HttpLoadResult {
  options: HttpLoadOptions;
  startedAt: string;
  measuredSec: number;
  /** Measured requests that ended: answered (any status) or timed out. */
  requests: number;
  /** 2xx answers with the right body. Throughput and fairness count these only. */
  ok: number;
  bytesReceived: number;
  throughput: { requestsPerSec: number; bytesPerSec: number };
  /** autocannon's latency figures, whole milliseconds expressed in µs: sub-millisecond requests read 0. */
  latency: LatencySummary;
  /** The same requests' latency from autocannon's per-response times, which are not rounded. */
  responseTimeUs: LatencySummary;
  errors: ErrorCounts;
  perConnection: { min: number; max: number; jainFairness: number; counts: number[] };
  /** Per second of the measured window: good answers and their p99 (µs, from the per-response times). */
  timeline: { second: number; requests: number; p99Us: number }[];
  client: { cpuUserMs: number; cpuSystemMs: number; cpuPercent: number; threads: number };
  /** Answers by HTTP status. */
  statusCounts: Record<string, number>;
  /** HTTP cells are closed loop only. */
  openLoop?: undefined;
  /** autocannon's own report of the measured run, as it gave it. */
  autocannon: {
    version: string;
    durationSec: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    mismatches: number;
    requestsSent: number;
    /** Its latency percentiles in whole milliseconds (`p50`, `p99_9`, ...), with min, max, mean and stddev. */
    latencyMs: Record<string, number>;
  };
}

interface RequestPlan {
  request: autocannon.Request;
  /** Whether a 2xx answer's body is the right one for the request the context describes. */
  isRight(body: string, context: RequestContext): boolean;
}

interface RequestContext {
  key?: number;
  read?: boolean;
}

/** The autocannon request for a workload, and how to check its answers. */
function planFor(options: HttpLoadOptions, kv: KvSpace | undefined): RequestPlan {
  switch (options.workload) {
    case 'echo': {
      const payload = 'x'.repeat(options.size);
      return { request: { method: 'POST', path: '/echo', body: payload }, isRight: (body) => body === payload };
    }
    case 'cpu': {
      const digest = workDigest(options.work);
      return { request: { method: 'POST', path: `/work/${options.work}` }, isRight: (body) => body === digest };
    }
    case 'sleep':
      return { request: { method: 'POST', path: `/sleep/${options.sleepMs}` }, isRight: (body) => body === 'OK' };
    case 'kv': {
      const space = kv!;
      const zipf = options.keyDistribution === 'zipfian' ? new ZipfSampler(options.keys) : undefined;
      const nextKey = () => (zipf ? zipf.next() : Math.floor(Math.random() * options.keys));
      return {
        request: {
          method: 'GET',
          path: kvPath(0),
          // autocannon calls this before each request, with a context that lives until the answer.
          setupRequest: (request, raw) => {
            const context = raw as RequestContext;
            context.key = nextKey();
            context.read = Math.random() < options.readRatio;
            request.path = kvPath(context.key);
            request.method = context.read ? 'GET' : 'PUT';
            request.body = context.read ? undefined : space.nextValue(context.key);
            // A fresh headers object each time: autocannon writes Content-Length into the one it is
            // given and keeps it, so a GET after a PUT would otherwise announce a body it does not send.
            request.headers = {};
            return request;
          },
        },
        isRight: (body, context) => (context.key === undefined ? false : context.read ? space.isValueWrittenFor(context.key, body) : body === 'OK'),
      };
    }
  }
}

export function kvPath(key: number): string {
  return `/kv/${encodeURIComponent(keyName(key))}`;
}

/**
 * Writes every key once, one request at a time on one connection, which is
 * closed afterwards: the blocking model would serve nobody else until it is.
 */
export async function fillKeyspace(url: string, kv: KvSpace, timeoutMs = 5000): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let key = 0; key < kv.keys; key++) {
      const status = await put(url, kvPath(key), kv.nextValue(key), agent, timeoutMs);
      if (status !== 200) throw new Error(`filling the keyspace: PUT ${kvPath(key)} answered ${status}`);
    }
  } finally {
    agent.destroy();
  }
}

function put(url: string, path: string, body: string, agent: http.Agent, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      new URL(path, url),
      { method: 'PUT', agent, timeout: timeoutMs, headers: { 'content-length': Buffer.byteLength(body) } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

/** autocannon's latency object (whole ms) as the shared summary, in µs. */
export function latencyFromAutocannon(latencyMs: Record<string, number>): LatencySummary {
  const us = (key: string) => Math.round((latencyMs[key] ?? 0) * 1000);
  const points: [number, string][] = [
    [0, 'min'],
    [0.001, 'p0_001'],
    [0.01, 'p0_01'],
    [0.1, 'p0_1'],
    [1, 'p1'],
    [2.5, 'p2_5'],
    [10, 'p10'],
    [25, 'p25'],
    [50, 'p50'],
    [75, 'p75'],
    [90, 'p90'],
    [97.5, 'p97_5'],
    [99, 'p99'],
    [99.9, 'p99_9'],
    [99.99, 'p99_99'],
    [99.999, 'p99_999'],
    [100, 'max'],
  ];
  return {
    p50Us: us('p50'),
    p90Us: us('p90'),
    p99Us: us('p99'),
    p999Us: us('p99_9'),
    maxUs: us('max'),
    meanUs: us('mean'),
    // autocannon leaves its timed-out requests out of its latency (they are counted among the errors).
    timeouts: 0,
    distribution: points.filter(([, key]) => key in latencyMs).map(([percentile, key]) => ({ percentile, valueUs: us(key) })),
  };
}

/** The numeric fields of autocannon's latency object, so the record holds plain numbers only. */
function plainNumbers(object: object): Record<string, number> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)));
}

function baseOptions(options: HttpLoadOptions, plan: RequestPlan, durationSec: number): autocannon.Options {
  return {
    url: options.url,
    connections: options.connections,
    duration: durationSec,
    timeout: options.timeoutSec,
    pipelining: 1,
    sampleInt: SAMPLE_INTERVAL_MS,
    excludeErrorStats: true,
    requests: [{ ...plan.request }],
  };
}

/**
 * Counts what each answer was, per connection and per second. autocannon
 * calls a request's `onResponse` (which sees the body) and then, in the same
 * synchronous step, emits `response` (which knows the connection and the
 * time), so the verdict of the one is handed to the other in a variable.
 */
class Tally {
  readonly counts: number[];
  readonly histogram: Histogram = createLatencyHistogram(3);
  readonly timelineCounts: number[] = [];
  readonly timelineLatency: Histogram[] = [];
  readonly errors: ErrorCounts = { errReply: 0, busy: 0, timeout: 0, refused: 0, reset: 0, wrongReply: 0, total: 0 };
  readonly statusCounts: Record<string, number> = {};
  ok = 0;
  answered = 0;
  bytes = 0;
  lastBodyRight = false;
  private readonly clients = new Map<object, number>();
  private readonly startedMs = performance.now();

  constructor(connections: number) {
    this.counts = new Array<number>(connections).fill(0);
  }

  addClient(client: object): void {
    this.clients.set(client, this.clients.size);
  }

  response(client: object, status: number, bytes: number, responseTimeMs: number): void {
    this.answered++;
    this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
    if (status < 200 || status > 299) {
      if (status === 503) this.errors.busy++;
      else this.errors.errReply++;
      return;
    }
    if (!this.lastBodyRight) {
      this.errors.wrongReply++;
      return;
    }
    this.ok++;
    this.bytes += bytes;
    const index = this.clients.get(client);
    if (index !== undefined && index < this.counts.length) this.counts[index]++;
    const us = responseTimeMs * 1000;
    recordLatency(this.histogram, us);
    const second = Math.max(0, Math.floor((performance.now() - this.startedMs) / 1000));
    while (this.timelineCounts.length <= second) {
      this.timelineCounts.push(0);
      this.timelineLatency.push(createLatencyHistogram(2));
    }
    this.timelineCounts[second]++;
    recordLatency(this.timelineLatency[second], us);
  }

  requestError(error: { code?: string; message?: string }): void {
    // Timeouts are taken from autocannon's own count; here only the connection errors.
    if (error?.message === 'request timed out') return;
    if (error?.code === 'ECONNREFUSED') this.errors.refused++;
    else this.errors.reset++;
  }
}

async function runAutocannon(opts: autocannon.Options, tally?: Tally): Promise<autocannon.Result> {
  // Without a callback autocannon returns its event emitter, which is also a promise of the result.
  const instance = autocannon(opts) as unknown as autocannon.Instance & Promise<autocannon.Result>;
  if (tally) {
    instance.on('response', (client, status, bytes, time) => tally.response(client, status, bytes, time));
    instance.on('reqError', (error) => tally.requestError(error));
  }
  return await instance;
}

/**
 * Warms the server up, then measures: fills the keyspace for kv, runs
 * autocannon for `warmupSec` (not counted), then for `durationSec`.
 */
export async function runHttpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(options.url)) throw new Error(`HTTP load only targets 127.0.0.1, not ${options.url}`);
  if (!(options.timeoutSec >= 1)) throw new Error(`autocannon's timeout must be at least 1 s, got ${options.timeoutSec}`);
  const startedAt = new Date().toISOString();
  const kv = options.workload === 'kv' ? new KvSpace(options.keys, options.size, newRunTag(), KvSpace.allocate(options.keys)) : undefined;
  if (kv) await fillKeyspace(options.url, kv, options.timeoutSec * 1000);
  const plan = planFor(options, kv);

  if (options.warmupSec > 0) await runAutocannon(baseOptions(options, plan, options.warmupSec));

  const tally = new Tally(options.connections);
  const measured = baseOptions(options, plan, options.durationSec);
  const check = plan.isRight;
  measured.requests = [
    {
      ...plan.request,
      onResponse: (status, body, context) => {
        tally.lastBodyRight = status >= 200 && status <= 299 && check(body, context as RequestContext);
      },
    },
  ];
  measured.setupClient = (client) => tally.addClient(client);
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const result = await runAutocannon(measured, tally);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - wallBefore;

  tally.errors.timeout = result.timeouts;
  const e = tally.errors;
  e.total = e.errReply + e.busy + e.timeout + e.refused + e.reset + e.wrongReply;
  const measuredSec = result.duration > 0 ? result.duration : wallMs / 1000;
  const latencyMs = plainNumbers(result.latency);
  return {
    options,
    startedAt,
    measuredSec,
    requests: tally.answered + result.timeouts,
    ok: tally.ok,
    bytesReceived: tally.bytes,
    throughput: { requestsPerSec: tally.ok / measuredSec, bytesPerSec: tally.bytes / measuredSec },
    latency: latencyFromAutocannon(latencyMs),
    responseTimeUs: summarizeLatency(tally.histogram),
    errors: e,
    perConnection: {
      min: Math.min(...tally.counts),
      max: Math.max(...tally.counts),
      jainFairness: jainFairness(tally.counts),
      counts: tally.counts,
    },
    timeline: tally.timelineCounts.map((requests, second) => ({ second, requests, p99Us: p99Of(tally.timelineLatency[second]) })),
    client: {
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
      threads: 1,
    },
    statusCounts: tally.statusCounts,
    autocannon: {
      version: AUTOCANNON_VERSION,
      durationSec: result.duration,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      mismatches: result.mismatches,
      requestsSent: result.requests.sent,
      latencyMs,
    },
  };
}
