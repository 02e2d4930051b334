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
