// A made-up but well-formed results file, for testing the schema and the
// charts without running any servers. The figures are invented to be
// plausible (throughput grows then flattens with connections, latency grows;
// HTTP cells are slower, with latency in whole milliseconds as autocannon
// records it), and one cell is a failure, because the charts must cope with gaps.

import { defaultLoadOptions, type LoadResult } from '../../clients/load/index.js';
import { buildMatrix, httpCoverage, type CellSpec, type MatrixSelection } from '../matrix.js';
import { summariseRepeats } from '../cell.js';
import { httpLoadOptionsFor, serverFlags } from '../cell-setup.js';
import type { CellRecord, RepeatRecord, RunResults } from '../results.js';
import { parseListening } from '../server-process.js';

const PERCENTILES = [0, 50, 75, 90, 95, 99, 99.9, 99.99, 100];

function fakeLoad(spec: CellSpec, rps: number, p50UsExact: number, targetRate: number | null): LoadResult {
  // autocannon keeps whole milliseconds.
  const p50Us = spec.transport === 'http' ? Math.floor(p50UsExact / 1000) * 1000 : p50UsExact;
  const counts = Array.from({ length: spec.connections }, (_, i) =>
    spec.model === 'blocking' && i > 0 ? 0 : Math.round((rps * 2) / spec.connections),
  );
  return {
    options: { ...defaultLoadOptions, port: 1, workload: spec.workload, connections: spec.connections },
    startedAt: '2025-01-01T00:00:00.000Z',
    measuredSec: 2,
    requests: Math.round(rps * 2),
    ok: Math.round(rps * 2),
    bytesSent: rps * 140,
    bytesReceived: rps * 140,
    throughput: { requestsPerSec: rps, bytesPerSec: rps * 70 },
    latency: {
      p50Us,
      p90Us: p50Us * 2,
      p99Us: p50Us * 5,
      p999Us: p50Us * 9,
      timeouts: 0,
      maxUs: p50Us * 20,
      meanUs: p50Us * 1.3,
      distribution: PERCENTILES.map((percentile) => ({ percentile, valueUs: p50Us * Math.max(0.2, 1 / (1.0001 - percentile / 100) / 2) })),
    },
    latencyHistogram: 'HISTFAKE',
    errors: { errReply: 0, busy: 0, timeout: 0, refused: 0, reset: 0, wrongReply: 0, total: 0 },
    perConnection: {
      min: Math.min(...counts),
      max: Math.max(...counts),
      jainFairness: spec.model === 'blocking' ? 1 / spec.connections : 0.98,
      counts,
    },
    timeline: [{ second: 0, requests: rps, p99Us: p50Us * 5 }],
    client: { cpuUserMs: 900, cpuSystemMs: 300, cpuPercent: 60, threads: 1 },
    ...(targetRate !== null
      ? {
          openLoop: {
            targetRate,
            achievedRate: targetRate * 0.99,
            sentRate: targetRate,
            maxSendLagMs: 2,
            meanSendLagMs: 0.5,
            arrivals: 'poisson' as const,
            mode: 'idle' as const,
            waitedForConnection: 0,
          },
        }
      : {}),
  };
}

function fakeRepeat(spec: CellSpec, index: number, targetRate: number | null): RepeatRecord {
  const speed = { blocking: 8000, 'per-connection': 14000, pool: 11000, async: 20000 }[spec.model];
  const httpCost = spec.transport === 'http' ? 0.6 : 1;
  const rps = (targetRate ?? speed * httpCost * Math.min(1, Math.log2(spec.connections + 1) / 3)) * (1 + (index - 1) * 0.03);
  const p50Us = 60 + spec.connections * 12;
  const load = fakeLoad(spec, rps, p50Us, targetRate);
  const http = spec.transport === 'http';
  return {
    index,
    status: 'ok',
    startedAt: '2025-01-01T00:00:00.000Z',
    wallSec: 3.2,
    server: {
      pid: 1000 + index,
      port: http ? null : 40000 + index,
      httpPort: http ? 40000 + index : null,
      listeningLine: http
        ? `listening on http=127.0.0.1:${40000 + index} model=${spec.model}`
        : `listening on 127.0.0.1:${40000 + index} model=${spec.model}`,
      startupMs: 180,
      pongMs: 3,
      cpusAllowed: '0-1',
      stop: { code: 0, signal: null, forced: false, exitedEarly: false, stopMs: 20 },
    },
    loadOptions: http ? httpLoadOptionsFor(spec, '127.0.0.1', 40000 + index, SETTINGS) : { ...load.options, port: 40000 + index },
    load,
    resources: {
      cpuPercent: 70 + index,
      peakRssBytes: (50 + spec.connections / 4) * 2 ** 20,
      meanRssBytes: 48 * 2 ** 20,
      maxThreads: spec.model === 'per-connection' ? 7 + spec.connections : 11,
      lifetimePeakRssBytes: 60 * 2 ** 20,
      windowSec: 2,
      samplesInWindow: 9,
    },
    samples: [
      { tMs: 0, cpuMs: 0, rssBytes: 40 * 2 ** 20, threads: 11 },
      { tMs: 2500, cpuMs: 1750, rssBytes: 50 * 2 ** 20, threads: 11 },
    ],
    notes: [],
  };
}

