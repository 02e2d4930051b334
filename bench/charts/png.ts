// The PNG renderer: chart definitions drawn with chart.js on a native canvas.
//
// A picture cannot be hovered, so what report.html shows on demand is drawn
// into it: the spread of repeats as a shaded band, the machine in every
// title, the number of repeats and any failed cells in the subtitle. Every
// title names the core count, because on two cores the lesson is not the
// same as on sixty-four. What to draw comes from definitions.ts; this module
// only decides how a definition looks on paper.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import { ChartJSNodeCanvas } from 'chartjs-node-canvas';
import type { ChartRecord, RunResults } from '../results.js';
import { suiteCharts } from './definitions.js';
import type { ChartCell, ChartDefinition, DatasetSpec, Point, XAxis, YAxis } from './model.js';

export const CHART_WIDTH = 900;
export const CHART_HEIGHT = 500;

export function chartCanvas(): ChartJSNodeCanvas {
  return new ChartJSNodeCanvas({ width: CHART_WIDTH, height: CHART_HEIGHT, backgroundColour: 'white' });
}

/** Renders one configuration into `dir/file` and records it. */
export function drawPng(canvas: ChartJSNodeCanvas, dir: string, file: string, config: ChartConfiguration): ChartRecord {
  writeFileSync(path.join(dir, file), canvas.renderToBufferSync(config, 'image/png'));
  const title = (config.options?.plugins?.title?.text as string) ?? file;
  return { file, title, width: CHART_WIDTH, height: CHART_HEIGHT };
}

/** Title, subtitle and legend as every PNG has them; the spread bands stay out of the legend. */
export function baseOptions(titleText: string, subtitleText: string[], legendAt: 'right' | 'bottom' = 'right') {
  return {
    responsive: false,
    animation: false as const,
    plugins: {
      title: { display: true, text: titleText, font: { size: 16 } },
      subtitle: { display: true, text: subtitleText, padding: { bottom: 8 } },
      legend: {
        position: legendAt,
        labels: { filter: (item: { text: string }) => !item.text.startsWith('spread') },
      },
    },
  };
}

interface PngContext {
  results: RunResults;
  machineNote: string;
}

function repeatsText(ctx: PngContext, cells: readonly ChartCell[]): string {
  const plural = (n: number) => `${n} repeat${n === 1 ? '' : 's'}`;
  const line = ctx.results.settings.repeat;
  const http = ctx.results.settings.http?.repeat ?? line;
  const hasHttp = cells.some((c) => c.transport === 'http');
  const hasLine = cells.some((c) => c.transport !== 'http');
  if (hasHttp && !hasLine) return `median of ${plural(http)}`;
  if (hasHttp && http !== line) return `median of ${plural(line)} (HTTP: ${plural(http)})`;
  return `median of ${plural(line)}`;
}

/** The first subtitle line names the machine; the second says how to read the chart. */
function subtitle(ctx: PngContext, chart: ChartDefinition): string[] {
  const parts = [
    ...(chart.cells ? [repeatsText(ctx, chart.cells)] : []),
    ...(chart.notes.png ? [chart.notes.png] : []),
    ...(chart.missing ? [chart.missing] : []),
  ];
  return [`${ctx.results.machine.cpuModel}, run ${ctx.results.runId}`, parts.join(' · ')];
}

