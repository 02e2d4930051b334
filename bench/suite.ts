// The comparison suite: run the matrix, record everything, draw it, explain it.
//
// The order of work is chosen so that a run that is cut short still leaves a
// useful record: Node's own costs are measured first, results.json is
// rewritten after every cell, every planned cell appears in it (cells that
// never ran say why), and the charts, the report (REPORT.md and report.html)
// and the `latest` link are made from whatever was recorded.

import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import {
  estimateCalibrationSeconds,
  findCalibrationTools,
  INSTALL_HINT,
  runCalibration,
  type CalibrationResult,
} from './calibration.js';
import { httpTimeoutSec, runCell, unrunCell, type CellRunContext } from './cell.js';
import { measureNodeCosts, type NodeCosts } from './costs/index.js';
import { AUTOCANNON_VERSION } from './http-load.js';
import { busyMachineWarning, describeMachine, loadAverage } from './machine.js';
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
import { applyPlacement } from './pin.js';
import { formatDuration, Progress } from './progress.js';
import { writeReportFor } from './report/index.js';
import {
  createRunDir,
  makeRunId,
  pointLatestAt,
  SCHEMA_VERSION,
  transportPairs,
  writeResults,
  type CellRecord,
  type RunResults,
  type RunSettings,
} from './results.js';
import { clockTicksPerSecond, procAvailable } from './sampler.js';

