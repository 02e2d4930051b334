// The protocol, as every model must speak it. The same suite runs against all
// four models, each as a real process on a free port over real TCP: passing it
// is what makes a comparison between them fair.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { MODELS } from './config.js';
import { LineClient, ServerProcess, startServerProcess } from './test-support/server-process.js';

function expectedWork(rounds: number): string {
  let digest = createHash('sha256').update('lab').digest();
  for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex');
}

describe.each(MODELS)('the %s model', (model) => {
  let server: ServerProcess;
  const clients: LineClient[] = [];

  async function connect(): Promise<LineClient> {
    const client = await LineClient.connect(server.port);
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    server = await startServerProcess(model, '--workers=2');
  });
  // The blocking model serves one connection at a time: every test closes its clients.
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('answers PING with PONG', async () => {
    const client = await connect();
    expect(await client.request('PING')).toBe('PONG');
  });

  it('treats command names case-insensitively and drops a CR before the newline', async () => {
    const client = await connect();
    client.write('ping\r\nPiNg\r\n');
    expect(await client.readLines(2)).toEqual(['PONG', 'PONG']);
  });

  it('echoes everything after "ECHO " verbatim, spaces included, and an empty line for a bare ECHO', async () => {
    const client = await connect();
    client.send('ECHO  two  spaces ', 'ECHO', 'ECHO ');
    expect(await client.readLines(3)).toEqual([' two  spaces ', '', '']);
  });

  it('stores a value with spaces, reads it back, and answers NIL for a missing key', async () => {
    const client = await connect();
    client.send(`SET ${model}:greeting hello big world`, `GET ${model}:greeting`, `GET ${model}:absent`);
    expect(await client.readLines(3)).toEqual(['OK', 'VALUE hello big world', 'NIL']);
  });

  it('deletes a key: OK when it existed, NIL when it did not', async () => {
    const client = await connect();
    client.send(`SET ${model}:gone 1`, `DEL ${model}:gone`, `DEL ${model}:gone`, `GET ${model}:gone`);
    expect(await client.readLines(4)).toEqual(['OK', 'OK', 'NIL', 'NIL']);
  });

  it('increments from a missing key as 0, and refuses a value that is not an integer', async () => {
    const client = await connect();
    client.send(`INCR ${model}:n`, `INCR ${model}:n`, `SET ${model}:word abc`, `INCR ${model}:word`);
    expect(await client.readLines(4)).toEqual(['VALUE 1', 'VALUE 2', 'OK', 'ERR value is not an integer']);
  });

  it('computes WORK n as n+1 rounds of SHA-256 from "lab"', async () => {
    const client = await connect();
    client.send('WORK 0', 'WORK 1', 'WORK 1000');
    expect(await client.readLines(3)).toEqual([`VALUE ${expectedWork(0)}`, `VALUE ${expectedWork(1)}`, `VALUE ${expectedWork(1000)}`]);
  });

  it('answers SLEEP ms with OK after at least ms milliseconds', async () => {
    const client = await connect();
    const started = performance.now();
    expect(await client.request('SLEEP 50')).toBe('OK');
    expect(performance.now() - started).toBeGreaterThanOrEqual(49);
  });

  it('reports STATS as one line of JSON naming the model and its counters', async () => {
    const client = await connect();
    const stats = JSON.parse((await client.request('STATS'))!);
    expect(stats.model).toBe(model);
    expect(stats.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(stats.connections.open).toBeGreaterThanOrEqual(1);
    expect(stats.connections.total).toBeGreaterThanOrEqual(1);
    expect(stats.requests).toBeGreaterThan(0);
    expect(typeof stats.errors).toBe('number');
    expect(typeof stats.eventLoopUtilization).toBe('number');
  });

  it('answers pipelined requests in order, executing them in the order sent', async () => {
    const client = await connect();
    client.write(`SET ${model}:k 1\nSLEEP 30\nSET ${model}:k 2\nGET ${model}:k\n`);
    expect(await client.readLines(4)).toEqual(['OK', 'OK', 'OK', 'VALUE 2']);
  });

  it('answers a thousand pipelined requests sent in one write, one reply each, in order', async () => {
    const client = await connect();
    client.write(Array.from({ length: 1000 }, (_, i) => `ECHO ${i}\n`).join(''));
    const replies = await client.readLines(1000);
    expect(replies).toEqual(Array.from({ length: 1000 }, (_, i) => String(i)));
  });

  it('replies ERR to bad requests and keeps the connection open', async () => {
    const client = await connect();
    client.send(
      '',
      'NOPE',
      'GET',
      'GET a b',
      'SET onlykey',
      'WORK -1',
      'WORK 1.5',
      'WORK 10000001',
      'SLEEP x',
      'SLEEP 60001',
      `GET ${'k'.repeat(251)}`,
      'PING extra',
    );
    const replies = await client.readLines(12);
    for (const reply of replies) expect(reply).toMatch(/^ERR /);
    expect(await client.request('PING')).toBe('PONG');
  });

  it('accepts a key of exactly 250 bytes', async () => {
    const client = await connect();
    const key = 'k'.repeat(250);
    client.send(`SET ${key} v`, `GET ${key}`);
    expect(await client.readLines(2)).toEqual(['OK', 'VALUE v']);
  });

  it('answers an over-long line with ERR line too long, after the earlier replies, then closes', async () => {
    const client = await connect();
    client.write(`PING\n${'x'.repeat(70_000)}\nPING\n`);
    expect(await client.readLines(3)).toEqual(['PONG', 'ERR line too long', null]);
  });

  it('answers QUIT with BYE and then closes the connection', async () => {
    const client = await connect();
    client.send('QUIT', 'PING');
    expect(await client.readLines(2)).toEqual(['BYE', null]);
  });

  it('still answers every request sent before the client half-closed its side', async () => {
    const client = await connect();
    client.send('SLEEP 30', 'PING');
    client.socket.end();
    expect(await client.readLines(3)).toEqual(['OK', 'PONG', null]);
  });

  it('loses no increment: 16 connections sending 200 INCR each leave the counter at 3200', async () => {
    const key = `${model}:counter`;
    const all = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const client = await connect();
        client.write(`INCR ${key}\n`.repeat(200));
        const replies = await client.readLines(200);
        client.close();
        return replies;
      }),
    );
    expect(all.flat().every((reply) => reply?.startsWith('VALUE '))).toBe(true);
    const checker = await connect();
    expect(await checker.request(`GET ${key}`)).toBe('VALUE 3200');
  });
});

