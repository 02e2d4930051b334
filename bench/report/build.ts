// Assembling the report: the run, Node's costs, then each workload in turn.
//
// For every workload the reader gets the same four things in the same order:
// the charts, a few sentences on what happened, the figures in a table, and
// the predictions beside the measurements. The order matters: look first,
// then be told where to look, then check the numbers, then ask whether they
// are what the design should give.

import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  barSpec,
  distributionSpec,
  fairnessOf,
  latencySpec,
  nearest,
  openLoopSpec,
  serverCpuOf,
  serverRssMibOf,
  slug,
  throughputSpec,
  transportRatioSpec,
  transportSpec,
  type ChartSpec,
} from './chart-specs.js';
import { transportPairs } from '../results.js';
import {
  cellAt,
  groupsOf,
  medianRepeat,
  medianRps,
  type CostSource,
  type Group,
  type ReportCell,
  type ReportResults,
} from './data.js';
import type { Block } from './document.js';
import { costBlocks, statsBlocks } from './costs-section.js';
import {
  closedLoopFindings,
  FAIRNESS_FLOOR,
  FLAT_GAIN,
  FLAT_GROWTH,
  KEPT_UP,
  openLoopFindings,
  TAIL_FACTOR,
  transportFindings,
} from './findings.js';
import { capitalise, mib, msFromUs, num, percent, plural, rps, times } from './format.js';
import { AGREEMENT, disagreementSentence, disagrees, predict, type Comparison, type Prediction, type PredictionContext } from './predict.js';

export interface BuildOptions {
  /** The run directory, to check which PNGs are really there. */
  dir?: string;
  /** Costs measured now, for a run that did not record its own. */
  costsNow?: CostSource['costs'];
}

export interface BuiltReport {
  blocks: Block[];
  charts: ChartSpec[];
  title: string;
}

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
    group.kind === 'reconnect' ? 'each request on a new TCP connection, opened and closed around it, with the connect time counted as latency'
    : group.kind === 'open-loop' ? `requests sent on a fixed schedule over ${plural(group.connections[0], 'connection')}, whatever the replies do, with latency counted from the scheduled send`
    : group.transport === 'http'
      ? `sent over HTTP/1.1 keep-alive connections by ${httpTool(results)}, each connection sending its next request as soon as its reply arrives (closed loop)${httpResolution(results)}`
      : 'each connection sending its next request as soon as its reply arrives (closed loop)';
  return `Each request is ${what}; ${how}. Connections: ${group.connections.join(', ')}.`;
}

function pngFor(results: ReportResults, file: string, dir?: string): { file: string; present: boolean } | undefined {
  if (!results.charts.some((c) => c.file === file)) return undefined;
  return { file, present: dir ? existsSync(path.join(dir, file)) : true };
}

