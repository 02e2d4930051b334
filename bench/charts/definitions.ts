// Every chart of a run, described once, as data.
//
// Charts are drawn from results.json alone, never from anything the run kept
// in memory, so the pictures cannot show something the record does not hold.
// Each chart plots medians; the points carry the smallest and largest repeat
// too, so a reader can see (shaded in a PNG, on hover in report.html) where
// the spread is wide. A failed cell has no point: the gap is the honest
// picture, and the PNG's subtitle counts what is missing.
//
// HTTP cells are drawn beside their line-protocol twins (one chart per
// workload, solid against dashed, and the ratio), and on latency charts of
// their own: autocannon records latency in whole milliseconds, so their PNG
// latency axis is linear and a sub-millisecond request sits at 0, which a
// logarithmic axis could not show.

import { transportPairs, type TransportPair } from '../results.js';
import {
  chartGroups,
  colourFor,
  DISTRIBUTION_CONNECTIONS,
  nearest,
  nines,
  orderedSeries,
  slug,
  type ChartCell,
  type ChartDefinition,
  type ChartGroup,
  type DatasetSpec,
  type Point,
} from './model.js';

/** The HTTP note every chart with autocannon's latency carries. */
export const AUTOCANNON_LATENCY_NOTE = 'autocannon records latency in whole milliseconds: under 1 ms reads 0';

/** A log axis cannot draw 0: the lab's generator never reads below 1 µs anyway. */
const toMs = (us: number | undefined) => (us === undefined ? null : Math.max(us, 1) / 1000);

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

/** The PNG's count of cells it could not draw. */
function failedCells(cells: readonly ChartCell[]): string | undefined {
  const failed = cells.filter((c) => c.summary === null).length;
  return failed > 0 ? `${plural(failed, 'failed cell')} not drawn` : undefined;
}

function cellsOfSeries(cells: readonly ChartCell[], series: string): ChartCell[] {
  return cells.filter((c) => c.series === series).sort((a, b) => a.connections - b.connections);
}

/** A cell's median throughput, with its spread. */
function throughputPoint(c: ChartCell): Point {
  const s = c.summary?.requestsPerSec;
  return s ? { x: c.connections, y: s.median, min: s.min, max: s.max } : { x: c.connections, y: null };
}

const connectionsAxis = (ticks: number[]) => ({ kind: 'connections' as const, label: 'connections (log scale)', ticks });
const THROUGHPUT_AXIS = { kind: 'linear' as const, label: 'requests per second', unit: 'req/s' };

/**
 * p50 (solid) and p99 (dashed) for each series, one colour per series: the
 * latency charts against connections, and the open-loop chart against rate.
 */
function percentileDatasets(
  series: readonly string[],
  cellsOf: (series: string) => ChartCell[],
  xOf: (cell: ChartCell) => number,
  toY: (us: number | undefined) => number | null,
  withSpread: boolean,
): DatasetSpec[] {
  return series.flatMap((name, i) =>
    (['p50', 'p99'] as const).map((p) => ({
      label: `${name} ${p}`,
      series: name,
      colour: colourFor(name, i),
      dashed: p === 'p99',
      points: cellsOf(name).map((c): Point => {
        const s = c.summary?.[p === 'p50' ? 'p50Us' : 'p99Us'];
        if (!withSpread) return { x: xOf(c), y: toY(s?.median) };
        return s ? { x: xOf(c), y: toY(s.median), min: toY(s.min)!, max: toY(s.max)! } : { x: xOf(c), y: null };
      }),
    })),
  );
}

