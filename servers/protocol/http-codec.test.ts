// The HTTP codec on its own, fed bytes by hand: how it frames requests, how
// it maps routes to commands, and how it turns replies into responses. The
// same routes against real servers are in servers/http.test.ts.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Request } from './codec.js';
import type { Command } from './commands.js';
import { handleCommand, Reply, Runtime, timerSleep } from './execute.js';
import { HttpCodec } from './http-codec.js';
import type { HttpMeta } from './http-encode.js';
import { httpStatus } from './refusals.js';
import { Session } from './session.js';
import { SharedStore } from '../store/store.js';
import { SharedCounters } from '../stats.js';

const MAX_BODY = 1024;

function decode(text: string | Buffer, limits: { maxBody?: number; maxHeaderBytes?: number } = {}): Request[] {
  const codec = new HttpCodec({ maxBody: MAX_BODY, ...limits });
  return codec.decode(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
}

function decodeInChunks(text: string, cuts: number[]): Request[] {
  const codec = new HttpCodec({ maxBody: MAX_BODY });
  const bytes = Buffer.from(text, 'latin1');
  const bounds = [0, ...[...new Set(cuts)].sort((a, b) => a - b), bytes.length];
  return bounds.slice(1).flatMap((end, i) => codec.decode(bytes.subarray(bounds[i], end)));
}

/** What a decoded request means, without the noise: the command, or the refusal's status. */
function meaning(request: Request): unknown {
  const meta = request.meta as HttpMeta;
  if (request.kind === 'command') return { command: request.command, keepAlive: meta.keepAlive };
  return { status: httpStatus(request.refusal), close: request.close || !meta.keepAlive };
}

function commandsOf(text: string): (Command | undefined)[] {
  return decode(text).map((request) => (request.kind === 'command' ? request.command : undefined));
}

function refusalOf(text: string, limits = {}): { status?: number; message: string; close: boolean } {
  const requests = decode(text, limits);
  expect(requests).toHaveLength(1);
  const [request] = requests;
  if (request.kind !== 'refused') throw new Error(`expected a refusal, got ${JSON.stringify(request)}`);
  return { status: httpStatus(request.refusal), message: request.refusal.message, close: request.close || !(request.meta as HttpMeta).keepAlive };
}

interface Response {
  status: number;
  headers: Record<string, string>;
  body: string;
  close: boolean;
}

/** Decodes one request, answers it with `reply`, and reads the response back. */
function respond(requestText: string, reply: Reply): Response {
  const codec = new HttpCodec({ maxBody: MAX_BODY });
  const [request] = codec.decode(Buffer.from(requestText, 'latin1'));
  const encoded = codec.encode(request, request.kind === 'refused' ? request.refusal : reply);
  return { ...parseResponse(encoded.text), close: encoded.close };
}

function parseResponse(text: string): Omit<Response, 'close'> {
  const end = text.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4) };
}

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: lab\r\n${extra}\r\n`;
const WITH_BODY = (method: string, path: string, body: string, extra = '') =>
  `${method} ${path} HTTP/1.1\r\nHost: lab\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;
const CHUNKED = (path: string, chunks: string[]) =>
  `POST ${path} HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: chunked\r\n\r\n` +
  chunks.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join('') +
  '0\r\nX-Trailer: ignored\r\n\r\n';

/** Several requests in one stream: no body, a sized body, a chunked body, a binary body. */
const PIPELINE =
  GET('/ping') +
  WITH_BODY('PUT', '/kv/colour', 'blue\r\nand green') +
  CHUNKED('/echo', ['hello, ', 'chunked ', 'world']) +
  WITH_BODY('POST', '/echo', '\x00\xff\r\n\r\n') +
  GET('/kv/colour', 'Connection: close\r\n');

