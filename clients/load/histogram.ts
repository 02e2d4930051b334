// Latency recording with HDR histograms.
//
// A latency distribution is long-tailed: most requests take microseconds and a
// few take seconds. An HDR histogram keeps every value to 3 significant digits
// over that whole range in fixed memory, so p99.9 is as trustworthy as p50 and
// histograms from several threads add up exactly. We use the library's plain
// JavaScript implementation: it needs no WebAssembly start-up and can be
// serialised to a compact string for the trip between threads.
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from './types.js';

export type Histogram = hdr.Histogram;

/** The percentiles reported as the latency distribution (0 = min, 100 = max). */
export const DISTRIBUTION_PERCENTILES = [0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100];

/**
 * A histogram of microsecond latencies. Values up to a minute fit without
 * resizing; longer ones still fit because the histogram may grow.
 * `digits` trades precision for memory (the per-second timeline uses 2).
 */
export function createLatencyHistogram(digits: 2 | 3 = 3): Histogram {
  return hdr.build({
    useWebAssembly: false,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: digits,
  });
}

/** Record one latency; below 1 µs is recorded as 1 µs, the histogram's floor. */
export function recordLatency(histogram: Histogram, latencyUs: number): void {
  histogram.recordValue(Math.max(1, Math.round(latencyUs)));
}

export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

/** Sum several histograms into a new one (HDR histograms add exactly). */
export function mergeHistograms(parts: Histogram[], digits: 2 | 3 = 3): Histogram {
  const total = createLatencyHistogram(digits);
  for (const part of parts) total.add(part);
  return total;
}

/** p99 of a histogram, or 0 when it is empty. */
export function p99Of(histogram: Histogram): number {
  return histogram.totalCount === 0 ? 0 : histogram.getValueAtPercentile(99);
}

/** The percentiles of `histogram`, which holds `timeouts` timed-out requests among its values. */
export function summarizeLatency(histogram: Histogram, timeouts = 0): LatencySummary {
  if (histogram.totalCount === 0) {
    return {
      p50Us: 0,
      p90Us: 0,
      p99Us: 0,
      p999Us: 0,
      maxUs: 0,
      meanUs: 0,
      timeouts,
      distribution: DISTRIBUTION_PERCENTILES.map((percentile) => ({ percentile, valueUs: 0 })),
    };
  }
  const at = (p: number) => (p >= 100 ? histogram.maxValue : histogram.getValueAtPercentile(p));
  return {
    p50Us: at(50),
    p90Us: at(90),
    p99Us: at(99),
    p999Us: at(99.9),
    maxUs: histogram.maxValue,
    meanUs: Math.round(histogram.mean * 10) / 10,
    timeouts,
    distribution: DISTRIBUTION_PERCENTILES.map((percentile) => ({ percentile, valueUs: at(percentile) })),
  };
}
