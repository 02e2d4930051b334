// One cell of the matrix: a model, a workload, a number of connections.
//
// Each repeat of a cell is a complete experiment on its own: start the model
// fresh, wait until it answers PING, drive it with the load generator (which
// warms up before it starts counting), watch the server's resources while it
// runs, and stop it. Repeats are summarised by their median and spread.
//
// An HTTP cell is the same experiment through the other door: the server
// starts with only its HTTP front (`--http-port=0 --no-line`), readiness is
// `GET /ping`, and autocannon drives it (see http-load.ts). Its results take
// the same shape, so everything downstream treats both alike.
//
// Nothing that goes wrong is dropped. A server that will not start, a run that
// outlives its deadline, a server that dies under load: each is recorded as a
// failed repeat with the reason, and a cell whose repeats all failed is a
// failed cell. What the load generator saw (timeouts, refused connections,
// connections that never got a turn) is not a failure but a finding, and is
// written down as a note beside the numbers.
//
// A line cell also asks the server for its own STATS while the load runs (see
// stats-sampler.ts): the event loop's busy share and the pool's queue come
// from there. That sampling is an onlooker; if it fails, the cell says so in
// a note and its figures stand.

import { runLoad } from '../clients/load/index.js';
import { httpLoadOptionsFor, httpTimeoutSec, loadOptionsFor, serverFlags } from './cell-setup.js';
import { withDeadline } from './deadline.js';
import { runHttpLoad } from './http-load.js';
import type { CellSpec } from './matrix.js';
import { pinnedCommand, type Placement } from './pin.js';
import { GENERATOR_BOUND_BUSY, type CellRecord, type CellSummary, type RepeatRecord, type RunSettings } from './results.js';
import { allowedCpus, ResourceSampler, summariseSamples } from './sampler.js';
import { startServer, waitForHttpPing, waitForPong, type ServerHandle, type ServerSettings } from './server-process.js';
import { StatsSampler, takeStats } from './stats-sampler.js';
import { medianIndex, spread } from './stats.js';

export interface CellRunContext {
  /** The compiled server entry point, `dist/servers/serve.js`. */
  serverScript: string;
  placement: Placement;
  settings: RunSettings;
  clkTck: number;
  /** True once the suite has been interrupted; remaining repeats are recorded, not run. */
  interrupted(): boolean;
  onRepeatStart?(spec: CellSpec, repeatIndex: number, repeats: number): void;
  onRepeatEnd?(spec: CellSpec, repeat: RepeatRecord): void;
}

/** Extra seconds a run may take beyond warmup, measurement and one request timeout before it is abandoned. */
const RUN_DEADLINE_SLACK_SEC = 15;

/** What either generator reported; the figures the suite reads are common to both. */
type MeasuredLoad = NonNullable<RepeatRecord['load']>;

/** What the load generator saw that a reader should not have to dig for. */
export function notesFromLoad(spec: CellSpec, load: MeasuredLoad, timeoutMs: number): string[] {
  const notes: string[] = [];
  const http = spec.transport === 'http';
  if (load.ok === 0) notes.push('no request was answered correctly inside the measured window');
  const idle = load.perConnection.counts.filter((n) => n === 0).length;
  if (idle > 0) {
    const why =
      spec.model !== 'blocking'
        ? ''
        : http
          ? ' (the blocking model serves one keep-alive connection to its end; the others are accepted but left unread until it closes, time out and reconnect)'
          : ' (the blocking model serves one connection at a time; the others are accepted but left unread until it closes)';
    notes.push(`${idle} of ${spec.connections} connections completed no measured request${why}`);
  }
  const e = load.errors;
  if (e.timeout > 0) notes.push(`${e.timeout} requests got no reply within ${http ? `${httpTimeoutSec(timeoutMs)} s` : `${timeoutMs} ms`}`);
  if (e.busy > 0) notes.push(http ? `${e.busy} requests were shed with 503 (server busy)` : `${e.busy} requests were shed with ERR server busy`);
  if (e.refused > 0) notes.push(`${e.refused} connections were refused`);
  if (e.reset > 0) notes.push(`${e.reset} requests were lost to reset or closed connections`);
  if (e.wrongReply > 0) notes.push(`${e.wrongReply} replies were wrong`);
  if (e.errReply > 0)
    notes.push(http ? `${e.errReply} requests were answered with a non-2xx status other than 503` : `${e.errReply} requests were answered with ERR`);
  if (http && load.ok > 0 && load.latency.p50Us === 0) {
    notes.push('autocannon records latency in whole milliseconds: a p50 of 0 means under 1 ms');
  }
  const open = load.openLoop;
  if (open && open.achievedRate < 0.95 * open.targetRate) {
    notes.push(`achieved ${Math.round(open.achievedRate)} of the ${Math.round(open.targetRate)} req/s asked for`);
  }
  // A generator that falls behind its own schedule under-reports queueing; say so where it happened.
  if (open && open.maxSendLagMs > 10) {
    notes.push(`the generator sent up to ${open.maxSendLagMs.toFixed(1)} ms behind schedule`);
  }
  return notes;
}

