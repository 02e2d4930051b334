// The comparison suite: run the matrix, record everything, draw it, explain it.
//
// The order of work is chosen so that a run that is cut short still leaves a
// useful record: Node's own costs are measured first, results.json is
// rewritten after every cell, every planned cell appears in it (cells that
// never ran say why), and the charts, the report (REPORT.md and report.html)
// and the `latest` link are made from whatever was recorded.

import { availableParallelism } from 'node:os';
import { estimateCalibrationSeconds, findCalibrationTools, INSTALL_HINT, runCalibration, type CalibrationResult } from './calibration.js';
import { runCell, unrunCell, type CellRunContext } from './cell.js';
import { httpTimeoutSec } from './cell-setup.js';
import { measureNodeCosts, type NodeCosts } from './costs/index.js';
import { AUTOCANNON_VERSION } from './http-load.js';
import { finishMachineRecord } from './machine.js';
import {
  buildMatrix,
  estimateSeconds,
  httpCoverage,
  openLoopRates,
  repeatsFor,
  OPEN_LOOP_CONNECTIONS,
  saturationThroughput,
  type CellSpec,
  type MatrixSelection,
} from './matrix.js';
import { formatDuration, Progress } from './progress.js';
import { writeReportFor } from './report/index.js';
import { SCHEMA_VERSION, transportPairs, type CellRecord, type RunResults, type RunSettings } from './results.js';
import { openRunSession, type RunSession, type SessionConfig } from './run-session.js';

export interface SuiteConfig extends SessionConfig {
  selection: MatrixSelection;
  durationSec: number;
  warmupSec: number;
  repeat: number;
  timeoutMs: number;
  clientThreads: number;
  /** Runs per HTTP cell, and why that many (recorded with the results). */
  httpRepeat: number;
  httpRepeatReason: string;
  calibration: boolean;
  calibrationConnections: number[];
  dryRun: boolean;
}

/** Starting, pinging and stopping a server and filling the kv keyspace, measured on a two-core machine. */
export const PER_RUN_OVERHEAD_SEC = 0.8;

/** Measuring Node's own costs before the first cell (costs/index.ts), with a little to spare. */
export const NODE_COSTS_SEC = 4;

/** The same traffic for every model; the values are the lab's standard request shapes. */
export const WORKLOAD_PARAMETERS: RunSettings['workloadParameters'] = {
  size: 64,
  readRatio: 0.9,
  keys: 1000,
  keyDistribution: 'uniform',
  work: 1000,
  sleepMs: 10,
};

export interface SuiteOutcome {
  runDir: string | null;
  results: RunResults | null;
  exitCode: number;
}

/** One cell of the plan, and how many times it runs: decided once, here, for everything that counts runs. */
export interface PlannedCell {
  spec: CellSpec;
  repeats: number;
}

/** The cells, their runs, the settings they run with and the time they should take. */
export interface SuitePlan {
  cells: PlannedCell[];
  runs: number;
  settings: RunSettings;
  estimateSec: number;
}

function settingsOf(config: SuiteConfig): RunSettings {
  return {
    durationSec: config.durationSec,
    warmupSec: config.warmupSec,
    repeat: config.repeat,
    timeoutMs: config.timeoutMs,
    sampleIntervalMs: 250,
    openLoopConnections: OPEN_LOOP_CONNECTIONS,
    openLoopFractions: [...config.selection.openLoopFractions],
    workloadParameters: WORKLOAD_PARAMETERS,
    clientThreads: config.clientThreads,
    http: httpSettingsOf(config),
  };
}

function httpSettingsOf(config: SuiteConfig): RunSettings['http'] {
  const coverage = httpCoverage(config.selection);
  if (coverage.workloads.length === 0 || coverage.connections.length === 0) return null;
  return {
    tool: 'autocannon',
    toolVersion: AUTOCANNON_VERSION,
    repeat: config.httpRepeat,
    workloads: coverage.workloads,
    connections: coverage.connections,
    latencyResolutionMs: 1,
    timeoutSec: httpTimeoutSec(config.timeoutMs),
    reason: config.httpRepeatReason,
  };
}

export function planSuite(config: SuiteConfig): SuitePlan {
  const cells = buildMatrix(config.selection).map((spec) => ({ spec, repeats: repeatsFor(spec, config.repeat, config.httpRepeat) }));
  const runs = cells.reduce((sum, cell) => sum + cell.repeats, 0);
  const matrix = estimateSeconds(runs, {
    durationSec: config.durationSec,
    warmupSec: config.warmupSec,
    repeat: 1,
    perRunOverheadSec: PER_RUN_OVERHEAD_SEC,
  });
  const setup = cells.reduce((sum, cell) => sum + cell.repeats * connectionSetupSec(cell.spec), 0);
  const calibration = config.calibration ? estimateCalibrationSeconds(config.calibrationConnections, config) : 0;
  return { cells, runs, settings: settingsOf(config), estimateSec: NODE_COSTS_SEC + matrix + setup + calibration };
}

