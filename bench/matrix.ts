// The comparison matrix: which experiments the suite runs, and in what order.
//
// A comparison is only fair when every model sees the same traffic, so the
// matrix is a plain cross product (model × workload × connections) plus a few
// variants that each isolate one effect:
//   - reconnect: a new TCP connection per request, which is what separates the
//     models that pay a price per connection (a thread, a worker) from those
//     that do not;
//   - offload: the pool model handing only the heavy commands (WORK, SLEEP) to
//     its workers, to show what the hop to a worker costs on cheap commands;
//   - open loop: requests sent on a schedule at fixed rates, so queueing shows
//     up as latency instead of being hidden by a client that politely waits.
//
// Open-loop rates are not written down anywhere: they are fractions of the
// closed-loop kv throughput this same run measured, so the sweep reaches
// saturation on whatever machine it runs on.
//
// A second axis, the transport, asks what HTTP's framing costs each model:
// the same models and workloads, driven over the HTTP front by autocannon
// instead of over the line protocol by the lab's own generator. The variants
// above are line-protocol experiments and have no HTTP twin.

import { MODELS, type ModelName } from '../servers/config.js';

/** The four server models, as the servers define them. */
export { MODELS };
export type Model = ModelName;

/** The workloads the suite compares. `mixed` is left to the load generator's own users. */
export const BENCH_WORKLOADS = ['echo', 'kv', 'cpu', 'sleep'] as const;
export type BenchWorkload = (typeof BENCH_WORKLOADS)[number];

export const FULL_CONNECTIONS = [1, 4, 16, 64, 256];

export const VARIANTS = ['reconnect', 'offload', 'open-loop'] as const;
export type VariantName = (typeof VARIANTS)[number];

/** How requests reach the server: the lab's line protocol, or HTTP/1.1 with keep-alive. */
export const TRANSPORTS = ['line', 'http'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** The models whose open-loop behaviour the suite sweeps. */
export const OPEN_LOOP_MODELS: readonly Model[] = ['async', 'pool'];

/**
 * Fractions of the measured closed-loop kv saturation throughput. The sweep
 * goes to twice that, because an open-loop client keeps sending whether or
 * not replies have come, so several requests may be in flight per connection
 * and a server that batches them can pass its closed-loop ceiling. Where the
 * generator, not the server, falls behind first, the cell's notes say so.
 */
export const FULL_OPEN_LOOP_FRACTIONS = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0];

/**
 * Open-loop cells spread their schedule over this many connections. It only
 * has to be enough to carry the rate; the lab protocol answers in order, so
 * fewer connections would add head-of-line waiting that is the client's doing.
 */
export const OPEN_LOOP_CONNECTIONS = 64;

export type CellVariant =
  { kind: 'closed' } | { kind: 'reconnect' } | { kind: 'offload'; offload: 'heavy' } | { kind: 'open-loop'; rateFraction: number };

export interface CellSpec {
  /** Stable, readable identity, e.g. `pool offload=heavy/cpu/c64`, or `async/echo/c4/http` over HTTP. */
  id: string;
  model: Model;
  workload: BenchWorkload;
  connections: number;
  variant: CellVariant;
  transport: Transport;
  /** Server flags beyond --model, --host and --port. */
  serverArgs: string[];
  /** The line this cell belongs to on a chart: the model plus its variant. */
  series: string;
  /** The chart this cell belongs to: the workload plus how it is driven. */
  group: string;
}

export interface MatrixSelection {
  models: readonly Model[];
  workloads: readonly BenchWorkload[];
  connections: readonly number[];
  variants: readonly VariantName[];
  openLoopFractions: readonly number[];
  transports: readonly Transport[];
  /**
   * Where the HTTP axis runs, when not everywhere the line protocol does:
   * HTTP cells cover these workloads and connection counts (each one also
   * selected above). Absent: every selected workload and connection count.
   */
  httpScope?: { workloads: readonly BenchWorkload[]; connections: readonly number[] };
}

export const FULL_SELECTION: MatrixSelection = {
  models: MODELS,
  workloads: BENCH_WORKLOADS,
  connections: FULL_CONNECTIONS,
  variants: VARIANTS,
  openLoopFractions: FULL_OPEN_LOOP_FRACTIONS,
  transports: TRANSPORTS,
};

/**
 * The --quick matrix: every model still appears, on the two connection counts
 * that tell most (a few clients, and more clients than cores by far), so that
 * each chart has something to show in under two minutes. Its HTTP slice is
 * echo only: enough to see each model's HTTP cost and the blocking model's
 * keep-alive lesson, at a quarter of the price of every workload.
 */
export const QUICK_SELECTION: MatrixSelection = {
  models: MODELS,
  workloads: ['echo', 'kv', 'cpu', 'sleep'],
  connections: [4, 64],
  variants: ['open-loop'],
  openLoopFractions: [0.5, 1.0, 2.0],
  transports: TRANSPORTS,
  httpScope: { workloads: ['echo'], connections: [4, 64] },
};

function seriesName(model: Model, variant: CellVariant): string {
  return variant.kind === 'offload' ? `${model} offload=${variant.offload}` : model;
}

function groupName(workload: BenchWorkload, variant: CellVariant, transport: Transport): string {
  if (transport === 'http') return `${workload} http`;
  if (variant.kind === 'reconnect') return `${workload} reconnect`;
  if (variant.kind === 'open-loop') return `${workload} open loop`;
  return workload;
}

function variantSuffix(variant: CellVariant, transport: Transport): string {
  if (transport === 'http') return '/http';
  if (variant.kind === 'open-loop') return `/rate=${Math.round(variant.rateFraction * 100)}%`;
  if (variant.kind === 'reconnect') return '/reconnect';
  return '';
}

