// The table of refusals, as each codec words it: the line protocol with the
// exact `ERR` line it has always sent, HTTP with the status of the kind; and
// a reply's text, whatever it reads, never taken for a refusal. The expected
// values are written out here, not read from the table, so that a change to
// the table is a change to this specification too.

import { describe, expect, it } from 'vitest';
import type { Request } from './codec.js';
import { connectionRefusal } from './codecs.js';
import type { Reply } from './execute.js';
import { HttpCodec } from './http-codec.js';
import { LineCodec } from './line-codec.js';
import { FixedRefusalKind, isRefusal, Refusal, refusal, RefusalKind, REFUSALS } from './refusals.js';

const STATUS: Record<RefusalKind, number> = {
  busy: 503,
  storeFull: 507,
  internal: 500,
  maxConnections: 503,
  maxWorkers: 503,
  idleTimeout: 408,
  lineTooLong: 413,
  notAnInteger: 400,
  incrementOverflow: 400,
  badRequest: 400,
  logUnavailable: 503,
  recordTooLarge: 413,
  noDataDir: 409,
  compactionBusy: 409,
  notFound: 404,
  methodNotAllowed: 405,
  contentTooLarge: 413,
  headerTooLarge: 431,
  notImplemented: 501,
  versionNotSupported: 505,
};

const LINE: Record<FixedRefusalKind, string> = {
  busy: 'ERR server busy\n',
  storeFull: 'ERR store full\n',
  internal: 'ERR internal error\n',
  maxConnections: 'ERR max connections\n',
  maxWorkers: 'ERR max workers\n',
  idleTimeout: 'ERR idle timeout\n',
  lineTooLong: 'ERR line too long\n',
  notAnInteger: 'ERR value is not an integer\n',
  incrementOverflow: 'ERR increment would overflow\n',
  noDataDir: 'ERR no data directory: this server keeps its data in memory only\n',
  compactionBusy: 'ERR a compaction is already running\n',
};

const KINDS = Object.keys(REFUSALS) as RefusalKind[];
const FIXED = Object.keys(LINE) as FixedRefusalKind[];

/** A refusal of any kind: the fixed ones as they are, the others with a message of their own. */
function anyRefusal(kind: RefusalKind): Refusal {
  return (FIXED as RefusalKind[]).includes(kind) ? refusal(kind as FixedRefusalKind) : { refusal: kind, message: 'a message of its own' };
}

/** An HTTP/1.1 request, with a sized body. */
const REQUEST = (method: string, path: string, body = '') =>
  `${method} ${path} HTTP/1.1\r\nHost: lab\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

/** The response to `requestText` (a PING unless told) when its command answers `reply`. */
function overHttp(reply: Reply, requestText = REQUEST('GET', '/ping')): { status: number; reason: string; body: string; close: boolean } {
  const codec = new HttpCodec({ maxBody: 1024 });
  const [request] = codec.decode(Buffer.from(requestText, 'latin1'));
  const { text, close } = codec.encode(request, reply);
  const [, status, reason] = /^HTTP\/1\.1 (\d{3}) ([^\r]*)\r\n/.exec(text) ?? [];
  return { status: Number(status), reason, body: text.slice(text.indexOf('\r\n\r\n') + 4), close };
}

describe('the refusal table', () => {
  it('lists exactly the kinds this specification names', () => {
    expect([...KINDS].sort()).toEqual(Object.keys(STATUS).sort());
  });

  it.each(KINDS)('answers %s over HTTP with its own status, a reason phrase, and its message as JSON', (kind) => {
    const refused = anyRefusal(kind);
    const response = overHttp(refused);
    expect(response.status).toBe(STATUS[kind]);
    expect(response.reason).not.toBe('Unknown');
    expect(JSON.parse(response.body)).toEqual({ error: refused.message });
  });

  it.each(FIXED)('words %s on the line port exactly as the line protocol always has', (kind) => {
    const command: Request = { kind: 'command', command: { name: 'PING' } };
    expect(new LineCodec(64).encode(command, refusal(kind))).toEqual({ text: LINE[kind], close: false });
    expect(connectionRefusal('line', kind)).toBe(LINE[kind]);
  });

  it('words a refusal with a message of its own as ERR and that message', () => {
    const command: Request = { kind: 'command', command: { name: 'GET', key: 'k' } };
    expect(new LineCodec(64).encode(command, refusal('badRequest', "wrong number of arguments for 'GET'")).text).toBe(
      "ERR wrong number of arguments for 'GET'\n",
    );
  });

  it('ends an HTTP connection refused outside any request with the status of its kind, and closes it', () => {
    for (const kind of ['maxConnections', 'maxWorkers', 'internal'] as const) {
      const text = connectionRefusal('http', kind);
      expect(text, kind).toMatch(new RegExp(`^HTTP/1\\.1 ${STATUS[kind]} `));
      expect(text, kind).toContain('\r\nconnection: close\r\n');
      expect(text.endsWith(JSON.stringify({ error: REFUSALS[kind].message })), kind).toBe(true);
    }
  });

  it('maps execution errors to statuses over HTTP: busy 503, store full 507, not an integer 400, internal 500', () => {
    const put = REQUEST('PUT', '/kv/k', 'v');
    expect(overHttp(refusal('busy'), put).status).toBe(503);
    expect(overHttp(refusal('storeFull'), put).status).toBe(507);
    expect(overHttp(refusal('notAnInteger'), REQUEST('POST', '/kv/k/incr')).status).toBe(400);
    expect(overHttp(refusal('internal')).status).toBe(500);
    const busy = overHttp(refusal('busy'), REQUEST('GET', '/kv/k'));
    expect(JSON.parse(busy.body)).toEqual({ error: 'server busy' });
    expect(busy.close).toBe(false);
  });

  it('echoes a body that reads like an error reply as a plain 200: the status comes from a refusal, never from text', () => {
    expect(overHttp('ERR store full', REQUEST('POST', '/echo', 'ERR store full'))).toMatchObject({ status: 200, body: 'ERR store full' });
    expect(overHttp('ERR server busy', REQUEST('POST', '/echo', 'ERR server busy'))).toMatchObject({ status: 200, body: 'ERR server busy' });
    expect(overHttp(refusal('busy'), REQUEST('POST', '/echo', 'hello')).status).toBe(503);
    for (const text of ['ERR server busy', 'ERR internal error', 'ERR max workers']) {
      expect(overHttp(text), text).toMatchObject({ status: 200, body: text });
    }
  });

  it('tells a refusal from a reply: text is never one, whatever it reads', () => {
    expect(isRefusal(refusal('busy'))).toBe(true);
    expect(isRefusal('ERR server busy')).toBe(false);
    expect(isRefusal({ line: 'BYE', close: true })).toBe(false);
  });

  it('survives a structured clone, as a pool worker returns it through piscina', () => {
    expect(structuredClone(refusal('storeFull'))).toEqual(refusal('storeFull'));
    expect(isRefusal(structuredClone(refusal('storeFull')))).toBe(true);
  });
});