export function throughputChart(group: ChartGroup): ChartDefinition {
  return {
    id: `throughput-${slug(group.name)}`,
    file: `throughput-${slug(group.name)}.png`,
    type: 'line',
    title: `Throughput, ${group.name} workload`,
    x: connectionsAxis(group.connections),
    y: THROUGHPUT_AXIS,
    datasets: group.series.map((series, i) => ({
      label: series,
      series,
      colour: colourFor(series, i),
      dashed: false,
      points: cellsOfSeries(group.cells, series).map(throughputPoint),
    })),
    band: true,
    cells: group.cells,
    missing: failedCells(group.cells),
    notes: { png: 'shaded: min..max of repeats', html: 'hover for the spread of repeats' },
  };
}

export function latencyChart(group: ChartGroup): ChartDefinition {
  return {
    id: `latency-${slug(group.name)}`,
    file: `latency-${slug(group.name)}.png`,
    type: 'line',
    title: `Latency p50 (solid) and p99 (dashed), ${group.name} workload`,
    x: connectionsAxis(group.connections),
    y: { kind: 'latency', label: 'latency, ms', unit: 'ms' },
    datasets: percentileDatasets(
      group.series,
      (s) => cellsOfSeries(group.cells, s),
      (c) => c.connections,
      toMs,
      true,
    ),
    cells: group.cells,
    missing: failedCells(group.cells),
    notes: {},
  };
}

/** HTTP latency as autocannon recorded it, in whole milliseconds, on a linear axis that can show 0. */
export function httpLatencyChart(group: ChartGroup): ChartDefinition {
  return {
    id: `latency-${slug(group.name)}`,
    file: `latency-${slug(group.name)}.png`,
    type: 'line',
    title: `HTTP latency p50 (solid) and p99 (dashed), ${group.workload} workload, by autocannon`,
    x: connectionsAxis(group.connections),
    y: { kind: 'linear', label: 'latency, whole ms (autocannon)', unit: 'ms' },
    datasets: percentileDatasets(
      group.series,
      (s) => cellsOfSeries(group.cells, s),
      (c) => c.connections,
      (us) => (us === undefined ? null : us / 1000),
      false,
    ),
    cells: group.cells,
    missing: failedCells(group.cells),
    notes: { png: AUTOCANNON_LATENCY_NOTE },
  };
}

/** The whole latency distribution of each series at one connection count, from the median repeat of each cell. */
export function distributionChart(group: ChartGroup, connections: number): ChartDefinition {
  const cells = group.cells.filter((c) => c.connections === connections);
  const datasets: DatasetSpec[] = [];
  group.series.forEach((series, i) => {
    const cell = cells.find((c) => c.series === series);
    const load = cell?.repeats.find((r) => r.index === cell.medianRepeat && r.load !== null)?.load;
    if (!load || load.ok === 0) return;
    const points = load.latency.distribution.filter((d) => d.percentile < 100).map((d) => ({ x: nines(d.percentile), y: toMs(d.valueUs) }));
    if (points.length > 0) datasets.push({ label: series, series, colour: colourFor(series, i), dashed: false, points });
  });
  return {
    id: `distribution-${slug(group.name)}-c${connections}`,
    file: `distribution-${slug(group.name)}-c${connections}.png`,
    type: 'line',
    title: `Latency distribution at ${connections} connections, ${group.name} workload`,
    x: { kind: 'nines', label: 'percentile' },
    y: { kind: 'latency', label: 'latency, ms', unit: 'ms' },
    datasets,
    cells,
    missing: failedCells(cells),
    notes: { png: 'the median repeat of each cell', html: 'the median repeat of each cell' },
  };
}

/** The plain closed-loop line-protocol cells of a workload: the twins of its HTTP cells. */
export function plainLineCells<C extends ChartCell>(cells: readonly C[], workload: string): C[] {
  return cells.filter((c) => c.workload === workload && c.transport !== 'http' && c.variant.kind === 'closed' && c.series === c.model);
}