/** The connection count whose distribution the suite drew for this group, read from the PNG's name. */
function distributionConnections(group: Group, results: ReportResults): number {
  const prefix = `distribution-${slug(group.name)}-c`;
  const drawn = results.charts.find((c) => c.file.startsWith(prefix) && /^\d+\.png$/.test(c.file.slice(prefix.length)));
  const c = drawn ? Number(drawn.file.slice(prefix.length, -4)) : NaN;
  return group.connections.includes(c) ? c : nearest(group.connections, 64);
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
    head: ['model', 'conns', 'measured req/s (median)', "req/s in the repeat nearest it", "Little's law: N ÷ its mean latency", 'ratio', 'ceiling req/s', 'median ÷ ceiling', 'how the ceiling is worked out'],
    rows: predictions.map((p) => {
      const little = 'unavailable' in p.little ? ['–', '–', '–'] : [num(p.little.measured), num(p.little.predicted), ratioCell(p.little)];
      if ('unavailable' in p.little && p.measured > 0) little[1] = `not checked: ${p.little.unavailable}`;
      const ceiling =
        p.ceiling === null ? ['–', '–', 'no single cost dominates a cheap command']
        : 'unavailable' in p.ceiling ? ['–', '–', `not predicted: ${p.ceiling.unavailable}`]
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
    parts.push(`Little's law held within ${percent(AGREEMENT)} for ${little.filter((p) => agree(p.little as Comparison)).length} of ${little.length} cells`);
  }
  if (withCeiling.length > 0) {
    parts.push(`the measured throughput came within ${percent(AGREEMENT)} of its ceiling for ${withCeiling.filter((p) => agree(p.ceiling as Comparison)).length} of ${withCeiling.length}`);
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

function closedGroupBlocks(group: Group, results: ReportResults, ctx: PredictionContext, dir: string | undefined, charts: ChartSpec[]): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: `Workload: ${group.name}` }];
  blocks.push({ kind: 'paragraph', text: workloadDescription(group, results) });
  const pairs = group.transport === 'http' ? transportPairs(results.cells).filter((p) => p.workload === group.workload) : [];
  let specs: { spec: ChartSpec; png: string }[];
  if (group.transport === 'http') {
    // As the suite draws them: HTTP throughput beside the line protocol's, their ratio, and HTTP latency.
    const line = results.cells.filter((c) => c.workload === group.workload && c.transport !== 'http' && c.variant.kind === 'closed' && c.series === c.model);
    specs = [
      { spec: transportSpec(group.workload, line, group.cells, results), png: `transport-${slug(group.workload)}.png` },
      { spec: transportRatioSpec(group.workload, pairs, results), png: `transport-ratio-${slug(group.workload)}.png` },
      { spec: latencySpec(group, results), png: `latency-${slug(group.name)}.png` },
    ];
  } else {
    const dc = distributionConnections(group, results);
    specs = [
      { spec: throughputSpec(group, results), png: `throughput-${slug(group.name)}.png` },
      { spec: latencySpec(group, results), png: `latency-${slug(group.name)}.png` },
      { spec: distributionSpec(group, dc, results), png: `distribution-${slug(group.name)}-c${dc}.png` },
    ];
  }
  for (const { spec, png } of specs) {
    charts.push(spec);
    blocks.push({ kind: 'figure', title: spec.title, png: pngFor(results, png, dir), chart: spec });
  }

  const f = closedLoopFindings(group, ctx);
  blocks.push({ kind: 'heading', level: 3, text: `What happened: ${group.name}` });
  const said = [...f.overview, ...transportFindings(pairs), ...f.leads, ...f.flattening, ...f.tails, ...f.starvation, ...f.failures];
  blocks.push(said.length > 0 ? { kind: 'list', items: said } : { kind: 'paragraph', text: 'No cell of this workload produced a measurement.' });

  blocks.push({ kind: 'heading', level: 3, text: `Figures: ${group.name}` });
  blocks.push({ kind: 'paragraph', text: `Medians of ${plural(results.settings.repeat, 'repeat')}; the range is the slowest and fastest repeat. Latency in milliseconds; server CPU in % of one core.` });
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

function openLoopBlocks(group: Group, results: ReportResults, dir: string | undefined, charts: ChartSpec[]): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: `Workload: ${group.name}` }];
  blocks.push({ kind: 'paragraph', text: workloadDescription(group, results) });
  const spec = openLoopSpec(group, results);
  charts.push(spec);
  blocks.push({ kind: 'figure', title: spec.title, png: pngFor(results, 'open-loop.png', dir), chart: spec });
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