function fakeCell(spec: CellSpec, repeat: number): CellRecord {
  const targetRate = spec.variant.kind === 'open-loop' ? Math.round(20000 * spec.variant.rateFraction) : null;
  const failed = spec.model === 'blocking' && spec.connections >= 64 && spec.workload === 'sleep';
  const repeats = Array.from({ length: repeat }, (_, i) =>
    failed
      ? { ...fakeRepeat(spec, i, targetRate), status: 'failed' as const, failure: 'the load run timed out after 19 s', load: null, resources: null }
      : fakeRepeat(spec, i, targetRate),
  );
  const { summary, medianRepeat } = summariseRepeats(repeats);
  return {
    id: spec.id,
    model: spec.model,
    workload: spec.workload,
    connections: spec.connections,
    variant: spec.variant,
    transport: spec.transport,
    series: spec.series,
    group: spec.group,
    serverFlags: serverFlags(spec),
    serverSettings: parseListening(repeats[0].server.listeningLine!)?.settings ?? null,
    targetRate,
    status: failed ? 'failed' : 'ok',
    ...(failed ? { failure: 'the load run timed out after 19 s' } : {}),
    medianRepeat,
    summary,
    repeats,
    notes: [],
  };
}

const SETTINGS: RunResults['settings'] = {
  durationSec: 2,
  warmupSec: 0.5,
  repeat: 3,
  timeoutMs: 2000,
  sampleIntervalMs: 250,
  openLoopConnections: 64,
  openLoopFractions: [],
  workloadParameters: { size: 64, readRatio: 0.9, keys: 1000, keyDistribution: 'uniform', work: 1000, sleepMs: 10 },
  clientThreads: 1,
  http: null,
};

/** A results file for the selection; HTTP cells run `repeat` times too, unless `httpRepeat` says otherwise. */
export function syntheticResults(selection: MatrixSelection, repeat = 3, httpRepeat = repeat): RunResults {
  const http = httpCoverage(selection);
  return {
    schemaVersion: 1,
    runId: '2025-01-01T00-00-00Z',
    status: 'complete',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:20:00.000Z',
    elapsedSec: 1200,
    machine: {
      cpuModel: 'Test CPU',
      cores: 2,
      memoryBytes: 8 * 2 ** 30,
      node: 'v20.0.0',
      os: { platform: 'linux', name: 'Test Linux', kernel: '6.1.0', arch: 'x64' },
      git: { commit: 'a'.repeat(40), dirty: false },
      loadAverageAtStart: [0.1, 0.2, 0.3],
      loadAverageAtEnd: [1.9, 1.1, 0.6],
    },
    invocation: { argv: [], flags: {} },
    placement: { requested: false, applied: false, method: 'none', serverCpus: null, generatorCpus: '0-1' },
    settings: {
      ...SETTINGS,
      repeat,
      openLoopFractions: [...selection.openLoopFractions],
      http:
        http.workloads.length > 0 && http.connections.length > 0
          ? {
              tool: 'autocannon',
              toolVersion: '8.0.0',
              repeat: httpRepeat,
              workloads: http.workloads,
              connections: http.connections,
              latencyResolutionMs: 1,
              timeoutSec: 2,
              reason: httpRepeat < repeat ? 'fewer runs per HTTP cell, to keep the matrix short' : 'as many runs as the line-protocol cells',
            }
          : null,
    },
    estimate: { cells: 0, runs: 0, seconds: 0 },
    nodeCosts: null,
    cells: buildMatrix(selection).map((spec) => fakeCell(spec, spec.transport === 'http' ? httpRepeat : repeat)),
    calibration: { skipped: true, reason: 'disabled with --no-calibration' },
    charts: [],
  };
}
