// Predictions from first principles, set beside what was measured.
//
// A measurement means more next to a number worked out beforehand: if SLEEP 10
// on two pool workers tops out at 200 requests per second by arithmetic, and
// the run measured 190, the reader learns that the pool's size is the whole
// story; if it measured 90, something else is going on, and the report says
// what it most likely is. Two kinds of prediction are made:
//
//   - Little's law, L = λW: with N connections each keeping one request in
//     flight, throughput should be N ÷ mean latency. It uses the run's own
//     latency, so it predicts nothing new; it is a consistency check, and where
//     it fails, it shows requests that were in flight but never answered, or
//     time spent outside the server.
//   - Ceilings from the design and the run's settings (ceilings.ts): how many
//     requests can be in service at once divided by what one request costs.
//
// Where the two disagree with the measurement by more than AGREEMENT, the
// report gives the likeliest reasons, from what the run itself recorded.

import { ceilingFor, serverCores, workCostMs, type CeilingWork, type PredictionContext } from './ceilings.js';
import { medianRps, pipelineOf, representativeRepeat, type ReportCell, type ReportResults } from './data.js';
import { listOf, ms, num, percent, plural, rps, times } from './format.js';

/** Measured and predicted agree when they are within this fraction of each other. */
export const AGREEMENT = 0.25;

export interface Comparison {
  /** What the prediction is compared with: the cell's median, or for Little's law one repeat's throughput. */
  measured: number;
  predicted: number;
  /** measured ÷ predicted. */
  ratio: number;
  /** How the prediction was worked out, with the run's numbers in it. */
  arithmetic: string;
  /** Empty when measured and predicted agree; otherwise the likeliest reason first. */
  reasons: string[];
}

export interface Prediction {
  cell: ReportCell;
  measured: number;
  little: Comparison | { unavailable: string };
  /** Null where the design gives no ceiling from one dominant cost (cheap commands: echo, kv). */
  ceiling: (Comparison & { limiter: string }) | { unavailable: string } | null;
}

export const disagrees = (ratio: number) => ratio < 1 - AGREEMENT || ratio > 1 + AGREEMENT;

interface Evidence {
  cell: ReportCell;
  ctx: PredictionContext;
  /** The cell's median throughput, which ceilings are compared with. */
  measured: number;
  n: number;
  cores: number;
  /** Figures from one repeat, the one nearest the median (see representativeRepeat). */
  repeatRps?: number;
  requests: number;
  ok: number;
  errorShare: number;
  clientCpu?: number;
  fairness?: number;
  meanUs?: number;
  maxUs?: number;
}

function evidenceOf(cell: ReportCell, ctx: PredictionContext): Evidence {
  const load = representativeRepeat(cell)?.load ?? undefined;
  const requests = load?.requests ?? 0;
  const answered = load !== undefined && load.ok > 0;
  return {
    cell,
    ctx,
    measured: medianRps(cell) ?? 0,
    n: cell.connections * pipelineOf(cell),
    cores: serverCores(ctx.results),
    repeatRps: load?.throughput.requestsPerSec,
    requests,
    ok: load?.ok ?? 0,
    errorShare: load && requests > 0 ? load.errors.total / requests : 0,
    clientCpu: load?.client.cpuPercent,
    fairness: answered ? load.perConnection.jainFairness : undefined,
    meanUs: answered ? load.latency.meanUs : undefined,
    maxUs: answered ? load.latency.maxUs : undefined,
  };
}

function errorBreakdown(cell: ReportCell): string {
  const e = representativeRepeat(cell)?.load?.errors;
  if (!e) return '';
  const kinds = (['timeout', 'busy', 'refused', 'reset', 'wrongReply', 'errReply'] as const)
    .filter((k) => e[k] > 0)
    .map((k) => `${e[k]} ${{ timeout: 'timed out', busy: 'busy', refused: 'refused', reset: 'reset', wrongReply: 'wrong', errReply: 'ERR' }[k]}`);
  return kinds.length > 0 ? ` (${listOf(kinds)})` : '';
}

