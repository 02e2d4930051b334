// Specification of what each command does, against a real SharedStore, the
// way every model runs it: parse the line, then `handleCommand`.

import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseRequest } from './commands.js';
import { BYE, blockThread, errorReply, handleCommand, hashChain, Reply, Runtime, timerSleep } from './execute.js';
import { isRefusal, lineText, refusal } from './refusals.js';
import { SharedStore } from '../store/store.js';
import { SharedCounters } from '../stats.js';

function runtime(options: Partial<Runtime> = {}): Runtime {
  return {
    store: SharedStore.create(1),
    counters: new SharedCounters(),
    sleep: () => {},
    stats: () => ({ model: 'test', requests: 0 }),
    ...options,
  };
}

/**
 * A refusal as the line protocol words it (`ERR <message>`), so that these
 * specifications read as the protocol does. That a refusal is data, and of
 * which kind, is specified by the last test here.
 */
function asLine(reply: Reply): Reply {
  return isRefusal(reply) ? lineText(reply) : reply;
}

/** Parses and executes one request line, as a model does; waits for a reply that comes later. */
async function run(rt: Runtime, line: string): Promise<Reply> {
  return asLine(await handleCommand(parseRequest(line), rt));
}

/** Runs a request that must answer at once (no promise). */
function runNow(rt: Runtime, line: string): Reply {
  const reply = handleCommand(parseRequest(line), rt);
  if (reply instanceof Promise) throw new Error(`${line} answered with a promise`);
  return asLine(reply);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest();

afterEach(() => {
  vi.restoreAllMocks();
});

describe('handleCommand', () => {
  it('answers PING with PONG', () => {
    expect(runNow(runtime(), 'PING')).toBe('PONG');
  });

  it('answers ECHO with its text verbatim, and ECHO alone with an empty line', () => {
    const rt = runtime();
    expect(runNow(rt, 'ECHO  hello   world ')).toBe(' hello   world ');
    expect(runNow(rt, 'ECHO')).toBe('');
  });

  it('answers SET with OK and GET with VALUE and the value, spaces and odd bytes included', () => {
    const rt = runtime();
    expect(runNow(rt, 'SET greeting hello  there')).toBe('OK');
    expect(runNow(rt, 'GET greeting')).toBe('VALUE hello  there');
    expect(runNow(rt, 'SET bin \x00\xff\xc3(')).toBe('OK');
    expect(runNow(rt, 'GET bin')).toBe('VALUE \x00\xff\xc3(');
  });

  it('answers GET of a missing key with NIL, and of a key set to the empty string with "VALUE "', () => {
    const rt = runtime();
    expect(runNow(rt, 'GET nothing')).toBe('NIL');
    runNow(rt, 'SET empty ');
    expect(runNow(rt, 'GET empty')).toBe('VALUE ');
  });

  it('makes the last SET of a key win', () => {
    const rt = runtime();
    runNow(rt, 'SET k 1');
    runNow(rt, 'SET k 2');
    expect(runNow(rt, 'GET k')).toBe('VALUE 2');
  });

  it('answers DEL with OK when the key existed and NIL when it did not, and the key is gone after', () => {
    const rt = runtime();
    runNow(rt, 'SET k v');
    expect(runNow(rt, 'DEL k')).toBe('OK');
    expect(runNow(rt, 'GET k')).toBe('NIL');
    expect(runNow(rt, 'DEL k')).toBe('NIL');
  });

  it('treats a missing key as 0 for INCR and answers the new value', () => {
    const rt = runtime();
    expect(runNow(rt, 'INCR n')).toBe('VALUE 1');
    expect(runNow(rt, 'INCR n')).toBe('VALUE 2');
    expect(runNow(rt, 'GET n')).toBe('VALUE 2');
  });

  it('increments values set by SET, negative ones included', () => {
    const rt = runtime();
    runNow(rt, 'SET n 41');
    expect(runNow(rt, 'INCR n')).toBe('VALUE 42');
    runNow(rt, 'SET m -2');
    expect(runNow(rt, 'INCR m')).toBe('VALUE -1');
    expect(runNow(rt, 'INCR m')).toBe('VALUE 0');
    expect(runNow(rt, 'GET m')).toBe('VALUE 0');
  });

  it('refuses INCR of a value that is not an integer and leaves the value as it was', () => {
    const rt = runtime();
    for (const value of ['abc', '1.5', '1e3', ' 1', '1 ', '+1', '', '0x10', '99999999999999999999']) {
      runNow(rt, `SET n ${value}`);
      expect(runNow(rt, 'INCR n'), JSON.stringify(value)).toBe('ERR value is not an integer');
      expect(runNow(rt, 'GET n')).toBe(`VALUE ${value}`);
    }
  });

  it('takes only the canonical decimal form as an integer, as Redis does: no leading zeros, no -0', () => {
    const rt = runtime();
    for (const value of ['007', '-0', '00', '-01', '0123']) {
      runNow(rt, `SET n ${value}`);
      expect(runNow(rt, 'INCR n'), JSON.stringify(value)).toBe('ERR value is not an integer');
      expect(runNow(rt, 'GET n')).toBe(`VALUE ${value}`);
    }
    for (const [value, next] of [
      ['0', '1'],
      ['-1', '0'],
      ['10', '11'],
      ['-9223372036854775808', '-9223372036854775807'],
    ]) {
      runNow(rt, `SET n ${value}`);
      expect(runNow(rt, 'INCR n'), value).toBe(`VALUE ${next}`);
    }
  });

  it('counts in signed 64 bits: INCR at 2^63 - 1 is refused and the value kept; -2^63 is a valid start', () => {
    const rt = runtime();
    runNow(rt, 'SET n 9223372036854775806');
    expect(runNow(rt, 'INCR n')).toBe('VALUE 9223372036854775807');
    expect(runNow(rt, 'INCR n')).toBe('ERR increment would overflow');
    expect(runNow(rt, 'GET n')).toBe('VALUE 9223372036854775807');
    runNow(rt, 'SET low -9223372036854775808');
    expect(runNow(rt, 'INCR low')).toBe('VALUE -9223372036854775807');
    runNow(rt, 'SET below -9223372036854775809');
    expect(runNow(rt, 'INCR below')).toBe('ERR value is not an integer');
  });

  it('answers WORK 0 with SHA-256("lab") in lowercase hex', () => {
    const expected = sha256(Buffer.from('lab', 'ascii')).toString('hex');
    expect(runNow(runtime(), 'WORK 0')).toBe(`VALUE ${expected}`);
    // The same figure as `printf lab | sha256sum`, pinned so that the chain's start cannot drift.
    expect(expected).toBe('a51146d38077ff992eba84cf1d5e9b249073503eb74868699016153b031a38f7');
  });

  it('answers WORK 1 with SHA-256 of the 32 raw bytes of SHA-256("lab"), and WORK n with the n-th link of that chain', () => {
    let digest = sha256(Buffer.from('lab', 'ascii'));
    digest = sha256(digest);
    expect(runNow(runtime(), 'WORK 1')).toBe(`VALUE ${digest.toString('hex')}`);
    for (let i = 1; i < 100; i++) digest = sha256(digest);
    expect(runNow(runtime(), 'WORK 100')).toBe(`VALUE ${digest.toString('hex')}`);
    expect(hashChain(100)).toBe(digest.toString('hex'));
  });

  it('answers SLEEP with OK once the runtime has waited: at once after a blocking wait, later after a timer', async () => {
    const waited: number[] = [];
    const blocking = runtime({ sleep: (ms) => void waited.push(ms) });
    expect(runNow(blocking, 'SLEEP 5')).toBe('OK');
    expect(waited).toEqual([5]);

    const timed = runtime({ sleep: timerSleep });
    const started = performance.now();
    const reply = handleCommand(parseRequest('SLEEP 30'), timed);
    expect(reply).toBeInstanceOf(Promise);
    expect(await reply).toBe('OK');
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
  });

  it('blocks the calling thread for at least the time asked when sleeping the blocking way', () => {
    const started = performance.now();
    blockThread(20);
    expect(performance.now() - started).toBeGreaterThanOrEqual(19);
  });

  it("answers STATS with the runtime's report as one line of JSON", () => {
    const rt = runtime({ stats: () => ({ model: 'pool', text: 'two\nlines', connections: { open: 1 } }) });
    const reply = runNow(rt, 'STATS') as string;
    expect(reply).not.toContain('\n');
    expect(JSON.parse(reply)).toEqual({ model: 'pool', text: 'two\nlines', connections: { open: 1 } });
  });

  it('answers QUIT with BYE and asks for the connection to be closed', () => {
    expect(runNow(runtime(), 'QUIT')).toEqual({ line: 'BYE', close: true });
    expect(BYE).toEqual({ line: 'BYE', close: true });
  });

  it('answers a SET that does not fit with ERR store full, counts the error, and keeps what was stored', () => {
    const rt = runtime({ store: SharedStore.create(0.01) });
    expect(runNow(rt, 'SET kept v')).toBe('OK');
    expect(runNow(rt, `SET big ${'x'.repeat(100_000)}`)).toBe('ERR store full');
    expect(runNow(rt, 'GET kept')).toBe('VALUE v');
    expect(runNow(rt, 'GET big')).toBe('NIL');
    expect(rt.counters.get('errors')).toBe(1);
  });

  it('answers an unexpected failure with a bare ERR internal error, logging the cause on the server', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const rt = runtime({
      stats: () => {
        throw new TypeError('secret detail');
      },
    });
    expect(await run(rt, 'STATS')).toBe('ERR internal error');
    expect(logged).toHaveBeenCalled();
    expect(rt.counters.get('errors')).toBe(1);
    expect(errorReply(new Error('x'), rt.counters)).toEqual({ refusal: 'internal', message: 'internal error' });
  });

  it('answers every refusal as data, its kind for the codec and its message as the line has always said it', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const rt = runtime({ store: SharedStore.create(0.01) });
    const reply = (line: string) => handleCommand(parseRequest(line), rt);
    handleCommand({ name: 'SET', key: 'word', value: 'w' }, rt);
    handleCommand({ name: 'SET', key: 'max', value: '9223372036854775807' }, rt);
    expect(reply('INCR word')).toEqual({ refusal: 'notAnInteger', message: 'value is not an integer' });
    expect(reply('INCR max')).toEqual({ refusal: 'incrementOverflow', message: 'increment would overflow' });
    expect(reply(`SET big ${'x'.repeat(100_000)}`)).toEqual({ refusal: 'storeFull', message: 'store full' });
    expect(reply('DEBUG CRASH')).toEqual({ refusal: 'badRequest', message: "unknown command 'DEBUG'" });
    expect(handleCommand({ name: 'STATS' }, runtime({ stats: () => ({ cycle: 1n }) }))).toEqual(refusal('internal'));
    // The text a client sent is never a refusal, whatever it reads.
    expect(reply('ECHO ERR server busy')).toBe('ERR server busy');
  });
});
