// The report's calibration facts: the throughput ratio as before, and the
// Little's-law check of each generator's latency, computed from the figures.

import { describe, expect, it } from 'vitest';
import type { CalibrationMeasurement } from '../calibration.js';
import { latencyCheck } from './calibration-section.js';

function getAt(connections: number, theirMeanMs: number, theirRps: number, ourMeanUs: number, ourRps: number): CalibrationMeasurement {
  return {
    command: 'GET',
    connections,
    redisBenchmark: { requestsPerSec: theirRps, p50Ms: null, meanMs: theirMeanMs, littlesLawMs: (connections / theirRps) * 1000, requests: 1000 },
    ours: {
      requestsPerSec: ourRps,
      p50Us: ourMeanUs,
      p99Us: ourMeanUs,
      meanUs: ourMeanUs,
      littlesLawUs: (connections / ourRps) * 1e6,
      errors: 0,
      clientCpuPercent: 50,
      requests: 1000,
    },
    ratio: ourRps / theirRps,
  };
}

describe("the calibration's latency check", () => {
  it('says which generator leaves part of the round trip out: a mean well below connections / throughput', () => {
    // The figures measured on this project's machine at 64 connections.
    const text = latencyCheck([getAt(16, 0.075, 122_100, 133, 119_400), getAt(64, 0.271, 124_100, 573, 111_500)])!;
    expect(text).toContain('GET, 64 connections');
    expect(text).toMatch(
      /redis-benchmark's mean was 0\.271 ms against the 0\.516 ms its throughput requires, so it leaves part of each round trip out/,
    );
    expect(text).toMatch(/ours was 0\.573 ms against 0\.574 ms\.$/);
  });

  it('says nothing when no measurement has both means (older redis-benchmark, or a failed side)', () => {
    const old = getAt(16, 0.075, 122_100, 133, 119_400);
    old.redisBenchmark!.meanMs = null;
    expect(latencyCheck([old])).toBeNull();
  });
});
