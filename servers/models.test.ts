// What each model does differently. The protocol suite shows the four models
// give the same answers; these tests pin down the behaviour that sets them
// apart, with bounds generous enough for a busy two-core machine. (How fast
// each model is belongs to the benchmark suite, not here.)

import { describe, expect, it } from 'vitest';
import { LineClient, withServer } from './test-support/server-process.js';

/**
 * Connects `count` clients first, then has each send one request at the same
 * moment; resolves with the elapsed ms. With `warm`, each client is answered a
 * PING first, so that a model's per-connection set-up (starting a thread) is
 * not part of the time.
 */
async function timeConcurrent(
  port: number,
  count: number,
  request: string,
  warm = false,
): Promise<{ elapsedMs: number; replies: (string | null)[] }> {
  const clients = await Promise.all(Array.from({ length: count }, () => LineClient.connect(port)));
  if (warm) await Promise.all(clients.map((client) => client.request('PING')));
  const started = performance.now();
  const replies = await Promise.all(clients.map((client) => client.request(request).finally(() => client.close())));
  return { elapsedMs: performance.now() - started, replies };
}

describe('eight clients each sending SLEEP 200 at once', () => {
  it('overlap on the async model: the loop waits on eight timers at once, well under a second', async () => {
    const { elapsedMs, replies } = await withServer('async', [], ({ port }) => timeConcurrent(port, 8, 'SLEEP 200', true));
    expect(replies).toEqual(Array(8).fill('OK'));
    expect(elapsedMs).toBeLessThan(800);
  });

  it('overlap on the per-connection model: each connection blocks only its own thread', async () => {
    const { elapsedMs, replies } = await withServer('per-connection', [], ({ port }) => timeConcurrent(port, 8, 'SLEEP 200', true));
    expect(replies).toEqual(Array(8).fill('OK'));
    expect(elapsedMs).toBeLessThan(800);
  });

  it('run two at a time on pool --workers=2: four rounds, about 800 ms', async () => {
    const { elapsedMs, replies } = await withServer('pool', ['--workers=2'], ({ port }) => timeConcurrent(port, 8, 'SLEEP 200', true));
    expect(replies).toEqual(Array(8).fill('OK'));
    expect(elapsedMs).toBeGreaterThanOrEqual(780);
    expect(elapsedMs).toBeLessThan(1500);
  });

  it('run one after another on the blocking model: at least 1.6 s', async () => {
    const { elapsedMs, replies } = await withServer('blocking', [], ({ port }) => timeConcurrent(port, 8, 'SLEEP 200'));
    expect(replies).toEqual(Array(8).fill('OK'));
    expect(elapsedMs).toBeGreaterThanOrEqual(1590);
  });
});

describe('the blocking model', () => {
  it('leaves a second connection unanswered until the first one closes', async () => {
    await withServer('blocking', [], async ({ port }) => {
      const first = await LineClient.connect(port);
      expect(await first.request('PING')).toBe('PONG');
      const second = await LineClient.connect(port);
      second.send('PING');
      await expect(second.readLine(300)).rejects.toThrow(/timed out/);
      first.close();
      expect(await second.readLine()).toBe('PONG');
      second.close();
    });
  });
});

describe('the async model', () => {
  it('stalls every connection while one computes WORK: a PING waits for the WORK to finish', async () => {
    await withServer('async', [], async ({ port }) => {
      const worker = await LineClient.connect(port);
      const pinger = await LineClient.connect(port);
      const workDone = worker.request('WORK 300000').then(() => performance.now());
      await new Promise((resolve) => setTimeout(resolve, 20));
      const pongAt = await pinger.request('PING').then(() => performance.now());
      expect(pongAt).toBeGreaterThanOrEqual((await workDone) - 5);
      worker.close();
      pinger.close();
    });
  });
});

describe('the per-connection model', () => {
  it('shows one live worker per open connection in STATS, and ends a worker when its connection closes', async () => {
    await withServer('per-connection', [], async ({ port }) => {
      const clients = await Promise.all([1, 2, 3].map(() => LineClient.connect(port)));
      for (const client of clients) expect(await client.request('PING')).toBe('PONG');
      expect(JSON.parse((await clients[0].request('STATS'))!).workers).toBe(3);
      clients[1].close();
      clients[2].close();
      await expect.poll(async () => JSON.parse((await clients[0].request('STATS'))!).workers, { timeout: 5000 }).toBe(1);
      clients[0].close();
    });
  });
});

describe('the pool model', () => {
  it('answers ERR server busy at once when every worker is busy and the queue is full', async () => {
    await withServer('pool', ['--workers=1', '--queue=1'], async ({ port }) => {
      const running = await LineClient.connect(port);
      const queued = await LineClient.connect(port);
      const refused = await LineClient.connect(port);
      const first = running.request('SLEEP 600');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const second = queued.request('SLEEP 10');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = performance.now();
      expect(await refused.request('SLEEP 10')).toBe('ERR server busy');
      expect(performance.now() - started).toBeLessThan(300);
      expect(await first).toBe('OK');
      expect(await second).toBe('OK');
      const stats = JSON.parse((await refused.request('STATS'))!);
      expect(stats.busyRejections).toBe(1);
      expect(stats.workers).toBe(1);
      for (const client of [running, queued, refused]) client.close();
    });
  });

  it('with --offload=heavy answers PING on the loop while every worker sleeps', async () => {
    await withServer('pool', ['--workers=1', '--offload=heavy'], async ({ port }) => {
      const sleeper = await LineClient.connect(port);
      const pinger = await LineClient.connect(port);
      const sleeping = sleeper.request('SLEEP 500');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = performance.now();
      expect(await pinger.request('PING')).toBe('PONG');
      expect(performance.now() - started).toBeLessThan(300);
      expect(await sleeping).toBe('OK');
      sleeper.close();
      pinger.close();
    });
  });

  it('with --offload=all makes even a PING wait for a free worker', async () => {
    await withServer('pool', ['--workers=1', '--offload=all'], async ({ port }) => {
      const sleeper = await LineClient.connect(port);
      const pinger = await LineClient.connect(port);
      const sleepDone = sleeper.request('SLEEP 400').then(() => performance.now());
      await new Promise((resolve) => setTimeout(resolve, 50));
      const pongAt = await pinger.request('PING').then(() => performance.now());
      expect(pongAt).toBeGreaterThanOrEqual((await sleepDone) - 5);
      sleeper.close();
      pinger.close();
    });
  });
});
