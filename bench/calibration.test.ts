import { describe, expect, it } from 'vitest';
import { littlesLawMean, parseRedisBenchmarkCsv } from './calibration.js';

describe('parseRedisBenchmarkCsv', () => {
  it('reads throughput, median and mean latency by test name from the CSV with a header row', () => {
    const csv = [
      '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"',
      '"SET","37735.85","0.077","0.008","0.079","0.119","0.175","1.279"',
      '"GET","39292.73","0.072","0.008","0.071","0.119","0.167","1.511"',
    ].join('\n');
    const parsed = parseRedisBenchmarkCsv(csv);
    expect(parsed.get('SET')).toEqual({ requestsPerSec: 37735.85, p50Ms: 0.079, meanMs: 0.077 });
    expect(parsed.get('GET')).toEqual({ requestsPerSec: 39292.73, p50Ms: 0.071, meanMs: 0.072 });
  });

  it('reads the older header-less form, which has no latency columns', () => {
    const parsed = parseRedisBenchmarkCsv('"SET","1000.00"\r\n"GET","2000.50"\r\n');
    expect(parsed.get('GET')).toEqual({ requestsPerSec: 2000.5, p50Ms: null, meanMs: null });
  });

  it('ignores progress noise and rows that carry no number', () => {
    const parsed = parseRedisBenchmarkCsv('SET: rps=0.0 (overall: nan)\r"GET","n/a"\n');
    expect(parsed.size).toBe(0);
  });
});

describe("Little's law in a closed loop", () => {
  it('requires a mean latency of connections over throughput: 64 connections at 124,100 req/s must average 0.516 ms', () => {
    expect(littlesLawMean(64, 124_100)).toBe(0.516);
    expect(littlesLawMean(16, 122_100)).toBe(0.131);
    expect(littlesLawMean(1, 0)).toBe(Infinity);
  });
});