/**
 * Opens the STATS connection before the load starts, so its cost (on the
 * per-connection model, one extra worker thread for the whole run) falls
 * before the measured window. The blocking model is asked after the load
 * instead: it serves one connection at a time, and this one would either wait
 * behind the load or take the server away from it.
 */
async function startStatsSampling(
  spec: CellSpec,
  host: string,
  port: number,
  clock: () => number,
  record: RepeatRecord,
): Promise<StatsSampler | undefined> {
  if (spec.model === 'blocking') return undefined;
  try {
    return await new StatsSampler({ host, port, clock }).start();
  } catch (err) {
    record.notes.push(`STATS was not sampled during the run: ${(err as Error).message}`);
    return undefined;
  }
}

function finishStatsSampling(stats: StatsSampler, record: RepeatRecord): void {
  const { samples, problems } = stats.stop();
  record.statsSamples = samples;
  record.notes.push(...problems.map((p) => `STATS sampling: ${p}`));
}

/** The blocking model's one STATS, asked once the load has closed its connections. */
async function statsAfterLoad(host: string, port: number, clock: () => number, record: RepeatRecord): Promise<void> {
  try {
    const stats = await takeStats(host, port, 1500);
    record.statsSamples = [{ tMs: Math.round(clock() * 10) / 10, stats }];
  } catch (err) {
    record.statsSamples = [];
    record.notes.push(`STATS after the run: ${(err as Error).message}`);
  }
}

function emptyRepeat(index: number): RepeatRecord {
  return {
    index,
    status: 'failed',
    startedAt: new Date().toISOString(),
    wallSec: 0,
    server: {
      pid: null,
      port: null,
      httpPort: null,
      listeningLine: null,
      startupMs: null,
      pongMs: null,
      cpusAllowed: null,
      stop: null,
    },
    loadOptions: null,
    load: null,
    resources: null,
    samples: [],
    notes: [],
  };
}

/** One repeat's record, and the settings its server announced (null if it never did). */
interface RepeatOutcome {
  record: RepeatRecord;
  settings: ServerSettings | null;
}

