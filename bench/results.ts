// The results file: everything a run measured, in one JSON document.
//
// The file is the record, and the charts are only drawings of it. So it holds
// every repeat of every cell in full (not just the medians), every failure
// with its reason, the machine, and the exact options each run used, so that a
// chart can be redrawn or questioned later without running anything again.
// Its shape is pinned by bench/results.schema.json; bump SCHEMA_VERSION when it
// changes in a way a reader would notice.

import type { LoadOptions, LoadResult } from '../clients/load/index.js';
import type { CalibrationResult } from './calibration.js';
import type { NodeCosts } from './costs/index.js';
import type { MachineInfo } from './machine.js';
import type { HttpLoadOptions, HttpLoadResult } from './http-load.js';
import type { BenchWorkload, CellVariant, Model, Transport } from './matrix.js';
import type { Placement } from './pin.js';
import type { ProcSample, ResourceSummary } from './sampler.js';
import type { ServerSettings, StopInfo } from './server-process.js';
import type { StatsSample } from './stats-sampler.js';
import type { Spread } from './stats.js';

export const SCHEMA_VERSION = 1;

export interface RepeatRecord {
  index: number;
  status: 'ok' | 'failed';
  failure?: string;
  startedAt: string;
  wallSec: number;
  server: {
    pid: number | null;
    /** The line-protocol port; null for HTTP cells, whose servers run with --no-line. */
    port: number | null;
    /** The HTTP port, for HTTP cells. */
    httpPort: number | null;
    listeningLine: string | null;
    startupMs: number | null;
    pongMs: number | null;
    /** The CPUs the kernel allowed the server, read back while it ran. */
    cpusAllowed: string | null;
    stop: StopInfo | null;
    stderrTail?: string;
  };
  /** What the generator was asked to do: the lab's generator (line) or autocannon (HTTP). */
  loadOptions: LoadOptions | HttpLoadOptions | null;
  /** The same figures for both transports; an HTTP run's also carry autocannon's own report. */
  load: LoadResult | HttpLoadResult | null;
  resources: ResourceSummary | null;
  samples: ProcSample[];
  /**
   * The server's own STATS replies, taken over one extra connection while the
   * load ran (line cells only; the blocking model's single reply comes after
   * the load, see stats-sampler.ts). `tMs` is on the same clock as `samples`.
   */
  statsSamples?: StatsSample[];
  notes: string[];
}

export interface CellSummary {
  requestsPerSec: Spread | null;
  p50Us: Spread | null;
  p90Us: Spread | null;
  p99Us: Spread | null;
  p999Us: Spread | null;
  maxUs: Spread | null;
  meanUs: Spread | null;
  errors: Spread | null;
  timeouts: Spread | null;
  jainFairness: Spread | null;
  clientCpuPercent: Spread | null;
  serverCpuPercent: Spread | null;
  serverPeakRssBytes: Spread | null;
  serverMeanRssBytes: Spread | null;
  serverMaxThreads: Spread | null;
  achievedRate: Spread | null;
  /**
   * How busy the load generator's threads were, as a fraction of their time
   * (its CPU over its thread count). Files written before it was recorded lack it.
   */
  generatorBusy?: Spread | null;
}

/** A generator whose threads were this busy (median over repeats) may itself have been the bound. */
export const GENERATOR_BOUND_BUSY = 0.9;

export interface CellRecord {
  id: string;
  model: Model;
  workload: BenchWorkload;
  connections: number;
  variant: CellVariant;
  transport: Transport;
  series: string;
  group: string;
  /** Every flag the server was started with (the port is always 0: the server picks one). */
  serverFlags: string[];
  /**
   * What the servers said they ran with, read from the listening line of the
   * first repeat whose server started: the pool's worker count, the
   * per-connection worker cap, and the rest, by flag name. Null if no server
   * started. Files written before it was recorded lack it; the report then
   * reads each repeat's `listeningLine` the same way.
   */
  serverSettings: ServerSettings | null;
  /** Open-loop cells: the rate asked for, derived from this run's closed-loop kv throughput. */
  targetRate: number | null;
  /**
   * The load generator's threads were at least GENERATOR_BOUND_BUSY busy
   * (median over repeats): the cell may measure the generator, not the
   * server. Files written before it was recorded lack it.
   */
  generatorBound?: boolean;
  status: 'ok' | 'partial' | 'failed';
  failure?: string;
  /** The repeat whose throughput is the median; charts that need one whole run use it. */
  medianRepeat: number | null;
  summary: CellSummary | null;
  repeats: RepeatRecord[];
  notes: string[];
}

