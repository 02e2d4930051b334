// What a chart is, before anything draws it.
//
// The suite draws its charts twice: as PNGs beside results.json (png.ts) and
// as live chart.js canvases in report.html (report/chart-specs.ts). Both must
// show a model in the same colour, in the same place in the legend, in a file
// or canvas of the same name, with the cells grouped the same way; so all of
// that is decided here, once, and a chart is described as plain data (a
// title, two axes, datasets of points) that either renderer can draw. Nothing
// here imports chart.js or the canvas: `npm run report` reads this module and
// draws no PNG.

import { MODELS } from '../matrix.js';
import type { CellRecord } from '../results.js';

/** The fields of a recorded cell a chart reads; a results file read back by the report has them too. */
export type ChartCell = Pick<
  CellRecord,
  'id' | 'model' | 'workload' | 'connections' | 'variant' | 'transport' | 'series' | 'group' | 'targetRate' | 'medianRepeat' | 'summary' | 'repeats'
>;

const SERIES_COLOURS: Record<string, string> = {
  blocking: '#d62728',
  'per-connection': '#ff7f0e',
  pool: '#1f77b4',
  async: '#2ca02c',
  'pool offload=heavy': '#9467bd',
};
const SPARE_COLOURS = ['#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** One colour per model everywhere: every PNG, every chart of report.html, every soak chart. */
export function colourFor(series: string, index: number): string {
  return SERIES_COLOURS[series] ?? SPARE_COLOURS[index % SPARE_COLOURS.length];
}

/** Series in a stable order: the four models first, in the order the docs introduce them, then variants as they come. */
export function orderedSeries(cells: readonly { series: string }[]): string[] {
  const names = [...new Set(cells.map((c) => c.series))];
  const rank = (s: string) => {
    const model = MODELS.findIndex((m) => s === m);
    return model >= 0 ? model : MODELS.length + names.indexOf(s);
  };
  return names.sort((a, b) => rank(a) - rank(b));
}

/** A group or workload name as it appears in file names and canvas ids: `echo reconnect` is `echo-reconnect`. */
export function slug(text: string): string {
  return text
    .replace(/[^a-z0-9]+/gi, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
}

/** The connection count nearest the target on a log scale. */
export function nearest(values: readonly number[], target: number): number {
  return values.reduce((best, v) => (Math.abs(Math.log(v / target)) < Math.abs(Math.log(best / target)) ? v : best));
}

/** The connection count whose latency distribution is drawn (the nearest one the run has). */
export const DISTRIBUTION_CONNECTIONS = 64;

/** Percentiles on a "nines" axis: 50, 90, 99, 99.9 evenly spaced, as HDR histogram plots draw them. */
export function nines(percentile: number): number {
  return -Math.log10(1 - percentile / 100);
}

export function connectionsOf(cells: readonly { connections: number }[]): number[] {
  return [...new Set(cells.map((c) => c.connections))].sort((a, b) => a - b);
}

/** The cells of one chart group: one workload, driven one way. */
export interface ChartGroup<C extends ChartCell = ChartCell> {
  name: string;
  /** The workload, or the workload with its variant: `echo reconnect`, `kv open loop`. */
  workload: C['workload'];
  kind: 'closed' | 'reconnect' | 'open-loop';
  /** How requests reached the server: the line protocol, or HTTP (results files from before HTTP have only the first). */
  transport: 'line' | 'http';
  cells: C[];
  series: string[];
  connections: number[];
}

/** Cells grouped by chart, in the order they were run. */
export function chartGroups<C extends ChartCell>(cells: readonly C[]): ChartGroup<C>[] {
  const byName = new Map<string, C[]>();
  for (const cell of cells) {
    if (!byName.has(cell.group)) byName.set(cell.group, []);
    byName.get(cell.group)!.push(cell);
  }
  return [...byName].map(([name, mine]) => {
    const kinds = new Set(mine.map((c) => c.variant.kind));
    const kind = kinds.has('open-loop') ? 'open-loop' : kinds.has('reconnect') ? 'reconnect' : 'closed';
    const transport = mine.some((c) => (c as { transport?: string }).transport === 'http') ? 'http' : 'line';
    return { name, workload: mine[0].workload, kind, transport, cells: mine, series: orderedSeries(mine), connections: connectionsOf(mine) };
  });
}

export interface Point {
  x: number;
  y: number | null;
  /** The smallest and largest repeat, where the point is a median of several. */
  min?: number;
  max?: number;
}

export interface DatasetSpec {
  label: string;
  /** The model (and variant) the dataset belongs to: what report.html's model toggles act on. */
  series: string;
  colour: string;
  dashed: boolean;
  /** Points on a line chart; one value per label on a bar chart. */
  points: Point[] | (number | null)[];
}

/** connections: log axis ticked at the measured counts; nines: percentiles; rate: offered req/s; category: bar labels. */
export type XAxis = { kind: 'connections'; label: string; ticks: number[] } | { kind: 'nines' | 'rate' | 'category'; label: string };

/** latency: milliseconds on a log axis (report.html can switch it to linear); linear: a plain axis from zero. */
export interface YAxis {
  kind: 'latency' | 'linear';
  label: string;
  unit: string;
}

export interface ChartDefinition {
  /** The canvas id in report.html. */
  id: string;
  /** The PNG the suite writes. */
  file: string;
  type: 'line' | 'bar';
  /** The title without the machine, which each renderer states in its own way. */
  title: string;
  x: XAxis;
  y: YAxis;
  labels?: string[];
  datasets: DatasetSpec[];
  /** Shade each line's band between its smallest and largest repeat (a picture cannot be hovered for it). */
  band?: boolean;
  /** A horizontal line to read the datasets against. */
  reference?: { y: number; label: string };
  /** The cells drawn, whose repeats the PNG's subtitle counts; absent where the points are not cells. */
  cells?: readonly ChartCell[];
  /** What the chart leaves out, in words, when it leaves something out. */
  missing?: string;
  /** How to read the chart, which differs between a picture and a page that can be hovered. */
  notes: { png?: string; html?: string };
}