function translucent(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

type LineDataset = ChartDataset<'line', { x: number; y: number | null }[]>;

/** A median line and, beneath it, the band between its smallest and largest repeat. */
function bandDatasets(d: DatasetSpec, points: Point[]): LineDataset[] {
  const at = (pick: (p: Point) => number | null | undefined) => points.map((p) => ({ x: p.x, y: pick(p) ?? null }));
  return [
    { label: d.label, data: at((p) => p.y), borderColor: d.colour, backgroundColor: d.colour, spanGaps: false },
    { label: `spread ${d.label} min`, data: at((p) => p.min), borderWidth: 0, pointRadius: 0, borderColor: 'transparent' },
    {
      label: `spread ${d.label} max`,
      data: at((p) => p.max),
      borderWidth: 0,
      pointRadius: 0,
      borderColor: 'transparent',
      fill: '-1',
      backgroundColor: translucent(d.colour, 0.15),
    },
  ];
}

function lineDatasets(chart: ChartDefinition): LineDataset[] {
  const datasets = chart.datasets.flatMap((d): LineDataset[] => {
    const points = d.points as Point[];
    if (chart.band) return bandDatasets(d, points);
    const data = points.map((p) => ({ x: p.x, y: p.y }));
    if (chart.x.kind === 'nines') return [{ label: d.label, data, borderColor: d.colour, backgroundColor: d.colour, pointRadius: 0 }];
    return [{ label: d.label, data, borderColor: d.colour, backgroundColor: d.colour, borderDash: d.dashed ? [6, 4] : [] }];
  });
  const ref = chart.reference;
  if (ref && chart.x.kind === 'connections') {
    const data = chart.x.ticks.map((x) => ({ x, y: ref.y }));
    datasets.push({ label: ref.label, data, borderColor: '#999999', backgroundColor: '#999999', borderDash: [2, 3], pointRadius: 0 });
  }
  return datasets;
}

/** A logarithmic connections axis with a tick at exactly each measured count. */
function connectionsAxis(label: string, connections: readonly number[]) {
  return {
    type: 'logarithmic' as const,
    title: { display: true, text: label },
    afterBuildTicks: (axis: { ticks: { value: number }[] }) => {
      axis.ticks = connections.map((value) => ({ value }));
    },
    ticks: { callback: (value: number | string) => String(value) },
  };
}

/** A percentile axis in nines, up to the deepest percentile drawn (at least 99.9). */
function ninesAxis(label: string, chart: ChartDefinition) {
  const xs = chart.datasets.flatMap((d) => (d.points as Point[]).map((p) => p.x));
  const maxNines = Math.max(3, ...xs);
  const tickValues = Array.from({ length: Math.floor(maxNines) + 1 }, (_, n) => n);
  return {
    type: 'linear' as const,
    min: 0,
    max: Math.ceil(maxNines),
    title: { display: true, text: label },
    afterBuildTicks: (axis: { ticks: { value: number }[] }) => {
      axis.ticks = tickValues.map((value) => ({ value }));
    },
    ticks: { callback: (v: number | string) => `${(100 * (1 - 10 ** -Number(v))).toFixed(Math.max(0, Number(v) - 2))}%` },
  };
}

/** A logarithmic latency axis labelled only at 1, 2 and 5 times a power of ten, so it stays legible. */
function latencyAxis(text: string) {
  return {
    type: 'logarithmic' as const,
    title: { display: true, text },
    ticks: {
      callback: (value: number | string) => {
        const v = Number(value);
        const mantissa = v / 10 ** Math.floor(Math.log10(v));
        if (![1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6)) return '';
        return v >= 1 ? v.toLocaleString('en-US') : String(Number(v.toPrecision(1)));
      },
    },
  };
}

function xScale(x: XAxis, chart: ChartDefinition) {
  if (x.kind === 'connections') return connectionsAxis(x.label, x.ticks);
  if (x.kind === 'nines') return ninesAxis(x.label, chart);
  return { type: 'linear' as const, beginAtZero: true, title: { display: true, text: x.label } };
}

function yScale(y: YAxis) {
  if (y.kind === 'latency') return latencyAxis(`${y.label} (log scale)`);
  return { type: 'linear' as const, beginAtZero: true, title: { display: true, text: y.label } };
}

export function pngConfiguration(chart: ChartDefinition, ctx: PngContext): ChartConfiguration {
  const options = baseOptions(`${chart.title} (${ctx.machineNote})`, subtitle(ctx, chart));
  if (chart.type === 'bar') {
    const datasets = chart.datasets.map((d) => ({
      label: d.label,
      data: d.points as (number | null)[],
      backgroundColor: d.colour,
      borderColor: d.colour,
    }));
    return {
      type: 'bar',
      data: { labels: chart.labels, datasets },
      options: { ...options, scales: { y: { beginAtZero: true, title: { display: true, text: chart.y.label } } } },
    } as ChartConfiguration;
  }
  return {
    type: 'line',
    data: { datasets: lineDatasets(chart) },
    options: { ...options, scales: { x: xScale(chart.x, chart), y: yScale(chart.y) } },
  } as ChartConfiguration;
}

/** Renders every chart the results can support into `dir`, and lists them. */
export function renderCharts(results: RunResults, dir: string): ChartRecord[] {
  const canvas = chartCanvas();
  const pinned = results.placement.applied ? ', server and generator pinned to separate cores' : '';
  const ctx: PngContext = { results, machineNote: `${results.machine.cores} cores${pinned}` };
  return suiteCharts(results.cells).map((chart) => drawPng(canvas, dir, chart.file, pngConfiguration(chart, ctx)));
}
