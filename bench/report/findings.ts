// What happened in a workload, said in sentences computed from the figures.
//
// A chart shows everything at once; a reader still needs to be told where to
// look. Each finding here is a rule applied to the data, never a sentence
// written in advance: which model led at each connection count and by how
// much, where a model stopped gaining from more connections and what bounds it
// there, where the slowest requests broke away from the typical one, and
// which connections were starved. Change the numbers and the sentences change.
//
// The thresholds are stated once, here, and the report prints them, so a
// reader can disagree with them knowingly:

import { capitalise, change, listOf, msFromUs, num, percent, plural, rps, times } from './format.js';
import { cellAt, medianRps, representativeRepeat, type Group, type ReportCell, type ReportResults } from './data.js';
import { ceilingFor, type PredictionContext } from './ceilings.js';
import { disagrees, predict, workerStartsOutlastWarmup } from './predict.js';

/** Throughput that grows by less than this when connections grow FLAT_GROWTH-fold has flattened. */
export const FLAT_GAIN = 0.1;
export const FLAT_GROWTH = 4;
/** p99 above this multiple of p50 has broken away from the typical request. */
export const TAIL_FACTOR = 5;
/** Jain's fairness index below this means some connections were starved. */
export const FAIRNESS_FLOOR = 0.9;
/** An open-loop cell that delivers less than this share of the offered rate did not keep up. */
export const KEPT_UP = 0.95;

export interface Lead {
  connections: number;
  leader: string;
  leaderRps: number;
  runnerUp: string;
  runnerUpRps: number;
  ratio: number;
  /** The leader's slowest repeat was no faster than the runner-up's fastest: not a clear lead. */
  overlapping: boolean;
}

/** Which series led at each connection count where at least two were measured. */
export function leadsOf(group: Group): Lead[] {
  const leads: Lead[] = [];
  for (const c of group.connections) {
    const ranked = group.series
      .map((series) => ({ series, cell: cellAt(group, series, c) }))
      .filter((x): x is { series: string; cell: ReportCell } => x.cell !== undefined && medianRps(x.cell) !== undefined)
      .sort((a, b) => medianRps(b.cell)! - medianRps(a.cell)!);
    if (ranked.length < 2) continue;
    const [first, second] = ranked;
    const a = first.cell.summary!.requestsPerSec!;
    const b = second.cell.summary!.requestsPerSec!;
    leads.push({
      connections: c,
      leader: first.series,
      leaderRps: a.median,
      runnerUp: second.series,
      runnerUpRps: b.median,
      ratio: b.median > 0 ? a.median / b.median : Infinity,
      overlapping: a.min <= b.max,
    });
  }
  return leads;
}

function connectionsPhrase(counts: readonly number[]): string {
  return `${listOf(counts)} ${counts.length === 1 && counts[0] === 1 ? 'connection' : 'connections'}`;
}

/** Consecutive connection counts with the same leader make one sentence. */
export function leadSentences(leads: readonly Lead[]): string[] {
  const runs: Lead[][] = [];
  for (const lead of leads) {
    const last = runs[runs.length - 1];
    if (last && last[0].leader === lead.leader) last.push(lead);
    else runs.push([lead]);
  }
  return runs.map((run) => {
    const parts = run.map((l) => {
      const by = l.runnerUpRps > 0 ? `${times(l.ratio)} ${l.runnerUp}` : `while ${l.runnerUp}, next best, answered none`;
      const figures = l.runnerUpRps > 0 ? ` (${rps(l.leaderRps)} against ${rps(l.runnerUpRps)})` : ` (${rps(l.leaderRps)})`;
      const close = l.overlapping ? ', within the spread of the repeats, so not a clear lead' : '';
      return `${run.length > 1 ? `at ${l.connections}, ` : ''}${by}${figures}${close}`;
    });
    return `${capitalise(run[0].leader)} led at ${connectionsPhrase(run.map((l) => l.connections))}: ${parts.join('; ')}.`;
  });
}