describe('routes', () => {
  it('map each method and path onto the lab command it stands for', () => {
    expect(commandsOf(GET('/ping'))).toEqual([{ name: 'PING' }]);
    expect(commandsOf(WITH_BODY('POST', '/echo', 'hi there'))).toEqual([{ name: 'ECHO', text: 'hi there' }]);
    expect(commandsOf(GET('/kv/k'))).toEqual([{ name: 'GET', key: 'k' }]);
    expect(commandsOf(WITH_BODY('PUT', '/kv/k', 'v a l'))).toEqual([{ name: 'SET', key: 'k', value: 'v a l' }]);
    expect(commandsOf(`DELETE /kv/k HTTP/1.1\r\nHost: lab\r\n\r\n`)).toEqual([{ name: 'DEL', key: 'k' }]);
    expect(commandsOf(WITH_BODY('POST', '/kv/k/incr', ''))).toEqual([{ name: 'INCR', key: 'k' }]);
    expect(commandsOf(WITH_BODY('POST', '/work/1000', ''))).toEqual([{ name: 'WORK', rounds: 1000 }]);
    expect(commandsOf(WITH_BODY('POST', '/sleep/25', ''))).toEqual([{ name: 'SLEEP', ms: 25 }]);
    expect(commandsOf(GET('/stats'))).toEqual([{ name: 'STATS' }]);
  });

  it('ignore a query string and accept an absolute-form target', () => {
    expect(commandsOf(GET('/ping?x=1'))).toEqual([{ name: 'PING' }]);
    expect(commandsOf(GET('http://lab:7080/kv/k'))).toEqual([{ name: 'GET', key: 'k' }]);
  });

  it('percent-decode a key to the bytes it names, so any byte but space and controls can be a key', () => {
    expect(commandsOf(GET('/kv/caf%C3%A9%2Fbar%ff'))).toEqual([{ name: 'GET', key: 'caf\xc3\xa9/bar\xff' }]);
  });

  it('refuse with 400, keeping the connection, a key that is empty, too long, holds a space, or is badly escaped', () => {
    for (const path of ['/kv/', `/kv/${'k'.repeat(251)}`, '/kv/a%20b', '/kv/a%0Ab', '/kv/a%zz', '/kv/a%4']) {
      expect(refusalOf(GET(path)), path).toMatchObject({ status: 400, close: false });
    }
    expect(commandsOf(GET(`/kv/${'k'.repeat(250)}`))).toHaveLength(1);
  });

  it('refuse with 400 a work count or sleep time that is not a whole number within the line protocol bounds', () => {
    for (const path of ['/work/-1', '/work/1.5', '/work/10000001', '/work/', '/sleep/60001', '/sleep/abc', '/sleep/99999999999']) {
      expect(refusalOf(WITH_BODY('POST', path, '')), path).toMatchObject({ status: 400, close: false });
    }
    expect(commandsOf(WITH_BODY('POST', '/work/10000000', ''))).toEqual([{ name: 'WORK', rounds: 10_000_000 }]);
  });

  it('answer 404 for an unknown path and 405 with Allow for a known path and the wrong method, both keeping the connection', () => {
    expect(refusalOf(GET('/nope'))).toMatchObject({ status: 404, close: false });
    expect(refusalOf(GET('/ping/'))).toMatchObject({ status: 404, close: false });
    expect(refusalOf(WITH_BODY('POST', '/ping', ''))).toMatchObject({ status: 405, close: false });
    const response = respond(WITH_BODY('PATCH', '/kv/k', 'x'), 'unused');
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD, PUT, DELETE');
    expect(JSON.parse(response.body)).toEqual({ error: 'PATCH is not allowed here' });
  });

  it('read and discard the body of a refused request, so the next pipelined request is still found', () => {
    const requests = decode(WITH_BODY('POST', '/nope', 'GET /ping HTTP/1.1\r\n\r\n') + GET('/ping'));
    expect(requests.map(meaning)).toEqual([
      { status: 404, close: false },
      { command: { name: 'PING' }, keepAlive: true },
    ]);
  });

  it('refuse an HTTP/1.1 request without a Host header with 400, as HTTP/1.1 requires', () => {
    expect(refusalOf('GET /ping HTTP/1.1\r\n\r\n')).toMatchObject({ status: 400, close: false });
    expect(commandsOf('GET /ping HTTP/1.0\r\n\r\n')).toEqual([{ name: 'PING' }]);
  });
});