export interface SuiteConfig {
  selection: MatrixSelection;
  durationSec: number;
  warmupSec: number;
  repeat: number;
  timeoutMs: number;
  clientThreads: number;
  /** Runs per HTTP cell, and why that many (recorded with the results). */
  httpRepeat: number;
  httpRepeatReason: string;
  /** Set by --soak: run the soak test instead of the matrix (see soak.ts). */
  soak: { durationSec: number; connections: number } | null;
  pin: boolean;
  outDir: string;
  calibration: boolean;
  calibrationConnections: number[];
  dryRun: boolean;
  /** The compiled server entry point. */
  serverScript: string;
  repoDir: string;
  argv: string[];
  flags: Record<string, unknown>;
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

function runsOf(config: SuiteConfig, cells: readonly CellSpec[]): number {
  return cells.reduce((sum, cell) => sum + repeatsFor(cell, config.repeat, config.httpRepeat), 0);
}

export function planEstimate(config: SuiteConfig, cells: readonly CellSpec[]): number {
  const matrix = estimateSeconds(runsOf(config, cells), {
    durationSec: config.durationSec,
    warmupSec: config.warmupSec,
    repeat: 1,
    perRunOverheadSec: PER_RUN_OVERHEAD_SEC,
  });
  const setup = cells.reduce((sum, cell) => sum + repeatsFor(cell, config.repeat, config.httpRepeat) * connectionSetupSec(cell), 0);
  const calibration = config.calibration ? estimateCalibrationSeconds(config.calibrationConnections, config) : 0;
  return NODE_COSTS_SEC + matrix + setup + calibration;
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

function describePlan(config: SuiteConfig, cells: readonly CellSpec[], estimate: number): string {
  const s = config.selection;
  const lineCells = cells.filter((c) => c.transport === 'line').length;
  const httpCells = cells.length - lineCells;
  const http = httpCoverage(s);
  const plural = (n: number) => (n === 1 ? '' : 's');
  return [
    `matrix: ${cells.length} cells = ${runsOf(config, cells)} runs`,
    `  line protocol: ${lineCells} cells × ${config.repeat} repeat${plural(config.repeat)}; ` +
      `models: ${s.models.join(', ')}; workloads: ${s.workloads.join(', ')}; connections: ${s.connections.join(', ')}`,
    httpCells > 0
      ? `  HTTP (autocannon): ${httpCells} cells × ${config.httpRepeat} repeat${plural(config.httpRepeat)}; ` +
        `workloads: ${http.workloads.join(', ')}; connections: ${http.connections.join(', ')} (${config.httpRepeatReason})`
      : '  HTTP: not selected',
    `  variants: ${s.variants.length > 0 && lineCells > 0 ? s.variants.join(', ') : 'none'}; each run ${config.warmupSec} s warmup + ${config.durationSec} s measured`,
    `estimated time: ${formatDuration(estimate)} (${PER_RUN_OVERHEAD_SEC} s per run for server start and stop, ` +
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
    'HTTP (autocannon) against the line protocol (our generator): median req/s, and the client\'s CPU per request',
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
  return [`calibration against ${c.redisServerVersion}:`, ...rows, `  ${c.interpretation}`, ...(c.failure ? [`  failed: ${c.failure}`] : [])].join('\n');
}

export async function runSuite(config: SuiteConfig, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<SuiteOutcome> {
  const cells = buildMatrix(config.selection);
  if (cells.length === 0) throw new Error('the selection leaves no cells to run');
  const estimate = planEstimate(config, cells);
  log(describePlan(config, cells, estimate));

  const tools = config.calibration ? findCalibrationTools() : null;
  if (tools && 'missing' in tools) log(`${tools.missing.join(' and ')} not found on PATH: ${INSTALL_HINT}`);
  if (config.dryRun) {
    for (const cell of cells) process.stdout.write(`${cell.id}\n`);
    return { runDir: null, results: null, exitCode: 0 };
  }
  if (!existsSync(config.serverScript)) {
    throw new Error(`${config.serverScript} does not exist; build the project first (npm run build)`);
  }
  if (!procAvailable()) log('/proc is not readable here: server CPU, memory and threads will not be recorded');

  const placement = applyPlacement(config.pin);
  if (config.pin) log(placement.applied ? `pinning: ${placement.method}` : `pinning not applied: ${placement.reason}`);

  const machine = describeMachine(config.repoDir);
  const busy = busyMachineWarning(machine);
  if (busy) log(`warning: ${busy}`);
  const { runId, dir } = createRunDir(config.outDir, makeRunId());
  const settings = settingsOf(config);
  const started = Date.now();
  const results: RunResults = {
    schemaVersion: SCHEMA_VERSION,
    runId,
    status: 'running',
    startedAt: new Date(started).toISOString(),
    finishedAt: null,
    elapsedSec: null,
    machine,
    invocation: { argv: config.argv, flags: config.flags },
    placement,
    settings,
    estimate: { cells: cells.length, runs: runsOf(config, cells), seconds: Math.round(estimate) },
    nodeCosts: null,
    cells: [],
    calibration: { skipped: true, reason: 'not run yet' },
    charts: [],
  };
  log(`writing ${dir}`);
  writeResults(dir, results);

  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('interrupted: finishing the current run, then recording what was done (signal again to quit at once)');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // Measured before the first cell, while no server is running, so that the
  // report's predictions rest on prices taken on this machine in this run.
  log(`measuring what Node's building blocks cost on this machine (about ${NODE_COSTS_SEC} s)`);
  results.nodeCosts = await measureNodeCosts().catch((err: Error) => {
    log(`Node's costs could not be measured: ${err.message}; the report will say so`);
    return null;
  });
  if (results.nodeCosts) log(costsLine(results.nodeCosts));
  writeResults(dir, results);

  const progress = new Progress({ totalCells: cells.length, repeat: config.repeat, estimatedSec: estimate });
  const ctx: CellRunContext = {
    serverScript: config.serverScript,
    placement,
    settings,
    clkTck: clockTicksPerSecond(),
    interrupted: () => interrupted,
    onRepeatStart: (spec, i) => progress.repeatStarted(spec, i),
    onRepeatEnd: (_spec, r) =>
      progress.repeatFinished(
        r.status === 'ok'
          ? `ok: ${Math.round(r.load!.throughput.requestsPerSec)} req/s, p99 ${(r.load!.latency.p99Us / 1000).toFixed(2)} ms${r.notes.length ? ` (${r.notes.join('; ')})` : ''}`
          : `failed: ${r.failure}`,
      ),
  };

  try {
    for (const spec of cells) {
      const record = await runOneCell(spec, results.cells, ctx, config.repeat, () => interrupted);
      results.cells.push(record);
      progress.cellFinished();
      writeResults(dir, results);
    }
    if (!config.calibration) {
      results.calibration = { skipped: true, reason: 'disabled with --no-calibration' };
    } else if (tools && 'missing' in tools) {
      results.calibration = { skipped: true, reason: `${tools.missing.join(' and ')} not found on PATH`, install: INSTALL_HINT };
    } else if (interrupted) {
      results.calibration = { skipped: true, reason: 'interrupted before calibration' };
    } else if (tools) {
      results.calibration = await runCalibration(tools, config.calibrationConnections, settings, placement, (l) =>
        progress.log(l),
      ).catch((err: Error): CalibrationResult => ({ skipped: true, reason: `calibration failed: ${err.message}` }));
    }
  } finally {
    progress.finish();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  results.status = interrupted ? 'interrupted' : 'complete';
  const loadAtEnd = loadAverage();
  results.machine.loadAverageAtEnd = loadAtEnd;
  results.finishedAt = new Date().toISOString();
  results.elapsedSec = Math.round((Date.now() - started) / 100) / 10;
  try {
    // Loaded here, not at the top: the native canvas is needed only once there is something to draw.
    const { renderCharts } = await import('./charts/png.js');
    results.charts = renderCharts(results, dir);
  } catch (err) {
    log(`charts could not be drawn: ${(err as Error).message}`);
  }
  writeResults(dir, results);
  try {
    const report = writeReportFor(results, dir);
    log(`report: ${report.markdown}, ${report.html}`);
  } catch (err) {
    log(`the report could not be written: ${(err as Error).message} (npm run report -- ${dir} tries again)`);
  }
  pointLatestAt(config.outDir, runId);

  for (const cell of results.cells) process.stdout.write(summaryLine(cell) + '\n');
  const transports = transportLines(results.cells);
  if (transports) process.stdout.write(transports + '\n');
  process.stdout.write(calibrationLine(results.calibration) + '\n');
  const failed = results.cells.filter((c) => c.status !== 'ok').length;
  process.stdout.write(
    `${results.cells.length} cells (${failed} failed or partial) in ${formatDuration(results.elapsedSec)} ` +
      `(estimated ${formatDuration(estimate)}); load average ${results.machine.loadAverageAtStart[0]} at the start, ` +
      `${loadAtEnd[0]} at the end; results in ${dir}\n`,
  );
  return { runDir: dir, results, exitCode: interrupted ? 130 : 0 };
}

/**
 * Runs one cell, or records why it could not run. Open-loop cells take their
 * rate from the closed-loop kv cells already recorded in this run.
 */
async function runOneCell(
  spec: CellSpec,
  done: readonly CellRecord[],
  ctx: CellRunContext,
  repeat: number,
  interrupted: () => boolean,
): Promise<CellRecord> {
  if (interrupted()) return unrunCell(spec, repeatsFor(spec, repeat, ctx.settings.http?.repeat ?? repeat), 'interrupted before this cell ran');
  if (spec.variant.kind !== 'open-loop') return runCell(spec, null, ctx);

  const measured = done.map((c) => ({ ...c, medianRps: c.summary?.requestsPerSec?.median ?? null }));
  const saturation = saturationThroughput(measured, spec.model);
  if (saturation === undefined) {
    return unrunCell(spec, repeat, `no successful closed-loop kv cell for ${spec.model} in this run to derive the rate from`);
  }
  const [rate] = openLoopRates(saturation, [spec.variant.rateFraction]);
  const note = `target rate ${rate} req/s = ${Math.round(spec.variant.rateFraction * 100)}% of ${Math.round(saturation)} req/s, ` +
    `the best closed-loop kv median for ${spec.model} in this run`;
  return runCell(spec, rate, ctx, [note]);
}

export function defaultCalibrationConnections(quick: boolean): number[] {
  return quick ? [16] : [1, 16, 64];
}
