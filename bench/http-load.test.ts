// The HTTP load runner against real server models, started from dist/ (`npm
// test` builds it first), each with only its HTTP front.

import { describe, expect, it } from 'vitest';
import { kvPath, latencyFromAutocannon, runHttpLoad, type HttpLoadOptions } from './http-load.js';
import { withHttpServer } from './test-support/lab-server.js';

function options(url: string, overrides: Partial<HttpLoadOptions>): HttpLoadOptions {
  return {
    tool: 'autocannon',
    url,
    workload: 'echo',
    connections: 4,
    durationSec: 1,
    warmupSec: 0.2,
    timeoutSec: 2,
    pipeline: 1,
    size: 64,
    readRatio: 0.9,
    keys: 200,
    keyDistribution: 'uniform',
    work: 100,
    sleepMs: 10,
    ...overrides,
  };
}

describe('runHttpLoad', () => {
  it('drives POST /echo on every connection, checks each body, and records autocannon latency in whole milliseconds', async () => {
    const load = await withHttpServer('async', (url) => runHttpLoad(options(url, {})));
    expect(load.ok).toBeGreaterThan(100);
    expect(load.errors.total).toBe(0);
    expect(load.statusCounts).toEqual({ 200: load.ok });
    expect(load.perConnection.counts).toHaveLength(4);
    expect(load.perConnection.counts.every((n) => n > 0)).toBe(true);
    for (const value of [load.latency.p50Us, load.latency.p99Us, load.latency.maxUs]) expect(value % 1000).toBe(0);
    expect(load.responseTimeUs.p50Us).toBeGreaterThan(0);
    expect(load.responseTimeUs.p50Us).toBeLessThanOrEqual(load.responseTimeUs.p99Us);
    expect(load.throughput.requestsPerSec).toBeCloseTo(load.ok / load.measuredSec, 6);
    expect(load.timeline.reduce((sum, t) => sum + t.requests, 0)).toBe(load.ok);
    expect(load.autocannon).toMatchObject({ errors: 0, timeouts: 0, non2xx: 0 });
  }, 20_000);

  it('fills the keyspace, then mixes GET and PUT on percent-encoded keys, and every GET returns a value this run wrote', async () => {
    const load = await withHttpServer('pool', (url) => runHttpLoad(options(url, { workload: 'kv' })));
    expect(load.ok).toBeGreaterThan(50);
    expect(load.errors).toMatchObject({ wrongReply: 0, errReply: 0, total: 0 });
    expect(kvPath(17)).toBe('/kv/key%3A17');
  }, 20_000);

  it('checks WORK digests and SLEEP answers over HTTP', async () => {
    await withHttpServer('pool', async (url) => {
      const cpu = await runHttpLoad(options(url, { workload: 'cpu', durationSec: 0.5, warmupSec: 0 }));
      const sleep = await runHttpLoad(options(url, { workload: 'sleep', durationSec: 0.5, warmupSec: 0 }));
      expect(cpu.ok).toBeGreaterThan(0);
      expect(cpu.errors.total).toBe(0);
      expect(sleep.ok).toBeGreaterThan(0);
      expect(sleep.errors.total).toBe(0);
      // Each connection waits 10 ms per SLEEP; autocannon rounds down, so p50 reads 10 ms or a little more.
      expect(sleep.latency.p50Us).toBeGreaterThanOrEqual(10_000);
    });
  }, 20_000);

  it('shows the blocking model serving only the first keep-alive connection, the others timing out, and still ends on time', async () => {
    const began = Date.now();
    const load = await withHttpServer('blocking', (url) =>
      runHttpLoad(options(url, { connections: 3, durationSec: 2.5, warmupSec: 0, timeoutSec: 1 })),
    );
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(load.perConnection.counts.filter((n) => n > 0)).toHaveLength(1);
    expect(load.perConnection.jainFairness).toBeCloseTo(1 / 3, 2);
    expect(load.errors.timeout).toBeGreaterThanOrEqual(2);
    expect(load.ok).toBeGreaterThan(100);
  }, 20_000);

  it('targets only the loopback address', async () => {
    await expect(runHttpLoad(options('http://10.0.0.1:80', {}))).rejects.toThrow(/only targets 127\.0\.0\.1/);
  });
});

describe('latencyFromAutocannon', () => {
  it("turns autocannon's whole-millisecond percentiles into the shared µs summary and distribution", () => {
    const summary = latencyFromAutocannon({ min: 0, p50: 0, p90: 1, p99: 7, p99_9: 12, max: 23, mean: 0.34, p2_5: 0, p97_5: 4 });
    expect(summary).toMatchObject({ p50Us: 0, p90Us: 1000, p99Us: 7000, p999Us: 12000, maxUs: 23000, meanUs: 340 });
    expect(summary.distribution.map((d) => d.percentile)).toEqual([0, 2.5, 50, 90, 97.5, 99, 99.9, 100]);
  });
});
