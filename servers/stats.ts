// Counters every thread of a server can bump, and the STATS reply built from them.
//
// In the per-connection and pool models, requests are executed on worker
// threads, but `STATS` must describe the whole server. So the counters live in
// a small SharedArrayBuffer and are updated with `Atomics.add`: any thread can
// count, and any thread can answer STATS with the same figures.

import { performance } from 'node:perf_hooks';

const FIELDS = [
  'connectionsOpen',
  'connectionsTotal',
  'connectionsRejected',
  'requests',
  'errors',
  'busyRejections',
  'workersLive',
  'workersStarted',
  'workerFailures',
  'mainLoopUtilizationPpm',
  // Test hooks only: write replies made, and how many before their record was durable (protocol/execute.ts).
  'acks',
  'acksNotDurable',
] as const;

export type CounterName = (typeof FIELDS)[number];

export class SharedCounters {
  readonly buffer: SharedArrayBuffer;
  private readonly ints: BigInt64Array;

  constructor(buffer = new SharedArrayBuffer(FIELDS.length * 8)) {
    this.buffer = buffer;
    this.ints = new BigInt64Array(buffer);
  }

  add(name: CounterName, amount = 1): void {
    Atomics.add(this.ints, FIELDS.indexOf(name), BigInt(amount));
  }

  set(name: CounterName, value: number): void {
    Atomics.store(this.ints, FIELDS.indexOf(name), BigInt(Math.round(value)));
  }

  get(name: CounterName): number {
    return Number(Atomics.load(this.ints, FIELDS.indexOf(name)));
  }

  snapshot(): Record<CounterName, number> {
    return Object.fromEntries(FIELDS.map((name) => [name, this.get(name)])) as Record<CounterName, number>;
  }
}

/** What a model adds to STATS beyond the common counters. */
export type ModelDetails = Record<string, unknown>;

export interface StatsSources {
  model: string;
  startedAt: number;
  counters: SharedCounters;
  storeUsage: () => { keys: number; liveBytes: number; capacityBytes: number };
  details: () => ModelDetails;
}

/** The JSON object that `STATS` answers with. */
export function statsReport(sources: StatsSources): Record<string, unknown> {
  const c = sources.counters.snapshot();
  return {
    model: sources.model,
    pid: process.pid,
    uptimeMs: Math.round(Date.now() - sources.startedAt),
    connections: { open: c.connectionsOpen, total: c.connectionsTotal, rejected: c.connectionsRejected },
    requests: c.requests,
    errors: c.errors,
    store: sources.storeUsage(),
    ...sources.details(),
  };
}

/**
 * Share of wall time the calling thread's event loop spent busy since it
 * started (0..1). On the async model this is the figure that says "the one
 * loop is saturated"; on a thread that blocks (Atomics.wait), blocked time
 * counts as busy, which is the truth about that thread.
 */
export function eventLoopUtilization(): number {
  return round3(performance.eventLoopUtilization().utilization);
}

export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
