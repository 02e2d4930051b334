// What Node charges for the building blocks the server models are made of.
//
// The models differ in which of these costs they pay and how often: the
// per-connection model starts a worker thread for every connection, the pool
// hands every request to another thread and back, the async model pays
// nothing per request but lets one long computation hold up everyone. A
// report that says "per-connection lost on reconnect" is only convincing
// next to the price of a thread start measured on the same machine, so the
// suite measures these once per run and stores them beside the results.
//
// Every figure is measured in this process, one thing at a time, with the
// machine otherwise as it is. They are costs of the mechanism in isolation:
// under load the same mechanisms share the cores with everything else, so the
// report treats predictions built from them as ceilings, not forecasts.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { hashChain } from '../../servers/protocol/execute.js';

/** A figure measured several times: the median is the one to quote, the range says how steady it was. */
export interface Measured {
  median: number;
  min: number;
  max: number;
  samples: number;
}

export interface NodeCosts {
  measuredAt: string;
  node: string;
  cores: number;
  /** From `new Worker()` to the first message from its code: a fresh V8 isolate, booted. */
  workerStartMs: Measured;
  /** postMessage to a worker and its reply back, one at a time. */
  messageRoundTripUs: Measured;
  /** `pool.run()` of a task that returns its argument, one at a time, on a one-thread piscina pool. */
  piscinaTaskRoundTripUs: Measured;
  /** Growth of this process's resident memory per idle worker thread kept alive. */
  memoryPerWorkerBytes: Measured;
  /** One `WORK n` computed inline: the CPU cost of one request of the cpu workload. */
  work: { n: number; ms: Measured };
  /**
   * A TCP connection to a server in this same process on 127.0.0.1, one
   * request and reply over it, and its close: both ends' work on one thread.
   */
  connectionCycleMs: Measured;
  /** The event loop while idle, and while it runs WORK n back to back with one turn of the loop between each. */
  eventLoop: { idle: LoopHealth; underWork: LoopHealth };
}

export interface LoopHealth {
  /** Share of the time the loop was busy (0..1). */
  utilization: number;
  /** How late a 1 ms timer fired: monitorEventLoopDelay's percentiles less its interval, in ms. */
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  windowMs: number;
  /** How many times the monitor's timer fired in the window: the delays rest on this many samples. */
  samples: number;
}

export interface CostOptions {
  /** The n of `WORK n` to time (the suite's cpu workload uses 1000). */
  work: number;
  workerStarts: number;
  roundTrips: number;
  memoryWorkers: number;
  connectionCycles: number;
  /** How long each event-loop window lasts. */
  loopWindowMs: number;
}

export const DEFAULT_COST_OPTIONS: CostOptions = {
  work: 1000,
  workerStarts: 5,
  roundTrips: 2000,
  memoryWorkers: 4,
  connectionCycles: 300,
  loopWindowMs: 500,
};

function summarise(values: number[]): Measured {
  if (values.length === 0) throw new Error('no samples to summarise');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median: round(median), min: round(sorted[0]), max: round(sorted[sorted.length - 1]), samples: values.length };
}

function round(value: number): number {
  return Number(value.toPrecision(4));
}

