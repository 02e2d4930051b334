// A made-up but well-formed results file, for testing the schema and the
// charts without running any servers. The figures are invented to be
// plausible (throughput grows then flattens with connections, latency grows),
// and one cell is a failure, because the charts must cope with gaps.

import { defaultLoadOptions, type LoadResult } from '../../clients/load/index.js';
import { buildMatrix, type CellSpec, type MatrixSelection } from '../matrix.js';
import { serverFlags, summariseRepeats } from '../cell.js';
import type { CellRecord, RepeatRecord, RunResults } from '../results.js';

const PERCENTILES = [0, 50, 75, 90, 95, 99, 99.9, 99.99, 100];

function fakeLoad(spec: CellSpec, rps: number, p50Us: number, targetRate: number | null): LoadResult {
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
    ...(targetRate !== null ? { openLoop: { targetRate, achievedRate: targetRate * 0.99, sentRate: targetRate, maxSendLagMs: 2 } } : {}),
  };
}

function fakeRepeat(spec: CellSpec, index: number, targetRate: number | null): RepeatRecord {
  const speed = { blocking: 8000, 'per-connection': 14000, pool: 11000, async: 20000 }[spec.model];
  const rps = (targetRate ?? speed * Math.min(1, Math.log2(spec.connections + 1) / 3)) * (1 + (index - 1) * 0.03);
  const p50Us = 60 + spec.connections * 12;
  const load = fakeLoad(spec, rps, p50Us, targetRate);
  return {
    index,
    status: 'ok',
    startedAt: '2025-01-01T00:00:00.000Z',
    wallSec: 3.2,
    server: {
      pid: 1000 + index,
      port: 40000 + index,
      listeningLine: `listening on 127.0.0.1:${40000 + index} model=${spec.model}`,
      startupMs: 180,
      pongMs: 3,
      cpusAllowed: '0-1',
      stop: { code: 0, signal: null, forced: false, exitedEarly: false, stopMs: 20 },
    },
    loadOptions: { ...load.options, port: 40000 + index },
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
    series: spec.series,
    group: spec.group,
    serverFlags: serverFlags(spec),
    targetRate,
    status: failed ? 'failed' : 'ok',
    ...(failed ? { failure: 'the load run timed out after 19 s' } : {}),
    medianRepeat,
    summary,
    repeats,
    notes: [],
  };
}

export function syntheticResults(selection: MatrixSelection, repeat = 3): RunResults {
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
      durationSec: 2,
      warmupSec: 0.5,
      repeat,
      timeoutMs: 2000,
      sampleIntervalMs: 250,
      openLoopConnections: 64,
      openLoopFractions: [...selection.openLoopFractions],
      workloadParameters: { size: 64, readRatio: 0.9, keys: 1000, keyDistribution: 'uniform', work: 1000, sleepMs: 10 },
      clientThreads: 1,
    },
    estimate: { cells: 0, runs: 0, seconds: 0 },
    cells: buildMatrix(selection).map((spec) => fakeCell(spec, repeat)),
    calibration: { skipped: true, reason: 'disabled with --no-calibration' },
    charts: [],
  };
}