export function makeCell(model: Model, workload: BenchWorkload, connections: number, variant: CellVariant, transport: Transport = 'line'): CellSpec {
  if (transport === 'http' && variant.kind !== 'closed') {
    throw new Error(`the ${variant.kind} variant is a line-protocol experiment; HTTP cells are closed loop only`);
  }
  const series = seriesName(model, variant);
  return {
    id: `${series}/${workload}/c${connections}${variantSuffix(variant, transport)}`,
    model,
    workload,
    connections,
    variant,
    transport,
    serverArgs: serverArgsFor(model, connections, variant),
    series,
    group: groupName(workload, variant, transport),
  };
}

/**
 * Server flags a cell needs beyond the model. The per-connection model caps its
 * threads (`--max-workers`, 256 by default); the cell's own connections, plus
 * the suite's STATS-sampling connection and a little room for reconnects, must
 * fit under the cap, or the cap rather than the model is what gets measured.
 */
function serverArgsFor(model: Model, connections: number, variant: CellVariant): string[] {
  if (variant.kind === 'offload') return ['--offload', variant.offload];
  if (model === 'per-connection') return ['--max-workers', String(connections + PER_CONNECTION_SPARE_WORKERS)];
  return [];
}

const PER_CONNECTION_SPARE_WORKERS = 8;

/** The workloads and connection counts the HTTP axis covers, within the selection. */
export function httpCoverage(selection: MatrixSelection): { workloads: BenchWorkload[]; connections: number[] } {
  if (!selection.transports.includes('http')) return { workloads: [], connections: [] };
  const scope = selection.httpScope;
  return {
    workloads: selection.workloads.filter((w) => !scope || scope.workloads.includes(w)),
    connections: selection.connections.filter((c) => !scope || scope.connections.includes(c)),
  };
}

/**
 * Lists every cell of the selection. Closed-loop kv cells always come before
 * the open-loop sweep, because the sweep's rates are derived from them. Each
 * workload's HTTP cells follow its line-protocol cells, so a run cut short
 * still holds both sides of the comparison for the workloads it finished.
 * Without the line transport there are no variants: each is a line-protocol
 * experiment.
 */
export function buildMatrix(selection: MatrixSelection): CellSpec[] {
  const cells: CellSpec[] = [];
  const line = selection.transports.includes('line');
  const wants = (v: VariantName) => line && selection.variants.includes(v);
  const http = httpCoverage(selection);
  for (const workload of selection.workloads) {
    if (line) {
      for (const model of selection.models) {
        for (const c of selection.connections) cells.push(makeCell(model, workload, c, { kind: 'closed' }));
      }
    }
    if (wants('offload') && selection.models.includes('pool')) {
      for (const c of selection.connections) {
        cells.push(makeCell('pool', workload, c, { kind: 'offload', offload: 'heavy' }));
      }
    }
    if (wants('reconnect') && workload === 'echo') {
      for (const model of selection.models) {
        for (const c of selection.connections) cells.push(makeCell(model, workload, c, { kind: 'reconnect' }));
      }
    }
    if (http.workloads.includes(workload)) {
      for (const model of selection.models) {
        for (const c of http.connections) cells.push(makeCell(model, workload, c, { kind: 'closed' }, 'http'));
      }
    }
  }
  if (wants('open-loop') && selection.workloads.includes('kv')) {
    for (const model of OPEN_LOOP_MODELS) {
      if (!selection.models.includes(model)) continue;
      for (const rateFraction of selection.openLoopFractions) {
        cells.push(makeCell(model, 'kv', OPEN_LOOP_CONNECTIONS, { kind: 'open-loop', rateFraction }));
      }
    }
  }
  return cells;
}

/**
 * The open-loop schedule for one model: each fraction of the saturation
 * throughput, rounded to whole requests per second (never below 1).
 */
export function openLoopRates(saturationRps: number, fractions: readonly number[]): number[] {
  if (!Number.isFinite(saturationRps) || saturationRps <= 0) {
    throw new Error(`cannot derive open-loop rates from a saturation throughput of ${saturationRps}`);
  }
  return fractions.map((f) => Math.max(1, Math.round(saturationRps * f)));
}

/**
 * The saturation throughput an open-loop sweep is scaled from: the best median
 * closed-loop kv throughput this model reached at any connection count.
 * Returns undefined when no such cell succeeded, so the sweep fails with that
 * reason instead of guessing.
 */
export function saturationThroughput(
  measured: readonly (Pick<CellSpec, 'model' | 'workload' | 'variant'> & { transport?: Transport; medianRps: number | null })[],
  model: Model,
): number | undefined {
  let best: number | undefined;
  for (const cell of measured) {
    const { medianRps } = cell;
    if (cell.model !== model || cell.workload !== 'kv' || cell.variant.kind !== 'closed' || cell.transport === 'http') continue;
    if (medianRps === null || !(medianRps > 0)) continue;
    if (best === undefined || medianRps > best) best = medianRps;
  }
  return best;
}

export interface Timing {
  durationSec: number;
  warmupSec: number;
  repeat: number;
  /** Starting, pinging and stopping a server, filling the kv keyspace: the cost of a run beyond its traffic. */
  perRunOverheadSec: number;
}

/** Wall-clock seconds the cells should take; an estimate, printed before the run starts. */
export function estimateSeconds(cellCount: number, timing: Timing): number {
  const perRun = timing.warmupSec + timing.durationSec + timing.perRunOverheadSec;
  return cellCount * timing.repeat * perRun;
}

/** How many times each cell runs: HTTP cells may be given fewer repeats than line-protocol cells. */
export function repeatsFor(cell: Pick<CellSpec, 'transport'>, repeat: number, httpRepeat: number): number {
  return cell.transport === 'http' ? httpRepeat : repeat;
}