/** Starting one worker thread on this kind of machine (the reference run measured 47.6 ms). */
const THREAD_START_SEC = 0.05;

/**
 * What a run spends setting its connections up and down, beyond the fixed
 * overhead, as the reference run showed it: the per-connection model starts a
 * thread for every connection before the clock starts and ends them all after
 * (about twice the start cost, spread over the cores), and the load generator
 * waits a second past the blocking model's first answer before giving up on
 * the connections it will not serve until later.
 */
function connectionSetupSec(cell: CellSpec): number {
  if (cell.transport !== 'line' || cell.variant.kind === 'reconnect') return 0;
  if (cell.model === 'per-connection') return (2 * cell.connections * THREAD_START_SEC) / availableParallelism();
  if (cell.model === 'blocking' && cell.connections > 1) return 1;
  return 0;
}

function describePlan(config: SuiteConfig, plan: SuitePlan): string {
  const s = config.selection;
  const lineCells = plan.cells.filter((c) => c.spec.transport === 'line').length;
  const httpCells = plan.cells.length - lineCells;
  const http = plan.settings.http;
  const plural = (n: number) => (n === 1 ? '' : 's');
  return [
    `matrix: ${plan.cells.length} cells = ${plan.runs} runs`,
    `  line protocol: ${lineCells} cells × ${config.repeat} repeat${plural(config.repeat)}; ` +
      `models: ${s.models.join(', ')}; workloads: ${s.workloads.join(', ')}; connections: ${s.connections.join(', ')}`,
    http && httpCells > 0
      ? `  HTTP (autocannon): ${httpCells} cells × ${http.repeat} repeat${plural(http.repeat)}; ` +
        `workloads: ${http.workloads.join(', ')}; connections: ${http.connections.join(', ')} (${http.reason})`
      : '  HTTP: not selected',
    `  variants: ${s.variants.length > 0 && lineCells > 0 ? s.variants.join(', ') : 'none'}; each run ${config.warmupSec} s warmup + ${config.durationSec} s measured`,
    `estimated time: ${formatDuration(plan.estimateSec)} (${PER_RUN_OVERHEAD_SEC} s per run for server start and stop, ` +
      `thread starts on per-connection, ` +
      `${NODE_COSTS_SEC} s to measure Node's costs${config.calibration ? ', plus calibration' : ''})`,
  ].join('\n');
}

/** One line per cell for stdout: the medians a reader looks for first. */
function summaryLine(cell: CellRecord): string {
  const s = cell.summary;
  if (!s) return `${cell.id.padEnd(44)} FAILED: ${cell.failure ?? 'no result'}`;
  const f = (v: number | undefined, digits = 0) => (v === undefined ? '-' : v.toFixed(digits));
  const rps = s.requestsPerSec;
  return [
    cell.id.padEnd(44),
    `${f(rps?.median).padStart(8)} req/s [${f(rps?.min)}..${f(rps?.max)}]`.padEnd(34),
    `p50 ${f(s.p50Us ? s.p50Us.median / 1000 : undefined, 2)} ms`.padEnd(16),
    `p99 ${f(s.p99Us ? s.p99Us.median / 1000 : undefined, 2)} ms`.padEnd(16),
    `err ${f(s.errors?.median)}`.padEnd(10),
    `cpu ${f(s.serverCpuPercent?.median)}%`.padEnd(10),
    `rss ${f(s.serverPeakRssBytes ? s.serverPeakRssBytes.median / 2 ** 20 : undefined, 1)} MiB`,
    cell.status === 'partial' ? ` (partial: ${cell.failure})` : '',
  ].join(' ');
}

/** HTTP against the line protocol, cell by cell: the figure the transport axis exists for. */
function transportLines(cells: readonly CellRecord[]): string | null {
  const pairs = transportPairs(cells);
  if (pairs.length === 0) return null;
  const f = (v: number | null) => (v === null ? '-' : String(Math.round(v)));
  return [
    "HTTP (autocannon) against the line protocol (our generator): median req/s, and the client's CPU per request",
    ...pairs.map(
      (p) =>
        `  ${`${p.model}/${p.workload}/c${p.connections}`.padEnd(30)} line ${f(p.lineRps).padStart(7)}  http ${f(p.httpRps).padStart(7)}  ` +
        `ratio ${(p.ratio === null ? '-' : p.ratio.toFixed(2)).padEnd(5)}  client ${f(p.lineClientUsPerRequest)} µs/req line, ${f(p.httpClientUsPerRequest)} µs/req http`,
    ),
  ].join('\n');
}

