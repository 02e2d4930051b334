// Drawing the results: PNG charts rendered with chart.js.
//
// Charts are drawn from results.json alone, never from anything the run kept in
// memory, so the pictures cannot show something the record does not hold.
// Each chart plots medians; throughput charts also shade the band between the
// smallest and largest repeat, so a reader can see where the spread is wide.
// A failed cell has no point: the gap is the honest picture, and the subtitle
// counts what is missing.
//
// Every title names the core count, because on two cores the lesson is not the
// same as on sixty-four.
//
// HTTP cells are drawn beside their line-protocol twins (one chart per
// workload, solid against dashed, and the ratio), and on latency charts of
// their own: autocannon records latency in whole milliseconds, so their
// latency axis is linear and a sub-millisecond request sits at 0, which a
// logarithmic axis could not show.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import { ChartJSNodeCanvas } from 'chartjs-node-canvas';
import { MODELS } from './matrix.js';
import { transportPairs, type CellRecord, type ChartRecord, type RunResults } from './results.js';
import type { ModelSoak, SoakResults } from './soak.js';

export const CHART_WIDTH = 900;
export const CHART_HEIGHT = 500;

/** The connection count whose latency distribution is drawn, when the run has it. */
export const DISTRIBUTION_CONNECTIONS = 64;

