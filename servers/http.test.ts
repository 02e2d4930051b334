// The HTTP front, as every model must serve it. Each model runs as a real
// process with `--http-port=0`, and is spoken to with Node's own HTTP client
// (a strict, independent parser of our responses) or with raw sockets where
// the test is about the bytes on the wire: pipelining, keep-alive, malformed
// requests.
//
// Most requests here use `agent: false`, a fresh connection that closes after
// one response. That matters for the blocking model, which serves one TCP
// connection at a time: a kept-alive connection left open by one test would
// hold the server for every test after it. Tests that keep a connection open
// close it before they end.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import autocannon from 'autocannon';
import { MODELS } from './config.js';
import { hashChain } from './protocol/execute.js';
import { LineClient, ServerProcess, startServerProcess, withHttpServer } from './test-support/server-process.js';
import { HttpResponse, RawHttpClient, request } from './test-support/http-clients.js';

function errorOf(response: HttpResponse): string {
  expect(response.headers['content-type']).toBe('application/json');
  return JSON.parse(response.body).error;
}

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: lab\r\n${extra}\r\n`;
const SEND = (method: string, path: string, body = '', extra = '') =>
  `${method} ${path} HTTP/1.1\r\nHost: lab\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;

describe.each(MODELS)('HTTP on the %s model', (model) => {
  let server: ServerProcess;
  let port: number;
  const raws: RawHttpClient[] = [];
  const agents: http.Agent[] = [];

  async function raw(): Promise<RawHttpClient> {
    const client = await RawHttpClient.connect(port);
    raws.push(client);
    return client;
  }

  function keepAliveAgent(): http.Agent {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    return agent;
  }

  beforeAll(async () => {
    server = await startServerProcess(model, '--http-port=0', '--workers=2');
    port = server.httpPort;
  });
  // The blocking model serves one connection at a time: every test closes what it opened.
  afterEach(() => {
    for (const client of raws.splice(0)) client.close();
    for (const agent of agents.splice(0)) agent.destroy();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('answers GET /ping with 200 PONG', async () => {
    const response = await request(port, 'GET', '/ping');
    expect(response).toMatchObject({ status: 200, body: 'PONG' });
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('answers POST /echo with the body it was sent, whether sized or chunked', async () => {
    expect(await request(port, 'POST', '/echo', { body: 'hello\r\nworld' })).toMatchObject({ status: 200, body: 'hello\r\nworld' });
    expect(await request(port, 'POST', '/echo', { body: 'in two pieces', chunked: true })).toMatchObject({ status: 200, body: 'in two pieces' });
    expect(await request(port, 'POST', '/echo')).toMatchObject({ status: 200, body: '' });
  });

  it('answers POST /echo of a body that reads like a refusal with 200 and that body', async () => {
    for (const body of ['ERR server busy', 'ERR internal error', 'ERR store full']) {
      expect(await request(port, 'POST', '/echo', { body }), body).toMatchObject({ status: 200, body });
    }
  });

  it('stores a value with PUT /kv/:key, reads it back with GET, and removes it with DELETE', async () => {
    const key = `/kv/${model}-colour`;
    expect(await request(port, 'GET', key)).toMatchObject({ status: 404 });
    expect(await request(port, 'PUT', key, { body: 'deep blue' })).toMatchObject({ status: 200, body: 'OK' });
    expect(await request(port, 'GET', key)).toMatchObject({ status: 200, body: 'deep blue' });
    expect(await request(port, 'DELETE', key)).toMatchObject({ status: 200 });
    const gone = await request(port, 'GET', key);
    expect(gone.status).toBe(404);
    expect(errorOf(gone)).toBe('no such key');
    expect(await request(port, 'DELETE', key)).toMatchObject({ status: 404 });
  });

  it('keeps every byte of a value and of a percent-encoded key intact', async () => {
    const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1');
    const path = `/kv/${model}%2Fbin%C3%A9%FF`;
    expect((await request(port, 'PUT', path, { body: value })).status).toBe(200);
    const back = await request(port, 'GET', path);
    expect(back.status).toBe(200);
    expect(back.body).toBe(value);
    expect(back.headers['content-type']).toBe('application/octet-stream');
  });

  it('counts with POST /kv/:key/incr, and answers 400 when the value is not an integer', async () => {
    const key = `/kv/${model}-hits`;
    expect(await request(port, 'POST', `${key}/incr`)).toMatchObject({ status: 200, body: '1' });
    expect(await request(port, 'POST', `${key}/incr`)).toMatchObject({ status: 200, body: '2' });
    await request(port, 'PUT', key, { body: 'many' });
    const refused = await request(port, 'POST', `${key}/incr`);
    expect(refused.status).toBe(400);
    expect(errorOf(refused)).toBe('value is not an integer');
  });

  it('computes POST /work/:n as the same hash chain as WORK n', async () => {
    expect(await request(port, 'POST', '/work/0')).toMatchObject({ status: 200, body: hashChain(0) });
    expect(await request(port, 'POST', '/work/1000')).toMatchObject({ status: 200, body: hashChain(1000) });
  });

  it('answers POST /sleep/:ms with OK after at least that long', async () => {
    const started = performance.now();
    expect(await request(port, 'POST', '/sleep/50')).toMatchObject({ status: 200, body: 'OK' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(49);
  });

  it('answers GET /stats with the STATS object as JSON, naming the model', async () => {
    const response = await request(port, 'GET', '/stats');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    const stats = JSON.parse(response.body);
    expect(stats.model).toBe(model);
    expect(stats.requests).toBeGreaterThan(0);
  });

  it('answers errors in JSON: 404 unknown route, 405 with Allow for a wrong method, 400 for a bad argument', async () => {
    const unknown = await request(port, 'GET', '/nowhere');
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown)).toBe('no such route');
    const wrongMethod = await request(port, 'DELETE', '/ping');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, HEAD');
    const badNumber = await request(port, 'POST', '/work/lots');
    expect(badNumber.status).toBe(400);
    expect(errorOf(badNumber)).toMatch(/whole number/);
    expect((await request(port, 'GET', '/kv/a%20b')).status).toBe(400);
  });

  it('answers 413 and closes when a Content-Length is over --max-line, without reading the body', async () => {
    const client = await raw();
    client.write(`PUT /kv/huge HTTP/1.1\r\nHost: lab\r\nContent-Length: 10000000\r\n\r\n`);
    const response = await client.readResponse();
    expect(response?.status).toBe(413);
    expect(response?.headers.connection).toBe('close');
    expect(await client.readResponse()).toBeNull();
  });

  it('answers a malformed request with 400 and closes the connection', async () => {
    const client = await raw();
    client.write(`GET /ping HTTP/1.1\r\nHost: lab\r\nno colon here\r\n\r\n${GET('/ping')}`);
    expect((await client.readResponse())?.status).toBe(400);
    expect(await client.readResponse()).toBeNull();
  });

  it('keeps an HTTP/1.1 connection open between requests, for Node’s keep-alive agent', async () => {
    const agent = keepAliveAgent();
    const sockets = new Set<net.Socket>();
    agent.on('free', (socket) => sockets.add(socket));
    for (let i = 0; i < 3; i++) expect(await request(port, 'GET', '/ping', { agent })).toMatchObject({ status: 200, body: 'PONG' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(sockets.size).toBe(1);
  });

  it('answers pipelined requests in the order sent, a slow one first included, on one connection', async () => {
    const client = await raw();
    const key = `${model}-pipelined`;
    client.write(
      SEND('PUT', `/kv/${key}`, '1') + SEND('POST', '/sleep/30') + SEND('PUT', `/kv/${key}`, '2') + GET(`/kv/${key}`) + GET('/nope') + GET('/ping'),
    );
    const responses = await client.readResponses(6);
    expect(responses.map((r) => [r?.status, r?.body])).toEqual([
      [200, 'OK'],
      [200, 'OK'],
      [200, 'OK'],
      [200, '2'],
      [404, '{"error":"no such route"}'],
      [200, 'PONG'],
    ]);
  });

  it('answers a hundred pipelined requests sent in one write, in order', async () => {
    const client = await raw();
    client.write(Array.from({ length: 100 }, (_, i) => SEND('POST', '/echo', `#${i}`)).join(''));
    const responses = await client.readResponses(100);
    expect(responses.map((r) => r?.body)).toEqual(Array.from({ length: 100 }, (_, i) => `#${i}`));
  });

  it('closes the connection after the response to a Connection: close request, ignoring what follows', async () => {
    const client = await raw();
    client.write(GET('/ping', 'Connection: close\r\n') + GET('/ping'));
    const response = await client.readResponse();
    expect(response).toMatchObject({ status: 200, body: 'PONG' });
    expect(response?.headers.connection).toBe('close');
    expect(await client.readResponse()).toBeNull();
  });

  it('closes an HTTP/1.0 connection after one response, and keeps it when the request asks for keep-alive', async () => {
    const plain = await raw();
    plain.write('GET /ping HTTP/1.0\r\n\r\n');
    expect((await plain.readResponse())?.body).toBe('PONG');
    expect(await plain.readResponse()).toBeNull();
    const kept = await raw();
    kept.write('GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    expect((await kept.readResponse())?.headers.connection).toBe('keep-alive');
    kept.write('GET /ping HTTP/1.0\r\n\r\n');
    expect((await kept.readResponse())?.body).toBe('PONG');
    expect(await kept.readResponse()).toBeNull();
  });

  it('shares one store with the line port: SET over the line protocol is read over HTTP, and back', async () => {
    const line = await LineClient.connect(server.port);
    expect(await line.request(`SET ${model}-shared from the line port`)).toBe('OK');
    line.close();
    expect(await request(port, 'GET', `/kv/${model}-shared`)).toMatchObject({ status: 200, body: 'from the line port' });
    await request(port, 'PUT', `/kv/${model}-shared`, { body: 'from HTTP' });
    const again = await LineClient.connect(server.port);
    expect(await again.request(`GET ${model}-shared`)).toBe('VALUE from HTTP');
    again.close();
  });
});

describe('HTTP errors that need a server configured for them', () => {
  it('answers 503 server busy when the pool and its queue are full', async () => {
    await withHttpServer('pool', ['--workers=1', '--queue=1'], async ({ httpPort }) => {
      // One SLEEP runs on the only worker, the next waits in the one-place queue: a third request finds no room.
      const running = request(httpPort, 'POST', '/sleep/400');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const queued = request(httpPort, 'POST', '/sleep/10');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const busy = await request(httpPort, 'GET', '/ping');
      expect(busy.status).toBe(503);
      expect(errorOf(busy)).toBe('server busy');
      expect((await running).status).toBe(200);
      expect((await queued).status).toBe(200);
    });
  });

  it('answers 507 Insufficient Storage when a value does not fit in the store', async () => {
    await withHttpServer('async', ['--store-mb=0.0625'], async ({ httpPort }) => {
      const response = await request(httpPort, 'PUT', '/kv/big', { body: 'x'.repeat(60_000) });
      expect(response.status).toBe(507);
      expect(errorOf(response)).toBe('store full');
      expect((await request(httpPort, 'PUT', '/kv/small', { body: 'fits' })).status).toBe(200);
    });
  });
});

describe('eight clients each sending POST /sleep/200 at once over HTTP', () => {
  async function timeEightSleeps(httpPort: number): Promise<{ elapsedMs: number; statuses: number[] }> {
    const started = performance.now();
    const responses = await Promise.all(Array.from({ length: 8 }, () => request(httpPort, 'POST', '/sleep/200')));
    return { elapsedMs: performance.now() - started, statuses: responses.map((r) => r.status) };
  }

  it('overlap on the async model, as over the line protocol: well under a second', async () => {
    const { elapsedMs, statuses } = await withHttpServer('async', [], ({ httpPort }) => timeEightSleeps(httpPort));
    expect(statuses).toEqual(Array(8).fill(200));
    expect(elapsedMs).toBeLessThan(1000);
  });

  it('run one connection after another on the blocking model: at least 1.6 s', async () => {
    const { elapsedMs, statuses } = await withHttpServer('blocking', [], ({ httpPort }) => timeEightSleeps(httpPort));
    expect(statuses).toEqual(Array(8).fill(200));
    expect(elapsedMs).toBeGreaterThanOrEqual(1590);
  });
});

describe('autocannon against the HTTP front', () => {
  // A smoke test, not a measurement: two seconds on four connections, to show
  // the standard Node load tool can drive the front without a single error.
  // (autocannon records latency in whole milliseconds, so its latency figures
  // for a sub-millisecond request read 0 or 1; the lab's own load generator
  // is the one to read tail latencies from.)
  it('completes two seconds of GET /ping on four connections to the async model with only 2xx answers', async () => {
    await withHttpServer('async', ['--no-line'], async (server) => {
      const { httpPort } = server;
      expect(server.output()).toMatch(/listening on http=127\.0\.0\.1:\d+ /);
      const result = await autocannon({ url: `http://127.0.0.1:${httpPort}/ping`, connections: 4, duration: 2 });
      expect(result['2xx']).toBeGreaterThan(0);
      expect(result.non2xx).toBe(0);
      expect(result.errors).toBe(0);
      expect(result.timeouts).toBe(0);
    });
  });
});