export interface Flattening {
  series: string;
  from: number;
  to: number;
  fromRps: number;
  toRps: number;
  gain: number;
}

/**
 * The first connection count from which a series stopped gaining: throughput
 * at the smallest count at least FLAT_GROWTH times larger was less than
 * FLAT_GAIN above it (or fell).
 */
export function flatteningOf(group: Group, series: string): Flattening | undefined {
  const points = group.connections
    .map((c) => ({
      c,
      rps: (() => {
        const cell = cellAt(group, series, c);
        return cell ? medianRps(cell) : undefined;
      })(),
    }))
    .filter((p): p is { c: number; rps: number } => p.rps !== undefined);
  for (const p of points) {
    const later = points.find((q) => q.c >= p.c * FLAT_GROWTH);
    if (!later || p.rps <= 0) continue;
    const gain = later.rps / p.rps - 1;
    if (gain < FLAT_GAIN) return { series, from: p.c, to: later.c, fromRps: p.rps, toRps: later.rps, gain };
  }
  return undefined;
}

/** What the design says bounds a model on cheap commands, where no single cost gives a ceiling. */
function designBound(cell: ReportCell, cores: number): string {
  if (cell.model === 'blocking') return 'the one connection being served at a time';
  if (cell.model === 'async') return 'one core: the single event-loop thread does all the work';
  if (cell.model === 'pool') {
    return cell.variant.kind === 'offload'
      ? 'its one event-loop thread, on which the cheap commands now run'
      : 'its event-loop thread, which parses every request and hands it to a worker and back';
  }
  return `the main thread, which relays every byte between the sockets and the workers, and the ${plural(cores, 'core')} all those threads share`;
}

/** One sentence on where a series flattened and what bounds it there. */
export function flatteningSentence(f: Flattening, group: Group, ctx: PredictionContext): string {
  const cell = cellAt(group, f.series, f.to)!;
  const moved = f.gain < 0 ? `fell to ${rps(f.toRps)} at ${f.to} (${change(f.gain)})` : `${rps(f.toRps)} at ${f.to} (${change(f.gain)})`;
  const head = `${capitalise(f.series)} flattened from ${connectionsPhrase([f.from])}: ${rps(f.fromRps)} there, ${moved}`;
  const ceiling = ceilingFor(cell, ctx);
  if (ceiling && !('unavailable' in ceiling)) {
    const before = ceilingFor(cellAt(group, f.series, f.from)!, ctx);
    const ceilingGrew = before && !('unavailable' in before) && ceiling.rps > before.rps * (1 + FLAT_GAIN);
    const reached = f.toRps / ceiling.rps;
    if (!ceilingGrew) {
      // The design itself stops gaining here; how close the level came to the ceiling is a separate question.
      const level =
        disagrees(reached) && reached < 1
          ? (() => {
              const p = predict(cell, ctx);
              const reason = p?.ceiling && 'reasons' in p.ceiling ? p.ceiling.reasons[0] : undefined;
              return ` It reached ${percent(reached)} of that ceiling${reason ? `; the likeliest reason for the gap: ${reason}` : ''}.`;
            })()
          : ` It reached ${percent(reached)} of it.`;
      return `${head}. That is the design: it is bounded by ${ceiling.limiter}; its ceiling, ${ceiling.arithmetic} = ${rps(ceiling.rps)}, does not grow with more connections.${level}`;
    }
    const p = predict(cell, ctx);
    const reason = p?.ceiling && 'reasons' in p.ceiling ? p.ceiling.reasons[0] : undefined;
    return `${head}, although its design allows ${rps(ceiling.rps)} at ${f.to} connections (${ceiling.arithmetic}); so something other than the design bounds it${reason ? `, most likely: ${reason}` : ''}.`;
  }
  const cores = ctx.results.machine.cores;
  if (cell.variant.kind === 'reconnect') {
    return `${head}. It is bounded by the cost of each new connection${cell.model === 'per-connection' ? ' and the worker thread started for it' : ''}${ceiling ? ` (${ceiling.unavailable})` : ''}.`;
  }
  return `${head}. By design it is bounded by ${designBound(cell, cores)}${ceiling ? ` (${ceiling.unavailable})` : ''}.`;
}

