import { describe, expect, it } from 'vitest';
import { classifyError, labDialect, LineParser, redisDialect } from './dialect.js';
import type { Op } from './ops.js';

describe('lab reply framing', () => {
  it('splits replies on \\n, drops a \\r before it, and keeps empty lines (the reply to a bare ECHO)', () => {
    expect(new LineParser().feed('PONG\r\n\nVALUE a b\n')).toEqual(['PONG', '', 'VALUE a b']);
  });

  it('holds a partial line until its end arrives, across any number of chunks', () => {
    const parser = new LineParser();
    expect(parser.feed('VAL')).toEqual([]);
    expect(parser.feed('UE 1')).toEqual([]);
    expect(parser.feed('2\r')).toEqual([]);
    expect(parser.feed('\nOK\nNI')).toEqual(['VALUE 12', 'OK']);
    expect(parser.feed('L\n')).toEqual(['NIL']);
  });
});

describe('lab dialect', () => {
  const get: Op = { kind: 'get', key: 3 };

  it('writes each operation as one command line', () => {
    expect(labDialect.encode({ kind: 'echo', payload: 'a b' })).toBe('ECHO a b\n');
    expect(labDialect.encode({ kind: 'echo', payload: '' })).toBe('ECHO\n');
    expect(labDialect.encode({ kind: 'set', key: 3, value: 'v 1' })).toBe('SET key:3 v 1\n');
    expect(labDialect.encode(get)).toBe('GET key:3\n');
    expect(labDialect.encode({ kind: 'work', n: 10 })).toBe('WORK 10\n');
    expect(labDialect.encode({ kind: 'sleep', ms: 20 })).toBe('SLEEP 20\n');
  });

  it('reads VALUE and NIL as the stored value and a missing key, and anything else to GET as wrong', () => {
    expect(labDialect.decode(get, 'VALUE x y')).toEqual({ ok: true, value: 'x y' });
    expect(labDialect.decode(get, 'NIL')).toEqual({ ok: true, value: null });
    expect(labDialect.decode(get, 'OK')).toMatchObject({ ok: false, kind: 'wrongReply' });
    expect(labDialect.decode({ kind: 'work', n: 1 }, 'NIL')).toMatchObject({ ok: false, kind: 'wrongReply' });
  });

  it('sorts ERR replies into busy, refused (max connections) and other errors', () => {
    const echo: Op = { kind: 'echo', payload: 'x' };
    expect(labDialect.decode(echo, 'ERR server busy')).toMatchObject({ ok: false, kind: 'busy' });
    expect(labDialect.decode(echo, 'ERR max connections')).toMatchObject({ ok: false, kind: 'refused' });
    expect(labDialect.decode(echo, 'ERR unknown command')).toMatchObject({ ok: false, kind: 'errReply' });
    expect(labDialect.decode(echo, 'ERROR')).toEqual({ ok: true, value: 'ERROR' });
  });
});

describe('redis dialect', () => {
  it('writes inline commands ending in CRLF and refuses commands Redis does not have', () => {
    expect(redisDialect.encode({ kind: 'ping' })).toBe('PING\r\n');
    expect(redisDialect.encode({ kind: 'set', key: 1, value: 'v' })).toBe('SET key:1 v\r\n');
    expect(redisDialect.encode({ kind: 'get', key: 1 })).toBe('GET key:1\r\n');
    expect(() => redisDialect.encode({ kind: 'work', n: 1 })).toThrow(/no WORK/);
  });

  it('reads simple and bulk strings as values, $-1 as a missing key, and -ERR as an error', () => {
    const get: Op = { kind: 'get', key: 1 };
    expect(redisDialect.decode({ kind: 'ping' }, { type: 'simple', value: 'PONG' })).toEqual({ ok: true, value: 'PONG' });
    expect(redisDialect.decode(get, { type: 'bulk', value: 'v' })).toEqual({ ok: true, value: 'v' });
    expect(redisDialect.decode(get, { type: 'bulk', value: null })).toEqual({ ok: true, value: null });
    expect(redisDialect.decode(get, { type: 'error', message: 'ERR max number of clients reached' })).toMatchObject({ kind: 'refused' });
    expect(redisDialect.decode(get, { type: 'error', message: 'WRONGTYPE x' })).toMatchObject({ kind: 'errReply' });
  });

  it('classifies error messages without regard to case', () => {
    expect(classifyError('err SERVER BUSY')).toBe('busy');
  });
});