function costsLine(c: NodeCosts): string {
  return (
    `node costs: worker start ${c.workerStartMs.median} ms, message round trip ${c.messageRoundTripUs.median} µs, ` +
    `piscina task ${c.piscinaTaskRoundTripUs.median} µs, WORK ${c.work.n} ${c.work.ms.median} ms, connection cycle ${c.connectionCycleMs.median} ms`
  );
}

function calibrationLine(c: CalibrationResult): string {
  if (c.skipped) return `calibration skipped: ${c.reason}`;
  const rows = c.measurements.map((m) =>
    m.ratio === null
      ? `  ${m.command} c${m.connections}: ${m.failure ?? 'no ratio'}`
      : `  ${m.command} c${m.connections}: ours ${Math.round(m.ours!.requestsPerSec)} req/s, redis-benchmark ${Math.round(m.redisBenchmark!.requestsPerSec)} req/s, ratio ${m.ratio.toFixed(2)}`,
  );
  return [`calibration against ${c.redisServerVersion}:`, ...rows, `  ${c.interpretation}`, ...(c.failure ? [`  failed: ${c.failure}`] : [])].join(
    '\n',
  );
}

/** The record as it stands before the first measurement: every field there, nothing measured yet. */
function emptyResults(config: SuiteConfig, plan: SuitePlan, session: RunSession, startedAt: Date): RunResults {
  return {
    schemaVersion: SCHEMA_VERSION,
    runId: session.runId,
    status: 'running',
    startedAt: startedAt.toISOString(),
    finishedAt: null,
    elapsedSec: null,
    machine: session.machine,
    invocation: { argv: config.argv, flags: config.flags },
    placement: session.placement,
    settings: plan.settings,
    estimate: { cells: plan.cells.length, runs: plan.runs, seconds: Math.round(plan.estimateSec) },
    nodeCosts: null,
    cells: [],
    calibration: { skipped: true, reason: 'not run yet' },
    charts: [],
  };
}

/**
 * Measured before the first cell, while no server is running, so that the
 * report's predictions rest on prices taken on this machine in this run.
 */
async function measureCosts(log: (line: string) => void): Promise<NodeCosts | null> {
  log(`measuring what Node's building blocks cost on this machine (about ${NODE_COSTS_SEC} s)`);
  const costs = await measureNodeCosts().catch((err: Error) => {
    log(`Node's costs could not be measured: ${err.message}; the report will say so`);
    return null;
  });
  if (costs) log(costsLine(costs));
  return costs;
}

function repeatOutcome(r: CellRecord['repeats'][number]): string {
  if (r.status !== 'ok') return `failed: ${r.failure}`;
  const notes = r.notes.length ? ` (${r.notes.join('; ')})` : '';
  return `ok: ${Math.round(r.load!.throughput.requestsPerSec)} req/s, p99 ${(r.load!.latency.p99Us / 1000).toFixed(2)} ms${notes}`;
}

async function calibrate(
  config: SuiteConfig,
  tools: ReturnType<typeof findCalibrationTools> | null,
  session: RunSession,
  settings: RunSettings,
  log: (line: string) => void,
): Promise<CalibrationResult> {
  if (!config.calibration) return { skipped: true, reason: 'disabled with --no-calibration' };
  if (tools && 'missing' in tools) return { skipped: true, reason: `${tools.missing.join(' and ')} not found on PATH`, install: INSTALL_HINT };
  if (session.interrupted()) return { skipped: true, reason: 'interrupted before calibration' };
  return runCalibration(tools!, config.calibrationConnections, settings, session.placement, log).catch((err: Error): CalibrationResult => ({
    skipped: true,
    reason: `calibration failed: ${err.message}`,
  }));
}

/** Charts, the report and the latest link, made from whatever was recorded. */
async function drawAndExplain(results: RunResults, session: RunSession, log: (line: string) => void): Promise<void> {
  const { dir } = session;
  try {
    // Loaded here, not at the top: the native canvas is needed only once there is something to draw.
    const { renderCharts } = await import('./charts/png.js');
    results.charts = renderCharts(results, dir);
  } catch (err) {
    log(`charts could not be drawn: ${(err as Error).message}`);
  }
  session.writeRecord('results.json', results);
  try {
    const report = writeReportFor(results, dir);
    log(`report: ${report.markdown}, ${report.html}`);
  } catch (err) {
    log(`the report could not be written: ${(err as Error).message} (npm run report -- ${dir} tries again)`);
  }
  session.pointLink('latest');
}

