// The STATS sampler against a real server model (`npm test` builds dist/ first).

import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerHandle } from './server-process.js';
import { parseStatsLine, StatsSampler, takeStats } from './stats-sampler.js';
import { startLabServer } from './test-support/lab-server.js';

const servers: ServerHandle[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function startAsync(): Promise<ServerHandle & { port: number }> {
  const server = await startLabServer('async');
  servers.push(server);
  return server as ServerHandle & { port: number };
}

/** A port that was free a moment ago: nothing listens on it. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('StatsSampler', () => {
  it('asks a running server for STATS every 500 ms over one connection and keeps each reply parsed, on the clock it was given', async () => {
    const server = await startAsync();
    const origin = performance.now();
    const sampler = await new StatsSampler({ host: server.host, port: server.port, clock: () => performance.now() - origin }).start();
    await new Promise((r) => setTimeout(r, 1200));
    const { samples, problems } = sampler.stop();
    expect(problems).toEqual([]);
    expect(samples.length).toBeGreaterThanOrEqual(2);
    for (const s of samples) {
      expect(s.stats).toMatchObject({ model: 'async', pid: server.pid });
      expect(typeof s.stats.uptimeMs).toBe('number');
    }
    const times = samples.map((s) => s.tMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[times.length - 1] - times[0]).toBeGreaterThanOrEqual(400);
    // One connection for the whole run, however many samples.
    expect((samples[samples.length - 1].stats.connections as { total: number }).total).toBe(1);
  });

  it('reports a server that goes away mid-run as a problem in words, keeping what it sampled, instead of throwing', async () => {
    const server = await startAsync();
    const sampler = await new StatsSampler({ host: server.host, port: server.port, intervalMs: 100 }).start();
    await new Promise((r) => setTimeout(r, 250));
    await server.stop();
    const { samples, problems } = sampler.stop();
    expect(samples.length).toBeGreaterThanOrEqual(1);
    expect(problems.join('\n')).toMatch(/STATS connection/);
  });

  it('refuses to start, with the address in the reason, when nothing listens', async () => {
    const port = await closedPort();
    await expect(new StatsSampler({ host: '127.0.0.1', port }).start()).rejects.toThrow(new RegExp(`could not connect to 127\\.0\\.0\\.1:${port}`));
  });
});

describe('takeStats', () => {
  it('asks once over a fresh connection and returns the parsed reply', async () => {
    const server = await startAsync();
    expect(await takeStats(server.host, server.port, 1500)).toMatchObject({ model: 'async' });
  });

  it('gives up after its timeout on a server that accepts but never answers', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      await expect(takeStats('127.0.0.1', port, 200)).rejects.toThrow(/no reply to STATS within 200 ms/);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('parseStatsLine', () => {
  it('accepts a JSON object and refuses an error reply, non-JSON and non-objects with what came back', () => {
    expect(parseStatsLine('{"model":"pool","queueDepth":3}')).toEqual({ model: 'pool', queueDepth: 3 });
    expect(() => parseStatsLine('ERR server busy')).toThrow(/answered with "ERR server busy"/);
    expect(() => parseStatsLine('PONG')).toThrow(/not JSON/);
    expect(() => parseStatsLine('[1,2]')).toThrow(/not a JSON object/);
  });
});