describe('framing', () => {
  const whole = decode(PIPELINE).map(meaning);

  it('decodes pipelined requests from one chunk, in the order they were sent', () => {
    expect(whole).toEqual([
      { command: { name: 'PING' }, keepAlive: true },
      { command: { name: 'SET', key: 'colour', value: 'blue\r\nand green' }, keepAlive: true },
      { command: { name: 'ECHO', text: 'hello, chunked world' }, keepAlive: true },
      { command: { name: 'ECHO', text: '\x00\xff\r\n\r\n' }, keepAlive: true },
      { command: { name: 'GET', key: 'colour' }, keepAlive: false },
    ]);
  });

  it('decodes the same requests whichever byte the stream is split at', () => {
    for (let cut = 1; cut < PIPELINE.length; cut++) {
      expect(decodeInChunks(PIPELINE, [cut]).map(meaning), `split at ${cut}`).toEqual(whole);
    }
  });

  it('decodes the same requests when they arrive one byte at a time', () => {
    const cuts = Array.from({ length: PIPELINE.length - 1 }, (_, i) => i + 1);
    expect(decodeInChunks(PIPELINE, cuts).map(meaning)).toEqual(whole);
  });

  it('decodes the same requests for any way of cutting the stream into chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: PIPELINE.length - 1 }), { maxLength: 40 }), (cuts) => {
        expect(decodeInChunks(PIPELINE, cuts).map(meaning)).toEqual(whole);
      }),
    );
  });

  it('carries every byte value of a body through unchanged, as a binary string', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const head = Buffer.from(`PUT /kv/all HTTP/1.1\r\nHost: lab\r\nContent-Length: 256\r\n\r\n`, 'latin1');
    const [request] = decode(Buffer.concat([head, bytes]));
    expect(request.kind === 'command' && request.command).toEqual({ name: 'SET', key: 'all', value: bytes.toString('latin1') });
  });

  it('accepts bare LF line endings and blank lines before a request line', () => {
    expect(commandsOf('\r\n\nGET /ping HTTP/1.1\nHost: lab\n\n')).toEqual([{ name: 'PING' }]);
  });

  it('waits for the rest of a body that has not fully arrived, and emits nothing meanwhile', () => {
    const codec = new HttpCodec({ maxBody: MAX_BODY });
    expect(codec.decode(Buffer.from('POST /echo HTTP/1.1\r\nHost: lab\r\nContent-Length: 10\r\n\r\n12345'))).toEqual([]);
    expect(codec.decode(Buffer.from('67890')).map(meaning)).toEqual([{ command: { name: 'ECHO', text: '1234567890' }, keepAlive: true }]);
  });
});

