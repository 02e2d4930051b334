// What one driver hands back at the end of a run, and the setting-up it is
// given: plain data, so that a report can travel from a worker thread to the
// main thread (report-transfer.ts) and be merged with the others (index.ts).

import { createLatencyHistogram, type Histogram } from './histogram.js';
import type { ErrorKind } from './ops.js';
import type { LoadOptions } from './types.js';

/** What all threads of one run share. */
export interface SharedRunState {
  runTag: string;
  /** Per-key version counters (kv workloads). */
  kvVersions?: SharedArrayBuffer;
  /** One counter of measured requests handed out, for `requests` runs. */
  tickets?: SharedArrayBuffer;
}

export interface DriverSetup {
  options: LoadOptions;
  threadIndex: number;
  /** Global indexes of the connections this driver owns. */
  slots: number[];
  shared: SharedRunState;
}

/** The run's timetable, chosen by the main thread, in `nowUs` time. */
export interface RunClock {
  startUs: number;
  measureStartUs: number;
  /** End of the measured window; absent when the run ends by request count. */
  endUs?: number;
}

export type ErrorTally = Record<ErrorKind, number>;

export interface DriverReport {
  latency: Histogram;
  timelineCounts: number[];
  timelineLatency: Histogram[];
  requests: number;
  ok: number;
  errors: ErrorTally;
  bytesSent: number;
  bytesReceived: number;
  /** Good replies per owned connection, parallel to `DriverSetup.slots`. */
  slotCounts: number[];
  measuredSent: number;
  /** When the first and last measured requests were actually handed to their sockets. */
  firstSendUs: number;
  lastSendUs: number;
  /** The last reply to a measured request (0 when none). */
  lastCompletionUs: number;
  /**
   * Good replies that arrived inside the measured window, whenever their
   * request was sent: the numerator of throughput. (Counting the requests
   * sent in the window instead, over a window stretched to their last reply,
   * reads low by window ÷ (window + latency) when latency is long.)
   */
  okInWindow: number;
  maxSendLagUs: number;
  /** Sum over due requests of how late the generator took each up, for the mean. */
  sendLagSumUs: number;
  sendLagCount: number;
  /** Measured timed-out requests, which the latency histogram holds beside the good replies. */
  timeoutsInLatency: number;
  /** Open loop, `idle` mode: due requests that found no idle connection. */
  waitedForConnection: number;
}

export function emptyErrorTally(): ErrorTally {
  return { errReply: 0, busy: 0, timeout: 0, refused: 0, reset: 0, wrongReply: 0 };
}

/** A report with nothing counted yet, for a driver owning `slotCount` connections. */
export function emptyDriverReport(slotCount: number): DriverReport {
  return {
    latency: createLatencyHistogram(3),
    timelineCounts: [],
    timelineLatency: [],
    requests: 0,
    ok: 0,
    errors: emptyErrorTally(),
    bytesSent: 0,
    bytesReceived: 0,
    slotCounts: new Array<number>(slotCount).fill(0),
    measuredSent: 0,
    firstSendUs: 0,
    lastSendUs: 0,
    lastCompletionUs: 0,
    okInWindow: 0,
    maxSendLagUs: 0,
    sendLagSumUs: 0,
    sendLagCount: 0,
    timeoutsInLatency: 0,
    waitedForConnection: 0,
  };
}