/** The smallest worker that says it is alive and then echoes whatever it is sent. */
const ECHO_WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => parentPort.postMessage(m));
parentPort.postMessage('ready');
`;

function startEchoWorker(): Promise<{ worker: Worker; startMs: number }> {
  const began = performance.now();
  const worker = new Worker(ECHO_WORKER, { eval: true });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => resolve({ worker, startMs: performance.now() - began }));
  });
}

export async function measureWorkerStart(times: number): Promise<Measured> {
  const starts: number[] = [];
  for (let i = 0; i < times; i++) {
    const { worker, startMs } = await startEchoWorker();
    starts.push(startMs);
    await worker.terminate();
  }
  return summarise(starts);
}

/**
 * Round trips are timed in batches of 100 and reported per round trip, so
 * the timer's own cost and one-off pauses are spread thin; the first batch
 * warms up the code paths and is not counted.
 */
async function timeRoundTrips(count: number, once: () => Promise<unknown>): Promise<Measured> {
  const batch = 100;
  for (let i = 0; i < batch; i++) await once();
  const perTrip: number[] = [];
  for (let done = 0; done < count; done += batch) {
    const began = performance.now();
    for (let i = 0; i < batch; i++) await once();
    perTrip.push(((performance.now() - began) * 1000) / batch);
  }
  return summarise(perTrip);
}

export async function measureMessageRoundTrip(count: number): Promise<Measured> {
  const { worker } = await startEchoWorker();
  try {
    let n = 0;
    return await timeRoundTrips(count, () => {
      const sent = n++;
      return new Promise<void>((resolve, reject) => {
        worker.once('message', (m) => (m === sent ? resolve() : reject(new Error(`worker echoed ${m} for ${sent}`))));
        worker.postMessage(sent);
      });
    });
  } finally {
    await worker.terminate();
  }
}

/**
 * piscina loads its task from a file, so a one-line task module is written to
 * a temporary directory: the measurement then runs the same way from the
 * compiled code and from the test runner.
 */
export async function measurePiscinaRoundTrip(count: number): Promise<Measured> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-costs-'));
  const filename = path.join(dir, 'identity-task.mjs');
  writeFileSync(filename, 'export default function identity(value) { return value; }\n');
  // The same pool settings as the pool model: fixed size, idle workers parked in Atomics.wait.
  const pool = new Piscina({ filename, minThreads: 1, maxThreads: 1, atomics: 'sync' });
  try {
    let n = 0;
    return await timeRoundTrips(count, () => pool.run(n++));
  } finally {
    await pool.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Resident memory grows by pages the process touches, and the garbage
 * collector may give some back at any moment, so the figure is a median over
 * several workers each kept alive, not an exact accounting.
 */
export async function measureMemoryPerWorker(count: number): Promise<Measured> {
  const workers: Worker[] = [];
  const deltas: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const before = process.memoryUsage.rss();
      const { worker } = await startEchoWorker();
      workers.push(worker);
      // One round trip after start, so the worker has finished settling in.
      await new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.postMessage('settle');
      });
      deltas.push(Math.max(0, process.memoryUsage.rss() - before));
    }
    return summarise(deltas);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Times WORK n inline: a short warmup, then single calls until about 300 ms have passed (at least five). */
export function measureWork(n: number): Measured {
  for (let i = 0; i < 3; i++) hashChain(n);
  const times: number[] = [];
  const began = performance.now();
  while (times.length < 5 || (performance.now() - began < 300 && times.length < 10_000)) {
    const t = performance.now();
    hashChain(n);
    times.push(performance.now() - t);
  }
  return summarise(times);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** One reconnect-mode request: connect, send PING, read PONG, close. */
function connectionCycle(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.once('connect', () => socket.write('PING\n'));
    socket.once('data', () => socket.end());
    socket.once('close', () => resolve());
  });
}

export async function measureConnectionCycle(count: number): Promise<Measured> {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', () => socket.write('PONG\n'));
    socket.on('error', () => {}); // a client that resets at close is not this measurement's concern
  });
  const port = await listen(server);
  try {
    for (let i = 0; i < 20; i++) await connectionCycle(port);
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const began = performance.now();
      await connectionCycle(port);
      times.push(performance.now() - began);
    }
    return summarise(times);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const LOOP_MONITOR_RESOLUTION_MS = 1;

/**
 * Watches the loop for a window. With `busyWith`, the loop runs that work,
 * yields for one turn (setImmediate), and runs it again, as an event-loop
 * server does when every request is a computation: the delay histogram then
 * shows how long a timer (or any other connection) waits for its turn.
 */
export async function watchEventLoop(windowMs: number, busyWith?: () => void): Promise<LoopHealth> {
  const delay = monitorEventLoopDelay({ resolution: LOOP_MONITOR_RESOLUTION_MS });
  const eluBefore = performance.eventLoopUtilization();
  delay.enable();
  const began = performance.now();
  await new Promise<void>((resolve) => {
    if (!busyWith) {
      setTimeout(resolve, windowMs);
      return;
    }
    const step = () => {
      if (performance.now() - began >= windowMs) return resolve();
      busyWith();
      setImmediate(step);
    };
    // Start on the next turn, so the monitor's timer is armed before the first computation holds the loop.
    setImmediate(step);
  });
  delay.disable();
  const elu = performance.eventLoopUtilization(eluBefore);
  // The monitor records the whole interval between its own timer's firings; its lateness is what is left.
  const ms = (ns: number) => round(Math.max(0, ns / 1e6 - LOOP_MONITOR_RESOLUTION_MS));
  return {
    utilization: round(elu.utilization),
    delayP50Ms: ms(delay.percentile(50)),
    delayP99Ms: ms(delay.percentile(99)),
    delayMaxMs: ms(delay.max),
    windowMs: Math.round(performance.now() - began),
    samples: delay.count,
  };
}

/** Measures every cost in turn (about three seconds with the defaults). */
export async function measureNodeCosts(options: Partial<CostOptions> = {}): Promise<NodeCosts> {
  const o = { ...DEFAULT_COST_OPTIONS, ...options };
  const workerStartMs = await measureWorkerStart(o.workerStarts);
  const messageRoundTripUs = await measureMessageRoundTrip(o.roundTrips);
  const piscinaTaskRoundTripUs = await measurePiscinaRoundTrip(o.roundTrips);
  const memoryPerWorkerBytes = await measureMemoryPerWorker(o.memoryWorkers);
  const workMs = measureWork(o.work);
  const connectionCycleMs = await measureConnectionCycle(o.connectionCycles);
  const idle = await watchEventLoop(o.loopWindowMs);
  const underWork = await watchEventLoop(o.loopWindowMs, () => hashChain(o.work));
  return {
    measuredAt: new Date().toISOString(),
    node: process.version,
    cores: availableParallelism(),
    workerStartMs,
    messageRoundTripUs,
    piscinaTaskRoundTripUs,
    memoryPerWorkerBytes,
    work: { n: o.work, ms: workMs },
    connectionCycleMs,
    eventLoop: { idle, underWork },
  };
}