async function runRepeat(spec: CellSpec, flags: string[], index: number, targetRate: number | null, ctx: CellRunContext): Promise<RepeatOutcome> {
  const began = performance.now();
  const record = emptyRepeat(index);
  const s = ctx.settings;
  let server: ServerHandle | undefined;
  let settings: ServerSettings | null = null;
  let sampler: ResourceSampler | undefined;
  let stats: StatsSampler | undefined;
  try {
    const { command, args } = pinnedCommand(ctx.placement, process.execPath, [ctx.serverScript, ...flags]);
    server = await startServer({ command, args });
    settings = server.settings;
    Object.assign(record.server, {
      pid: server.pid,
      port: server.port,
      httpPort: server.http?.port ?? null,
      listeningLine: server.listeningLine,
      startupMs: server.startupMs,
    });
    const { host, port } = server;
    const httpPort = server.http?.port;
    let work: () => Promise<MeasuredLoad>;
    let linePort: number | null = null;
    if (spec.transport === 'http') {
      if (httpPort === undefined) throw new Error(`the server announced no http= address: ${server.listeningLine}`);
      record.server.pongMs = await waitForHttpPing(host, httpPort);
      const options = httpLoadOptionsFor(spec, host, httpPort, s);
      record.loadOptions = options;
      work = () => runHttpLoad(options);
    } else {
      if (port === null) throw new Error(`the server announced no line-protocol address: ${server.listeningLine}`);
      record.server.pongMs = await waitForPong(host, port);
      linePort = port;
      const options = loadOptionsFor(spec, host, port, targetRate, s);
      record.loadOptions = options;
      work = () => runLoad(options);
    }
    record.server.cpusAllowed = allowedCpus(server.pid);
    const resources = new ResourceSampler(server.pid, ctx.clkTck, s.sampleIntervalMs).start();
    sampler = resources;
    // STATS samples are timed on the resource sampler's clock, so the two line up.
    const clock = () => resources.now();
    if (linePort !== null) stats = await startStatsSampling(spec, host, linePort, clock, record);

    const deadlineMs = (s.warmupSec + s.durationSec + s.timeoutMs / 1000 + RUN_DEADLINE_SLACK_SEC) * 1000;
    const load = await withDeadline(work(), deadlineMs, 'the load run');
    sampler.sampleNow();
    const endMs = sampler.now();
    const { samples, lifetimePeakRssBytes } = sampler.stop();
    sampler = undefined;
    record.load = load;
    record.samples = samples;
    record.resources = summariseSamples(samples, { fromMs: endMs - load.measuredSec * 1000, toMs: endMs }, lifetimePeakRssBytes);
    record.notes.push(...notesFromLoad(spec, load, s.timeoutMs));
    // Only synchronous code has run since the load ended, so every STATS in the record was asked during it.
    if (stats) finishStatsSampling(stats, record);
    stats = undefined;
    if (record.resources === null) record.notes.push('too few resource samples inside the measured window to summarise');
    if (server.hasExited()) {
      const info = server.exitInfo();
      throw new Error(`the server exited during the run (code ${info?.code}, signal ${info?.signal})`);
    }
    if (linePort !== null && spec.model === 'blocking') await statsAfterLoad(host, linePort, clock, record);
    record.status = 'ok';
  } catch (err) {
    record.status = 'failed';
    record.failure = (err as Error).message;
  } finally {
    if (stats) finishStatsSampling(stats, record);
    if (sampler) record.samples = sampler.stop().samples;
    if (server) {
      record.server.stop = await server.stop();
      if (record.server.stop.forced) record.notes.push('the server had not exited 3 s after SIGTERM and was killed');
      if (record.status === 'failed' && server.stderrTail()) record.server.stderrTail = server.stderrTail();
    }
    record.wallSec = Math.round((performance.now() - began) / 10) / 100;
  }
  return { record, settings };
}

/** The median and spread of each key figure over the repeats that produced a load result. */
export function summariseRepeats(repeats: readonly RepeatRecord[]): {
  summary: CellSummary | null;
  medianRepeat: number | null;
} {
  const measured = repeats.filter((r) => r.status === 'ok' && r.load !== null);
  if (measured.length === 0) return { summary: null, medianRepeat: null };
  const loads = measured.map((r) => r.load!);
  const of = (pick: (l: MeasuredLoad) => number) => spread(loads.map(pick));
  // Latency and fairness describe answered requests; a run that answered none has neither, not zeros.
  const ofAnswered = (pick: (l: MeasuredLoad) => number) => spread(loads.filter((l) => l.ok > 0).map(pick));
  const ofResources = (pick: (r: NonNullable<RepeatRecord['resources']>) => number) =>
    spread(measured.flatMap((r) => (r.resources ? [pick(r.resources)] : [])));
  const rps = loads.map((l) => l.throughput.requestsPerSec);
  return {
    medianRepeat: measured[medianIndex(rps)].index,
    summary: {
      requestsPerSec: spread(rps),
      p50Us: ofAnswered((l) => l.latency.p50Us),
      p90Us: ofAnswered((l) => l.latency.p90Us),
      p99Us: ofAnswered((l) => l.latency.p99Us),
      p999Us: ofAnswered((l) => l.latency.p999Us),
      maxUs: ofAnswered((l) => l.latency.maxUs),
      meanUs: ofAnswered((l) => l.latency.meanUs),
      errors: of((l) => l.errors.total),
      timeouts: of((l) => l.errors.timeout),
      jainFairness: ofAnswered((l) => l.perConnection.jainFairness),
      clientCpuPercent: of((l) => l.client.cpuPercent),
      serverCpuPercent: ofResources((r) => r.cpuPercent),
      serverPeakRssBytes: ofResources((r) => r.peakRssBytes),
      serverMeanRssBytes: ofResources((r) => r.meanRssBytes),
      serverMaxThreads: ofResources((r) => r.maxThreads),
      achievedRate: spread(loads.flatMap((l) => (l.openLoop ? [l.openLoop.achievedRate] : []))),
      generatorBusy: of((l) => generatorBusy(l.client)),
    },
  };
}