/** Series that kept gaining, with their overall growth, so the reader sees the contrast. */
function keptGrowing(group: Group, flat: Set<string>): string | undefined {
  const growers = group.series
    .filter((s) => !flat.has(s))
    .flatMap((series) => {
      const points = group.connections.map((c) => ({ c, cell: cellAt(group, series, c) })).filter((p) => p.cell && medianRps(p.cell!) !== undefined);
      if (points.length < 2) return [];
      const first = points[0];
      const last = points[points.length - 1];
      if (last.c < first.c * FLAT_GROWTH) return [];
      const a = medianRps(first.cell!)!;
      const b = medianRps(last.cell!)!;
      if (a <= 0) return [];
      return [`${series} (${times(b / a)} from ${first.c} to ${last.c} connections)`];
    });
  if (growers.length === 0) return undefined;
  return `${capitalise(listOf(growers))} kept gaining as connections grew.`;
}

export interface TailBreak {
  series: string;
  connections: number;
  p50Us: number;
  p99Us: number;
}

export function tailBreakOf(group: Group, series: string): TailBreak | undefined {
  for (const c of group.connections) {
    const s = cellAt(group, series, c)?.summary;
    const p50 = s?.p50Us?.median;
    const p99 = s?.p99Us?.median;
    if (p50 !== undefined && p99 !== undefined && p50 > 0 && p99 > TAIL_FACTOR * p50) {
      return { series, connections: c, p50Us: p50, p99Us: p99 };
    }
  }
  return undefined;
}

function tailSentences(group: Group): string[] {
  const breaks = group.series.map((s) => tailBreakOf(group, s)).filter((b): b is TailBreak => b !== undefined);
  const sentences = breaks.map(
    (b) =>
      `${capitalise(b.series)}'s p99 broke away from its p50 at ${connectionsPhrase([b.connections])}: ${msFromUs(b.p99Us)} against ${msFromUs(b.p50Us)} (${times(b.p99Us / b.p50Us)}).`,
  );
  if (breaks.length === 0) {
    let worst: { series: string; c: number; ratio: number } | undefined;
    for (const cell of group.cells) {
      const p50 = cell.summary?.p50Us?.median;
      const p99 = cell.summary?.p99Us?.median;
      if (!p50 || p99 === undefined) continue;
      if (!worst || p99 / p50 > worst.ratio) worst = { series: cell.series, c: cell.connections, ratio: p99 / p50 };
    }
    if (worst) {
      sentences.push(
        `No model's p99 went above ${TAIL_FACTOR} × its p50; the widest gap was ${times(worst.ratio)}, ${worst.series} at ${connectionsPhrase([worst.c])}.`,
      );
    }
  } else {
    const calm = group.series.filter((s) => !breaks.some((b) => b.series === s) && group.cells.some((c) => c.series === s && c.summary?.p50Us));
    if (calm.length > 0) sentences.push(`${capitalise(listOf(calm))} kept p99 within ${TAIL_FACTOR} × p50 throughout.`);
  }
  return sentences;
}

function starvationSentences(group: Group): string[] {
  const starved = group.cells.filter((c) => (c.summary?.jainFairness?.median ?? 1) < FAIRNESS_FLOOR).sort((a, b) => a.connections - b.connections);
  const bySeries = new Map<string, ReportCell[]>();
  for (const cell of starved) {
    if (!bySeries.has(cell.series)) bySeries.set(cell.series, []);
    bySeries.get(cell.series)!.push(cell);
  }
  const sentences = [...bySeries].map(([series, cells]) => {
    const figures = cells.map((c) => {
      const pc = representativeRepeat(c)?.load?.perConnection;
      const idle = pc ? pc.counts.filter((n) => n === 0).length : 0;
      const detail = pc
        ? idle > 0
          ? `, ${idle} of ${c.connections} connections completed no request`
          : `, one connection got ${num(pc.min)} replies and another ${num(pc.max)}`
        : '';
      return `${num(c.summary!.jainFairness!.median)} at ${c.connections}${detail}`;
    });
    return `${capitalise(series)} starved connections (Jain's fairness below ${FAIRNESS_FLOOR}): ${figures.join('; ')}.`;
  });
  if (sentences.length === 0 && group.cells.some((c) => c.summary?.jainFairness)) {
    sentences.push(`Every model shared its replies fairly between connections (Jain's fairness at least ${FAIRNESS_FLOOR} everywhere).`);
  }
  return sentences;
}