describe('keep-alive', () => {
  it('keeps an HTTP/1.1 connection open by default', () => {
    const response = respond(GET('/ping'), 'PONG');
    expect(response).toMatchObject({ status: 200, body: 'PONG', close: false });
    expect(response.headers.connection).toBeUndefined();
  });

  it('closes after the response to a request that says Connection: close, and reads nothing after it', () => {
    const requests = decode(GET('/ping', 'Connection: close\r\n') + GET('/stats'));
    expect(requests.map(meaning)).toEqual([{ command: { name: 'PING' }, keepAlive: false }]);
    const response = respond(GET('/ping', 'Connection: Keep-Alive, Close\r\n'), 'PONG');
    expect(response.close).toBe(true);
    expect(response.headers.connection).toBe('close');
  });

  it('closes an HTTP/1.0 connection after one response unless the request asks for keep-alive', () => {
    expect(respond('GET /ping HTTP/1.0\r\n\r\n', 'PONG')).toMatchObject({ close: true, headers: { connection: 'close' } });
    const kept = respond('GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 'PONG');
    expect(kept).toMatchObject({ close: false, headers: { connection: 'keep-alive' } });
  });

  it('serves HTTP/1.x minor versions above 1 as HTTP/1.1 and refuses HTTP/2 over this port with 505', () => {
    expect(commandsOf('GET /ping HTTP/1.2\r\nHost: lab\r\n\r\n')).toEqual([{ name: 'PING' }]);
    expect(refusalOf('GET /ping HTTP/2.0\r\nHost: lab\r\n\r\n')).toMatchObject({ status: 505, close: true });
  });
});

describe('malformed requests and limits', () => {
  it('answers a malformed request line, method, version or header with 400 and closes, ignoring what follows', () => {
    for (const head of [
      'GET /ping\r\n\r\n',
      'GET  /ping HTTP/1.1\r\n\r\n',
      'G(T /ping HTTP/1.1\r\n\r\n',
      'GET /ping HTTP/one\r\n\r\n',
      'GET ping HTTP/1.1\r\nHost: lab\r\n\r\n',
      'GET /ping HTTP/1.1\r\nHost lab\r\n\r\n',
      'GET /ping HTTP/1.1\r\nHost : lab\r\n\r\n',
      'GET /ping HTTP/1.1\r\nHost: lab\r\n folded\r\n\r\n',
    ]) {
      const requests = decode(head + GET('/ping'));
      expect(requests.map(meaning), JSON.stringify(head)).toEqual([{ status: 400, close: true }]);
    }
  });

  it('answers a Content-Length that is not a plain number, or two that disagree, with 400 and closes', () => {
    expect(refusalOf(WITH_BODY('POST', '/echo', 'x').replace('Content-Length: 1', 'Content-Length: +1'))).toMatchObject({ status: 400, close: true });
    expect(refusalOf(`POST /echo HTTP/1.1\r\nHost: lab\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx`)).toMatchObject({
      status: 400,
      close: true,
    });
  });

  it('refuses a request with both Content-Length and Transfer-Encoding with 400, the classic smuggling shape', () => {
    const text = `POST /echo HTTP/1.1\r\nHost: lab\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`;
    expect(refusalOf(text)).toMatchObject({ status: 400, close: true });
  });

  it('answers a transfer coding other than chunked with 501 and closes', () => {
    const text = `POST /echo HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: gzip, chunked\r\n\r\n`;
    expect(refusalOf(text)).toMatchObject({ status: 501, close: true });
  });

  it('answers a malformed chunked body with 400 and closes', () => {
    const head = `POST /echo HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: chunked\r\n\r\n`;
    expect(refusalOf(`${head}zz\r\n`)).toMatchObject({ status: 400, close: true });
    expect(refusalOf(`${head}3\r\nabcX\r\n`)).toMatchObject({ status: 400, close: true });
  });

  it('answers a Content-Length over the body limit with 413 at once, without waiting for the body', () => {
    const refusal = refusalOf(`PUT /kv/k HTTP/1.1\r\nHost: lab\r\nContent-Length: ${MAX_BODY + 1}\r\n\r\n`);
    expect(refusal).toMatchObject({ status: 413, close: true });
    expect(commandsOf(WITH_BODY('PUT', '/kv/k', 'x'.repeat(MAX_BODY)))).toHaveLength(1);
  });

  it('answers a chunked body that grows over the body limit with 413 and closes', () => {
    const text = CHUNKED('/echo', ['x'.repeat(MAX_BODY / 2), 'y'.repeat(MAX_BODY / 2), 'z']);
    expect(refusalOf(text)).toMatchObject({ status: 413, close: true });
  });

  it('answers a header section over its bound with 431, even before the blank line that would end it', () => {
    const limits = { maxHeaderBytes: 256 };
    expect(refusalOf(`GET /ping HTTP/1.1\r\nHost: lab\r\nX-Long: ${'a'.repeat(300)}`, limits)).toMatchObject({ status: 431, close: true });
    expect(refusalOf(`GET /${'p'.repeat(300)}`, limits)).toMatchObject({ status: 431, close: true });
    const justFits = `GET /ping HTTP/1.1\r\nHost: lab\r\nX-Pad: `;
    expect(decode(`${justFits}${'a'.repeat(256 - justFits.length - 4)}\r\n\r\n`, limits).map(meaning)).toEqual([
      { command: { name: 'PING' }, keepAlive: true },
    ]);
  });

  it('bounds the header section of every request on a connection anew, not the connection as a whole', () => {
    const requests = decode(GET('/ping').repeat(20), { maxHeaderBytes: 64 });
    expect(requests).toHaveLength(20);
    expect(requests.every((request) => request.kind === 'command')).toBe(true);
  });
});

describe('responses', () => {
  it('answer a stored value with 200 and its exact bytes, and an absent key with 404 in JSON', () => {
    const found = respond(GET('/kv/k'), 'VALUE \x00\xe9 two words');
    expect(found).toMatchObject({
      status: 200,
      body: '\x00\xe9 two words',
      headers: { 'content-type': 'application/octet-stream', 'content-length': '12' },
    });
    const missing = respond(GET('/kv/k'), 'NIL');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ error: 'no such key' });
    expect(respond(`DELETE /kv/k HTTP/1.1\r\nHost: lab\r\n\r\n`, 'NIL').status).toBe(404);
    expect(respond(`DELETE /kv/k HTTP/1.1\r\nHost: lab\r\n\r\n`, 'OK')).toMatchObject({ status: 200, body: 'OK' });
  });

  it('answer INCR and WORK with the bare number or digest, and STATS as JSON', () => {
    expect(respond(WITH_BODY('POST', '/kv/n/incr', ''), 'VALUE 42')).toMatchObject({ status: 200, body: '42' });
    expect(respond(WITH_BODY('POST', '/work/0', ''), 'VALUE abc123')).toMatchObject({ status: 200, body: 'abc123' });
    const stats = respond(GET('/stats'), '{"model":"async"}');
    expect(stats).toMatchObject({ status: 200, headers: { 'content-type': 'application/json' } });
    expect(JSON.parse(stats.body)).toEqual({ model: 'async' });
  });

  // How refusals become statuses, and why an ECHO of `ERR ...` is still a 200: refusals.test.ts.

  it('answer HEAD with the headers GET would send, and no body', () => {
    const codec = new HttpCodec({ maxBody: MAX_BODY });
    const [request] = codec.decode(Buffer.from('HEAD /kv/k HTTP/1.1\r\nHost: lab\r\n\r\n'));
    const { text } = codec.encode(request, 'VALUE hello');
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toContain('content-length: 5\r\n');
    expect(text.endsWith('\r\n\r\n')).toBe(true);
  });

  it('carry a Date header, as an origin server with a clock must', () => {
    expect(new Date(respond(GET('/ping'), 'PONG').headers.date).getTime()).toBeGreaterThan(Date.now() - 5_000);
  });
});