/** Whether the generator may have been the bound: its threads were GENERATOR_BOUND_BUSY busy or more, at the median. */
export function isGeneratorBound(summary: CellSummary | null): boolean {
  return (summary?.generatorBusy?.median ?? 0) >= GENERATOR_BOUND_BUSY;
}

/** The share of its threads' time the load generator was busy: its CPU over what its threads could use. */
export function generatorBusy(client: { cpuPercent: number; threads: number }): number {
  return Math.round((client.cpuPercent / (100 * Math.max(1, client.threads))) * 1000) / 1000;
}

/** How the cell's servers were started (flags) and what they said they ran with (settings). */
interface CellServers {
  flags: string[];
  settings: ServerSettings | null;
}

function cellRecord(spec: CellSpec, servers: CellServers, targetRate: number | null, repeats: RepeatRecord[], notes: string[]): CellRecord {
  const { summary, medianRepeat } = summariseRepeats(repeats);
  const ok = repeats.filter((r) => r.status === 'ok').length;
  const status = ok === repeats.length && ok > 0 ? 'ok' : ok > 0 ? 'partial' : 'failed';
  const reasons = [...new Set(repeats.flatMap((r) => (r.failure ? [r.failure] : [])))];
  return {
    id: spec.id,
    model: spec.model,
    workload: spec.workload,
    connections: spec.connections,
    variant: spec.variant,
    transport: spec.transport,
    series: spec.series,
    group: spec.group,
    serverFlags: servers.flags,
    serverSettings: servers.settings,
    targetRate,
    generatorBound: isGeneratorBound(summary),
    status,
    ...(reasons.length > 0 ? { failure: reasons.join('; ') } : {}),
    medianRepeat,
    summary,
    repeats,
    notes,
  };
}

/** A cell that could not run at all, recorded with the reason instead of being left out. */
export function unrunCell(spec: CellSpec, repeat: number, reason: string, targetRate: number | null = null): CellRecord {
  const repeats = Array.from({ length: repeat }, (_, i) => ({ ...emptyRepeat(i), failure: reason }));
  return cellRecord(spec, { flags: serverFlags(spec), settings: null }, targetRate, repeats, []);
}

/** Runs the cell `count` times (the suite's plan says how many), each repeat on a fresh server. */
export async function runCell(
  spec: CellSpec,
  count: number,
  targetRate: number | null,
  ctx: CellRunContext,
  notes: string[] = [],
): Promise<CellRecord> {
  const servers: CellServers = { flags: serverFlags(spec), settings: null };
  const repeats: RepeatRecord[] = [];
  for (let i = 0; i < count; i++) {
    if (ctx.interrupted()) {
      repeats.push({ ...emptyRepeat(i), failure: 'interrupted before this repeat ran' });
      continue;
    }
    ctx.onRepeatStart?.(spec, i, count);
    const { record, settings } = await runRepeat(spec, servers.flags, i, targetRate, ctx);
    servers.settings ??= settings;
    repeats.push(record);
    ctx.onRepeatEnd?.(spec, record);
  }
  return cellRecord(spec, servers, targetRate, repeats, notes);
}
