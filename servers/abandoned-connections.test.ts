// What happens to the requests of a client that goes away. A reset can come at
// any moment, also while the thread serving that client is inside the shared
// store, or while thousands of its pipelined requests still wait. The rule:
// whatever the client's thread was doing, the store stays usable and correct
// for everyone else, and a dead connection's queue is not executed.

import { describe, expect, it } from 'vitest';
import { MODELS } from './config.js';
import { LineClient, pause, rawConnection, withServer } from './test-support/server-process.js';

/** A client that pipelines `count` large SETs in one write, waits for the first reply, then resets the connection. */
async function resetWhileWriting(port: number, count: number, valueBytes: number): Promise<void> {
  const socket = await rawConnection(port);
  const value = 'v'.repeat(valueBytes);
  const firstReply = new Promise<void>((resolve) => socket.once('data', () => resolve()));
  const requests: string[] = [];
  for (let i = 0; i < count; i++) requests.push(`SET k${i % 1000} ${value}\n`);
  socket.write(requests.join(''));
  await firstReply;
  socket.resetAndDestroy();
}

describe('the per-connection model when a client resets while its thread writes to the store', () => {
  it('answers a new client within 2 s after each of 30 resets in the middle of 20,000 pipelined 3 KB SETs', async () => {
    await withServer('per-connection', ['--store-mb=8'], async (server) => {
      for (let trial = 0; trial < 30; trial++) {
        await resetWhileWriting(server.port, 20_000, 3000);
        const probe = await LineClient.connect(server.port);
        const reply = await probe.request('GET k1', 2000);
        expect(reply, `trial ${trial}`).toMatch(/^(VALUE v{3000}|NIL)$/);
        expect(await probe.request('PING', 2000), `trial ${trial}`).toBe('PONG');
        probe.close();
      }
    });
  }, 120_000);
});

describe('the per-connection model when a client resets during a long WORK', () => {
  it('terminates the worker that cannot stop by itself, and goes on serving with the store intact', async () => {
    await withServer('per-connection', [], async (server) => {
      const writer = await LineClient.connect(server.port);
      expect(await writer.request('SET kept before')).toBe('OK');
      const worker = await rawConnection(server.port);
      // About half a minute of hashing: the thread cannot look at its flag meanwhile.
      worker.write('WORK 10000000\n');
      await pause(300);
      worker.resetAndDestroy();
      const workers = async () => JSON.parse((await writer.request('STATS'))!).workers;
      await expect.poll(workers, { timeout: 5000, interval: 200 }).toBe(1);
      expect(await writer.request('GET kept')).toBe('VALUE before');
      expect(await writer.request('SET kept after')).toBe('OK');
      writer.close();
    });
  });
});

describe.each(MODELS)('the %s model when a client resets with requests still queued', (model) => {
  it('stops executing the queue of a connection that is gone', async () => {
    await withServer(model, [], async (server) => {
      const socket = await rawConnection(server.port);
      // Each pair takes at least 20 ms: 400 of them would run for 8 s after the reset.
      socket.write('SLEEP 20\nINCR dead:queue\n'.repeat(400));
      await pause(300);
      socket.resetAndDestroy();
      await pause(200);
      const probe = await LineClient.connect(server.port);
      const first = counterValue(await probe.request('GET dead:queue', 5000));
      await pause(600);
      const later = counterValue(await probe.request('GET dead:queue', 5000));
      probe.close();
      expect(first).toBeLessThan(400);
      expect(later - first, `the queue ran on after the reset: ${first} then ${later}`).toBeLessThanOrEqual(1);
    });
  }, 30_000);
});

function counterValue(reply: string | null): number {
  if (reply === 'NIL') return 0;
  const match = /^VALUE (\d+)$/.exec(reply ?? '');
  if (!match) throw new Error(`not a counter reply: ${reply}`);
  return Number(match[1]);
}
