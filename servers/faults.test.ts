// Overload, worker faults and shutdown. Whatever goes wrong, the server keeps
// serving the others, says so with an ERR, and loses no write it acknowledged.

import { describe, expect, it } from 'vitest';
import { MODELS } from './config.js';
import { LineClient, pause, residentMiB, startServerProcess, withServer } from './test-support/server-process.js';

describe.each(MODELS)('the %s model when a request fails', (model) => {
  it('answers ERR internal error to a request whose thread crashes, then goes on serving the connection and the store', async () => {
    await withServer(model, ['--test-hooks', '--workers=2'], async (server) => {
      const client = await LineClient.connect(server.port);
      client.send('SET fault:before kept');
      expect(await client.readLine()).toBe('OK');
      expect(await client.request('DEBUG CRASH')).toBe('ERR internal error');
      client.send('SET fault:after also', 'GET fault:before', 'GET fault:after', 'DEBUG THROW', 'PING');
      expect(await client.readLines(5)).toEqual(['OK', 'VALUE kept', 'VALUE also', 'ERR internal error', 'PONG']);
      const stats = JSON.parse((await client.request('STATS'))!);
      expect(stats.errors).toBe(2);
      if (model === 'pool') expect(stats.workers).toBe(2);
      if (model === 'per-connection') expect(stats.workers).toBe(1);
      client.close();
    });
  });

  it('refuses DEBUG as an unknown command unless the server runs with --test-hooks', async () => {
    await withServer(model, [], async (server) => {
      const client = await LineClient.connect(server.port);
      expect(await client.request('DEBUG CRASH')).toBe("ERR unknown command 'DEBUG'");
      expect(await client.request('PING')).toBe('PONG');
      client.close();
    });
  });
});

describe('the pool model shedding a flood', () => {
  it('answers the excess ERR server busy at once while memory stays flat', async () => {
    await withServer('pool', ['--workers=1', '--queue=2'], async (server) => {
      const clients = await Promise.all(Array.from({ length: 50 }, () => LineClient.connect(server.port)));
      const baseline = residentMiB(server.pid);
      let shed = 0;
      let served = 0;
      for (let round = 0; round < 20; round++) {
        const replies = await Promise.all(clients.map((client) => client.request('SLEEP 5')));
        shed += replies.filter((reply) => reply === 'ERR server busy').length;
        served += replies.filter((reply) => reply === 'OK').length;
      }
      const after = residentMiB(server.pid);
      expect(shed + served).toBe(1000);
      expect(shed).toBeGreaterThan(500);
      expect(after - baseline).toBeLessThan(30);
      const stats = JSON.parse((await clients[0].request('STATS'))!);
      expect(stats.busyRejections).toBe(shed);
      for (const client of clients) client.close();
      console.info(`pool flood: ${served} served, ${shed} shed; RSS ${baseline.toFixed(0)} -> ${after.toFixed(0)} MiB`);
    });
  });
});

describe.each(MODELS)('the %s model on SIGTERM under load', (model) => {
  it('answers every request already read from 64 clients, refuses new connections, and exits 0 within the deadline', async () => {
    const server = await startServerProcess(model, '--shutdown-timeout=5000', '--max-workers=64');
    const clients = await Promise.all(Array.from({ length: 64 }, () => LineClient.connect(server.port)));
    // Warm up (per-connection: 64 thread starts), except on blocking, which would serve only the first.
    if (model !== 'blocking') await Promise.all(clients.map((client) => client.request('PING', 60_000)));
    // 64 SLEEP 50s: about 1.6 s of work for the default pool of two workers, well inside the deadline.
    clients.forEach((client, i) => client.send(`SET shutdown:${i} ${i}`, 'SLEEP 50', `GET shutdown:${i}`));
    await pause(100);
    const started = performance.now();
    const exit = server.stop('SIGTERM');
    const replies = await Promise.all(clients.map((client) => client.readLines(4)));
    // A process that overran --shutdown-timeout would exit 1 and reset the rest.
    expect(await exit).toBe(0);
    expect(performance.now() - started).toBeLessThan(5000);
    await expect(LineClient.connect(server.port)).rejects.toThrow(/ECONNREFUSED/);
    replies.forEach((lines, i) => {
      // The blocking model reads one connection at a time: the others had nothing read and are simply closed.
      const answered = lines[0] !== null;
      if (model !== 'blocking' || i === 0) expect(answered).toBe(true);
      if (answered) expect(lines).toEqual(['OK', 'OK', `VALUE ${i}`, null]);
      else expect(lines).toEqual([null, null, null, null]);
    });
  }, 90_000);
});
