// The floor server (floor.ts) is a measuring stick: these pin down that it
// speaks enough of the protocol for the suite's echo and kv workloads, and
// that it runs as a process the suite can start like any model.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type net from 'node:net';
import { startServer, type ServerHandle } from '../bench/server-process.js';
import { LineClient } from '../clients/line-client.js';
import { startFloor } from './floor.js';

describe('the floor server', () => {
  let server: net.Server;
  let port: number;
  beforeAll(async () => {
    server = await startFloor(0, '127.0.0.1');
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers PING, ECHO, SET and GET as the lab protocol does, pipelined, in order', async () => {
    const client = await LineClient.connect(port);
    client.send('PING', 'ECHO hello world', 'SET k some value', 'GET k', 'GET missing', 'ping');
    expect(await client.readLines(6)).toEqual(['PONG', 'hello world', 'OK', 'VALUE some value', 'NIL', 'PONG']);
    client.close();
  });

  it('assembles a line split across writes, and drops a CR before the newline', async () => {
    const client = await LineClient.connect(port);
    client.write('EC');
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.write('HO split\r\nPI');
    client.write('NG\n');
    expect(await client.readLines(2)).toEqual(['split', 'PONG']);
    client.close();
  });

  it('says plainly what it does not answer', async () => {
    const client = await LineClient.connect(port);
    expect(await client.request('WORK 1')).toBe('ERR the floor answers only PING, ECHO, GET and SET');
    client.close();
  });
});

describe('the floor server as a process', () => {
  let handle: ServerHandle;
  afterAll(async () => {
    await handle?.stop();
  });

  it('starts on port 0, announces itself like a model, and stops on SIGTERM', async () => {
    const script = new URL('../dist/servers/floor.js', import.meta.url).pathname;
    handle = await startServer({ command: process.execPath, args: [script, '--port=0'] });
    expect(handle.settings.model).toBe('floor');
    const client = await LineClient.connect(handle.port!);
    expect(await client.request('PING')).toBe('PONG');
    client.close();
    const stopped = await handle.stop();
    expect(stopped.forced).toBe(false);
  });
});