/** The run's machine was running other work: the load average above the core count at the start. */
export function busyMachine(results: ReportResults): string | undefined {
  const load = results.machine.loadAverageAtStart?.[0];
  const cores = results.machine.cores;
  if (load !== undefined && load > cores) {
    return `the machine was busy with other work (load average ${num(load)} on ${plural(cores, 'core')} when the run started), so the server got less CPU than the ceiling assumes`;
  }
  return undefined;
}

/**
 * How long starting one worker per connection takes on this machine, when that
 * outlasts the warmup. Only HTTP cells pay it inside the window: the lab's own
 * generator opens every connection and sees it answer once before its clock
 * starts, while autocannon starts measuring as it connects.
 */
export function workerStartsOutlastWarmup(cell: ReportCell, ctx: PredictionContext): string | undefined {
  const costs = ctx.costs?.costs;
  if (cell.model !== 'per-connection' || cell.variant.kind === 'reconnect' || cell.transport !== 'http' || !costs) return undefined;
  const cores = serverCores(ctx.results);
  const starting = (cell.connections * costs.workerStartMs.median) / cores / 1000;
  const warmup = ctx.results.settings.warmupSec;
  if (starting <= warmup) return undefined;
  return `starting ${plural(cell.connections, 'worker thread')} takes about ${cell.connections} × ${ms(costs.workerStartMs.median)} ÷ ${plural(cores, 'core')} = ${num(starting)} s, longer than the ${num(warmup)} s warmup, so part of the measured window went to starting threads`;
}

/** Why a cell fell short of its ceiling, likeliest first. */
function shortOfCeiling(ev: Evidence, c: CeilingWork): string[] {
  const { cell, ctx } = ev;
  const costs = ctx.costs?.costs;
  const cpuBound = cell.workload === 'cpu' || cell.variant.kind === 'reconnect';
  const reasons: (string | undefined)[] = [];
  if (ev.ok === 0) {
    reasons.push(`no request was answered correctly inside the ${num(ctx.results.settings.durationSec)} s window`);
  }
  if (ev.errorShare > 0.05) reasons.push(`${percent(ev.errorShare)} of requests failed${errorBreakdown(cell)}`);
  reasons.push(workerStartsOutlastWarmup(cell, ctx));
  if (cpuBound) reasons.push(busyMachine(ctx.results));
  if (cell.workload === 'cpu' && c.parallel > 1 && ev.clientCpu !== undefined && ev.clientCpu >= 20) {
    reasons.push(
      `the load generator runs on the same ${plural(ev.cores, 'core')} as the server and used ${num(ev.clientCpu)} % of one, while the ceiling gives the server ${c.parallel} to itself`,
    );
  }
  if (cell.model === 'per-connection' && ev.n > ev.cores && cell.workload === 'cpu') {
    reasons.push(`the scheduler time-slices ${ev.n} worker threads over ${plural(ev.cores, 'core')}, and every switch costs time and cache`);
  }
  if (cell.workload === 'cpu' && cell.variant.kind !== 'reconnect' && ev.measured > 0 && ctx.costs) {
    const held = (c.parallel * 1000) / ev.measured;
    const cost = workCostMs(ctx.costs, ctx.results.settings.workloadParameters.work);
    const handOff =
      cell.model === 'pool' && costs
        ? `the hand-off to a worker and back (a piscina round trip costs ${num(costs.piscinaTaskRoundTripUs.median)} µs), `
        : cell.model === 'per-connection' && costs
          ? `relaying bytes to the connection's thread and back (a message round trip costs ${num(costs.messageRoundTripUs.median)} µs), `
          : '';
    reasons.push(
      `each request held its thread for ${ms(held)} against ${ms(cost)} for the WORK alone; the rest is ${handOff}parsing and replying, and waiting for a core`,
    );
  }
  if (cell.workload === 'sleep' && cell.variant.kind !== 'reconnect' && ev.measured > 0) {
    const held = (c.parallel * 1000) / ev.measured;
    const sleep = ctx.results.settings.workloadParameters.sleepMs;
    reasons.push(
      `each SLEEP ${num(sleep)} held its thread for ${ms(held)} on average, not ${ms(sleep)}: a timer fires late when its thread is busy or descheduled, and each request also pays its hand-off and reply`,
    );
  }
  if (cell.variant.kind === 'reconnect') {
    reasons.push(
      cell.model === 'per-connection'
        ? `worker starts contend for the same ${plural(ev.cores, 'core')}: ${ev.n === 1 ? 'a start in the run' : `${ev.n} connections starting threads at once`} take${ev.n === 1 ? 's' : ''} longer than one start measured alone`
        : 'a connection in the run costs more than the isolated cycle: the server sets up and tears down a session for each, and closed sockets pile up in TIME_WAIT on the loopback',
    );
  }
  if (!cpuBound) reasons.push(busyMachine(ctx.results));
  const found = reasons.filter((r): r is string => r !== undefined);
  return found.length > 0 ? found : ["this run's data does not say why"];
}