describe.each(MODELS)('limits and shutdown of the %s model', (model) => {
  it('refuses a connection past --max-connections with ERR max connections, and admits again once one leaves', async () => {
    const server = await startServerProcess(model, '--max-connections=2');
    try {
      const first = await LineClient.connect(server.port);
      expect(await first.request('PING')).toBe('PONG');
      const second = await LineClient.connect(server.port);
      const third = await LineClient.connect(server.port);
      expect(await third.readLines(2)).toEqual(['ERR max connections', null]);
      first.close();
      second.close();
      await expectEventually(async () => {
        const again = await LineClient.connect(server.port);
        const reply = await again.request('PING');
        again.close();
        return reply;
      }, 'PONG');
    } finally {
      await server.stop();
    }
  });

  it('on SIGTERM answers the requests already read, closes, and exits 0', async () => {
    const server = await startServerProcess(model);
    const client = await LineClient.connect(server.port);
    client.send('SLEEP 300', 'PING');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const exit = server.stop('SIGTERM');
    expect(await client.readLines(3)).toEqual(['OK', 'PONG', null]);
    expect(await exit).toBe(0);
  });

  it('exits with code 2 and a message for an unknown flag', async () => {
    await expect(startServerProcess(model, '--no-such-flag')).rejects.toThrow(/exited with 2[\s\S]*Unknown argument/);
  });
});

async function expectEventually<T>(attempt: () => Promise<T>, expected: T, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await attempt();
    if (last === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(last).toBe(expected);
}