export interface ChartRecord {
  file: string;
  title: string;
  width: number;
  height: number;
}

export interface RunSettings {
  durationSec: number;
  warmupSec: number;
  repeat: number;
  timeoutMs: number;
  sampleIntervalMs: number;
  openLoopConnections: number;
  openLoopFractions: number[];
  workloadParameters: { size: number; readRatio: number; keys: number; keyDistribution: string; work: number; sleepMs: number };
  clientThreads: number;
  /** How the HTTP axis was run, or null when it was not selected. */
  http: HttpSettings | null;
}

export interface HttpSettings {
  tool: 'autocannon';
  toolVersion: string;
  /** Runs per HTTP cell; fewer than `repeat` when the time budget asked for it (`reason` says). */
  repeat: number;
  workloads: BenchWorkload[];
  connections: number[];
  /** The resolution of autocannon's latency figures: whole milliseconds. */
  latencyResolutionMs: number;
  /** autocannon's per-request timeout, in whole seconds (it accepts nothing under 1). */
  timeoutSec: number;
  reason: string;
}

export interface RunResults {
  schemaVersion: number;
  runId: string;
  status: 'running' | 'complete' | 'interrupted';
  startedAt: string;
  finishedAt: string | null;
  elapsedSec: number | null;
  machine: MachineInfo;
  invocation: { argv: string[]; flags: Record<string, unknown> };
  placement: Placement;
  settings: RunSettings;
  estimate: { cells: number; runs: number; seconds: number };
  /** What Node's building blocks cost on this machine, measured before the first cell; null if that failed. */
  nodeCosts: NodeCosts | null;
  cells: CellRecord[];
  calibration: CalibrationResult;
  charts: ChartRecord[];
}

/** One model, workload and connection count measured over both transports. */
export interface TransportPair {
  workload: BenchWorkload;
  model: Model;
  connections: number;
  lineRps: number | null;
  httpRps: number | null;
  /**
   * HTTP's median throughput over the line protocol's: 0.6 means HTTP
   * answered 60 % as many requests per second. Null when either side has no
   * figure, or the line side answered nothing.
   */
  ratio: number | null;
  /**
   * The load generator's CPU per answered request, in µs (its median CPU
   * share over its median throughput). The two transports use different
   * clients, and on a machine they share with the server a costlier client
   * leaves the server less CPU: this shows how much of the ratio is the client.
   */
  lineClientUsPerRequest: number | null;
  httpClientUsPerRequest: number | null;
}

/** The fields of a cell the pairing reads. */
type PairedCell = Pick<CellRecord, 'model' | 'workload' | 'connections' | 'variant' | 'transport' | 'series' | 'summary'>;

function clientUsPerRequest(cell: PairedCell | undefined): number | null {
  const cpu = cell?.summary?.clientCpuPercent?.median;
  const rps = cell?.summary?.requestsPerSec?.median;
  return cpu === undefined || rps === undefined || !(rps > 0) ? null : ((cpu / 100) * 1e6) / rps;
}

/**
 * Pairs every HTTP cell with the line-protocol cell of the same model,
 * workload and connection count (the plain closed-loop one, not a variant).
 * Charts and the report read the comparison from here, so they agree.
 */
export function transportPairs(cells: readonly PairedCell[]): TransportPair[] {
  const plainLine = (c: PairedCell) => c.transport !== 'http' && c.variant.kind === 'closed' && c.series === c.model;
  return cells
    .filter((c) => c.transport === 'http')
    .map((http) => {
      const line = cells.find((c) => plainLine(c) && c.model === http.model && c.workload === http.workload && c.connections === http.connections);
      const lineRps = line?.summary?.requestsPerSec?.median ?? null;
      const httpRps = http.summary?.requestsPerSec?.median ?? null;
      return {
        workload: http.workload,
        model: http.model,
        connections: http.connections,
        lineRps,
        httpRps,
        ratio: lineRps !== null && httpRps !== null && lineRps > 0 ? httpRps / lineRps : null,
        lineClientUsPerRequest: clientUsPerRequest(line),
        httpClientUsPerRequest: clientUsPerRequest(http),
      };
    });
}
