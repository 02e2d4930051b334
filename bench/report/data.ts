// Reading a run back: results.json in, the views the report is written from out.
//
// The report is written from the results file alone, so that a report can be
// rebuilt (or questioned) long after the run, and so that it cannot show
// anything the record does not hold. This module is the only place that knows
// the file's layout; everything else asks it for "the cells of this chart",
// "this model's points", "the pool's worker count in this run".
//
// Three things the report can use are not (yet) in every results file: the
// Node costs measured on the run's machine (`nodeCosts`), STATS replies
// sampled during each repeat (`statsSamples`), and the settings each cell's
// servers announced (`serverSettings`). All are optional here. Every use of
// the first two says "not measured in this run" when they are missing; the
// settings are then read from the listening line each repeat kept.

import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { chartGroups, type ChartGroup } from '../charts/model.js';
import type { NodeCosts } from '../costs/index.js';
import type { CellRecord, RepeatRecord, RunResults } from '../results.js';
import { parseListening, type ServerSettings } from '../server-process.js';

/** One STATS reply, and when it was taken (ms since the repeat's server started being sampled). */
export interface StatsSample {
  tMs: number;
  stats: Record<string, unknown>;
}

export type ReportRepeat = RepeatRecord & { statsSamples?: StatsSample[] };
export type ReportCell = Omit<CellRecord, 'repeats' | 'serverSettings'> & { repeats: ReportRepeat[]; serverSettings?: ServerSettings | null };

/** A results file as the report reads it: the suite's record plus the optional extras. */
export type ReportResults = Omit<RunResults, 'cells'> & {
  cells: ReportCell[];
  nodeCosts?: NodeCosts | null;
};

/** Where the costs the report uses came from: the run itself, or a later measurement on this machine. */
export interface CostSource {
  costs: NodeCosts;
  measuredDuringRun: boolean;
}

export class ResultsError extends Error {}

/** Accepts a run directory or a results.json path; returns both. */
export function locateResults(target: string): { dir: string; file: string } {
  if (!existsSync(target)) throw new ResultsError(`${target} does not exist`);
  if (statSync(target).isDirectory()) {
    const file = path.join(target, 'results.json');
    if (!existsSync(file)) throw new ResultsError(`${target} holds no results.json: is it a run directory of the suite?`);
    return { dir: target, file };
  }
  return { dir: path.dirname(target), file: target };
}

function need(condition: unknown, what: string): asserts condition {
  if (!condition) throw new ResultsError(`results.json is not a results file of the suite: ${what}`);
}

/**
 * Parses and checks the parts of the file the report relies on. It is not the
 * full schema check (the suite's tests do that); it makes sure a wrong or
 * truncated file is refused with a reason instead of producing nonsense.
 */
export function parseResults(text: string): ReportResults {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ResultsError(`results.json is not valid JSON (${(err as Error).message}); was the run cut off while writing it?`);
  }
  const r = data as Partial<ReportResults>;
  need(r !== null && typeof r === 'object', 'it is not an object');
  need(r.schemaVersion === 1, `schemaVersion is ${JSON.stringify(r.schemaVersion)}, this report reads version 1`);
  need(typeof r.runId === 'string', 'runId is missing');
  need(r.machine && typeof r.machine.cores === 'number', 'machine.cores is missing');
  need(r.settings && r.settings.workloadParameters, 'settings.workloadParameters is missing');
  need(Array.isArray(r.cells), 'cells is not a list');
  for (const c of r.cells) {
    need(
      c && typeof c.id === 'string' && typeof c.connections === 'number' && c.variant && Array.isArray(c.repeats),
      'a cell lacks id, connections, variant or repeats',
    );
  }
  need(Array.isArray(r.charts), 'charts is not a list');
  return r as ReportResults;
}

export function readResults(target: string): { dir: string; results: ReportResults } {
  const { dir, file } = locateResults(target);
  return { dir, results: parseResults(readFileSync(file, 'utf8')) };
}

/** Cells grouped as the charts group them: one group per workload and way of driving it. */
export type Group = ChartGroup<ReportCell>;

export function groupsOf(results: ReportResults): Group[] {
  return chartGroups(results.cells);
}

export function cellAt(group: Group, series: string, connections: number): ReportCell | undefined {
  return group.cells.find((c) => c.series === series && c.connections === connections);
}

/** The repeat whose throughput was the median: the one run a distribution or a per-connection count is read from. */
export function medianRepeat(cell: ReportCell): ReportRepeat | undefined {
  return cell.repeats.find((r) => r.index === cell.medianRepeat && r.load !== null);
}

/**
 * The answered repeat whose throughput lies nearest the cell's median. With an
 * even number of repeats the median is the mean of two, and a figure that must
 * come from one run (Little's law pairs a throughput with a latency; a
 * per-connection count belongs to one run) is read from this repeat.
 */
export function representativeRepeat(cell: ReportCell): ReportRepeat | undefined {
  const target = cell.summary?.requestsPerSec?.median;
  const answered = cell.repeats.filter((r) => r.load && r.load.ok > 0);
  if (answered.length === 0 || target === undefined) return medianRepeat(cell);
  return answered.reduce((best, r) =>
    Math.abs(r.load!.throughput.requestsPerSec - target) < Math.abs(best.load!.throughput.requestsPerSec - target) ? r : best,
  );
}

export const medianRps = (c: ReportCell): number | undefined => c.summary?.requestsPerSec?.median;

/**
 * What the cell's servers said they ran with. The suite records it as
 * `serverSettings`; for a file written before it did, the listening line
 * each repeat kept is read the same way the suite reads it.
 */
function settingsOf(cell: ReportCell): ServerSettings {
  if (cell.serverSettings) return cell.serverSettings;
  for (const r of cell.repeats) {
    const announced = r.server.listeningLine ? parseListening(r.server.listeningLine) : null;
    if (announced) return announced.settings;
  }
  return {};
}

/**
 * A server setting as the server stated it (the pool's default worker count
 * depends on the machine, so the flags alone do not say), or else as the
 * flags set it.
 */
export function serverSetting(cell: ReportCell, name: string): number | undefined {
  const stated = settingsOf(cell)[name];
  if (typeof stated === 'number') return stated;
  const flag = cell.serverFlags.findIndex((f) => f === `--${name}` || f.startsWith(`--${name}=`));
  if (flag >= 0) {
    const value = cell.serverFlags[flag].includes('=') ? cell.serverFlags[flag].split('=')[1] : cell.serverFlags[flag + 1];
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  return undefined;
}

/** The requests each connection kept in flight (the suite runs closed loop with pipeline 1). */
export function pipelineOf(cell: ReportCell): number {
  const options = cell.repeats.find((r) => r.loadOptions)?.loadOptions;
  return options && 'pipeline' in options && typeof options.pipeline === 'number' ? options.pipeline : 1;
}

/** The costs the report builds on: the run's own, or else costs measured now (labelled as such), or none. */
export function costsOf(results: ReportResults, extra?: NodeCosts): CostSource | undefined {
  if (results.nodeCosts) return { costs: results.nodeCosts, measuredDuringRun: true };
  if (extra) return { costs: extra, measuredDuringRun: false };
  return undefined;
}
