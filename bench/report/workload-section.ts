// One workload of the report: its charts, what happened, its figures, its predictions.
//
// For every workload the reader gets the same four things in the same order:
// the charts, a few sentences on what happened, the figures in a table, and
// the predictions beside the measurements. The order matters: look first,
// then be told where to look, then check the numbers, then ask whether they
// are what the design should give. An open-loop sweep gets the same order,
// with offered and achieved rates in place of predictions.

import {
  distributionChart,
  latencyChart,
  openLoopChart,
  plainLineCells,
  throughputChart,
  transportChart,
  transportRatioChart,
} from '../charts/definitions.js';
import type { ChartDefinition } from '../charts/model.js';
import { transportPairs } from '../results.js';
import type { ChartSpec } from './chart-specs.js';
import { cellAt, medianRepeat, medianRps, type Group, type ReportResults } from './data.js';
import type { Block } from './document.js';
import { distributionConnections, figureBlock } from './figures.js';
import { closedLoopFindings, openLoopFindings, transportFindings } from './findings.js';
import { capitalise, mib, msFromUs, num, percent, plural, times } from './format.js';
import type { PredictionContext } from './ceilings.js';
import { AGREEMENT, disagreementSentence, disagrees, predict, type Comparison, type Prediction } from './predict.js';

/** The HTTP settings of results files that have an HTTP axis; older files have none. */
function httpSettings(results: ReportResults): { tool?: string; toolVersion?: string; latencyResolutionMs?: number } | undefined {
  return (results.settings as { http?: { tool?: string; toolVersion?: string; latencyResolutionMs?: number } | null }).http ?? undefined;
}

function httpTool(results: ReportResults): string {
  const h = httpSettings(results);
  return h?.tool ? `${h.tool}${h.toolVersion ? ` ${h.toolVersion}` : ''}` : 'an HTTP load generator';
}

function httpResolution(results: ReportResults): string {
  const ms = httpSettings(results)?.latencyResolutionMs;
  return ms ? `; its latencies are whole multiples of ${ms} ms, so sub-millisecond figures read as 0` : '';
}

function workloadDescription(group: Group, results: ReportResults): string {
  const w = results.settings.workloadParameters;
  const what = {
    echo: `ECHO with a ${w.size}-byte payload`,
    kv: `a GET/SET mix, ${percent(w.readRatio)} reads over ${w.keys.toLocaleString('en-US')} keys chosen ${w.keyDistribution === 'zipfian' ? 'with a zipfian skew' : 'uniformly'}, ${w.size}-byte values`,
    cpu: `WORK ${w.work}: a chain of ${(w.work + 1).toLocaleString('en-US')} SHA-256 hashes, pure computation`,
    sleep: `SLEEP ${w.sleepMs}: a wait of ${w.sleepMs} ms that uses no CPU, standing in for a slow disk or database`,
  }[group.workload];
  const how =
    group.kind === 'reconnect'
      ? 'each request on a new TCP connection, opened and closed around it, with the connect time counted as latency'
      : group.kind === 'open-loop'
        ? `requests sent on a fixed schedule over ${plural(group.connections[0], 'connection')}, whatever the replies do, with latency counted from the scheduled send`
        : group.transport === 'http'
          ? `sent over HTTP/1.1 keep-alive connections by ${httpTool(results)}, each connection sending its next request as soon as its reply arrives (closed loop)${httpResolution(results)}`
          : 'each connection sending its next request as soon as its reply arrives (closed loop)';
  return `Each request is ${what}; ${how}. Connections: ${group.connections.join(', ')}.`;
}

function spreadText(s: { median: number; min: number; max: number; n: number } | null | undefined, show: (v: number) => string): string {
  if (!s) return '–';
  return s.n > 1 && s.min !== s.max ? `${show(s.min)}–${show(s.max)}` : '–';
}

