// The load generator as a library: `runLoad` drives a server and measures it.
//
// A run goes: check the options, PING the server, fill the keyspace when the
// workload reads keys, start the drivers (on this thread, or spread over
// worker threads), give them one shared timetable (start, end of warmup, end),
// and add their reports up into one `LoadResult`. The generator also measures
// its own CPU use over the measured window: a generator near 100 % of a core
// per thread is a sign it, and not the server, may be the bottleneck.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { nowUs } from './clock.js';
import { Driver } from './driver.js';
import { emptyErrorTally, type DriverReport, type DriverSetup, type RunClock, type SharedRunState } from './driver-report.js';
import { jainFairness } from './fairness.js';
import { encodeHistogram, mergeHistograms, p99Of, summarizeLatency } from './histogram.js';
import { KvSpace, newRunTag } from './kv.js';
import { validateOptions } from './options.js';
import { checkServer, fillKeyspace } from './prepare.js';
import { deserializeReport, type SerializedReport } from './report-transfer.js';
import type { LoadOptions, LoadResult } from './types.js';
import { usesKeyspace } from './workloads.js';

export * from './types.js';
export { LoadOptionsError, parseMix, validateOptions } from './options.js';
export { ServerCheckError } from './prepare.js';
export { formatSummary } from './summary.js';

/** Time between handing out the timetable and the first request, so every thread starts together. */
const START_DELAY_US = 50_000;

export async function runLoad(input: LoadOptions): Promise<LoadResult> {
  const options = validateOptions(input);
  const startedAt = new Date().toISOString();
  await checkServer(options);

  const shared: SharedRunState = { runTag: newRunTag() };
  if (usesKeyspace(options)) {
    shared.kvVersions = KvSpace.allocate(options.keys);
    await fillKeyspace(options, new KvSpace(options.keys, options.size, shared.runTag, shared.kvVersions));
  }
  if (options.requests !== undefined) shared.tickets = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);

  const setups = splitConnections(options, shared);
  // Every thread opens its connections (and sees each answer once) before the clock is set.
  const runners = options.threads === 1 ? [await localRunner(setups[0])] : await Promise.all(setups.map(startWorker));

  const startUs = nowUs() + START_DELAY_US;
  const measureStartUs = startUs + options.warmupSec * 1e6;
  const clock: RunClock = {
    startUs,
    measureStartUs,
    endUs: options.durationSec === undefined ? undefined : measureStartUs + options.durationSec * 1e6,
  };
  const cpu = sampleCpuFrom(measureStartUs);
  try {
    const reports = await Promise.all(runners.map((runner) => runner.run(clock)));
    const client = cpu.stop(options.threads);
    return assembleResult(options, startedAt, clock, setups, reports, client);
  } finally {
    cpu.cancel();
    for (const runner of runners) runner.close();
  }
}

/** Deal the connections out to threads in contiguous blocks, as evenly as possible. */
function splitConnections(options: LoadOptions, shared: SharedRunState): DriverSetup[] {
  const setups: DriverSetup[] = [];
  let next = 0;
  for (let thread = 0; thread < options.threads; thread++) {
    const count = Math.floor(options.connections / options.threads) + (thread < options.connections % options.threads ? 1 : 0);
    const slots = Array.from({ length: count }, (_, i) => next + i);
    next += count;
    setups.push({ options, threadIndex: thread, slots, shared });
  }
  return setups;
}

interface Runner {
  run(clock: RunClock): Promise<DriverReport>;
  close(): void;
}

async function localRunner(setup: DriverSetup): Promise<Runner> {
  const driver = new Driver(setup);
  await driver.prepare();
  return { run: (clock) => driver.run(clock), close: () => {} };
}

/** The compiled worker script. From TypeScript sources (the tests), use the built copy under dist/. */
function workerScript(): URL {
  const beside = new URL('./thread-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL('../../dist/clients/load/thread-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error('thread-worker.js not found: run `npm run build` first');
}

/** Start a worker and wait until it has prepared its driver. */
function startWorker(setup: DriverSetup): Promise<Runner> {
  const worker = new Worker(workerScript(), { workerData: setup });
  let settleRun: ((report: DriverReport) => void) | undefined;
  let failRun: ((error: Error) => void) | undefined;
  return new Promise((resolveReady, rejectReady) => {
    const fail = (error: Error) => {
      rejectReady(error);
      failRun?.(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`load thread ${setup.threadIndex} exited early (code ${code})`)));
    worker.on('message', (message: { type: string; report?: SerializedReport; message?: string }) => {
      if (message.type === 'ready') {
        resolveReady({
          run(clock) {
            return new Promise((resolve, reject) => {
              settleRun = resolve;
              failRun = reject;
              worker.postMessage(clock);
            });
          },
          close() {
            worker.removeAllListeners('exit');
            void worker.terminate();
          },
        });
      } else if (message.type === 'done') {
        settleRun?.(deserializeReport(message.report!));
      } else if (message.type === 'failed') {
        fail(new Error(`load thread ${setup.threadIndex} failed: ${message.message}`));
      }
    });
  });
}

