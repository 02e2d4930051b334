// The report's section on what Node charges for threads, messages and loops,
// and what the servers' own STATS said about their event loops under load.
//
// These are the unit prices behind the results: a reader who sees
// per-connection lose on reconnect should find the price of a thread start
// here, measured on the same machine, and compare.

import type { NodeCosts } from '../costs/index.js';
import type { CostSource, ReportCell, ReportResults, StatsSample } from './data.js';
import type { Block } from './document.js';
import { closedLoopPeak } from './findings.js';
import { mib, ms, num, percent, times } from './format.js';

function range(m: { median: number; min: number; max: number; samples: number }, show: (v: number) => string): string {
  return `${show(m.min)}–${show(m.max)} (${m.samples} samples)`;
}

function watched(l: NodeCosts['eventLoop']['idle']): string {
  // Costs measured before the sample count was recorded have none to show.
  return `${l.windowMs} ms watched${l.samples !== undefined ? `, ${l.samples} timer samples` : ''}`;
}

function costsTable(c: NodeCosts): Block {
  const us = (v: number) => `${num(v)} µs`;
  const bytes = (v: number) => mib(v);
  const loop = (l: NodeCosts['eventLoop']['idle']) =>
    `busy ${percent(l.utilization)} of the time; timers late by p50 ${ms(l.delayP50Ms)}, p99 ${ms(l.delayP99Ms)}, max ${ms(l.delayMaxMs)}`;
  return {
    kind: 'table',
    head: ['what', 'median', 'range'],
    rows: [
      ['starting a worker thread', ms(c.workerStartMs.median), range(c.workerStartMs, ms)],
      ['a message round trip to a worker thread', us(c.messageRoundTripUs.median), range(c.messageRoundTripUs, us)],
      ['a piscina task round trip', us(c.piscinaTaskRoundTripUs.median), range(c.piscinaTaskRoundTripUs, us)],
      ['memory per idle worker thread (RSS growth)', bytes(c.memoryPerWorkerBytes.median), range(c.memoryPerWorkerBytes, bytes)],
      [`one WORK ${c.work.n}`, ms(c.work.ms.median), range(c.work.ms, ms)],
      ['connect, one request, close (both ends in one process)', ms(c.connectionCycleMs.median), range(c.connectionCycleMs, ms)],
      ['event loop, idle', loop(c.eventLoop.idle), watched(c.eventLoop.idle)],
      [`event loop, WORK ${c.work.n} back to back`, loop(c.eventLoop.underWork), watched(c.eventLoop.underWork)],
    ],
    numeric: [false, false, false],
  };
}

/** Compares the hand-off with the whole time a cheap request took where it ran inline. */
function handOffVersusCheap(taskUs: number, cheapest: { model: string; us: number }): string {
  const ratio = taskUs / cheapest.us;
  const whole = `the ${num(cheapest.us)} µs per request the ${cheapest.model} model spent at its best on kv`;
  return ratio >= 1
    ? `, but ${times(ratio)} ${whole}: handing a cheap command to another thread costs more than running it`
    : `, and ${Math.round(ratio * 100)} % of ${whole}`;
}

/** What the run itself measured for per-connection at that count, beside async in the same group, if both were measured. */
function memoryWitness(results: ReportResults, connections: number): string {
  const rss = (x: ReportCell | undefined) => x?.summary?.serverPeakRssBytes?.median;
  for (const pc of results.cells.filter((x) => x.model === 'per-connection' && x.series === x.model && x.connections === connections)) {
    const other = results.cells.find((x) => x.group === pc.group && x.series === 'async' && x.connections === connections);
    if (rss(pc) !== undefined && rss(other) !== undefined) {
      return ` (measured: ${mib(rss(pc)!)} peak for per-connection on ${pc.group} against ${mib(rss(other)!)} for async)`;
    }
  }
  return '';
}

function costSentences(c: NodeCosts, results: ReportResults): string[] {
  const peak = closedLoopPeak(results, 'kv', 'async');
  const cheapest = peak ? { model: 'async', us: 1e6 / peak } : undefined;
  const perConnection = results.cells.filter((x) => x.model === 'per-connection' && x.summary).map((x) => x.connections);
  const mostThreads = perConnection.length > 0 ? Math.max(...perConnection) : undefined;
  const work = c.work.ms.median;
  const start = c.workerStartMs.median;
  const msg = c.messageRoundTripUs.median;
  const task = c.piscinaTaskRoundTripUs.median;
  const l = c.eventLoop.underWork;
  return [
    `Starting one worker thread (${ms(start)}) costs as much time as ${num(start / work)} WORK ${c.work.n}s, or ${num((start * 1000) / msg)} message round trips: the per-connection model pays it for every new connection, and the pool pays it once, at startup.`,
    `A piscina task round trip (${num(task)} µs) is ${times(task / msg)} a bare message round trip (${num(msg)} µs) and ${num((task / 1000 / work) * 100)} % of one WORK ${c.work.n} (${ms(work)}): small beside real work${cheapest ? handOffVersusCheap(task, cheapest) : ''}.`,
    `Each idle worker thread added about ${mib(c.memoryPerWorkerBytes.median)} of resident memory${mostThreads ? `, so about ${mib(c.memoryPerWorkerBytes.median * mostThreads)} for the ${mostThreads} connections of the largest per-connection cell in this run${memoryWitness(results, mostThreads)}` : ''}.`,
    `With WORK ${c.work.n} running back to back, the event loop was busy ${percent(l.utilization)} of the time and a 1 ms timer fired up to ${ms(l.delayMaxMs)} late (p99 ${ms(l.delayP99Ms)}), against ${ms(c.eventLoop.idle.delayP99Ms)} at p99 when idle: on the async model, every other connection waits like that timer.`,
  ];
}