function resourceBlocks(closed: Group[], results: ReportResults, dir: string | undefined, charts: ChartSpec[]): Block[] {
  if (closed.length === 0) return [];
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: 'Server resources and fairness' }];
  const atReference = (g: Group) => nearest(g.connections, 64);
  const atMost = (g: Group) => g.connections[g.connections.length - 1];
  const specs = [
    { spec: barSpec('server-cpu', 'Server CPU by model', '% of one core', '%', closed, atReference, serverCpuOf, results), png: 'server-cpu.png' },
    { spec: barSpec('server-memory', 'Server peak resident memory by model', 'MiB', 'MiB', closed, atReference, serverRssMibOf, results), png: 'server-memory.png' },
    { spec: barSpec('fairness', "Fairness between connections (Jain's index, 1 = equal shares)", "Jain's index", '', closed, atMost, fairnessOf, results), png: 'fairness.png' },
  ];
  for (const { spec, png } of specs) {
    charts.push(spec);
    blocks.push({ kind: 'figure', title: spec.title, png: pngFor(results, png, dir), chart: spec });
  }
  const sentences: string[] = [];
  const memory = closed.flatMap((g) => g.cells.filter((c) => c.connections === atReference(g) && serverRssMibOf(c) !== undefined));
  if (memory.length > 0) {
    const hi = memory.reduce((a, b) => (serverRssMibOf(b)! > serverRssMibOf(a)! ? b : a));
    const lo = memory.reduce((a, b) => (serverRssMibOf(b)! < serverRssMibOf(a)! ? b : a));
    sentences.push(`The most memory any server held was ${num(serverRssMibOf(hi)!)} MiB (${hi.id}), the least ${num(serverRssMibOf(lo)!)} MiB (${lo.id}).`);
    const threads = memory.filter((c) => c.summary?.serverMaxThreads).sort((a, b) => b.summary!.serverMaxThreads!.median - a.summary!.serverMaxThreads!.median)[0];
    if (threads) sentences.push(`The most threads a server ran was ${num(threads.summary!.serverMaxThreads!.median)} (${threads.id}).`);
  }
  if (sentences.length > 0) blocks.push({ kind: 'list', items: sentences });
  blocks.push(...statsBlocks(results));
  return blocks;
}