function failureSentences(group: Group, ctx: PredictionContext): string[] {
  const out: string[] = [];
  for (const cell of group.cells) {
    if (cell.status === 'failed') out.push(`${cell.id} failed: ${cell.failure ?? 'no reason recorded'}.`);
    else if (cell.status === 'partial') out.push(`${cell.id} lost some repeats: ${cell.failure ?? 'no reason recorded'}.`);
    else if (cell.summary && medianRps(cell) === 0) {
      const starts = workerStartsOutlastWarmup(cell, ctx);
      out.push(
        `${capitalise(cell.series)} at ${connectionsPhrase([cell.connections])} answered no request inside the measured window${starts ? `; likeliest reason: ${starts}` : ''}.`,
      );
    }
    const errors = cell.summary?.errors?.median ?? 0;
    if (errors > 0) {
      const load = representativeRepeat(cell)?.load;
      const share = load && load.requests > 0 ? ` (${percent(load.errors.total / load.requests)} of requests)` : '';
      out.push(`${capitalise(cell.series)} at ${connectionsPhrase([cell.connections])} had ${plural(Math.round(errors), 'error')}${share}.`);
    }
  }
  return out;
}

export interface GroupFindings {
  overview: string[];
  leads: string[];
  flattening: string[];
  tails: string[];
  starvation: string[];
  failures: string[];
}

export function closedLoopFindings(group: Group, ctx: PredictionContext): GroupFindings {
  const measured = group.cells.filter((c) => medianRps(c) !== undefined);
  const overview: string[] = [];
  if (measured.length > 0) {
    const lo = measured.reduce((a, b) => (medianRps(b)! < medianRps(a)! ? b : a));
    const hi = measured.reduce((a, b) => (medianRps(b)! > medianRps(a)! ? b : a));
    overview.push(
      `Throughput ranged from ${rps(medianRps(lo)!)} (${lo.series} at ${connectionsPhrase([lo.connections])}) to ${rps(medianRps(hi)!)} (${hi.series} at ${connectionsPhrase([hi.connections])}).`,
    );
  }
  const flats = group.series.map((s) => flatteningOf(group, s)).filter((f): f is Flattening => f !== undefined);
  const flattening = flats.map((f) => flatteningSentence(f, group, ctx));
  const growing = keptGrowing(group, new Set(flats.map((f) => f.series)));
  if (growing) flattening.push(growing);
  return {
    overview,
    leads: leadSentences(leadsOf(group)),
    flattening,
    tails: tailSentences(group),
    starvation: starvationSentences(group),
    failures: failureSentences(group, ctx),
  };
}