const SERIES_COLOURS: Record<string, string> = {
  blocking: '#d62728',
  'per-connection': '#ff7f0e',
  pool: '#1f77b4',
  async: '#2ca02c',
  'pool offload=heavy': '#9467bd',
};
const SPARE_COLOURS = ['#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** One colour per model everywhere: the PNG charts and the interactive report share this. */
export function colourFor(series: string, index: number): string {
  return SERIES_COLOURS[series] ?? SPARE_COLOURS[index % SPARE_COLOURS.length];
}

function translucent(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** Series in a stable order: the four models first, in the order the docs introduce them, then variants. */
function orderedSeries(cells: readonly CellRecord[]): string[] {
  const names = [...new Set(cells.map((c) => c.series))];
  const rank = (s: string) => {
    const model = MODELS.findIndex((m) => s === m);
    return model >= 0 ? model : MODELS.length + names.indexOf(s);
  };
  return names.sort((a, b) => rank(a) - rank(b));
}

function slug(text: string): string {
  return text.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
}

function nearest(values: readonly number[], target: number): number {
  return values.reduce((best, v) => (Math.abs(Math.log(v / target)) < Math.abs(Math.log(best / target)) ? v : best));
}

const ms = (us: number) => us / 1000;

interface ChartContext {
  results: RunResults;
  machineNote: string;
}

function title(text: string, ctx: ChartContext): string {
  return `${text} (${ctx.machineNote})`;
}

/** The first subtitle line names the machine; the second says how to read the chart. */

function repeatsText(ctx: ChartContext, cells: readonly CellRecord[]): string {
  const plural = (n: number) => `${n} repeat${n === 1 ? '' : 's'}`;
  const line = ctx.results.settings.repeat;
  const http = ctx.results.settings.http?.repeat ?? line;
  const hasHttp = cells.some((c) => c.transport === 'http');
  const hasLine = cells.some((c) => c.transport !== 'http');
  if (hasHttp && !hasLine) return `median of ${plural(http)}`;
  if (hasHttp && http !== line) return `median of ${plural(line)} (HTTP: ${plural(http)})`;
  return `median of ${plural(line)}`;
}

function subtitle(ctx: ChartContext, cells: readonly CellRecord[], extra = ''): string[] {
  const missing = cells.filter((c) => c.summary === null).length;
  const parts = [repeatsText(ctx, cells)];
  if (extra) parts.push(extra);
  if (missing > 0) parts.push(`${missing} failed cell${missing === 1 ? '' : 's'} not drawn`);
  return [`${ctx.results.machine.cpuModel}, run ${ctx.results.runId}`, parts.join(' · ')];
}

function baseOptions(titleText: string, subtitleText: string[], legendAt: 'right' | 'bottom' = 'right') {
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

/** A logarithmic connections axis with a tick at exactly each measured count. */
function connectionsAxis(connections: readonly number[]) {
  return {
    type: 'logarithmic' as const,
    title: { display: true, text: 'connections (log scale)' },
    afterBuildTicks: (axis: { ticks: { value: number }[] }) => {
      axis.ticks = connections.map((value) => ({ value }));
    },
    ticks: { callback: (value: number | string) => String(value) },
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

function connectionsOf(cells: readonly CellRecord[]): number[] {
  return [...new Set(cells.map((c) => c.connections))].sort((a, b) => a - b);
}

function throughputChart(group: string, cells: CellRecord[], ctx: ChartContext): ChartConfiguration {
  const datasets: ChartDataset<'line', { x: number; y: number | null }[]>[] = [];
  orderedSeries(cells).forEach((series, i) => {
    const mine = cells.filter((c) => c.series === series).sort((a, b) => a.connections - b.connections);
    const colour = colourFor(series, i);
    const point = (pick: (c: CellRecord) => number | undefined) =>
      mine.map((c) => ({ x: c.connections, y: pick(c) ?? null }));
    datasets.push({
      label: series,
      data: point((c) => c.summary?.requestsPerSec?.median),
      borderColor: colour,
      backgroundColor: colour,
      spanGaps: false,
    });
    datasets.push({ label: `spread ${series} min`, data: point((c) => c.summary?.requestsPerSec?.min), borderWidth: 0, pointRadius: 0, borderColor: 'transparent' });
    datasets.push({ label: `spread ${series} max`, data: point((c) => c.summary?.requestsPerSec?.max), borderWidth: 0, pointRadius: 0, borderColor: 'transparent', fill: '-1', backgroundColor: translucent(colour, 0.15) });
  });
  return {
    type: 'line',
    data: { datasets },
    options: {
      ...baseOptions(title(`Throughput, ${group} workload`, ctx), subtitle(ctx, cells, 'shaded: min..max of repeats')),
      scales: {
        x: connectionsAxis(connectionsOf(cells)),
        y: { type: 'linear', beginAtZero: true, title: { display: true, text: 'requests per second' } },
      },
    },
  } as ChartConfiguration;
}

function latencyChart(group: string, cells: CellRecord[], ctx: ChartContext): ChartConfiguration {
  // A log axis cannot draw 0: the lab's generator never reads below 1 µs anyway.
  const datasets = percentileDatasets(cells, (us) => ms(Math.max(us, 1)));
  return {
    type: 'line',
    data: { datasets },
    options: {
      ...baseOptions(title(`Latency p50 (solid) and p99 (dashed), ${group} workload`, ctx), subtitle(ctx, cells)),
      scales: {
        x: connectionsAxis(connectionsOf(cells)),
        y: latencyAxis('latency, ms (log scale)'),
      },
    },
  } as ChartConfiguration;
}

/** p50 (solid) and p99 (dashed) against connections (or another x), one colour per series. */
function percentileDatasets(
  cells: CellRecord[],
  toY: (us: number) => number,
  xOf: (cell: CellRecord) => number = (cell) => cell.connections,
): ChartDataset<'line', { x: number; y: number | null }[]>[] {
  const datasets: ChartDataset<'line', { x: number; y: number | null }[]>[] = [];
  orderedSeries(cells).forEach((series, i) => {
    const mine = cells.filter((c) => c.series === series).sort((a, b) => xOf(a) - xOf(b));
    const colour = colourFor(series, i);
    for (const [label, pick, dash] of [
      ['p50', (c: CellRecord) => c.summary?.p50Us?.median, []],
      ['p99', (c: CellRecord) => c.summary?.p99Us?.median, [6, 4]],
    ] as const) {
      datasets.push({
        label: `${series} ${label}`,
        data: mine.map((c) => {
          const us = pick(c);
          return { x: xOf(c), y: us === undefined ? null : toY(us) };
        }),
        borderColor: colour,
        backgroundColor: colour,
        borderDash: [...dash],
      });
    }
  });
  return datasets;
}

/** Percentiles drawn on a "nines" axis: 50, 90, 99, 99.9 evenly spaced, as HDR histogram plots do. */
function nines(percentile: number): number {
  return -Math.log10(1 - percentile / 100);
}

function distributionChart(group: string, cells: CellRecord[], connections: number, ctx: ChartContext): ChartConfiguration {
  const datasets: ChartDataset<'line', { x: number; y: number }[]>[] = [];
  let maxNines = 3;
  orderedSeries(cells).forEach((series, i) => {
    const cell = cells.find((c) => c.series === series);
    const repeat = cell?.repeats.find((r) => r.index === cell.medianRepeat);
    if (!repeat?.load || repeat.load.ok === 0) return;
    const points = repeat.load.latency.distribution
      .filter((d) => d.percentile < 100)
      .map((d) => ({ x: nines(d.percentile), y: ms(Math.max(d.valueUs, 1)) }));
    if (points.length === 0) return;
    maxNines = Math.max(maxNines, ...points.map((p) => p.x));
    const colour = colourFor(series, i);
    datasets.push({ label: series, data: points, borderColor: colour, backgroundColor: colour, pointRadius: 0 });
  });
  const tickValues = Array.from({ length: Math.floor(maxNines) + 1 }, (_, n) => n);
  return {
    type: 'line',
    data: { datasets },
    options: {
      ...baseOptions(
        title(`Latency distribution at ${connections} connections, ${group} workload`, ctx),
        subtitle(ctx, cells, 'the median repeat of each cell'),
      ),
      scales: {
        x: {
          type: 'linear',
          min: 0,
          max: Math.ceil(maxNines),
          title: { display: true, text: 'percentile' },
          afterBuildTicks: (axis: { ticks: { value: number }[] }) => {
            axis.ticks = tickValues.map((value) => ({ value }));
          },
          ticks: { callback: (v: number | string) => `${(100 * (1 - 10 ** -Number(v))).toFixed(Math.max(0, Number(v) - 2))}%` },
        },
        y: latencyAxis('latency, ms (log scale)'),
      },
    },
  } as ChartConfiguration;
}

/** A grouped bar chart: one group of bars per workload, one bar per series. */
function barChart(
  heading: string,
  yTitle: string,
  groups: { group: string; cells: CellRecord[] }[],
  pick: (c: CellRecord) => number | undefined,
  ctx: ChartContext,
  extra: string,
): ChartConfiguration {
  const all = groups.flatMap((g) => g.cells);
  const datasets = orderedSeries(all).map((series, i) => {
    const colour = colourFor(series, i);
    return {
      label: series,
      data: groups.map((g) => {
        const cell = g.cells.find((c) => c.series === series);
        return cell ? pick(cell) ?? null : null;
      }),
      backgroundColor: colour,
      borderColor: colour,
    };
  });
  return {
    type: 'bar',
    data: { labels: groups.map((g) => g.group), datasets },
    options: {
      ...baseOptions(title(heading, ctx), subtitle(ctx, all, extra)),
      scales: { y: { beginAtZero: true, title: { display: true, text: yTitle } } },
    },
  } as ChartConfiguration;
}

/** The HTTP note every chart with autocannon's latency carries. */
export const AUTOCANNON_LATENCY_NOTE = 'autocannon records latency in whole milliseconds: under 1 ms reads 0';

function httpLatencyChart(workload: string, cells: CellRecord[], ctx: ChartContext): ChartConfiguration {
  const datasets = percentileDatasets(cells, ms);
  return {
    type: 'line',
    data: { datasets },
    options: {
      ...baseOptions(
        title(`HTTP latency p50 (solid) and p99 (dashed), ${workload} workload, by autocannon`, ctx),
        subtitle(ctx, cells, AUTOCANNON_LATENCY_NOTE),
      ),
      scales: {
        x: connectionsAxis(connectionsOf(cells)),
        y: { type: 'linear', beginAtZero: true, title: { display: true, text: 'latency, whole ms (autocannon)' } },
      },
    },
  } as ChartConfiguration;
}

/** Throughput against connections for each model, the line protocol solid and HTTP dashed. */
function transportChart(workload: string, line: CellRecord[], http: CellRecord[], ctx: ChartContext): ChartConfiguration {
  const datasets: ChartDataset<'line', { x: number; y: number | null }[]>[] = [];
  const all = [...line, ...http];
  orderedSeries(all).forEach((series, i) => {
    const colour = colourFor(series, i);
    for (const [name, cells, dash] of [['line', line, []], ['HTTP', http, [6, 4]]] as const) {
      const mine = cells.filter((c) => c.series === series).sort((a, b) => a.connections - b.connections);
      if (mine.length === 0) continue;
      datasets.push({
        label: `${series} ${name}`,
        data: mine.map((c) => ({ x: c.connections, y: c.summary?.requestsPerSec?.median ?? null })),
        borderColor: colour,
        backgroundColor: colour,
        borderDash: [...dash],
      });
    }
  });
  return {
    type: 'line',
    data: { datasets },
    options: {
      ...baseOptions(
        title(`Line protocol (solid) against HTTP (dashed): throughput, ${workload} workload`, ctx),
        subtitle(ctx, all, 'line driven by our generator, HTTP by autocannon'),
      ),
      scales: {
        x: connectionsAxis(connectionsOf(all)),
        y: { type: 'linear', beginAtZero: true, title: { display: true, text: 'requests per second' } },
      },
    },
  } as ChartConfiguration;
}

/** HTTP throughput over the line protocol's, per model and connection count, with 1 marked. */
function transportRatioChart(workload: string, results: RunResults, ctx: ChartContext): ChartConfiguration {
  const pairs = transportPairs(results.cells).filter((p) => p.workload === workload);
  const cells = results.cells.filter((c) => c.workload === workload && c.transport === 'http');
  const connections = [...new Set(pairs.map((p) => p.connections))].sort((a, b) => a - b);
  const datasets: ChartDataset<'line', { x: number; y: number | null }[]>[] = [];
  orderedSeries(cells).forEach((model, i) => {
    const colour = colourFor(model, i);
    datasets.push({
      label: model,
      data: pairs.filter((p) => p.model === model).sort((a, b) => a.connections - b.connections).map((p) => ({ x: p.connections, y: p.ratio })),
      borderColor: colour,
      backgroundColor: colour,
    });
  });
  datasets.push({
    label: 'equal (1.0)',
    data: connections.map((x) => ({ x, y: 1 })),
    borderColor: '#999999',
    backgroundColor: '#999999',
    borderDash: [2, 3],
    pointRadius: 0,
  });
  const missing = pairs.filter((p) => p.ratio === null).length;
  return {
    type: 'line',
    data: { datasets },
    options: {
      ...baseOptions(
        title(`HTTP throughput as a fraction of the line protocol's, ${workload} workload`, ctx),
        [
          `${ctx.results.machine.cpuModel}, run ${ctx.results.runId}`,
          `median HTTP req/s ÷ median line req/s · the clients differ too: autocannon spends more CPU per request than our generator` +
            (missing > 0 ? ` · ${missing} pair${missing === 1 ? '' : 's'} without a ratio not drawn` : ''),
        ],
      ),
      scales: {
        x: connectionsAxis(connections),
        y: { type: 'linear', beginAtZero: true, title: { display: true, text: 'HTTP ÷ line throughput' } },
      },
    },
  } as ChartConfiguration;
}

function openLoopChart(cells: CellRecord[], ctx: ChartContext): ChartConfiguration {
  const datasets = percentileDatasets(
    cells.filter((c) => c.targetRate !== null),
    (us) => ms(Math.max(us, 1)),
    (c) => c.targetRate!,
  );
  const connections = cells[0]?.connections;
  return {
    type: 'line',
    data: { datasets },
    options: {
      ...baseOptions(
        title('Open loop: latency against offered rate, kv workload', ctx),
        subtitle(ctx, cells, `${connections} connections, rates scaled from each model's closed-loop peak`),
      ),
      scales: {
        x: { type: 'linear', beginAtZero: true, title: { display: true, text: 'offered rate, requests per second' } },
        y: latencyAxis('latency from scheduled send, ms (log scale)'),
      },
    },
  } as ChartConfiguration;
}

/** Cells grouped by chart, in the order they were run. */
function byGroup(cells: readonly CellRecord[]): Map<string, CellRecord[]> {
  const groups = new Map<string, CellRecord[]>();
  for (const cell of cells) {
    if (!groups.has(cell.group)) groups.set(cell.group, []);
    groups.get(cell.group)!.push(cell);
  }
  return groups;
}

/** For each group, the cells at the connection count nearest the target. */
function atConnections(groups: Map<string, CellRecord[]>, target: (counts: number[]) => number) {
  return [...groups].map(([group, cells]) => {
    const c = target(connectionsOf(cells));
    return { group: `${group} (${c})`, cells: cells.filter((cell) => cell.connections === c) };
  });
}

/** Renders every chart the results can support into `dir`, and lists them. */
export function renderCharts(results: RunResults, dir: string): ChartRecord[] {
  const canvas = new ChartJSNodeCanvas({ width: CHART_WIDTH, height: CHART_HEIGHT, backgroundColour: 'white' });
  const pinned = results.placement.applied ? ', server and generator pinned to separate cores' : '';
  const ctx: ChartContext = { results, machineNote: `${results.machine.cores} cores${pinned}` };
  const charts: ChartRecord[] = [];
  const draw = (file: string, config: ChartConfiguration) => {
    writeFileSync(path.join(dir, file), canvas.renderToBufferSync(config, 'image/png'));
    const text = (config.options?.plugins?.title?.text as string) ?? file;
    charts.push({ file, title: text, width: CHART_WIDTH, height: CHART_HEIGHT });
  };

  const closed = results.cells.filter((c) => c.variant.kind !== 'open-loop');
  const groups = byGroup(closed);
  for (const [group, cells] of groups) {
    if (cells[0].transport === 'http') {
      // Throughput is on the transport chart beside the line protocol; a whole-millisecond distribution says little.
      draw(`latency-${slug(group)}.png`, httpLatencyChart(cells[0].workload, cells, ctx));
      continue;
    }
    draw(`throughput-${slug(group)}.png`, throughputChart(group, cells, ctx));
    draw(`latency-${slug(group)}.png`, latencyChart(group, cells, ctx));
    const c = nearest(connectionsOf(cells), DISTRIBUTION_CONNECTIONS);
    draw(`distribution-${slug(group)}-c${c}.png`, distributionChart(group, cells.filter((x) => x.connections === c), c, ctx));
  }
  const httpWorkloads = [...new Set(closed.filter((c) => c.transport === 'http').map((c) => c.workload))];
  for (const workload of httpWorkloads) {
    const plainLine = closed.filter((c) => c.workload === workload && c.transport !== 'http' && c.variant.kind === 'closed' && c.series === c.model);
    const http = closed.filter((c) => c.workload === workload && c.transport === 'http');
    draw(`transport-${slug(workload)}.png`, transportChart(workload, plainLine, http, ctx));
    draw(`transport-ratio-${slug(workload)}.png`, transportRatioChart(workload, results, ctx));
  }
  if (groups.size > 0) {
    const atReference = atConnections(groups, (counts) => nearest(counts, DISTRIBUTION_CONNECTIONS));
    draw('server-cpu.png', barChart('Server CPU by model', '% of one core', atReference,
      (c) => c.summary?.serverCpuPercent?.median, ctx, 'connections in brackets'));
    draw('server-memory.png', barChart('Server peak resident memory by model', 'MiB', atReference,
      (c) => (c.summary?.serverPeakRssBytes ? c.summary.serverPeakRssBytes.median / 2 ** 20 : undefined), ctx,
      'connections in brackets'));
    const atMost = atConnections(groups, (counts) => counts[counts.length - 1]);
    draw('fairness.png', barChart("Fairness between connections (Jain's index, 1 = equal shares)", "Jain's index", atMost,
      (c) => c.summary?.jainFairness?.median, ctx, 'at the most connections measured, in brackets'));
  }
  const open = results.cells.filter((c) => c.variant.kind === 'open-loop');
  if (open.length > 0) draw('open-loop.png', openLoopChart(open, ctx));
  return charts;
}

/**
 * One model's soak: resident memory (left axis) and p99 latency per second
 * (right axis) over time, with open file descriptors on a third axis, and the
 * growth verdict in the subtitle.
 */
export function renderSoakChart(soak: ModelSoak, run: SoakResults, dir: string): ChartRecord {
  const canvas = new ChartJSNodeCanvas({ width: CHART_WIDTH, height: CHART_HEIGHT, backgroundColour: 'white' });
  const minutes = run.settings.durationSecPerModel >= 120;
  const t = (sec: number) => (minutes ? sec / 60 : sec);
  const colour = colourFor(soak.model, 0);
  const heading = `Soak: ${soak.model}, memory and p99 over ${formatSpan(run.settings.durationSecPerModel)} (${run.machine.cores} cores)`;
  const first = soak.samples[0];
  const last = soak.samples[soak.samples.length - 1];
  const verdict = soak.verdict;
  const figures =
    verdict.secondHalfSlopeMiBPerMin !== null
      ? `: ${verdict.secondHalfSlopeMiBPerMin.toFixed(2)} MiB/min over the second half, last quarter's median ${verdict.increasePercent! >= 0 ? '+' : ''}${verdict.increasePercent!.toFixed(1)} % on the second quarter's`
      : '';
  // Three axes leave no room for a legend at the side.
  const options = baseOptions(
    heading,
    [
      `${run.machine.cpuModel}, run ${run.runId}, ${run.settings.connections} connections of mixed load`,
      `${soak.status === 'failed' ? `FAILED: ${soak.failure} · ` : ''}${verdict.verdict}${figures}` +
        (first && last ? ` · fds ${first.fds} → ${last.fds}, threads ${first.threads} → ${last.threads}` : ''),
    ],
    'bottom',
  );
  const config = {
    type: 'line',
    data: {
      datasets: [
        { label: 'RSS, MiB', yAxisID: 'y', data: soak.samples.map((s) => ({ x: t(s.tSec), y: s.rssBytes / 2 ** 20 })), borderColor: colour, backgroundColor: colour, pointRadius: 0 },
        { label: 'p99 per second, ms', yAxisID: 'y1', data: soak.timeline.map((s) => ({ x: t(s.tSec), y: s.p99Us / 1000 })), borderColor: '#555555', backgroundColor: '#555555', borderDash: [4, 3], pointRadius: 0, borderWidth: 1 },
        { label: 'open fds', yAxisID: 'y2', data: soak.samples.map((s) => ({ x: t(s.tSec), y: s.fds })), borderColor: '#bcbd22', backgroundColor: '#bcbd22', pointRadius: 0, borderWidth: 1 },
      ],
    },
    options: {
      ...options,
      scales: {
        x: { type: 'linear', min: 0, title: { display: true, text: minutes ? 'minutes' : 'seconds' } },
        y: { type: 'linear', position: 'left', beginAtZero: true, title: { display: true, text: 'resident memory, MiB' } },
        y1: { type: 'linear', position: 'right', beginAtZero: true, title: { display: true, text: 'p99, ms' }, grid: { drawOnChartArea: false } },
        y2: { type: 'linear', position: 'right', beginAtZero: true, title: { display: true, text: 'open file descriptors' }, grid: { drawOnChartArea: false } },
      },
    },
  } as ChartConfiguration;
  const file = `soak-${slug(soak.model)}.png`;
  writeFileSync(path.join(dir, file), canvas.renderToBufferSync(config, 'image/png'));
  return { file, title: heading, width: CHART_WIDTH, height: CHART_HEIGHT };
}

function formatSpan(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