/** Throughput against connections for each model, the line protocol solid and HTTP dashed. */
export function transportChart(workload: string, line: readonly ChartCell[], http: readonly ChartCell[]): ChartDefinition {
  const all = [...line, ...http];
  const datasets = orderedSeries(all).flatMap((model, i) =>
    (
      [
        ['line', line],
        ['HTTP', http],
      ] as const
    ).flatMap(([name, cells]) => {
      const mine = cellsOfSeries(cells, model);
      if (mine.length === 0) return [];
      return [{ label: `${model} ${name}`, series: model, colour: colourFor(model, i), dashed: name === 'HTTP', points: mine.map(throughputPoint) }];
    }),
  );
  return {
    id: `transport-${slug(workload)}`,
    file: `transport-${slug(workload)}.png`,
    type: 'line',
    title: `Line protocol (solid) against HTTP (dashed): throughput, ${workload} workload`,
    x: connectionsAxis([...new Set(all.map((c) => c.connections))].sort((a, b) => a - b)),
    y: THROUGHPUT_AXIS,
    datasets,
    cells: all,
    missing: failedCells(all),
    notes: { png: 'line driven by our generator, HTTP by autocannon', html: "line driven by the lab's generator, HTTP by autocannon" },
  };
}

/** HTTP throughput over the line protocol's, per model and connection count, with 1 marked. */
export function transportRatioChart(workload: string, pairs: readonly TransportPair[]): ChartDefinition {
  const missing = pairs.filter((p) => p.ratio === null).length;
  return {
    id: `transport-ratio-${slug(workload)}`,
    file: `transport-ratio-${slug(workload)}.png`,
    type: 'line',
    title: `HTTP throughput as a fraction of the line protocol's, ${workload} workload`,
    x: connectionsAxis([...new Set(pairs.map((p) => p.connections))].sort((a, b) => a - b)),
    y: { kind: 'linear', label: 'HTTP ÷ line throughput', unit: '×' },
    datasets: orderedSeries(pairs.map((p) => ({ series: p.model }))).map((model, i) => ({
      label: model,
      series: model,
      colour: colourFor(model, i),
      dashed: false,
      points: pairs
        .filter((p) => p.model === model)
        .sort((a, b) => a.connections - b.connections)
        .map((p) => ({ x: p.connections, y: p.ratio })),
    })),
    reference: { y: 1, label: 'equal (1.0)' },
    missing: missing > 0 ? `${plural(missing, 'pair')} without a ratio not drawn` : undefined,
    notes: {
      png: 'median HTTP req/s ÷ median line req/s · the clients differ too: autocannon spends more CPU per request than our generator',
      html: 'below 1: HTTP costs that model throughput',
    },
  };
}

export const fairnessOf = (c: ChartCell) => c.summary?.jainFairness?.median;
export const serverCpuOf = (c: ChartCell) => c.summary?.serverCpuPercent?.median;
export const serverRssMibOf = (c: ChartCell) => (c.summary?.serverPeakRssBytes ? c.summary.serverPeakRssBytes.median / 2 ** 20 : undefined);

/** The connection count a bar chart reads each group at. */
export const atReference = (g: ChartGroup) => nearest(g.connections, DISTRIBUTION_CONNECTIONS);
export const atMost = (g: ChartGroup) => g.connections[g.connections.length - 1];

interface BarChart {
  id: string;
  title: string;
  yLabel: string;
  unit: string;
  at: (g: ChartGroup) => number;
  pick: (c: ChartCell) => number | undefined;
  pngNote: string;
}

/** A grouped bar chart: one group of bars per workload (at the given connection count), one bar per series. */
function barChart(groups: readonly ChartGroup[], bar: BarChart): ChartDefinition {
  const chosen = groups.map((g) => ({ g, c: bar.at(g) }));
  const cells = chosen.flatMap(({ g, c }) => g.cells.filter((x) => x.connections === c));
  return {
    id: bar.id,
    file: `${bar.id}.png`,
    type: 'bar',
    title: bar.title,
    x: { kind: 'category', label: 'workload' },
    y: { kind: 'linear', label: bar.yLabel, unit: bar.unit },
    labels: chosen.map(({ g, c }) => `${g.name} (${c})`),
    datasets: orderedSeries(cells).map((series, i) => ({
      label: series,
      series,
      colour: colourFor(series, i),
      dashed: false,
      points: chosen.map(({ g, c }) => {
        const cell = g.cells.find((x) => x.series === series && x.connections === c);
        return cell ? (bar.pick(cell) ?? null) : null;
      }),
    })),
    cells,
    missing: failedCells(cells),
    notes: { png: bar.pngNote, html: 'connections in brackets' },
  };
}