/** CPU time of this whole process (every thread) from the start of the measured window. */
function sampleCpuFrom(measureStartUs: number) {
  let startCpu = process.cpuUsage();
  let startWallUs = nowUs();
  const timer = setTimeout(
    () => {
      startCpu = process.cpuUsage();
      startWallUs = nowUs();
    },
    Math.max(0, (measureStartUs - nowUs()) / 1000),
  );
  return {
    stop(threads: number): LoadResult['client'] {
      const used = process.cpuUsage(startCpu);
      const wallMs = Math.max(1e-3, (nowUs() - startWallUs) / 1000);
      const cpuUserMs = used.user / 1000;
      const cpuSystemMs = used.system / 1000;
      return {
        cpuUserMs: round(cpuUserMs, 1),
        cpuSystemMs: round(cpuSystemMs, 1),
        cpuPercent: round(((cpuUserMs + cpuSystemMs) / wallMs) * 100, 1),
        threads,
        osThreads: countOsThreads(),
      };
    },
    cancel: () => clearTimeout(timer),
  };
}

/** Threads of this process as the OS sees them (Linux only; libuv's pool and V8's helpers included). */
function countOsThreads(): number | undefined {
  try {
    const match = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function assembleResult(
  options: LoadOptions,
  startedAt: string,
  clock: RunClock,
  setups: DriverSetup[],
  reports: DriverReport[],
  client: LoadResult['client'],
): LoadResult {
  const sum = (pick: (r: DriverReport) => number) => reports.reduce((total, r) => total + pick(r), 0);
  const lastCompletionUs = Math.max(...reports.map((r) => r.lastCompletionUs));
  // The window runs to its planned end, or later if replies owed were still arriving.
  const endUs = Math.max(clock.endUs ?? clock.measureStartUs, lastCompletionUs);
  const measuredSec = Math.max(1e-6, (endUs - clock.measureStartUs) / 1e6);

  const ok = sum((r) => r.ok);
  // Timed runs: good replies that arrived inside the planned window, per second of it.
  // Runs by request count have no planned window: all good replies over the time they took.
  const requestsPerSec = clock.endUs === undefined ? ok / measuredSec : sum((r) => r.okInWindow) / ((clock.endUs - clock.measureStartUs) / 1e6);
  const bytesSent = sum((r) => r.bytesSent);
  const bytesReceived = sum((r) => r.bytesReceived);
  const latency = mergeHistograms(
    reports.map((r) => r.latency),
    3,
  );

  const errorTally = emptyErrorTally();
  for (const report of reports) {
    for (const kind of Object.keys(errorTally) as (keyof typeof errorTally)[]) errorTally[kind] += report.errors[kind];
  }
  const errorsTotal = Object.values(errorTally).reduce((a, b) => a + b, 0);

  const counts = new Array<number>(options.connections).fill(0);
  setups.forEach((setup, i) => setup.slots.forEach((slot, local) => (counts[slot] = reports[i].slotCounts[local])));

  const seconds = Math.max(...reports.map((r) => r.timelineCounts.length));
  const timeline: LoadResult['timeline'] = [];
  for (let second = 0; second < seconds; second++) {
    const histograms = reports.flatMap((r) => (second < r.timelineLatency.length ? [r.timelineLatency[second]] : []));
    timeline.push({
      second,
      requests: sum((r) => r.timelineCounts[second] ?? 0),
      p99Us: p99Of(mergeHistograms(histograms, 2)),
    });
  }

  const result: LoadResult = {
    options,
    startedAt,
    measuredSec: round(measuredSec, 3),
    requests: sum((r) => r.requests),
    ok,
    bytesSent,
    bytesReceived,
    throughput: {
      requestsPerSec: round(requestsPerSec, 1),
      bytesPerSec: round((bytesSent + bytesReceived) / measuredSec, 0),
    },
    latency: summarizeLatency(
      latency,
      sum((r) => r.timeoutsInLatency),
    ),
    latencyHistogram: encodeHistogram(latency),
    errors: { ...errorTally, total: errorsTotal },
    perConnection: {
      min: Math.min(...counts),
      max: Math.max(...counts),
      jainFairness: round(jainFairness(counts), 4),
      counts,
    },
    timeline,
    client,
  };
  if (options.rate !== undefined) {
    result.openLoop = {
      targetRate: options.rate,
      achievedRate: round(requestsPerSec, 1),
      sentRate: round(sendRate(reports), 1),
      maxSendLagMs: round(Math.max(...reports.map((r) => r.maxSendLagUs)) / 1000, 2),
      meanSendLagMs: round(
        sum((r) => r.sendLagSumUs) /
          Math.max(
            1,
            sum((r) => r.sendLagCount),
          ) /
          1000,
        3,
      ),
      arrivals: options.arrivals ?? 'poisson',
      mode: options.openLoopMode ?? 'idle',
      waitedForConnection: sum((r) => r.waitedForConnection),
    };
  }
  return result;
}

/**
 * How fast events happened, from the first to the last (n events span n - 1
 * intervals): the rate the generator really sent at, whatever the schedule said.
 */
function sendRate(reports: DriverReport[]): number {
  const active = reports.filter((r) => r.measuredSent > 0);
  const n = active.reduce((total, r) => total + r.measuredSent, 0);
  if (n < 2) return 0;
  const spanSec = (Math.max(...active.map((r) => r.lastSendUs)) - Math.min(...active.map((r) => r.firstSendUs))) / 1e6;
  return spanSec > 0 ? (n - 1) / spanSec : 0;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
