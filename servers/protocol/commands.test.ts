// Specification of parsing: which lines are requests, what each one means,
// and the exact refusal for each kind of malformed line.

import { describe, expect, it } from 'vitest';
import { MAX_KEY_BYTES, MAX_SLEEP_MS, MAX_WORK, parseRequest, ProtocolError } from './commands.js';

/** The message of the ProtocolError `line` is refused with (fails if it is accepted). */
function refusal(line: string): string {
  try {
    const command = parseRequest(line);
    throw new Error(`expected ${JSON.stringify(line)} to be refused, got ${JSON.stringify(command)}`);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    return error.message;
  }
}

/** A line as the framer hands it over: the bytes of its UTF-8 text, one char per byte. */
function utf8Line(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

describe('parseRequest: every command', () => {
  it('parses the argument-less commands PING, STATS and QUIT', () => {
    expect(parseRequest('PING')).toEqual({ name: 'PING' });
    expect(parseRequest('STATS')).toEqual({ name: 'STATS' });
    expect(parseRequest('QUIT')).toEqual({ name: 'QUIT' });
  });

  it('parses SET, GET, DEL and INCR with their key', () => {
    expect(parseRequest('SET k v')).toEqual({ name: 'SET', key: 'k', value: 'v' });
    expect(parseRequest('GET k')).toEqual({ name: 'GET', key: 'k' });
    expect(parseRequest('DEL k')).toEqual({ name: 'DEL', key: 'k' });
    expect(parseRequest('INCR k')).toEqual({ name: 'INCR', key: 'k' });
  });

  it('refuses a SET value or ECHO text that ends in CR, which a reply line could not carry back, and keeps CR elsewhere', () => {
    expect(() => parseRequest('SET k v\r')).toThrow(new ProtocolError('SET value cannot end in CR (\\r)'));
    expect(() => parseRequest('ECHO v\r')).toThrow(new ProtocolError('ECHO value cannot end in CR (\\r)'));
    expect(() => parseRequest('SET k \r')).toThrow(ProtocolError);
    expect(parseRequest('SET k a\rb')).toEqual({ name: 'SET', key: 'k', value: 'a\rb' });
    expect(parseRequest('ECHO \ra')).toEqual({ name: 'ECHO', text: '\ra' });
  });

  it('parses WORK and SLEEP with their whole-number argument', () => {
    expect(parseRequest('WORK 0')).toEqual({ name: 'WORK', rounds: 0 });
    expect(parseRequest('WORK 1000')).toEqual({ name: 'WORK', rounds: 1000 });
    expect(parseRequest('SLEEP 0')).toEqual({ name: 'SLEEP', ms: 0 });
    expect(parseRequest('SLEEP 250')).toEqual({ name: 'SLEEP', ms: 250 });
  });

  it('reads command names case-insensitively but keeps the case of keys, values and text', () => {
    expect(parseRequest('ping')).toEqual({ name: 'PING' });
    expect(parseRequest('pInG')).toEqual({ name: 'PING' });
    expect(parseRequest('set Key Some Value')).toEqual({ name: 'SET', key: 'Key', value: 'Some Value' });
    expect(parseRequest('Get Key')).toEqual({ name: 'GET', key: 'Key' });
    expect(parseRequest('echo Hello World')).toEqual({ name: 'ECHO', text: 'Hello World' });
    expect(parseRequest('work 3')).toEqual({ name: 'WORK', rounds: 3 });
    expect(parseRequest('sleep 3')).toEqual({ name: 'SLEEP', ms: 3 });
    expect(parseRequest('Quit')).toEqual({ name: 'QUIT' });
  });
});

describe('parseRequest: rest-of-line arguments', () => {
  it('gives ECHO everything after "ECHO ", spaces included', () => {
    expect(parseRequest('ECHO hello')).toEqual({ name: 'ECHO', text: 'hello' });
    expect(parseRequest('ECHO  two  spaces  ')).toEqual({ name: 'ECHO', text: ' two  spaces  ' });
    expect(parseRequest('ECHO PING')).toEqual({ name: 'ECHO', text: 'PING' });
  });

  it('answers ECHO alone, or ECHO and one space, with empty text', () => {
    expect(parseRequest('ECHO')).toEqual({ name: 'ECHO', text: '' });
    expect(parseRequest('ECHO ')).toEqual({ name: 'ECHO', text: '' });
  });

  it('takes the value of SET as the rest of the line, spaces included, and allows it to be empty', () => {
    expect(parseRequest('SET greeting hello there  world ')).toEqual({ name: 'SET', key: 'greeting', value: 'hello there  world ' });
    expect(parseRequest('SET k ')).toEqual({ name: 'SET', key: 'k', value: '' });
  });

  it('passes bytes that are not UTF-8 through in keys and values', () => {
    const key = '\x00\xff\xc3(';
    expect(parseRequest(`SET ${key} \x80\x81 \xfe`)).toEqual({ name: 'SET', key, value: '\x80\x81 \xfe' });
  });
});

describe('parseRequest: refusals', () => {
  it('refuses an empty line', () => {
    expect(refusal('')).toBe('empty request');
  });

  it('refuses an unknown command and names it in a printable form', () => {
    expect(refusal('FLY away')).toBe("unknown command 'FLY'");
    expect(refusal('nope')).toBe("unknown command 'NOPE'");
    expect(refusal('\x00\x07\xff')).toMatch(/^unknown command '[\x20-\x7e]*'$/);
    const long = refusal('X'.repeat(10_000));
    expect(long.length).toBeLessThan(100);
  });

  it('refuses a space before the command name rather than guessing', () => {
    expect(refusal(' PING')).toBe("unknown command ''");
  });

  it('refuses arguments given to PING, STATS and QUIT, even a lone trailing space', () => {
    expect(refusal('PING x')).toBe("wrong number of arguments for 'PING'");
    expect(refusal('PING ')).toBe("wrong number of arguments for 'PING'");
    expect(refusal('STATS all')).toBe("wrong number of arguments for 'STATS'");
    expect(refusal('QUIT now')).toBe("wrong number of arguments for 'QUIT'");
  });

  it('refuses GET, DEL and INCR without a key or with more than one', () => {
    for (const name of ['GET', 'DEL', 'INCR']) {
      expect(refusal(name)).toBe(`wrong number of arguments for '${name}'`);
      expect(refusal(`${name} a b`)).toBe(`wrong number of arguments for '${name}'`);
      // Arguments are separated by single spaces: a second space starts an empty argument.
      expect(refusal(`${name}  a`)).toBe(`wrong number of arguments for '${name}'`);
    }
  });

  it('refuses SET without a value', () => {
    expect(refusal('SET')).toBe("wrong number of arguments for 'SET'");
    expect(refusal('SET k')).toBe("wrong number of arguments for 'SET'");
  });

  it('refuses an empty key', () => {
    expect(refusal('GET ')).toBe('empty key');
    expect(refusal('SET  v')).toBe('empty key');
  });

  it(`accepts keys of ${MAX_KEY_BYTES} bytes and refuses keys of ${MAX_KEY_BYTES + 1}`, () => {
    const longest = 'k'.repeat(MAX_KEY_BYTES);
    expect(parseRequest(`GET ${longest}`)).toEqual({ name: 'GET', key: longest });
    expect(parseRequest(`SET ${longest} v`)).toEqual({ name: 'SET', key: longest, value: 'v' });
    for (const name of ['GET', 'DEL', 'INCR']) expect(refusal(`${name} ${longest}k`)).toBe('key longer than 250 bytes');
    expect(refusal(`SET ${longest}k v`)).toBe('key longer than 250 bytes');
  });

  it('measures keys in bytes, not characters', () => {
    // "é" is two bytes in UTF-8: 125 of them make 250 bytes, 126 make 252.
    expect(parseRequest(utf8Line(`GET ${'é'.repeat(125)}`))).toMatchObject({ name: 'GET' });
    expect(refusal(utf8Line(`GET ${'é'.repeat(126)}`))).toBe('key longer than 250 bytes');
  });

  it('accepts WORK from 0 to 10000000 and SLEEP from 0 to 60000, and nothing past them', () => {
    expect(parseRequest(`WORK ${MAX_WORK}`)).toEqual({ name: 'WORK', rounds: 10_000_000 });
    expect(parseRequest(`SLEEP ${MAX_SLEEP_MS}`)).toEqual({ name: 'SLEEP', ms: 60_000 });
    expect(refusal('WORK 10000001')).toBe('WORK wants a whole number from 0 to 10000000');
    expect(refusal('SLEEP 60001')).toBe('SLEEP wants a whole number from 0 to 60000');
  });

  it('refuses numbers that are negative, fractional, huge, in exponent form, signed or not numbers at all', () => {
    const notWholeNumbers = [
      '-1',
      '-0',
      '+5',
      '1.5',
      '0.0',
      '1e3',
      '99999999999999999999999',
      '1'.repeat(400),
      '0x10',
      'ten',
      '',
      'NaN',
      'Infinity',
      '\xb2',
      '5\r',
    ];
    for (const text of notWholeNumbers) {
      expect(refusal(`WORK ${text}`), `WORK ${JSON.stringify(text)}`).toBe('WORK wants a whole number from 0 to 10000000');
      expect(refusal(`SLEEP ${text}`), `SLEEP ${JSON.stringify(text)}`).toBe('SLEEP wants a whole number from 0 to 60000');
    }
  });

  it('reads leading zeros as the same whole number', () => {
    expect(parseRequest('SLEEP 007')).toEqual({ name: 'SLEEP', ms: 7 });
  });

  it('refuses WORK and SLEEP with no number or with two', () => {
    expect(refusal('WORK')).toBe("wrong number of arguments for 'WORK'");
    expect(refusal('WORK 1 2')).toBe("wrong number of arguments for 'WORK'");
    expect(refusal('SLEEP')).toBe("wrong number of arguments for 'SLEEP'");
    expect(refusal('SLEEP 1 ')).toBe("wrong number of arguments for 'SLEEP'");
  });
});