/** Server CPU and memory at the reference connection count, and fairness at the most connections, for every closed-loop group. */
export function resourceCharts(closed: readonly ChartGroup[]): ChartDefinition[] {
  return [
    {
      id: 'server-cpu',
      title: 'Server CPU by model',
      yLabel: '% of one core',
      unit: '%',
      at: atReference,
      pick: serverCpuOf,
      pngNote: 'connections in brackets',
    },
    {
      id: 'server-memory',
      title: 'Server peak resident memory by model',
      yLabel: 'MiB',
      unit: 'MiB',
      at: atReference,
      pick: serverRssMibOf,
      pngNote: 'connections in brackets',
    },
    {
      id: 'fairness',
      title: "Fairness between connections (Jain's index, 1 = equal shares)",
      yLabel: "Jain's index",
      unit: '',
      at: atMost,
      pick: fairnessOf,
      pngNote: 'at the most connections measured, in brackets',
    },
  ].map((bar) => barChart(closed, bar));
}

/** Open loop: p50 and p99, counted from each request's scheduled send, against the rate offered. */
export function openLoopChart(group: ChartGroup): ChartDefinition {
  const rated = (series: string) =>
    group.cells.filter((c) => c.series === series && c.targetRate !== null).sort((a, b) => a.targetRate! - b.targetRate!);
  return {
    id: `open-loop-${slug(group.name)}`,
    file: 'open-loop.png',
    type: 'line',
    title: `Open loop: latency against offered rate, ${group.workload} workload`,
    x: { kind: 'rate', label: 'offered rate, requests per second' },
    y: { kind: 'latency', label: 'latency from scheduled send, ms', unit: 'ms' },
    datasets: percentileDatasets(group.series, rated, (c) => c.targetRate!, toMs, false),
    cells: group.cells,
    missing: failedCells(group.cells),
    notes: {
      png: `${group.cells[0]?.connections} connections, rates scaled from each model's closed-loop peak`,
      html: `${group.connections.join(', ')} connections`,
    },
  };
}

/** Every chart the suite draws as a PNG for these cells, in the order it draws them. */
export function suiteCharts(cells: readonly ChartCell[]): ChartDefinition[] {
  const groups = chartGroups(cells);
  const closed = groups.filter((g) => g.kind !== 'open-loop');
  const charts: ChartDefinition[] = [];
  for (const group of closed) {
    // HTTP throughput is on the transport chart beside the line protocol; a whole-millisecond distribution says little.
    if (group.transport === 'http') charts.push(httpLatencyChart(group));
    else charts.push(throughputChart(group), latencyChart(group), distributionChart(group, atReference(group)));
  }
  const http = closed.filter((g) => g.transport === 'http');
  for (const workload of [...new Set(http.flatMap((g) => g.cells.map((c) => c.workload)))]) {
    const httpCells = http.flatMap((g) => g.cells).filter((c) => c.workload === workload);
    charts.push(transportChart(workload, plainLineCells(cells, workload), httpCells));
    charts.push(
      transportRatioChart(
        workload,
        transportPairs(cells).filter((p) => p.workload === workload),
      ),
    );
  }
  if (closed.length > 0) charts.push(...resourceCharts(closed));
  const open = groups.find((g) => g.kind === 'open-loop');
  if (open) charts.push(openLoopChart(open));
  return charts;
}