describe('through a Session', () => {
  function session() {
    const written: string[] = [];
    let ended = false;
    const counters = new SharedCounters();
    const runtime: Runtime = { store: SharedStore.create(1), counters, sleep: timerSleep, stats: () => ({ model: 'test' }) };
    const output = {
      write: (text: string) => void written.push(text),
      end: () => void (ended = true),
      backlogged: () => false,
      gone: () => false,
      pauseInput: () => {},
      resumeInput: () => {},
    };
    const s = new Session(output, (command) => handleCommand(command, runtime), counters, new HttpCodec({ maxBody: MAX_BODY }));
    return { session: s, responses: () => splitResponses(written.join('')), ended: () => ended };
  }

  function splitResponses(text: string): Omit<Response, 'close'>[] {
    const responses = [];
    while (text.length > 0) {
      const head = parseResponse(text);
      const length = Number(head.headers['content-length']);
      const end = text.indexOf('\r\n\r\n') + 4 + length;
      responses.push({ ...head, body: head.body.slice(0, length) });
      text = text.slice(end);
    }
    return responses;
  }

  it('answers pipelined requests in order even when an earlier one waits on a timer', async () => {
    const { session: s, responses, ended } = session();
    s.receive(Buffer.from(WITH_BODY('POST', '/sleep/30', '') + WITH_BODY('PUT', '/kv/a', '1') + WITH_BODY('POST', '/kv/a/incr', '') + GET('/kv/a')));
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(responses().map((r) => [r.status, r.body])).toEqual([
      [200, 'OK'],
      [200, 'OK'],
      [200, '2'],
      [200, '2'],
    ]);
    expect(ended()).toBe(false);
  });

  it('ends the connection after answering a Connection: close request, ignoring the rest', () => {
    const { session: s, responses, ended } = session();
    s.receive(Buffer.from(GET('/ping', 'Connection: close\r\n') + GET('/ping')));
    expect(responses()).toHaveLength(1);
    expect(ended()).toBe(true);
  });

  it('answers an ECHO of "ERR server busy" with 200 and that body, while a real refusal keeps its status', () => {
    const { session: s, responses } = session();
    s.receive(Buffer.from(WITH_BODY('POST', '/echo', 'ERR server busy') + WITH_BODY('PUT', '/kv/w', 'w') + WITH_BODY('POST', '/kv/w/incr', '')));
    const answered = [
      [200, 'ERR server busy'],
      [200, 'OK'],
      [400, '{"error":"value is not an integer"}'],
    ];
    expect(responses().map((r) => [r.status, r.body])).toEqual(answered);
  });

  it('answers a 404 and keeps going with the next request on the same connection', () => {
    const { session: s, responses, ended } = session();
    s.receive(Buffer.from(GET('/missing') + GET('/kv/none') + GET('/ping')));
    expect(responses().map((r) => r.status)).toEqual([404, 404, 200]);
    expect(ended()).toBe(false);
  });
});
