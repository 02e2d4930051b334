// The interactive charts of report.html, described as plain data.
//
// They are the same charts the suite draws as PNGs (bench/charts.ts), made
// from the same figures, but drawn by chart.js in the reader's browser, so a
// reader can hover for values, hide a model, and switch a latency axis between
// linear and log. Chart.js configurations hold functions (tick labels,
// tooltips), which JSON cannot carry; so this module writes only the data and
// what kind of axis each chart wants, and the page's script
// (html-script.ts) turns that into configurations.

// The same colours as the PNG charts, so a model looks the same in both.
import { colourFor } from '../charts.js';
import { medianRepeat, orderedSeries, type Group, type ReportCell, type ReportResults } from './data.js';



export interface Point {
  x: number;
  y: number | null;
  /** The smallest and largest repeat, where the point is a median of several. */
  min?: number;
  max?: number;
}

export interface DatasetSpec {
  label: string;
  /** The model (and variant) the dataset belongs to: what the page's model toggles act on. */
  series: string;
  colour: string;
  dashed: boolean;
  points: Point[] | (number | null)[];
}

export interface ChartSpec {
  id: string;
  type: 'line' | 'bar';
  title: string;
  subtitle: string;
  /** connections: log axis ticked at the measured counts; nines: percentiles; rate: offered req/s; category: bar labels. */
  x: { kind: 'connections' | 'nines' | 'rate' | 'category'; label: string; ticks?: number[] };
  /** latency: milliseconds, switchable between log and linear; linear: a plain axis from zero. */
  y: { kind: 'latency' | 'linear'; label: string; unit: string };
  labels?: string[];
  datasets: DatasetSpec[];
}

export function slug(text: string): string {
  return text.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
}

const toMs = (us: number | undefined) => (us === undefined ? null : Math.max(us, 1) / 1000);

function seriesCells(group: Group, series: string): ReportCell[] {
  return group.cells.filter((c) => c.series === series).sort((a, b) => a.connections - b.connections);
}

function machineLine(results: ReportResults): string {
  return `${results.machine.cpuModel}, ${results.machine.cores} cores, run ${results.runId}, median of ${results.settings.repeat} repeat${results.settings.repeat === 1 ? '' : 's'}`;
}

export function throughputSpec(group: Group, results: ReportResults): ChartSpec {
  return {
    id: `throughput-${slug(group.name)}`,
    type: 'line',
    title: `Throughput, ${group.name} workload`,
    subtitle: `${machineLine(results)}; hover for the spread of repeats`,
    x: { kind: 'connections', label: 'connections (log scale)', ticks: group.connections },
    y: { kind: 'linear', label: 'requests per second', unit: 'req/s' },
    datasets: group.series.map((series, i) => ({
      label: series,
      series,
      colour: colourFor(series, i),
      dashed: false,
      points: seriesCells(group, series).map((c) => {
        const s = c.summary?.requestsPerSec;
        return s ? { x: c.connections, y: s.median, min: s.min, max: s.max } : { x: c.connections, y: null };
      }),
    })),
  };
}

export function latencySpec(group: Group, results: ReportResults): ChartSpec {
  return {
    id: `latency-${slug(group.name)}`,
    type: 'line',
    title: `Latency p50 (solid) and p99 (dashed), ${group.name} workload`,
    subtitle: machineLine(results),
    x: { kind: 'connections', label: 'connections (log scale)', ticks: group.connections },
    y: { kind: 'latency', label: 'latency, ms', unit: 'ms' },
    datasets: group.series.flatMap((series, i) =>
      (['p50', 'p99'] as const).map((p) => ({
        label: `${series} ${p}`,
        series,
        colour: colourFor(series, i),
        dashed: p === 'p99',
        points: seriesCells(group, series).map((c) => {
          const s = c.summary?.[p === 'p50' ? 'p50Us' : 'p99Us'];
          return s ? { x: c.connections, y: toMs(s.median), min: toMs(s.min)!, max: toMs(s.max)! } : { x: c.connections, y: null };
        }),
      })),
    ),
  };
}

/** Percentiles on a "nines" axis: 50, 90, 99, 99.9 evenly spaced, as HDR histogram plots draw them. */
export function nines(percentile: number): number {
  return -Math.log10(1 - percentile / 100);
}

export function distributionSpec(group: Group, connections: number, results: ReportResults): ChartSpec {
  const datasets: DatasetSpec[] = [];
  group.series.forEach((series, i) => {
    const cell = group.cells.find((c) => c.series === series && c.connections === connections);
    const load = cell ? medianRepeat(cell)?.load : undefined;
    if (!load || load.ok === 0) return;
    const points = load.latency.distribution
      .filter((d) => d.percentile < 100)
      .map((d) => ({ x: nines(d.percentile), y: toMs(d.valueUs) }));
    if (points.length > 0) datasets.push({ label: series, series, colour: colourFor(series, i), dashed: false, points });
  });
  return {
    id: `distribution-${slug(group.name)}-c${connections}`,
    type: 'line',
    title: `Latency distribution at ${connections} connections, ${group.name} workload`,
    subtitle: `${machineLine(results)}; the median repeat of each cell`,
    x: { kind: 'nines', label: 'percentile' },
    y: { kind: 'latency', label: 'latency, ms', unit: 'ms' },
    datasets,
  };
}

