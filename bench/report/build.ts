// Assembling the report: the run, how to read it, Node's costs, each workload
// in turn (workload-section.ts), and last the servers' resources.
//
// The report is a list of blocks (document.ts), written once and rendered
// twice, as REPORT.md and as report.html. Everything here is computed from
// results.json: the facts about the run, the rules every sentence follows
// (stated in "How to read this report", with the thresholds the findings
// use), and the sections in the order a reader needs them.

import { atReference, resourceCharts, serverRssMibOf } from '../charts/definitions.js';
import type { ChartSpec } from './chart-specs.js';
import { costsOf, groupsOf, type CostSource, type Group, type ReportResults } from './data.js';
import type { Block } from './document.js';
import { costBlocks, statsBlocks } from './costs-section.js';
import { figureBlock } from './figures.js';
import { FAIRNESS_FLOOR, FLAT_GAIN, FLAT_GROWTH, KEPT_UP, TAIL_FACTOR } from './findings.js';
import { num, percent, plural } from './format.js';
import type { PredictionContext } from './ceilings.js';
import { AGREEMENT } from './predict.js';
import { closedGroupBlocks, openLoopBlocks } from './workload-section.js';
import { calibrationFacts } from './calibration-section.js';

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

function resourceBlocks(closed: Group[], results: ReportResults, dir: string | undefined, charts: ChartSpec[]): Block[] {
  if (closed.length === 0) return [];
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: 'Server resources and fairness' }];
  for (const chart of resourceCharts(closed)) blocks.push(figureBlock(chart, results, dir, charts));
  const sentences: string[] = [];
  const memory = closed.flatMap((g) => g.cells.filter((c) => c.connections === atReference(g) && serverRssMibOf(c) !== undefined));
  if (memory.length > 0) {
    const hi = memory.reduce((a, b) => (serverRssMibOf(b)! > serverRssMibOf(a)! ? b : a));
    const lo = memory.reduce((a, b) => (serverRssMibOf(b)! < serverRssMibOf(a)! ? b : a));
    sentences.push(
      `The most memory any server held was ${num(serverRssMibOf(hi)!)} MiB (${hi.id}), the least ${num(serverRssMibOf(lo)!)} MiB (${lo.id}).`,
    );
    const threads = memory
      .filter((c) => c.summary?.serverMaxThreads)
      .sort((a, b) => b.summary!.serverMaxThreads!.median - a.summary!.serverMaxThreads!.median)[0];
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
    const busy =
      start > m.cores
        ? `: above the core count, so other work was competing with the run and every figure is lower and noisier than on a quiet machine`
        : '';
    facts.push(`Load average ${num(start)} at the start${end !== undefined && end !== null ? ` and ${num(end)} at the end` : ''}${busy}.`);
  }
  if (m.stealPercent !== undefined && m.stealPercent !== null) {
    facts.push(
      `CPU time stolen by the hypervisor during the run: ${num(m.stealPercent)} % of all cores' time${m.stealPercent >= 5 ? ', enough to add noise to every figure' : ''}.`,
    );
  }
  facts.push(...calibrationFacts(results.calibration));
  const failed = results.cells.filter((x) => x.status !== 'ok').length;
  facts.push(`${plural(results.cells.length, 'cell')}, ${failed === 0 ? 'none failed' : `${failed} failed or partial`}.`);
  return facts;
}

export function buildReport(results: ReportResults, options: BuildOptions = {}): BuiltReport {
  const costs = costsOf(results, options.costsNow);
  const ctx: PredictionContext = { results, costs };
  const groups = groupsOf(results);
  const closed = groups.filter((g) => g.kind !== 'open-loop');
  const charts: ChartSpec[] = [];
  const title = `Server Pattern Lab: run ${results.runId}`;

  const body: Block[] = [];
  body.push({ kind: 'heading', level: 2, text: 'The run' });
  if (results.status !== 'complete') {
    body.push({
      kind: 'paragraph',
      text: `This run did not complete (status: ${results.status}); cells that never ran are listed as failed with the reason.`,
    });
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
    body.push(
      ...(group.kind === 'open-loop'
        ? openLoopBlocks(group, results, options.dir, charts)
        : closedGroupBlocks(group, results, ctx, options.dir, charts)),
    );
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