function runFacts(results: ReportResults): string[] {
  const m = results.machine;
  const s = results.settings;
  const facts = [
    `Machine: ${m.cpuModel}, ${plural(m.cores, 'core')}, ${num(m.memoryBytes / 2 ** 30)} GiB of memory; ${m.os.name ?? m.os.platform} (kernel ${m.os.kernel}, ${m.os.arch}); Node ${m.node}.`,
    `Code: ${m.git.commit ? `commit ${m.git.commit.slice(0, 12)}${m.git.dirty ? ', with uncommitted changes' : ''}` : 'not a git checkout'}.`,
    `Started ${results.startedAt}${results.elapsedSec !== null ? `, took ${num(results.elapsedSec)} s` : ''}; status: ${results.status}.`,
    `Each cell: ${plural(s.repeat, 'repeat')} of ${num(s.warmupSec)} s warmup and ${num(s.durationSec)} s measured, a request timing out after ${num(s.timeoutMs)} ms; the load generator on ${plural(s.clientThreads, 'thread')}.`,
    results.placement.applied
      ? `Placement: server on CPUs ${results.placement.serverCpus}, load generator on CPUs ${results.placement.generatorCpus} (${results.placement.method}).`
      : `Placement: not pinned; the server and the load generator share all ${plural(m.cores, 'core')}${results.placement.requested && results.placement.reason ? ` (pinning was asked for but not applied: ${results.placement.reason})` : ''}.`,
  ];
  const start = m.loadAverageAtStart?.[0];
  const end = m.loadAverageAtEnd?.[0];
  if (start !== undefined) {
    const busy = start > m.cores ? `: above the core count, so other work was competing with the run and every figure is lower and noisier than on a quiet machine` : '';
    facts.push(`Load average ${num(start)} at the start${end !== undefined && end !== null ? ` and ${num(end)} at the end` : ''}${busy}.`);
  }
  const c = results.calibration;
  if (c.skipped) facts.push(`Calibration against redis-benchmark: skipped (${c.reason}).`);
  else facts.push(`Calibration against redis-benchmark: ${c.medianRatio !== null ? `our generator reached ${times(c.medianRatio)} redis-benchmark's throughput on the same Redis (median)` : 'no ratio'}. ${sentence(c.interpretation)}`);
  const failed = results.cells.filter((x) => x.status !== 'ok').length;
  facts.push(`${plural(results.cells.length, 'cell')}, ${failed === 0 ? 'none failed' : `${failed} failed or partial`}.`);
  return facts;
}

export function buildReport(results: ReportResults, options: BuildOptions = {}): BuiltReport {
  const costs: CostSource | undefined = results.nodeCosts
    ? { costs: results.nodeCosts, measuredDuringRun: true }
    : options.costsNow
      ? { costs: options.costsNow, measuredDuringRun: false }
      : undefined;
  const ctx: PredictionContext = { results, costs };
  const groups = groupsOf(results);
  const closed = groups.filter((g) => g.kind !== 'open-loop');
  const charts: ChartSpec[] = [];
  const title = `Server Pattern Lab: run ${results.runId}`;

  const body: Block[] = [];
  body.push({ kind: 'heading', level: 2, text: 'The run' });
  if (results.status !== 'complete') {
    body.push({ kind: 'paragraph', text: `This run did not complete (status: ${results.status}); cells that never ran are listed as failed with the reason.` });
  }
  body.push({ kind: 'list', items: runFacts(results) });
  body.push({ kind: 'heading', level: 2, text: 'How to read this report' });
  body.push({
    kind: 'list',
    items: [
      'Every sentence below is computed from results.json by rules stated here; when the figures change, the sentences change with them.',
      `A model "led" at a connection count when its median throughput was the highest; the ratio is to the runner-up's median. A lead is called unclear when the leader's slowest repeat was no faster than the runner-up's fastest.`,
      `Throughput "flattened" from N connections when it grew by less than ${percent(FLAT_GAIN)} by ${FLAT_GROWTH} × N connections (or fell).`,
      `p99 "broke away" when it exceeded ${TAIL_FACTOR} × p50. A connection was "starved" when Jain's fairness index over the connections' reply counts fell below ${FAIRNESS_FLOOR} (1 means equal shares; 1/N means one connection got everything).`,
      `Little's law says a closed loop with N requests in flight delivers N ÷ mean latency requests per second; it is checked within the one repeat nearest the median, since throughput and latency must come from the same run. A ceiling is what the design allows from its one dominant cost. Measured and predicted "agree" within ${percent(AGREEMENT)}; a ⚠ marks a gap beyond that, explained below the table.`,
      `In open loop, a model "kept up" when it delivered at least ${percent(KEPT_UP)} of the rate offered.`,
    ],
  });
  body.push(...costBlocks(costs, results));
  for (const group of groups) {
    body.push(...(group.kind === 'open-loop' ? openLoopBlocks(group, results, options.dir, charts) : closedGroupBlocks(group, results, ctx, options.dir, charts)));
  }
  body.push(...resourceBlocks(closed, results, options.dir, charts));
  if (results.charts.length === 0) {
    body.splice(2, 0, { kind: 'paragraph', text: 'The suite drew no PNG charts for this run, so REPORT.md shows none; report.html draws them all.' });
  }

  const entries = body
    .filter((b): b is Extract<Block, { kind: 'heading' }> => b.kind === 'heading' && b.level === 2)
    .map((b) => ({ text: b.text, level: 2 as const }));
  const blocks: Block[] = [
    { kind: 'heading', level: 1, text: title },
    {
      kind: 'paragraph',
      text: `Generated from results.json by \`npm run report -- results/${results.runId}\`. The charts, the sentences and the predictions all come from that one file${costs && !costs.measuredDuringRun ? ', except the costs of Node, which were measured when this report was written' : ''}.`,
    },
    { kind: 'contents', entries },
    ...body,
  ];
  return { blocks, charts, title };
}

export type { ReportCell };

/** A clause written to follow a colon, as a sentence of its own: capitalised, with a full stop. */
function sentence(clause: string): string {
  const text = clause.trim();
  if (text === '') return text;
  return `${text[0].toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;
}
