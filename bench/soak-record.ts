// The soak's record: soak.json, one document per soak run.
//
// Like results.json for the matrix, the file is the record and the charts are
// drawings of it: every memory sample, every load window and every verdict
// with the figures it rests on, so that a verdict can be questioned later
// without soaking anything again.

import type { ErrorCounts } from '../clients/load/index.js';
import type { MachineInfo } from './machine.js';
import type { Model } from './matrix.js';
import type { Placement } from './pin.js';
import type { ChartRecord } from './results.js';
import type { StopInfo } from './server-process.js';
import type { GrowthRule, GrowthVerdict } from './soak-growth.js';

/** The mix of requests: mostly cheap ones, with enough WORK and SLEEP to use the slow paths. */
export const SOAK_MIX = { echo: 4, kv: 4, cpu: 1, sleep: 1 };

export interface SoakSample {
  /** Seconds since this model's soak began. */
  tSec: number;
  rssBytes: number;
  threads: number;
  /** Open file descriptors, and how many of them are sockets (the listener, the connections, the pipes' ends not). */
  fds: number;
  sockets: number;
  cpuMs: number;
}

export interface SoakWindow {
  /** When the window's measurement began, in seconds since this model's soak began. */
  startSec: number;
  measuredSec: number;
  requestsPerSec: number;
  p99Us: number | null;
  errors: ErrorCounts;
}

export interface ModelSoak {
  model: Model;
  status: 'ok' | 'failed' | 'interrupted';
  failure?: string;
  verdict: GrowthVerdict;
  server: { pid: number | null; listeningLine: string | null; stop: StopInfo | null; stderrTail?: string };
  samples: SoakSample[];
  /** Per second, across windows: good replies and their p99, from the load generator's timeline. */
  timeline: { tSec: number; requests: number; p99Us: number }[];
  windows: SoakWindow[];
}

export interface SoakResults {
  kind: 'soak';
  runId: string;
  status: 'running' | 'complete' | 'interrupted';
  /** `pass` unless some model's RSS kept growing or its server failed. */
  outcome: 'pass' | 'fail' | null;
  startedAt: string;
  finishedAt: string | null;
  machine: MachineInfo;
  invocation: { argv: string[]; flags: Record<string, unknown> };
  placement: Placement;
  settings: {
    durationSecPerModel: number;
    connections: number;
    workload: 'mixed';
    mix: typeof SOAK_MIX;
    windowSec: number;
    sampleIntervalMs: number;
    timeoutMs: number;
    rule: GrowthRule;
  };
  models: ModelSoak[];
  charts: ChartRecord[];
}
