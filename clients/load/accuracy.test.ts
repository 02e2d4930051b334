// Is the instrument right? These run the generator against real server
// processes and check what it reports against what is known to have happened.
// Bounds are behavioural and generous: the machine has two busy cores.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeHistogram } from './histogram.js';
import { runLoad } from './index.js';
import { defaultLoadOptions, type LoadOptions, type LoadResult } from './types.js';
import { realServerAvailable, startFakeServer, startLabServer, type TestServer } from './test-support/servers.js';

function options(port: number, overrides: Partial<LoadOptions>): LoadOptions {
  return { ...defaultLoadOptions, port, connections: 4, warmupSec: 0.2, durationSec: 1, timeoutMs: 5000, ...overrides };
}

/** How many good replies took at least `us` microseconds, read from the run's full histogram. */
function countAtLeast(result: LoadResult, us: number): number {
  const histogram = decodeHistogram(result.latencyHistogram) as unknown as {
    recordedValuesIterator: { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAtValueIteratedTo: number } };
  };
  const iterator = histogram.recordedValuesIterator;
  iterator.reset();
  let count = 0;
  while (iterator.hasNext()) {
    const step = iterator.next();
    if (step.valueIteratedTo >= us) count += step.countAtValueIteratedTo;
  }
  return count;
}

/** The server's count of connections accepted so far, from STATS. */
function connectionsServed(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('STATS\n'));
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (!text.includes('\n')) return;
      socket.end();
      resolve((JSON.parse(text.slice(0, text.indexOf('\n'))) as { connections: { total: number } }).connections.total);
    });
    socket.on('error', reject);
  });
}

/** Run `load` while the server is frozen (SIGSTOP) from `atMs` after the call for `forMs`. */
async function withServerPaused(server: TestServer, atMs: number, forMs: number, load: () => Promise<LoadResult>) {
  const stop = setTimeout(() => server.process.kill('SIGSTOP'), atMs);
  const resume = setTimeout(() => server.process.kill('SIGCONT'), atMs + forMs);
  try {
    return await load();
  } finally {
    clearTimeout(stop);
    clearTimeout(resume);
    server.process.kill('SIGCONT');
  }
}

describe('load generator accuracy against the async server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startLabServer('async');
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('reports a median between 20 and 25 ms for SLEEP 20, with every reply checked and no errors', async () => {
    const result = await runLoad(options(server.port, { workload: 'sleep', sleepMs: 20, durationSec: 1.5 }));
    expect(result.errors.total).toBe(0);
    expect(result.ok).toBeGreaterThan(100);
    expect(result.latency.p50Us).toBeGreaterThanOrEqual(20_000);
    expect(result.latency.p50Us).toBeLessThanOrEqual(25_000);
  });

  it('delivers a fixed open-loop rate within 5 % with evenly spaced arrivals: sends at it, and every request due in the window is answered', async () => {
    const result = await runLoad(options(server.port, { rate: 500, durationSec: 2, arrivals: 'uniform' }));
    expect(result.errors.total).toBe(0);
    expect(result.ok).toBeGreaterThanOrEqual(999);
    expect(result.ok).toBeLessThanOrEqual(1001);
    for (const rate of [result.openLoop!.sentRate, result.openLoop!.achievedRate]) {
      expect(rate).toBeGreaterThanOrEqual(475);
      expect(rate).toBeLessThanOrEqual(525);
    }
  });

  it('sends the same rate on average with Poisson arrivals, the default, and records which arrivals it used', async () => {
    const result = await runLoad(options(server.port, { rate: 500, durationSec: 2 }));
    expect(result.options.arrivals).toBe('poisson');
    expect(result.openLoop!.arrivals).toBe('poisson');
    expect(result.openLoop!.mode).toBe('idle');
    expect(result.errors.total).toBe(0);
    // 1,000 requests expected; a Poisson count has a standard deviation of about 32.
    expect(result.ok).toBeGreaterThan(880);
    expect(result.ok).toBeLessThan(1120);
  });

  it('keeps one request per connection in open loop, unless told to pipeline', async () => {
    const result = await runLoad(options(server.port, { rate: 2000, durationSec: 1, connections: 8 }));
    expect(result.errors.total).toBe(0);
    expect(result.openLoop!.waitedForConnection).toBeLessThan(result.ok / 10);
    const pipelined = await runLoad(options(server.port, { rate: 2000, durationSec: 1, connections: 8, openLoopMode: 'pipelined' }));
    expect(pipelined.openLoop!.mode).toBe('pipelined');
    expect(pipelined.openLoop!.waitedForConnection).toBe(0);
  });

  it('checks kv GETs against the values this run wrote, with connections on two threads writing the same keys', async () => {
    const result = await runLoad(
      options(server.port, { workload: 'kv', keys: 50, readRatio: 0.5, connections: 6, threads: 2, keyDistribution: 'zipfian' }),
    );
    expect(result.client.threads).toBe(2);
    expect(result.ok).toBeGreaterThan(500);
    expect(result.errors.total).toBe(0);
    expect(result.perConnection.counts).toHaveLength(6);
    expect(result.perConnection.counts.every((count) => count > 0)).toBe(true);
  });

  it('stops after exactly --requests measured requests, even spread over threads and pipelined', async () => {
    const result = await runLoad(options(server.port, { requests: 777, durationSec: undefined, threads: 2, pipeline: 8 }));
    expect(result.requests).toBe(777);
    expect(result.ok).toBe(777);
    expect(result.perConnection.counts.reduce((a, b) => a + b, 0)).toBe(777);
  });

  it('opens a new connection for every request with --reconnect', async () => {
    const before = await connectionsServed(server.port);
    const result = await runLoad(options(server.port, { reconnect: true, requests: 200, durationSec: undefined, warmupSec: 0 }));
    const after = await connectionsServed(server.port);
    expect(result.ok).toBe(200);
    expect(result.errors.total).toBe(0);
    // 200 requests, plus the PING check and the STATS connection itself.
    expect(after - before).toBeGreaterThanOrEqual(201);
    expect(after - before).toBeLessThanOrEqual(203);
  });

  it('counts a request with no reply within the timeout as a timeout', async () => {
    const result = await runLoad(
      options(server.port, { workload: 'sleep', sleepMs: 1000, timeoutMs: 200, warmupSec: 0, durationSec: 0.5, connections: 2 }),
    );
    expect(result.ok).toBe(0);
    expect(result.errors.timeout).toBeGreaterThanOrEqual(2);
  });
});