/** Why a cell beat its ceiling: the ceiling's assumptions did not hold. */
function aboveCeiling(ev: Evidence, c: CeilingWork): string[] {
  const { cell, ctx } = ev;
  const reasons: string[] = [];
  if (cell.workload === 'cpu' && cell.variant.kind !== 'reconnect' && ctx.costs) {
    const fastest = workCostMs(ctx.costs, ctx.results.settings.workloadParameters.work, 'min');
    const withFastest = (c.parallel * 1000) / fastest;
    reasons.push(
      ev.measured <= withFastest * (1 + AGREEMENT)
        ? `WORK was timed at a busier moment than this cell ran: with its fastest timing (${ms(fastest)}) the ceiling is ${rps(withFastest)}`
        : `the server paid less per WORK than the isolated timing (${ms(workCostMs(ctx.costs, ctx.results.settings.workloadParameters.work))}): the costs were measured while the machine was busier`,
    );
  }
  if (cell.variant.kind === 'reconnect') {
    reasons.push(
      'the isolated cycle runs both ends of the connection on one thread; in the run the generator and the server work on separate cores at once, so the two halves of a cycle overlap',
    );
  }
  if (ctx.costs && !ctx.costs.measuredDuringRun) {
    reasons.push('the costs were measured when the report was written, not during the run, on a machine that may have been in another state');
  }
  if (reasons.length === 0)
    reasons.push(`the ceiling's assumption (${c.arithmetic}) did not hold: check the server's settings in its listening line`);
  return reasons;
}

/** Why throughput fell short of N ÷ mean latency, likeliest first. */
function shortOfLittle(ev: Evidence): string[] {
  const { cell } = ev;
  const reasons: (string | undefined)[] = [];
  if (cell.model === 'blocking' && cell.connections > 1 && cell.variant.kind !== 'reconnect') {
    reasons.push(
      `only one connection is served at a time: the other ${cell.connections - 1} connections' requests are in flight but unanswered, so they count in the concurrency and not in the mean latency`,
    );
  }
  if (ev.fairness !== undefined && ev.fairness < 0.9 && cell.model !== 'blocking') {
    reasons.push(
      `some connections were starved (fairness ${num(ev.fairness)}): their requests, in flight but unanswered at the end of the window, count in the concurrency and not in the mean`,
    );
  }
  if (ev.requests > 0 && (ev.requests - ev.ok) / ev.requests > 0.05) {
    reasons.push(`${percent((ev.requests - ev.ok) / ev.requests)} of requests were not answered correctly${errorBreakdown(cell)}`);
  }
  // Time outside the server only explains the gap when nothing above already does.
  if (reasons.length === 0 && ev.repeatRps && ev.meanUs !== undefined) {
    const outside = (ev.n / ev.repeatRps) * 1000 - ev.meanUs / 1000;
    const where =
      cell.variant.kind === 'reconnect'
        ? 'closing the connection and preparing the next one in the generator'
        : 'the generator turning a reply into the next request';
    const busy = ev.clientCpu !== undefined && ev.clientCpu >= 80 ? ` (the generator used ${num(ev.clientCpu)} % of a core)` : '';
    if (outside > 0) reasons.push(`each request cycle spent ${ms(outside)} outside the measured latency, in ${where}${busy}`);
  }
  const found = reasons.filter((r): r is string => r !== undefined);
  return found.length > 0 ? found : ["this run's data does not say why"];
}

