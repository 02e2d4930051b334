// Specification of a Session: the ordering and closing promises the protocol
// makes to one connection, whatever thread or transport runs it.

import { describe, expect, it } from 'vitest';
import type { Command } from './commands.js';
import type { Reply } from './execute.js';
import { BYE } from './execute.js';
import { LineCodec } from './line-codec.js';
import { CommandHandler, Session, SessionOutput } from './session.js';
import { SharedCounters } from '../stats.js';

const END = Symbol('end');

/** A session wired to a recording output: every write, and the end, in the order they happened. */
function harness(handle: CommandHandler, maxLine = 1024) {
  const events: (string | typeof END)[] = [];
  const counters = new SharedCounters();
  let backlogged = false;
  let gone = false;
  /** 'pause' and 'resume' calls on the input, in order. */
  const flow: string[] = [];
  const output: SessionOutput = {
    write: (text) => void events.push(text),
    end: () => void events.push(END),
    backlogged: () => backlogged,
    gone: () => gone,
    pauseInput: () => void flow.push('pause'),
    resumeInput: () => void flow.push('resume'),
  };
  const session = new Session(output, handle, counters, new LineCodec(maxLine));
  return {
    session,
    counters,
    events,
    flow,
    send: (text: string) => session.receive(Buffer.from(text, 'latin1')),
    /** Everything written so far, as one string. */
    written: () => events.filter((event): event is string => event !== END).join(''),
    ends: () => events.filter((event) => event === END).length,
    /** True once the end came after every write. */
    endedLast: () => events.at(-1) === END,
    setBacklogged: (value: boolean) => (backlogged = value),
    setGone: () => (gone = true),
  };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A handler in which `ECHO <ms>:<text>` answers <text> after <ms> on a timer
 * and plain `ECHO <text>` at once; it records which requests ran and how many
 * ran at the same time.
 */
function timedEcho() {
  const started: string[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const handle = (command: Command): Reply | Promise<Reply> => {
    if (command.name === 'QUIT') return BYE;
    if (command.name !== 'ECHO') return command.name === 'PING' ? 'PONG' : 'OK';
    started.push(command.text);
    const timed = /^(\d+):(.*)$/.exec(command.text);
    if (!timed) return command.text;
    running++;
    mostAtOnce = Math.max(mostAtOnce, running);
    return delay(Number(timed[1])).then(() => {
      running--;
      return timed[2];
    });
  };
  return { handle, started, mostAtOnce: () => mostAtOnce };
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not reached in time');
    await delay(2);
  }
}

describe('Session', () => {
  it('answers pipelined requests in the order sent, even when a later reply would be ready first', async () => {
    const echo = timedEcho();
    const h = harness(echo.handle);
    h.send('ECHO 40:slow\nECHO 5:fast\nECHO now\nECHO 1:last\n');
    await until(() => h.written().split('\n').length > 4);
    expect(h.written()).toBe('slow\nfast\nnow\nlast\n');
    expect(h.ends()).toBe(0);
  });

  it('executes one request at a time: a request starts only after the one before it has its reply', async () => {
    const echo = timedEcho();
    const h = harness(echo.handle);
    h.send('ECHO 30:a\nECHO 1:b\n');
    expect(echo.started).toEqual(['30:a']);
    h.send('ECHO c\n');
    expect(echo.started).toEqual(['30:a']);
    await until(() => h.written() === 'a\nb\nc\n');
    expect(echo.started).toEqual(['30:a', '1:b', 'c']);
    expect(echo.mostAtOnce()).toBe(1);
  });

  it('writes the replies of requests that answer at once together, in one write', () => {
    const h = harness(timedEcho().handle);
    h.send('PING\nECHO a\nPING\n');
    expect(h.events).toEqual(['PONG\na\nPONG\n']);
  });

  it('answers a refused line with ERR and keeps the connection open', () => {
    const h = harness(timedEcho().handle);
    h.send('FLY\n\nGET\nPING\n');
    expect(h.written()).toBe("ERR unknown command 'FLY'\nERR empty request\nERR wrong number of arguments for 'GET'\nPONG\n");
    expect(h.ends()).toBe(0);
    expect(h.counters.get('requests')).toBe(4);
    expect(h.counters.get('errors')).toBe(3);
  });

  it('closes after QUIT once every earlier reply is written, and never runs what followed it', async () => {
    const echo = timedEcho();
    const h = harness(echo.handle);
    h.send('ECHO 20:first\nPING\nQUIT\nECHO after\n');
    expect(h.ends()).toBe(0);
    await until(() => h.ends() > 0);
    expect(h.written()).toBe('first\nPONG\nBYE\n');
    expect(h.endedLast()).toBe(true);
    expect(echo.started).not.toContain('after');
    h.send('ECHO later\n');
    await delay(5);
    expect(h.written()).toBe('first\nPONG\nBYE\n');
    expect(h.ends()).toBe(1);
  });

  it('answers an over-long line with ERR line too long after every earlier reply, then closes', async () => {
    const h = harness(timedEcho().handle, 16);
    h.send('ECHO 20:early\nPING\n');
    h.send('x'.repeat(40));
    expect(h.ends()).toBe(0);
    await until(() => h.ends() > 0);
    expect(h.written()).toBe('early\nPONG\nERR line too long\n');
    expect(h.endedLast()).toBe(true);
  });

  it('still answers every queued request after the input ends, then closes', async () => {
    const echo = timedEcho();
    const h = harness(echo.handle);
    h.send('ECHO 20:one\nECHO 5:two\nECHO three\n');
    h.session.endInput();
    expect(h.ends()).toBe(0);
    expect(h.session.busy).toBe(true);
    await until(() => h.ends() > 0);
    expect(h.written()).toBe('one\ntwo\nthree\n');
    expect(h.endedLast()).toBe(true);
    expect(h.session.busy).toBe(false);
  });

  it('closes at once when the input ends with nothing left to answer, ignoring a partial line', () => {
    const h = harness(timedEcho().handle);
    h.send('PING\nECHO unfinished');
    h.session.endInput();
    expect(h.written()).toBe('PONG\n');
    expect(h.ends()).toBe(1);
    h.session.endInput();
    expect(h.ends()).toBe(1);
  });

  it('ignores bytes that arrive after the input has ended', () => {
    const h = harness(timedEcho().handle);
    h.session.endInput();
    h.send('PING\n');
    expect(h.written()).toBe('');
    expect(h.ends()).toBe(1);
  });

  it('executes nothing more while the output is backlogged, and carries on in order once it drains', () => {
    const echo = timedEcho();
    const h = harness(echo.handle);
    h.setBacklogged(true);
    h.send('ECHO a\nECHO b\n');
    expect(echo.started).toEqual([]);
    h.setBacklogged(false);
    h.session.outputDrained();
    expect(h.written()).toBe('a\nb\n');
  });

  it('stops reading while the output is backlogged, and reads again once it drains', () => {
    const h = harness(timedEcho().handle);
    h.setBacklogged(true);
    h.send('ECHO a\n');
    expect(h.flow).toEqual(['pause']);
    h.setBacklogged(false);
    h.session.outputDrained();
    expect(h.written()).toBe('a\n');
    expect(h.flow).toEqual(['pause', 'resume']);
  });

  it('stops reading once thousands of requests wait behind a slow one, and reads again when they are done', async () => {
    const h = harness(timedEcho().handle);
    h.send('ECHO 20:slow\n');
    h.send('PING\n'.repeat(5000));
    expect(h.flow).toEqual(['pause']);
    await until(() => h.written().length >= `slow\n${'PONG\n'.repeat(5000)}`.length);
    expect(h.written()).toBe(`slow\n${'PONG\n'.repeat(5000)}`);
    expect(h.flow).toEqual(['pause', 'resume']);
  });

  it('keeps order across a long pipeline of a hundred thousand requests in one chunk', async () => {
    const h = harness(timedEcho().handle);
    const count = 100_000;
    h.send(Array.from({ length: count }, (_, i) => `ECHO ${i}\n`).join(''));
    await until(() => h.ends() === 0 && h.written().split('\n').length === count + 1);
    const replies = h.written().split('\n');
    expect(replies.length).toBe(count + 1);
    expect(replies.slice(0, count).every((reply, i) => reply === String(i))).toBe(true);
  });

  it('gives the event loop a turn after about 10 ms of one pipeline, then goes on in order', async () => {
    const busyFor = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    const h = harness((command) => {
      busyFor(2);
      return command.name === 'PING' ? 'PONG' : 'OK';
    });
    h.send('PING\n'.repeat(50));
    const answeredAtOnce = h.written().split('\n').length - 1;
    expect(answeredAtOnce).toBeGreaterThan(0);
    expect(answeredAtOnce).toBeLessThan(50);
    await until(() => h.written() === 'PONG\n'.repeat(50));
  });

  it('drops the queue of a client that is gone: nothing more is executed or written', async () => {
    const echo = timedEcho();
    const h = harness(echo.handle);
    h.send('ECHO 30:first\nECHO second\nECHO third\n');
    h.setGone();
    await delay(60);
    expect(echo.started).toEqual(['30:first']);
    expect(h.written()).toBe('');
    h.send('ECHO later\n');
    expect(echo.started).toEqual(['30:first']);
  });

  it('executes nothing for a client already gone when its bytes are handed over', () => {
    const echo = timedEcho();
    const h = harness(echo.handle);
    h.setGone();
    h.send('ECHO never\n');
    expect(echo.started).toEqual([]);
    expect(h.written()).toBe('');
  });
});