describe('a server frozen for one second mid-run (SIGSTOP, then SIGCONT)', () => {
  const pauseMs = 1000;
  let server: TestServer;
  beforeAll(async () => {
    server = await startLabServer('async');
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('shows in open-loop p99 as at least the pause, because latency runs from the scheduled send time', async () => {
    const result = await withServerPaused(server, 1200, pauseMs, () => runLoad(options(server.port, { rate: 200, warmupSec: 0.5, durationSec: 3 })));
    expect(result.errors.total).toBe(0);
    expect(result.latency.p99Us).toBeGreaterThanOrEqual(0.9 * pauseMs * 1000);
    // A fifth of the requests were due during the pause and all waited on it.
    expect(countAtLeast(result, 0.5 * pauseMs * 1000)).toBeGreaterThan(50);
  });

  it('counts the requests a long stall times out in the latency, at no less than the timeout, so they cannot flatter it', async () => {
    // 3 s frozen in a 6 s run at 4,000 req/s, with a 1 s timeout: a third of the requests wait at least a second.
    const result = await withServerPaused(server, 2200, 3000, () =>
      runLoad(options(server.port, { rate: 4000, connections: 16, warmupSec: 0.5, durationSec: 6, timeoutMs: 1000 })),
    );
    expect(result.errors.timeout).toBeGreaterThan(3000);
    expect(result.latency.timeouts).toBeGreaterThan(3000);
    expect(result.latency.p90Us).toBeGreaterThanOrEqual(1_000_000);
    console.info(
      `stall of 3 s at 4,000 req/s: ${result.errors.timeout} timeouts, p50 ${result.latency.p50Us} µs, p90 ${result.latency.p90Us} µs, ` +
        `client CPU ${result.client.cpuPercent} %`,
    );
  }, 30_000);

  it('is hidden by closed loop: at most one request per connection sees it, and p99 stays far below it', async () => {
    const connections = 4;
    const result = await withServerPaused(server, 1200, pauseMs, () =>
      runLoad(options(server.port, { connections, warmupSec: 0.5, durationSec: 3 })),
    );
    expect(result.errors.total).toBe(0);
    // The stall did happen to the requests in flight when it began...
    expect(result.latency.maxUs).toBeGreaterThanOrEqual(0.9 * pauseMs * 1000);
    expect(countAtLeast(result, 0.9 * pauseMs * 1000)).toBeLessThanOrEqual(connections);
    // ...but the percentiles, made of the many requests sent while nothing was stalled, barely notice.
    expect(result.latency.p99Us).toBeLessThan(0.25 * pauseMs * 1000);
  });
});

describe.skipIf(!realServerAvailable())('errors the server reports on purpose', () => {
  it('counts ERR server busy from a full pool queue as busy, and keeps those fast refusals out of the latency', async () => {
    const server = await startLabServer('pool', ['--workers=1', '--queue=1']);
    try {
      const result = await runLoad(options(server.port, { workload: 'sleep', sleepMs: 50, connections: 6, warmupSec: 0, durationSec: 0.6 }));
      expect(result.errors.busy).toBeGreaterThan(0);
      expect(result.errors.errReply).toBe(0);
      expect(result.ok).toBeGreaterThan(0);
      // Every good reply waited for at least its own SLEEP 50.
      expect(result.latency.p50Us).toBeGreaterThanOrEqual(50_000);
    } finally {
      await server.stop();
    }
  });

  it('counts connections turned away with ERR max connections as refused, and serves the rest', async () => {
    const server = await startLabServer('async', ['--max-connections=2']);
    try {
      const result = await runLoad(options(server.port, { connections: 4, warmupSec: 0, durationSec: 0.5 }));
      expect(result.errors.refused).toBeGreaterThan(0);
      expect(result.perConnection.counts.filter((count) => count > 0)).toHaveLength(2);
    } finally {
      await server.stop();
    }
  });
});

describe('reply checking', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startFakeServer(['--wrong-echo']);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('counts an ECHO answered with the wrong payload as a wrong reply, not as a success', async () => {
    const result = await runLoad(options(server.port, { workload: 'echo', requests: 100, durationSec: undefined, connections: 2, warmupSec: 0 }));
    expect(result.ok).toBe(0);
    expect(result.errors.wrongReply).toBe(100);
    expect(result.errors.total).toBe(100);
    expect(result.latency.p50Us).toBe(0);
  });
});
