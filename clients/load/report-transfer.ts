// Moving a driver's report between threads: histograms travel as HDR's
// compressed base64 encoding, everything else as plain data.
import type { DriverReport } from './driver-report.js';
import { decodeHistogram, encodeHistogram } from './histogram.js';

export type SerializedReport = Omit<DriverReport, 'latency' | 'timelineLatency'> & {
  latency: string;
  timelineLatency: string[];
};

export function serializeReport(report: DriverReport): SerializedReport {
  return {
    ...report,
    latency: encodeHistogram(report.latency),
    timelineLatency: report.timelineLatency.map(encodeHistogram),
  };
}

export function deserializeReport(report: SerializedReport): DriverReport {
  return {
    ...report,
    latency: decodeHistogram(report.latency),
    timelineLatency: report.timelineLatency.map(decodeHistogram),
  };
}