export function costBlocks(costs: CostSource | undefined, results: ReportResults): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: 'What Node charges on this machine' }];
  if (!costs) {
    blocks.push({
      kind: 'paragraph',
      text: `Not measured in this run: results.json holds no nodeCosts, so the worker-start, message, piscina, memory and WORK costs are absent, and the predictions that need them say so. \`npm run report -- results/${results.runId} --measure-costs\` measures them now, on this machine, and labels them as such.`,
    });
    return blocks;
  }
  const c = costs.costs;
  blocks.push({
    kind: 'paragraph',
    text: costs.measuredDuringRun
      ? `Measured by the suite at ${c.measuredAt}, on the run's machine (Node ${c.node}, ${c.cores} cores), each in isolation.`
      : `Not measured during the run: measured at ${c.measuredAt} when this report was written (Node ${c.node}, ${c.cores} cores), each in isolation. If the machine has changed since the run, these prices and the predictions built on them do not describe it.`,
  });
  blocks.push(costsTable(c));
  blocks.push({ kind: 'list', items: costSentences(c, results) });
  return blocks;
}

/**
 * The event loop's busy share between the first and last STATS sample.
 * STATS reports utilization since the server started, so the window's share
 * is the difference of busy times divided by the difference of uptimes.
 */
export function windowedUtilization(samples: readonly StatsSample[]): number | undefined {
  const usable = samples.filter((s) => typeof s.stats.eventLoopUtilization === 'number' && typeof s.stats.uptimeMs === 'number');
  if (usable.length < 2) return undefined;
  const first = usable[0].stats;
  const last = usable[usable.length - 1].stats;
  const span = (last.uptimeMs as number) - (first.uptimeMs as number);
  if (span <= 0) return undefined;
  const busy =
    (last.eventLoopUtilization as number) * (last.uptimeMs as number) - (first.eventLoopUtilization as number) * (first.uptimeMs as number);
  return Math.min(1, Math.max(0, busy / span));
}

function maxOf(samples: readonly StatsSample[], field: string): number | undefined {
  const values = samples.map((s) => s.stats[field]).filter((v): v is number => typeof v === 'number');
  return values.length > 0 ? Math.max(...values) : undefined;
}

export function statsBlocks(results: ReportResults): Block[] {
  const sampled = results.cells
    .map((cell) => ({ cell, samples: cell.repeats.find((r) => r.index === cell.medianRepeat)?.statsSamples ?? [] }))
    .filter((x): x is { cell: ReportCell; samples: StatsSample[] } => x.samples.length > 0);
  const blocks: Block[] = [{ kind: 'heading', level: 3, text: 'Event loops under load, from STATS' }];
  if (sampled.length === 0) {
    blocks.push({
      kind: 'paragraph',
      text: "Not measured in this run: the suite did not sample the servers' STATS replies while they ran, so event-loop utilization and queue depth under load are not shown; the isolated event-loop figures above stand in for them.",
    });
    return blocks;
  }
  const rows = sampled.map(({ cell, samples }) => {
    const elu = windowedUtilization(samples);
    const queue = maxOf(samples, 'queueDepth');
    const workers = maxOf(samples, 'workers');
    return [
      cell.id,
      String(samples.length),
      elu !== undefined ? num(elu) : '–',
      queue !== undefined ? num(queue) : '–',
      workers !== undefined ? num(workers) : '–',
    ];
  });
  blocks.push({
    kind: 'table',
    head: ['cell', 'STATS samples', 'main event loop busy (share of the window)', 'deepest pool queue', 'most workers'],
    rows,
    numeric: [false, true, true, true, true],
  });
  const saturated = sampled.filter(({ samples }) => (windowedUtilization(samples) ?? 0) >= 0.9).map(({ cell }) => cell.id);
  if (saturated.length > 0) {
    blocks.push({
      kind: 'paragraph',
      text: `The main event loop was busy at least 90 % of the window in ${saturated.join(', ')}: there, the one loop is the bottleneck.`,
    });
  }
  return blocks;
}