function aboveLittle(ev: Evidence): string[] {
  const window = ev.ctx.results.settings.durationSec * 1000;
  if (ev.maxUs !== undefined && ev.maxUs / 1000 > 0.05 * window) {
    return [
      `the slowest requests (up to ${ms(ev.maxUs / 1000)}) are long next to the ${num(window / 1000)} s window, so requests straddling its edges weigh on the mean latency`,
    ];
  }
  return ['a few slow requests raised the mean latency more than they lowered throughput'];
}

/** The latency resolution of cells whose generator rounds (HTTP cells: autocannon's whole milliseconds). */
function latencyResolutionMs(cell: ReportCell, results: ReportResults): number | undefined {
  if ((cell as { transport?: string }).transport !== 'http') return undefined;
  const http = (results.settings as { http?: { latencyResolutionMs?: number } | null }).http;
  return http?.latencyResolutionMs ?? 1;
}

function compare(measured: number, predicted: number, arithmetic: string): Comparison {
  return { measured, predicted, ratio: predicted > 0 ? measured / predicted : NaN, arithmetic, reasons: [] };
}

export function predict(cell: ReportCell, ctx: PredictionContext): Prediction | undefined {
  if (cell.variant.kind === 'open-loop' || !cell.summary?.requestsPerSec) return undefined;
  const ev = evidenceOf(cell, ctx);
  let little: Prediction['little'];
  const resolutionMs = latencyResolutionMs(cell, ctx.results);
  if (ev.meanUs === undefined || ev.meanUs <= 0 || ev.repeatRps === undefined) {
    little = { unavailable: 'no request was answered, so there is no mean latency' };
  } else if (resolutionMs !== undefined && ev.meanUs / 1000 < 10 * resolutionMs) {
    little = { unavailable: `a mean of ${ms(ev.meanUs / 1000)} recorded in whole steps of ${ms(resolutionMs)} is too coarse to check` };
  } else {
    const predicted = ev.n / (ev.meanUs / 1e6);
    little = compare(ev.repeatRps, predicted, `${ev.n} in flight ÷ ${ms(ev.meanUs / 1000)} mean latency`);
    if (disagrees(little.ratio)) little.reasons = little.ratio < 1 ? shortOfLittle(ev) : aboveLittle(ev);
  }
  const c = ceilingFor(cell, ctx);
  let ceiling: Prediction['ceiling'] = null;
  if (c && 'unavailable' in c) ceiling = c;
  else if (c) {
    const cmp = compare(ev.measured, c.rps, c.arithmetic);
    if (disagrees(cmp.ratio)) cmp.reasons = cmp.ratio < 1 ? shortOfCeiling(ev, c) : aboveCeiling(ev, c);
    ceiling = { ...cmp, limiter: c.limiter };
  }
  return { cell, measured: ev.measured, little, ceiling };
}

/** One sentence about a disagreement, for the text under a predictions table. */
export function disagreementSentence(what: string, cmp: Comparison): string {
  const direction = cmp.ratio < 1 ? 'below' : 'above';
  const gap = percent(Math.abs(cmp.ratio - 1));
  // The likeliest reason, and the next one: a longer list reads as a shrug.
  const [first, second] = cmp.reasons;
  return `${what}: measured ${gap} ${direction} the prediction (${times(cmp.ratio)}); likeliest reason: ${first}.${second ? ` Also: ${second}.` : ''}`;
}