function figuresTable(group: Group): Block {
  const rows: string[][] = [];
  for (const series of group.series) {
    for (const c of group.connections) {
      const cell = cellAt(group, series, c);
      if (!cell) continue;
      const s = cell.summary;
      if (!s) {
        rows.push([series, String(c), `failed: ${cell.failure ?? 'no result'}`, '', '', '', '', '', '', '', '', '']);
        continue;
      }
      const p50 = s.p50Us?.median;
      const p99 = s.p99Us?.median;
      rows.push([
        series,
        String(c),
        s.requestsPerSec ? num(s.requestsPerSec.median) : '–',
        spreadText(s.requestsPerSec, num),
        p50 !== undefined ? msFromUs(p50) : '–',
        p99 !== undefined ? msFromUs(p99) : '–',
        p50 && p99 !== undefined ? times(p99 / p50) : '–',
        s.meanUs ? msFromUs(s.meanUs.median) : '–',
        s.jainFairness ? num(s.jainFairness.median) : '–',
        s.errors ? num(s.errors.median) : '–',
        s.serverCpuPercent ? `${num(s.serverCpuPercent.median)} %` : '–',
        s.serverPeakRssBytes ? mib(s.serverPeakRssBytes.median) : '–',
      ]);
    }
  }
  return {
    kind: 'table',
    head: ['model', 'conns', 'req/s', 'repeats range', 'p50', 'p99', 'p99 ÷ p50', 'mean', 'fairness', 'errors', 'server CPU', 'peak RSS'],
    rows,
    numeric: [false, true, true, true, true, true, true, true, true, true, true, true],
  };
}

function ratioCell(cmp: Comparison): string {
  return `${times(cmp.ratio)}${disagrees(cmp.ratio) ? ' ⚠' : ''}`;
}

function predictionsTable(predictions: Prediction[]): Block {
  return {
    kind: 'table',
    head: [
      'model',
      'conns',
      'measured req/s (median)',
      'req/s in the repeat nearest it',
      "Little's law: N ÷ its mean latency",
      'ratio',
      'ceiling req/s',
      'median ÷ ceiling',
      'how the ceiling is worked out',
    ],
    rows: predictions.map((p) => {
      const little = 'unavailable' in p.little ? ['–', '–', '–'] : [num(p.little.measured), num(p.little.predicted), ratioCell(p.little)];
      if ('unavailable' in p.little && p.measured > 0) little[1] = `not checked: ${p.little.unavailable}`;
      const ceiling =
        p.ceiling === null
          ? ['–', '–', 'no single cost dominates a cheap command']
          : 'unavailable' in p.ceiling
            ? ['–', '–', `not predicted: ${p.ceiling.unavailable}`]
            : [num(p.ceiling.predicted), ratioCell(p.ceiling), p.ceiling.arithmetic];
      return [p.cell.series, String(p.cell.connections), num(p.measured), ...little, ...ceiling];
    }),
    numeric: [false, true, true, true, true, true, true, true, false],
  };
}

function disagreementItems(predictions: Prediction[]): string[] {
  const items: string[] = [];
  for (const p of predictions) {
    const where = `${capitalise(p.cell.series)} at ${plural(p.cell.connections, 'connection')}`;
    if (!('unavailable' in p.little) && p.little.reasons.length > 0) items.push(disagreementSentence(`${where}, Little's law`, p.little));
    if (p.ceiling && !('unavailable' in p.ceiling) && p.ceiling.reasons.length > 0) items.push(disagreementSentence(`${where}, ceiling`, p.ceiling));
  }
  return items;
}

function agreementSummary(predictions: Prediction[]): string | undefined {
  const withCeiling = predictions.filter((p) => p.ceiling && !('unavailable' in p.ceiling));
  const little = predictions.filter((p) => !('unavailable' in p.little));
  if (little.length === 0 && withCeiling.length === 0) return undefined;
  const agree = (cmp: Comparison) => !disagrees(cmp.ratio);
  const parts: string[] = [];
  if (little.length > 0) {
    parts.push(
      `Little's law held within ${percent(AGREEMENT)} for ${little.filter((p) => agree(p.little as Comparison)).length} of ${little.length} cells`,
    );
  }
  if (withCeiling.length > 0) {
    parts.push(
      `the measured throughput came within ${percent(AGREEMENT)} of its ceiling for ${withCeiling.filter((p) => agree(p.ceiling as Comparison)).length} of ${withCeiling.length}`,
    );
  }
  return `${capitalise(parts.join(', and '))}.`;
}

function notesItems(group: Group): string[] {
  const items: string[] = [];
  for (const cell of group.cells) {
    const notes = [...new Set([...cell.notes, ...cell.repeats.flatMap((r) => r.notes)])];
    if (notes.length > 0) items.push(`${cell.id}: ${notes.join('; ')}`);
  }
  return items;
}