export function openLoopSpec(group: Group, results: ReportResults): ChartSpec {
  return {
    id: `open-loop-${slug(group.name)}`,
    type: 'line',
    title: `Open loop: latency against offered rate, ${group.workload} workload`,
    subtitle: `${machineLine(results)}; ${group.connections.join(', ')} connections`,
    x: { kind: 'rate', label: 'offered rate, requests per second' },
    y: { kind: 'latency', label: 'latency from scheduled send, ms', unit: 'ms' },
    datasets: group.series.flatMap((series, i) =>
      (['p50', 'p99'] as const).map((p) => ({
        label: `${series} ${p}`,
        series,
        colour: colourFor(series, i),
        dashed: p === 'p99',
        points: group.cells
          .filter((c) => c.series === series && c.targetRate !== null)
          .sort((a, b) => a.targetRate! - b.targetRate!)
          .map((c) => ({ x: c.targetRate!, y: toMs(c.summary?.[p === 'p50' ? 'p50Us' : 'p99Us']?.median) })),
      })),
    ),
  };
}

/** The connection count nearest the target on a log scale (the distribution charts use the one nearest 64). */
export function nearest(values: readonly number[], target: number): number {
  return values.reduce((best, v) => (Math.abs(Math.log(v / target)) < Math.abs(Math.log(best / target)) ? v : best));
}

/** A grouped bar chart: one group of bars per workload (at the given connection count), one bar per series. */
export function barSpec(
  id: string,
  title: string,
  yLabel: string,
  unit: string,
  groups: readonly Group[],
  pickConnections: (g: Group) => number,
  pick: (c: ReportCell) => number | undefined,
  results: ReportResults,
): ChartSpec {
  const chosen = groups.map((g) => ({ g, c: pickConnections(g) }));
  const all = groups.flatMap((g) => g.cells);
  return {
    id,
    type: 'bar',
    title,
    subtitle: `${machineLine(results)}; connections in brackets`,
    x: { kind: 'category', label: 'workload' },
    y: { kind: 'linear', label: yLabel, unit },
    labels: chosen.map(({ g, c }) => `${g.name} (${c})`),
    datasets: orderedSeries(all).map((series, i) => ({
      label: series,
      series,
      colour: colourFor(series, i),
      dashed: false,
      points: chosen.map(({ g, c }) => {
        const cell = g.cells.find((x) => x.series === series && x.connections === c);
        return cell ? pick(cell) ?? null : null;
      }),
    })),
  };
}

export const fairnessOf = (c: ReportCell) => c.summary?.jainFairness?.median;
export const serverCpuOf = (c: ReportCell) => c.summary?.serverCpuPercent?.median;
export const serverRssMibOf = (c: ReportCell) =>
  c.summary?.serverPeakRssBytes ? c.summary.serverPeakRssBytes.median / 2 ** 20 : undefined;

/**
 * Line protocol (solid) against HTTP (dashed) throughput for one workload,
 * per model: the same comparison as the suite's transport PNG.
 */
export function transportSpec(workload: string, line: readonly ReportCell[], http: readonly ReportCell[], results: ReportResults): ChartSpec {
  const all = [...line, ...http];
  const connections = [...new Set(all.map((c) => c.connections))].sort((a, b) => a - b);
  return {
    id: `transport-${slug(workload)}`,
    type: 'line',
    title: `Line protocol (solid) against HTTP (dashed): throughput, ${workload} workload`,
    subtitle: `${machineLine(results)}; line driven by the lab's generator, HTTP by autocannon`,
    x: { kind: 'connections', label: 'connections (log scale)', ticks: connections },
    y: { kind: 'linear', label: 'requests per second', unit: 'req/s' },
    datasets: orderedSeries(http).flatMap((model, i) =>
      ([['line', line], ['HTTP', http]] as const).map(([name, cells]) => ({
        label: `${model} ${name}`,
        series: model,
        colour: colourFor(model, i),
        dashed: name === 'HTTP',
        points: cells
          .filter((c) => c.series === model)
          .sort((a, b) => a.connections - b.connections)
          .map((c) => {
            const s = c.summary?.requestsPerSec;
            return s ? { x: c.connections, y: s.median, min: s.min, max: s.max } : { x: c.connections, y: null };
          }),
      })),
    ),
  };
}

/** HTTP throughput as a fraction of the line protocol's, per model and connection count. */
export function transportRatioSpec(
  workload: string,
  pairs: readonly { model: string; connections: number; ratio: number | null }[],
  results: ReportResults,
): ChartSpec {
  const models = [...new Set(pairs.map((p) => p.model))];
  const connections = [...new Set(pairs.map((p) => p.connections))].sort((a, b) => a - b);
  return {
    id: `transport-ratio-${slug(workload)}`,
    type: 'line',
    title: `HTTP throughput as a fraction of the line protocol's, ${workload} workload`,
    subtitle: `${machineLine(results)}; below 1: HTTP costs that model throughput`,
    x: { kind: 'connections', label: 'connections (log scale)', ticks: connections },
    y: { kind: 'linear', label: 'HTTP ÷ line throughput', unit: '×' },
    datasets: orderedSeriesNames(models).map((model, i) => ({
      label: model,
      series: model,
      colour: colourFor(model, i),
      dashed: false,
      points: pairs
        .filter((p) => p.model === model)
        .sort((a, b) => a.connections - b.connections)
        .map((p) => ({ x: p.connections, y: p.ratio })),
    })),
  };
}

function orderedSeriesNames(names: readonly string[]): string[] {
  const order = ['blocking', 'per-connection', 'pool', 'async'];
  return [...names].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
}
