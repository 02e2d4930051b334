import { describe, expect, it } from 'vitest';
import { RespParser, RespProtocolError } from './resp.js';

describe('RESP reply parser', () => {
  it('reads simple strings, errors and integers, each ending in CRLF', () => {
    expect(new RespParser().feed('+OK\r\n-ERR no such key\r\n:42\r\n:-7\r\n')).toEqual([
      { type: 'simple', value: 'OK' },
      { type: 'error', message: 'ERR no such key' },
      { type: 'integer', value: 42 },
      { type: 'integer', value: -7 },
    ]);
  });

  it('reads a bulk string by its length, so CRLF inside the value is kept', () => {
    expect(new RespParser().feed('$7\r\nab\r\ncde\r\n')).toEqual([{ type: 'bulk', value: 'ab\r\ncde' }]);
  });

  it('reads $-1 as the null bulk string Redis returns for a missing key, and $0 as empty', () => {
    expect(new RespParser().feed('$-1\r\n$0\r\n\r\n')).toEqual([
      { type: 'bulk', value: null },
      { type: 'bulk', value: '' },
    ]);
  });

  it('reads arrays of mixed replies, nested arrays and the null array', () => {
    expect(new RespParser().feed('*3\r\n$3\r\nfoo\r\n:1\r\n*1\r\n+x\r\n*-1\r\n')).toEqual([
      {
        type: 'array',
        items: [
          { type: 'bulk', value: 'foo' },
          { type: 'integer', value: 1 },
          { type: 'array', items: [{ type: 'simple', value: 'x' }] },
        ],
      },
      { type: 'array', items: null },
    ]);
  });

  it('waits for the rest of a reply split across chunks at any byte', () => {
    const stream = '+PONG\r\n$5\r\nhello\r\n*2\r\n:1\r\n$2\r\nhi\r\n';
    for (let cut = 0; cut <= stream.length; cut++) {
      const parser = new RespParser();
      const replies = [...parser.feed(stream.slice(0, cut)), ...parser.feed(stream.slice(cut))];
      expect(replies).toEqual([
        { type: 'simple', value: 'PONG' },
        { type: 'bulk', value: 'hello' },
        {
          type: 'array',
          items: [
            { type: 'integer', value: 1 },
            { type: 'bulk', value: 'hi' },
          ],
        },
      ]);
    }
  });

  it('rejects bytes that are not RESP instead of guessing', () => {
    expect(() => new RespParser().feed('PONG\r\n')).toThrow(RespProtocolError);
    expect(() => new RespParser().feed('$3\r\nabcd\r\n')).toThrow(RespProtocolError);
    expect(() => new RespParser().feed(':x\r\n')).toThrow(RespProtocolError);
  });
});
