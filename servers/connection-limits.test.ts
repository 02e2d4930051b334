// The limits that keep one connection from holding what others need: the
// idle timeout, the output limit, and the full close of a connection the
// server has ended. Each test here once failed on some model: the idle timer
// switched itself off after firing on a busy connection, per-connection
// executed every relayed request whatever the client had left unread, and a
// connection the server ended stayed half open for as long as its client
// liked, on blocking holding the only thread.

import { describe, expect, it } from 'vitest';
import { MODELS } from './config.js';
import { LineClient, pause, rawConnection, residentMiB, startServerProcess, withServer } from './test-support/server-process.js';

describe.each(MODELS)('the %s model with --idle-timeout', (model) => {
  it('still closes a connection that goes quiet after a request that outlasted the timeout', async () => {
    await withServer(model, ['--idle-timeout=300'], async (server) => {
      const client = await LineClient.connect(server.port);
      expect(await client.request('SLEEP 600')).toBe('OK');
      const quietFrom = performance.now();
      expect(await client.readLines(2)).toEqual(['ERR idle timeout', null]);
      expect(performance.now() - quietFrom).toBeLessThan(3000);
    });
  });

  it('closes a half line within a few timeouts, however short the timeout is', async () => {
    for (const timeout of [2, 20]) {
      await withServer(model, [`--idle-timeout=${timeout}`], async (server) => {
        const client = await LineClient.connect(server.port);
        client.write('SET half');
        expect(await client.readLines(2), `--idle-timeout=${timeout}`).toEqual(['ERR idle timeout', null]);
      });
    }
  });
});

describe.each(MODELS)('the %s model with a client that asks for large replies and reads none', (model) => {
  it('stops executing near --max-output, keeps its memory bounded, and answers all once the client reads', async () => {
    await withServer(model, ['--max-output=1048576'], async (server) => {
      const writer = await LineClient.connect(server.port);
      expect(await writer.request(`SET big ${'v'.repeat(60_000)}`)).toBe('OK');
      writer.close();
      const baseline = residentMiB(server.pid);
      const greedy = await rawConnection(server.port);
      greedy.pause();
      const requests = 1500;
      greedy.write('GET big\n'.repeat(requests));
      await pause(1500);
      const grown = residentMiB(server.pid) - baseline;
      // 1,500 replies of 60 KB are 90 MB: bounded means a small part of that.
      expect(grown, `grew ${grown.toFixed(0)} MiB`).toBeLessThan(40);
      const replies = await readAllLines(greedy, requests);
      expect(replies.every((reply) => reply === `VALUE ${'v'.repeat(60_000)}`)).toBe(true);
      greedy.destroy();
      console.info(`${model}: 1,500 GETs of 60 KB unread; RSS grew ${grown.toFixed(1)} MiB`);
    });
  }, 60_000);
});

describe.each(['per-connection', 'pool', 'async'] as const)('the %s model counting what a greedy client made it execute', (model) => {
  it('executes only about --max-output worth of large GETs while the client reads nothing', async () => {
    await withServer(model, ['--max-output=1048576'], async (server) => {
      const observer = await LineClient.connect(server.port);
      expect(await observer.request(`SET big ${'v'.repeat(60_000)}`)).toBe('OK');
      const before = JSON.parse((await observer.request('STATS'))!).requests;
      const greedy = await rawConnection(server.port);
      greedy.pause();
      greedy.write('GET big\n'.repeat(1500));
      await pause(1500);
      const executed = JSON.parse((await observer.request('STATS'))!).requests - before - 1;
      expect(executed, `executed ${executed} of 1,500`).toBeLessThan(300);
      console.info(`${model}: executed ${executed} of 1,500 unread GETs of 60 KB`);
      greedy.destroy();
      observer.close();
    });
  });
});

async function readAllLines(socket: import('node:net').Socket, count: number): Promise<string[]> {
  const lines: string[] = [];
  let leftover = '';
  socket.setEncoding('latin1');
  await new Promise<void>((resolve) => {
    socket.on('data', (text: string) => {
      const parts = (leftover + text).split('\n');
      leftover = parts.pop()!;
      lines.push(...parts);
      if (lines.length >= count) resolve();
    });
    socket.resume();
  });
  return lines;
}

describe('the blocking model after a client QUITs but keeps its socket open', () => {
  it('serves the next client within a second', async () => {
    await withServer('blocking', [], async (server) => {
      const quitter = await LineClient.connect(server.port, '127.0.0.1', { halfOpen: true });
      expect(await quitter.request('QUIT')).toBe('BYE');
      const next = await LineClient.connect(server.port);
      const started = performance.now();
      expect(await next.request('PING', 5000)).toBe('PONG');
      expect(performance.now() - started).toBeLessThan(1000);
      next.close();
      quitter.close();
    });
  });

  it('serves the next client within a second when the first one keeps writing after QUIT', async () => {
    await withServer('blocking', [], async (server) => {
      const quitter = await LineClient.connect(server.port, '127.0.0.1', { halfOpen: true });
      expect(await quitter.request('QUIT')).toBe('BYE');
      const chatter = setInterval(() => quitter.write('PING\n'), 20);
      const next = await LineClient.connect(server.port);
      const started = performance.now();
      expect(await next.request('PING', 5000)).toBe('PONG');
      expect(performance.now() - started).toBeLessThan(1000);
      clearInterval(chatter);
      next.close();
      quitter.close();
    });
  });
});

describe.each(MODELS)('the %s model closing connections it has ended', (model) => {
  it('closes the connection after ERR line too long even though the client keeps its side open', async () => {
    await withServer(model, ['--max-line=64'], async (server) => {
      const client = await LineClient.connect(server.port, '127.0.0.1', { halfOpen: true });
      client.write(`ECHO ${'x'.repeat(100)}\n`);
      expect(await client.readLine()).toBe('ERR line too long');
      await pause(600);
      // A socket the server has closed answers the client's bytes with a reset, which the write after shows.
      const knocking = setInterval(() => client.write('PING\n'), 100);
      const closed = await Promise.race([client.closed.then(() => true), pause(2000).then(() => false)]);
      clearInterval(knocking);
      expect(closed, 'the server still held the connection open').toBe(true);
    });
  });

  it('exits 0 on SIGTERM, well inside --shutdown-timeout, while 16 clients keep their sockets open', async () => {
    const server = await startServerProcess(model, '--shutdown-timeout=5000');
    const clients = await Promise.all(Array.from({ length: 16 }, () => LineClient.connect(server.port, '127.0.0.1', { halfOpen: true })));
    if (model !== 'blocking') await Promise.all(clients.map((client) => client.request('PING', 30_000)));
    const started = performance.now();
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(server.output()).not.toMatch(/longer than/);
    for (const client of clients) client.close();
  }, 60_000);
});
