// Ceilings: what a model's design allows, worked out before looking at the figures.
//
// How many requests can be in service at once (one thread, W workers, C cores,
// N connections), divided by what one request costs (the SLEEP's
// milliseconds, the measured cost of one WORK, the measured cost of a
// connection), read from the run's own settings and the Node costs measured
// on its machine. predict.ts sets these beside the measurements.
//
// Simplification, named: a ceiling ignores everything but the one cost that
// should dominate. That is the point (it shows which cost dominates), and it
// is why the report treats a gap of up to 25 % as agreement.

import { pipelineOf, serverSetting, type CostSource, type ReportCell, type ReportResults } from './data.js';
import { ms, plural } from './format.js';

/** What a prediction is worked out from: the run's record, and the costs of Node it can rest on. */
export interface PredictionContext {
  results: ReportResults;
  costs?: CostSource;
}

/** Cores the server could run on: all of them, or those it was pinned to. */
export function serverCores(results: ReportResults): number {
  const p = results.placement;
  if (p?.applied && p.serverCpus) {
    const count = p.serverCpus.split(',').reduce((n, part) => {
      const [a, b] = part.split('-').map(Number);
      return n + (Number.isFinite(b) ? b - a + 1 : 1);
    }, 0);
    if (count > 0) return count;
  }
  return results.machine.cores;
}

/** The pool's worker count as the server reported it; its default is one per core. */
export function poolWorkers(cell: ReportCell, results: ReportResults): { workers: number; stated: boolean } {
  const w = serverSetting(cell, 'workers');
  return w !== undefined ? { workers: w, stated: true } : { workers: results.machine.cores, stated: false };
}

/** The milliseconds of one `WORK n` with this run's n, scaled from the measured cost (the chain is linear in n). */
export function workCostMs(costs: CostSource, n: number, which: 'median' | 'min' = 'median'): number {
  return (costs.costs.work.ms[which] * n) / costs.costs.work.n;
}

export interface CeilingWork {
  rps: number;
  arithmetic: string;
  limiter: string;
  /** Requests the design lets run at once. */
  parallel: number;
}

/** The ceiling for one cell, or why there is none. */
export function ceilingFor(cell: ReportCell, ctx: PredictionContext): CeilingWork | { unavailable: string } | null {
  const { results, costs } = ctx;
  const n = cell.connections * pipelineOf(cell);
  const cores = serverCores(results);
  const w = results.settings.workloadParameters;
  const kind = cell.variant.kind;
  if (kind === 'open-loop') return null;

  if (kind === 'reconnect') {
    if (!costs) return { unavailable: 'the cost of a connection was not measured in this run' };
    const cycle = costs.costs.connectionCycleMs.median;
    if (cell.model === 'blocking') {
      return {
        rps: 1000 / cycle,
        parallel: 1,
        arithmetic: `1 connection at a time × 1000 ÷ ${ms(cycle)} per connection`,
        limiter: 'one connection at a time, each paying a whole connect and close',
      };
    }
    const parallel = Math.min(n, cores);
    if (cell.model === 'per-connection') {
      const start = costs.costs.workerStartMs.median;
      return {
        rps: (parallel * 1000) / (cycle + start),
        parallel,
        arithmetic: `min(${plural(n, 'connection')}, ${cores} cores) × 1000 ÷ (${ms(cycle)} per connection + ${ms(start)} per worker start)`,
        limiter: `starting a worker thread for every connection (${ms(start)} each)`,
      };
    }
    return {
      rps: (parallel * 1000) / cycle,
      parallel,
      arithmetic: `min(${plural(n, 'connection')}, ${cores} cores) × 1000 ÷ ${ms(cycle)} per connection`,
      limiter: 'the cost of opening and closing a connection',
    };
  }

  if (cell.workload === 'sleep') {
    const sleep = w.sleepMs;
    const per = `1000 ÷ ${ms(sleep)}`;
    if (cell.model === 'blocking') {
      return {
        rps: 1000 / sleep,
        parallel: 1,
        arithmetic: `1 SLEEP at a time × ${per}`,
        limiter: 'the one connection being served, whose SLEEP blocks the only thread',
      };
    }
    if (cell.model === 'pool') {
      const { workers, stated } = poolWorkers(cell, results);
      const parallel = Math.min(n, workers);
      return {
        rps: (parallel * 1000) / sleep,
        parallel,
        arithmetic: `min(${plural(n, 'connection')}, ${workers} workers${stated ? '' : ' (assumed: one per core)'}) × ${per}`,
        limiter: `the pool's ${plural(workers, 'worker')}, each held by one SLEEP at a time`,
      };
    }
    if (cell.model === 'per-connection') {
      const max = serverSetting(cell, 'max-workers');
      const parallel = max !== undefined ? Math.min(n, max) : n;
      return {
        rps: (parallel * 1000) / sleep,
        parallel,
        arithmetic: `${max !== undefined && max < n ? `min(${plural(n, 'connection')}, ${max} max workers)` : `${n} connections`} × ${per}`,
        limiter: 'the connections themselves: each has a thread that sleeps on its own',
      };
    }
    return {
      rps: (n * 1000) / sleep,
      parallel: n,
      arithmetic: `${plural(n, 'connection')} × ${per}`,
      limiter: 'the connections themselves: timers wait side by side on the one loop',
    };
  }

  if (cell.workload === 'cpu') {
    if (!costs) return { unavailable: `the cost of one WORK ${w.work} was not measured in this run` };
    const cost = workCostMs(costs, w.work);
    const per = `1000 ÷ ${ms(cost)} per WORK ${w.work}`;
    if (cell.model === 'blocking' || cell.model === 'async') {
      return {
        rps: 1000 / cost,
        parallel: 1,
        arithmetic: `1 thread × ${per}`,
        limiter:
          cell.model === 'blocking' ? 'one connection served at a time, on one thread' : 'one core: the single event-loop thread computes every WORK',
      };
    }
    if (cell.model === 'pool') {
      const { workers, stated } = poolWorkers(cell, results);
      const parallel = Math.min(n, workers, cores);
      return {
        rps: (parallel * 1000) / cost,
        parallel,
        arithmetic: `min(${plural(n, 'connection')}, ${workers} workers${stated ? '' : ' (assumed)'}, ${cores} cores) × ${per}`,
        limiter:
          workers < cores ? `the pool's ${plural(workers, 'worker')}` : `the ${plural(cores, 'core')} (the pool has ${plural(workers, 'worker')})`,
      };
    }
    const parallel = Math.min(n, cores);
    return {
      rps: (parallel * 1000) / cost,
      parallel,
      arithmetic: `min(${plural(n, 'connection')}, ${cores} cores) × ${per}`,
      limiter: `the ${plural(cores, 'core')}: one thread per connection, but only ${cores} can compute at once`,
    };
  }
  return null;
}