function printSummary(results: RunResults, plan: SuitePlan, dir: string): void {
  for (const cell of results.cells) process.stdout.write(summaryLine(cell) + '\n');
  const transports = transportLines(results.cells);
  if (transports) process.stdout.write(transports + '\n');
  process.stdout.write(calibrationLine(results.calibration) + '\n');
  const failed = results.cells.filter((c) => c.status !== 'ok').length;
  process.stdout.write(
    `${results.cells.length} cells (${failed} failed or partial) in ${formatDuration(results.elapsedSec ?? 0)} ` +
      `(estimated ${formatDuration(plan.estimateSec)}); load average ${results.machine.loadAverageAtStart[0]} at the start, ` +
      `${results.machine.loadAverageAtEnd?.[0]} at the end; results in ${dir}\n`,
  );
}

export async function runSuite(config: SuiteConfig, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<SuiteOutcome> {
  const plan = planSuite(config);
  if (plan.cells.length === 0) throw new Error('the selection leaves no cells to run');
  log(describePlan(config, plan));

  const tools = config.calibration ? findCalibrationTools() : null;
  if (tools && 'missing' in tools) log(`${tools.missing.join(' and ')} not found on PATH: ${INSTALL_HINT}`);
  if (config.dryRun) {
    for (const { spec } of plan.cells) process.stdout.write(`${spec.id}\n`);
    return { runDir: null, results: null, exitCode: 0 };
  }

  const session = openRunSession(config, { proc: 'optional', finishing: 'the current run' }, log);
  const started = new Date();
  const results = emptyResults(config, plan, session, started);
  session.writeRecord('results.json', results);
  results.nodeCosts = await measureCosts(log);
  session.writeRecord('results.json', results);

  const progress = new Progress({ totalCells: plan.cells.length, totalRuns: plan.runs, estimatedSec: plan.estimateSec });
  const ctx: CellRunContext = {
    serverScript: config.serverScript,
    placement: session.placement,
    settings: plan.settings,
    clkTck: session.clkTck,
    interrupted: session.interrupted,
    onRepeatStart: (spec, i, repeats) => progress.repeatStarted(spec, i, repeats),
    onRepeatEnd: (_spec, r) => progress.repeatFinished(repeatOutcome(r)),
  };
  try {
    for (const cell of plan.cells) {
      results.cells.push(await runOneCell(cell, results.cells, ctx));
      progress.cellFinished(cell.repeats);
      session.writeRecord('results.json', results);
    }
    results.calibration = await calibrate(config, tools, session, plan.settings, (l) => progress.log(l));
  } finally {
    progress.finish();
    session.close();
  }

  results.status = session.interrupted() ? 'interrupted' : 'complete';
  finishMachineRecord(results.machine);
  results.finishedAt = new Date().toISOString();
  results.elapsedSec = Math.round((Date.now() - started.getTime()) / 100) / 10;
  await drawAndExplain(results, session, log);
  printSummary(results, plan, session.dir);
  return { runDir: session.dir, results, exitCode: session.interrupted() ? 130 : 0 };
}

/**
 * Runs one cell, or records why it could not run. Open-loop cells take their
 * rate from the closed-loop kv cells already recorded in this run.
 */
async function runOneCell({ spec, repeats }: PlannedCell, done: readonly CellRecord[], ctx: CellRunContext): Promise<CellRecord> {
  if (ctx.interrupted()) return unrunCell(spec, repeats, 'interrupted before this cell ran');
  if (spec.variant.kind !== 'open-loop') return runCell(spec, repeats, null, ctx);

  const measured = done.map((c) => ({ ...c, medianRps: c.summary?.requestsPerSec?.median ?? null }));
  const saturation = saturationThroughput(measured, spec.model);
  if (saturation === undefined) {
    return unrunCell(spec, repeats, `no successful closed-loop kv cell for ${spec.model} in this run to derive the rate from`);
  }
  const [rate] = openLoopRates(saturation, [spec.variant.rateFraction]);
  const note =
    `target rate ${rate} req/s = ${Math.round(spec.variant.rateFraction * 100)}% of ${Math.round(saturation)} req/s, ` +
    `the best closed-loop kv median for ${spec.model} in this run`;
  return runCell(spec, repeats, rate, ctx, [note]);
}

export function defaultCalibrationConnections(quick: boolean): number[] {
  return quick ? [16] : [1, 16, 64];
}
