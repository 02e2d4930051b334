// How a cell is set up: the flags its server starts with, and what each load
// generator is asked to do.
//
// Both generators get the same request shapes (sizes, key space, WORK and
// SLEEP) from the run's settings, so a line cell and its HTTP twin differ
// only in the framing and the client. Every server is started on loopback
// with port 0, so it picks a free port itself and says which; an HTTP cell's
// server serves its HTTP front only.

import { defaultLoadOptions, type LoadOptions } from '../clients/load/index.js';
import type { HttpLoadOptions } from './http-load.js';
import type { CellSpec } from './matrix.js';
import type { RunSettings } from './results.js';

/** Every flag a cell's server starts with: its model, loopback, port 0, the HTTP front alone for an HTTP cell, and the cell's own. */
export function serverFlags(spec: CellSpec): string[] {
  const http = spec.transport === 'http' ? ['--http-port=0', '--no-line'] : [];
  return [`--model=${spec.model}`, '--host', '127.0.0.1', '--port', '0', ...http, ...spec.serverArgs];
}

/** autocannon takes its timeout in seconds and accepts nothing under one. */
export function httpTimeoutSec(timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs / 1000));
}

/** The run's request shapes (sizes, key space, work and sleep), the same for both generators. */
function requestShape(settings: RunSettings) {
  const w = settings.workloadParameters;
  return {
    size: w.size,
    readRatio: w.readRatio,
    keys: w.keys,
    keyDistribution: w.keyDistribution === 'zipfian' ? ('zipfian' as const) : ('uniform' as const),
    work: w.work,
    sleepMs: w.sleepMs,
  };
}

/** What autocannon is asked to do for an HTTP cell. */
export function httpLoadOptionsFor(spec: CellSpec, host: string, port: number, settings: RunSettings): HttpLoadOptions {
  return {
    tool: 'autocannon',
    url: `http://${host}:${port}`,
    workload: spec.workload,
    connections: spec.connections,
    durationSec: settings.durationSec,
    warmupSec: settings.warmupSec,
    timeoutSec: httpTimeoutSec(settings.timeoutMs),
    pipeline: 1,
    ...requestShape(settings),
  };
}

/** What the lab's generator is asked to do for a line cell, at `targetRate` for an open-loop one. */
export function loadOptionsFor(spec: CellSpec, host: string, port: number, targetRate: number | null, settings: RunSettings): LoadOptions {
  return {
    ...defaultLoadOptions,
    host,
    port,
    workload: spec.workload,
    connections: spec.connections,
    durationSec: settings.durationSec,
    warmupSec: settings.warmupSec,
    pipeline: 1,
    reconnect: spec.variant.kind === 'reconnect',
    ...(targetRate !== null ? { rate: targetRate } : {}),
    ...requestShape(settings),
    threads: settings.clientThreads,
    dialect: 'lab',
    timeoutMs: settings.timeoutMs,
  };
}
