// What happens before the clock starts: is anyone there, and is the store full?
//
// A run first sends one PING, so that a wrong port or a server speaking another
// protocol ends with a clear message instead of a table full of errors. The kv
// workload then writes every key once (pipelined, over one connection, which
// even the one-connection-at-a-time blocking model serves), so that GETs find
// values from the first measured request on and every GET can be checked.
import { nowUs } from './clock.js';
import { Channel } from './connection.js';
import { dialectFor } from './dialect.js';
import type { KvSpace } from './kv.js';
import type { ErrorKind, Op } from './ops.js';
import type { LoadOptions } from './types.js';

export class ServerCheckError extends Error {}

/**
 * Send `ops` over one connection, `window` at a time, and check each answer
 * with `expect` (which returns a complaint, or undefined when satisfied).
 */
function converse(
  options: LoadOptions,
  ops: Iterator<Op>,
  window: number,
  what: string,
  expect: (op: Op, value: string | null) => string | undefined,
): Promise<void> {
  const dialect = dialectFor(options.dialect);
  const where = `${options.host}:${options.port}`;
  return new Promise((resolve, reject) => {
    let done = false;
    const settle = (error?: Error) => {
      if (done) return;
      done = true;
      clearInterval(watchdog);
      if (error) channel.abandon('reset');
      else channel.close();
      if (error) reject(error);
      else resolve();
    };
    const sendMore = () => {
      while (channel.inFlight < window) {
        const next = ops.next();
        if (next.done) break;
        channel.send({ op: next.value, scheduledUs: nowUs(), measured: false, slot: 0 });
      }
      channel.flush();
      if (channel.inFlight === 0) settle();
    };
    const failureMessage = (kind: ErrorKind) =>
      kind === 'refused'
        ? `cannot connect to ${where}: connection refused. Is the server running on that port?`
        : kind === 'timeout'
          ? `no reply from ${where} within ${options.timeoutMs} ms while ${what}`
          : `the connection to ${where} ${kind === 'wrongReply' ? 'got a reply it could not read' : 'broke'} while ${what}`;
    const channel = new Channel(options.host, options.port, dialect, {
      onReply(_channel, pending, reply) {
        const decoded = dialect.decode(pending.op, reply);
        const complaint = decoded.ok ? expect(pending.op, decoded.value) : `the server answered ${JSON.stringify(decoded.message)}`;
        if (complaint) settle(new ServerCheckError(`${where}: ${complaint} while ${what}`));
      },
      onBytes() {},
      onChunkDone: sendMore,
      onFailure(_channel, _lost, kind) {
        settle(new ServerCheckError(failureMessage(kind)));
      },
    });
    const watchdog = setInterval(
      () => {
        const oldest = channel.oldestScheduledUs();
        if (oldest !== undefined && nowUs() - oldest > options.timeoutMs * 1000) {
          settle(new ServerCheckError(failureMessage('timeout')));
        }
      },
      Math.max(1, Math.min(100, options.timeoutMs / 4)),
    );
    sendMore();
  });
}

/** One PING must be answered PONG before any load is sent. */
export function checkServer(options: LoadOptions): Promise<void> {
  const hint = options.dialect === 'lab' ? ' (is it a lab server? For Redis use --dialect redis)' : '';
  return converse(options, [{ kind: 'ping' } as Op][Symbol.iterator](), 1, 'checking it answers PING', (_op, value) =>
    value === 'PONG' ? undefined : `PING was answered ${JSON.stringify(value)}${hint}`,
  );
}

/** Write every key of the keyspace once, checking each SET is answered OK. */
export function fillKeyspace(options: LoadOptions, kv: KvSpace): Promise<void> {
  function* sets(): Generator<Op> {
    for (let key = 0; key < kv.keys; key++) yield { kind: 'set', key, value: kv.nextValue(key) };
  }
  return converse(options, sets(), 128, `filling the keyspace (${kv.keys} keys)`, (_op, value) =>
    value === 'OK' ? undefined : `SET was answered ${JSON.stringify(value)}`,
  );
}

/** Give up waiting for greetings when no further connection has answered for this long... */
const GREETING_STALL_MS = 1000;
/** ...and in any case after this long. */
const GREETING_LIMIT_MS = 15_000;

/**
 * Bounds a driver's wait for one PING answered on each of its connections,
 * before the clock starts (not with --reconnect, where connecting is what is
 * measured). A server may pay a lot to set a connection up (the
 * per-connection model starts a thread); that cost belongs to the reconnect
 * experiment, not to the latency of the first requests of a steady-state run.
 * The wait ends once every connection answered, or when a second passes with
 * no new answer after the first (the blocking model answers one connection at
 * a time, by design), or after 15 s in all. Many threads starting at once on
 * two cores can all take seconds, so silence before the first answer is not
 * taken as a stall.
 */
export class GreetingWatch {
  private readonly startedAt = Date.now();
  private lastAnswerAt: number | undefined;

  /** One more connection answered its PING. */
  answered(): void {
    this.lastAnswerAt = Date.now();
  }

  /** Resolves once `allAnswered()` holds, or the answers stall, or the limit passes. */
  until(allAnswered: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const poll = setInterval(() => {
        const now = Date.now();
        const stalled = this.lastAnswerAt !== undefined && now - this.lastAnswerAt > GREETING_STALL_MS;
        if (allAnswered() || stalled || now - this.startedAt > GREETING_LIMIT_MS) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
  }
}