export function closedGroupBlocks(
  group: Group,
  results: ReportResults,
  ctx: PredictionContext,
  dir: string | undefined,
  specs: ChartSpec[],
): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: `Workload: ${group.name}` }];
  blocks.push({ kind: 'paragraph', text: workloadDescription(group, results) });
  const pairs = group.transport === 'http' ? transportPairs(results.cells).filter((p) => p.workload === group.workload) : [];
  // As the suite draws them: HTTP throughput beside the line protocol's, their ratio, and the latency.
  const charts: ChartDefinition[] =
    group.transport === 'http'
      ? [
          transportChart(group.workload, plainLineCells(results.cells, group.workload), group.cells),
          transportRatioChart(group.workload, pairs),
          latencyChart(group),
        ]
      : [throughputChart(group), latencyChart(group), distributionChart(group, distributionConnections(group, results))];
  for (const chart of charts) blocks.push(figureBlock(chart, results, dir, specs));

  const f = closedLoopFindings(group, ctx);
  blocks.push({ kind: 'heading', level: 3, text: `What happened: ${group.name}` });
  const said = [...f.overview, ...transportFindings(pairs), ...f.leads, ...f.flattening, ...f.tails, ...f.starvation, ...f.failures];
  blocks.push(said.length > 0 ? { kind: 'list', items: said } : { kind: 'paragraph', text: 'No cell of this workload produced a measurement.' });

  blocks.push({ kind: 'heading', level: 3, text: `Figures: ${group.name}` });
  blocks.push({
    kind: 'paragraph',
    text: `Medians of ${plural(results.settings.repeat, 'repeat')}; the range is the slowest and fastest repeat. Latency in milliseconds; server CPU in % of one core.`,
  });
  blocks.push(figuresTable(group));

  const predictions = group.cells
    .slice()
    .sort((a, b) => group.series.indexOf(a.series) - group.series.indexOf(b.series) || a.connections - b.connections)
    .map((c) => predict(c, ctx))
    .filter((p): p is Prediction => p !== undefined);
  blocks.push({ kind: 'heading', level: 3, text: `Predictions beside measurements: ${group.name}` });
  if (predictions.length === 0) {
    blocks.push({ kind: 'paragraph', text: 'No cell has a measurement to compare with.' });
  } else {
    const summary = agreementSummary(predictions);
    if (summary) blocks.push({ kind: 'paragraph', text: summary });
    blocks.push(predictionsTable(predictions));
    const items = disagreementItems(predictions);
    if (items.length > 0) blocks.push({ kind: 'list', items });
  }
  const notes = notesItems(group);
  if (notes.length > 0) {
    blocks.push({ kind: 'paragraph', text: 'Notes the suite recorded for these cells:' });
    blocks.push({ kind: 'list', items: notes });
  }
  return blocks;
}

export function openLoopBlocks(group: Group, results: ReportResults, dir: string | undefined, specs: ChartSpec[]): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: `Workload: ${group.name}` }];
  blocks.push({ kind: 'paragraph', text: workloadDescription(group, results) });
  blocks.push(figureBlock(openLoopChart(group), results, dir, specs));
  blocks.push({ kind: 'heading', level: 3, text: `What happened: ${group.name}` });
  const said = openLoopFindings(group, results);
  blocks.push(said.length > 0 ? { kind: 'list', items: said } : { kind: 'paragraph', text: 'No open-loop cell produced a measurement.' });
  blocks.push({ kind: 'heading', level: 3, text: `Figures: ${group.name}` });
  const rows = group.series.flatMap((series) =>
    group.cells
      .filter((c) => c.series === series)
      .sort((a, b) => (a.targetRate ?? 0) - (b.targetRate ?? 0))
      .map((c) => {
        const s = c.summary;
        const achieved = s?.achievedRate?.median ?? (s ? medianRps(c) : undefined);
        const load = medianRepeat(c)?.load;
        const lag = load && 'openLoop' in load ? load.openLoop?.maxSendLagMs : undefined;
        return [
          series,
          c.targetRate !== null ? num(c.targetRate) : '–',
          achieved !== undefined ? num(achieved) : `failed: ${c.failure ?? 'no result'}`,
          achieved !== undefined && c.targetRate ? percent(achieved / c.targetRate) : '–',
          s?.p50Us ? msFromUs(s.p50Us.median) : '–',
          s?.p99Us ? msFromUs(s.p99Us.median) : '–',
          s?.maxUs ? msFromUs(s.maxUs.median) : '–',
          lag !== undefined ? `${num(lag)} ms` : '–',
        ];
      }),
  );
  blocks.push({
    kind: 'table',
    head: ['model', 'offered req/s', 'achieved req/s', 'achieved ÷ offered', 'p50', 'p99', 'max', 'generator lag'],
    rows,
    numeric: [false, true, true, true, true, true, true, true],
  });
  const notes = notesItems(group);
  if (notes.length > 0) {
    blocks.push({ kind: 'paragraph', text: 'Notes the suite recorded for these cells:' });
    blocks.push({ kind: 'list', items: notes });
  }
  return blocks;
}