/** Open loop: up to which offered rate each model kept up, and what its latency did past that. */
export function openLoopFindings(group: Group, results: ReportResults): string[] {
  const sentences: string[] = [];
  for (const series of group.series) {
    const cells = group.cells.filter((c) => c.series === series && c.targetRate !== null && c.summary).sort((a, b) => a.targetRate! - b.targetRate!);
    if (cells.length === 0) continue;
    const achieved = (c: ReportCell) => c.summary?.achievedRate?.median ?? medianRps(c) ?? 0;
    const kept = cells.filter((c) => achieved(c) >= KEPT_UP * c.targetRate!);
    const firstMiss = cells.find((c) => achieved(c) < KEPT_UP * c.targetRate!);
    const peak = closedLoopPeak(results, group.workload, cells[0].model);
    const vsPeak = (rate: number) => (peak ? ` (${times(rate / peak)} its best closed-loop ${group.workload} throughput, ${rps(peak)})` : '');
    const p99 = (c: ReportCell) => (c.summary?.p99Us ? msFromUs(c.summary.p99Us.median) : 'unknown');
    if (!firstMiss) {
      const top = cells[cells.length - 1];
      sentences.push(
        `${capitalise(series)} delivered every rate offered, up to ${rps(top.targetRate!)}${vsPeak(top.targetRate!)}, with p99 ${p99(top)} at the highest.`,
      );
    } else if (kept.length === 0) {
      sentences.push(
        `${capitalise(series)} fell short even at the lowest rate offered: asked for ${rps(firstMiss.targetRate!)}, it delivered ${rps(achieved(firstMiss))} (${percent(achieved(firstMiss) / firstMiss.targetRate!)}), with p99 ${p99(firstMiss)}.`,
      );
    } else {
      const last = kept.filter((c) => c.targetRate! < firstMiss.targetRate!).pop() ?? kept[kept.length - 1];
      sentences.push(
        `${capitalise(series)} kept up to ${rps(last.targetRate!)}${vsPeak(last.targetRate!)} with p99 ${p99(last)}; offered ${rps(firstMiss.targetRate!)}, it delivered ${rps(achieved(firstMiss))} (${percent(achieved(firstMiss) / firstMiss.targetRate!)}) and p99 rose to ${p99(firstMiss)}: past capacity, requests queue and every one of them waits longer.`,
      );
    }
  }
  return sentences;
}

/** The best median closed-loop throughput a model reached on a workload in this run. */
export function closedLoopPeak(results: ReportResults, workload: string, model: string): number | undefined {
  const values = results.cells
    .filter((c) => c.workload === workload && c.model === model && c.variant.kind === 'closed')
    .map((c) => medianRps(c))
    .filter((v): v is number => v !== undefined && v > 0);
  return values.length > 0 ? Math.max(...values) : undefined;
}

export interface PairLike {
  model: string;
  connections: number;
  lineRps: number | null;
  httpRps: number | null;
  ratio: number | null;
}

/** What HTTP's framing cost each model, from the line/HTTP pairs of one workload. */
export function transportFindings(pairs: readonly PairLike[]): string[] {
  const sentences: string[] = [];
  const withRatio = pairs.filter((p): p is PairLike & { ratio: number } => p.ratio !== null);
  const models = [...new Set(withRatio.map((p) => p.model))];
  for (const model of models) {
    const mine = withRatio.filter((p) => p.model === model).sort((a, b) => a.connections - b.connections);
    const parts = mine.map((p) => `${times(p.ratio)} at ${p.connections}`);
    const verdict = mine.every((p) => p.ratio < 1)
      ? 'less than'
      : mine.every((p) => p.ratio >= 1)
        ? 'at least'
        : 'sometimes less, sometimes more than';
    sentences.push(`Over HTTP, ${model} delivered ${verdict} its line-protocol throughput: ${parts.join(', ')} (HTTP ÷ line).`);
  }
  if (withRatio.length > 1) {
    const worst = withRatio.reduce((a, b) => (b.ratio < a.ratio ? b : a));
    const best = withRatio.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    if (worst.model !== best.model) {
      sentences.push(
        `HTTP cost ${worst.model} the most (${times(worst.ratio)} at ${connectionsPhrase([worst.connections])}) and ${best.model} the least (${times(best.ratio)} at ${connectionsPhrase([best.connections])}).`,
      );
    }
  }
  const missing = pairs.filter((p) => p.ratio === null);
  for (const p of missing) {
    const why =
      p.lineRps === null
        ? 'the line protocol has no figure there'
        : p.lineRps === 0
          ? 'the line protocol answered nothing there'
          : 'HTTP has no figure there';
    sentences.push(`No ratio for ${p.model} at ${connectionsPhrase([p.connections])}: ${why}.`);
  }
  return sentences;
}
