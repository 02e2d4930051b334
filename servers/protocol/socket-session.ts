// Wiring a Session to a socket on the main thread, and keeping track of the
// live ones so that a shutdown can let each finish what it has read.
//
// This is also where the per-connection limits a hostile or careless client
// could break are enforced:
//   - output backpressure: once a client has more than `maxOutput` bytes of
//     replies it has not read, the server stops reading from it and stops
//     executing its requests until the socket drains (Redis's
//     client-output-buffer-limit and memcached do the same in spirit);
//   - idle timeout: a connection with nothing pending and nothing received for
//     `idleTimeoutMs` is told so and closed, so a client that sends half a line
//     and goes quiet cannot hold a connection (and a slot) forever;
//   - a full close: when the server ends a conversation (QUIT, a line too
//     long, a refusal, a graceful stop), it sends its last reply and its FIN,
//     then waits briefly for the client's FIN and closes the socket outright.
//     Without that last step a client that keeps its side open would keep the
//     connection, and on the blocking model the only thread, for ever.
//
// All four models are served from here. What a socket is wired to is a
// Conversation: a Session, for the three models whose main thread runs the
// protocol (blocking, pool, async), or, for the per-connection model, the
// relay that passes the bytes on to the connection's own thread, where the
// session runs (models/per-connection.ts). Either way the socket's events,
// the limits above and the graceful stop are the same code.

import type { Socket } from 'node:net';
import { CommandHandler, Session, SessionOutput } from './session.js';
import type { CodecName } from './codec.js';
import { CodecLimits, connectionRefusal, createCodec } from './codecs.js';
import type { SharedCounters } from '../stats.js';

/**
 * How long a connection the server has ended waits for the client's FIN
 * before it is closed anyway. Our last reply is already in the kernel by then;
 * the wait only keeps the kernel from answering the client's late bytes with
 * a reset that could make it drop that reply unread (the "lingering close" of
 * nginx and Apache).
 */
export const LINGER_MS = 250;

export interface ConnectionLimits extends CodecLimits {
  maxOutput: number;
  idleTimeoutMs: number;
}

/** What a socket's events are handed to: a Session, or something that passes them on to one. */
export type Conversation = Pick<Session, 'receive' | 'endInput' | 'outputDrained' | 'abandon' | 'busy'>;

export class SocketSessions {
  private readonly live = new Map<Socket, Conversation>();
  private stopping = false;

  constructor(
    private readonly counters: SharedCounters,
    private readonly limits: ConnectionLimits,
  ) {}

  /** Serves `socket` with a Session that executes with `handle`, until either side closes it. */
  serve(socket: Socket, protocol: CodecName, handle: CommandHandler, onClose?: () => void): void {
    this.converse(socket, protocol, (output) => new Session(output, handle, this.counters, createCodec(protocol, this.limits)), onClose);
  }

  /** Serves `socket` with the conversation `open` makes, given the socket as its output. */
  converse(socket: Socket, protocol: CodecName, open: (output: SessionOutput) => Conversation, onClose?: () => void): void {
    const { maxOutput } = this.limits;
    const session = open({
      write: (text, sent) => socket.write(text, 'latin1', sent),
      end: () => closeConnection(socket),
      backlogged: () => socket.writableLength > maxOutput,
      gone: () => socket.destroyed,
      pauseInput: () => socket.pause(),
      resumeInput: () => {
        if (!this.stopping) socket.resume();
      },
    });
    this.live.set(socket, session);
    socket.on('data', (chunk: Buffer) => session.receive(chunk));
    socket.on('end', () => session.endInput());
    socket.on('drain', () => session.outputDrained());
    closeWhenIdle(socket, session, protocol, this.limits.idleTimeoutMs);
    socket.on('close', () => {
      session.abandon();
      this.live.delete(socket);
      onClose?.();
    });
    if (this.stopping) this.stopReading(socket, session);
  }

  /** Stops reading from every client; each is closed once its read requests are answered. */
  drainAll(): Promise<void> {
    this.stopping = true;
    const closing = [...this.live].map(([socket, session]) => {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      this.stopReading(socket, session);
      return closed;
    });
    return Promise.all(closing).then(() => undefined);
  }

  private stopReading(socket: Socket, session: Conversation): void {
    socket.pause();
    socket.removeAllListeners('data');
    session.endInput();
  }
}

/**
 * Ends the conversation: sends `lastWords` (if any) and everything written
 * before, then our FIN; once that has left, waits up to LINGER_MS for the
 * client's FIN, reading and dropping whatever it still sends, and closes.
 */
export function closeConnection(socket: Socket, lastWords?: string): void {
  if (socket.destroyed) return;
  if (!socket.writableEnded) socket.end(lastWords ?? '', 'latin1');
  socket.removeAllListeners('data');
  socket.on('data', () => {});
  socket.resume();
  const closeWhenBothSidesEnded = () => {
    if (socket.readableEnded) socket.destroy();
  };
  socket.once('end', closeWhenBothSidesEnded);
  const afterFlush = () => {
    closeWhenBothSidesEnded();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
  if (socket.writableFinished) afterFlush();
  else socket.once('finish', afterFlush);
}

/**
 * Closes `socket` after `idleTimeoutMs` without traffic, unless its session is
 * still working on something (a long SLEEP is not idleness): then it looks
 * again one timeout later. A line-protocol client is told why; an HTTP client
 * expects an idle keep-alive connection to be closed without a word, so it
 * gets none. A connection already closing whose client reads nothing (so our
 * last bytes never leave) is closed outright.
 */
function closeWhenIdle(socket: Socket, session: { busy: boolean }, protocol: CodecName, idleTimeoutMs: number): void {
  socket.setTimeout(idleTimeoutMs);
  socket.on('timeout', () => {
    if (socket.writableEnded) socket.destroy();
    else if (session.busy) socket.setTimeout(idleTimeoutMs);
    else closeConnection(socket, protocol === 'line' ? connectionRefusal(protocol, 'idleTimeout') : undefined);
  });
}
