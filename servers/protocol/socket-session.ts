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
//     and goes quiet cannot hold a connection (and a slot) forever.
//
// Used by the three models whose main thread does the I/O (blocking, pool,
// async). The per-connection model cannot use it: its session runs inside a
// worker thread, which in Node 20 cannot be handed a socket, so the main thread
// relays bytes to it instead (see models/per-connection.ts).

import type { Socket } from 'node:net';
import { CommandHandler, Session } from './session.js';
import type { CodecName } from './codec.js';
import { CodecLimits, createCodec, refusal } from './codecs.js';
import type { SharedCounters } from '../stats.js';

export interface ConnectionLimits extends CodecLimits {
  maxOutput: number;
  idleTimeoutMs: number;
}

export class SocketSessions {
  private readonly live = new Map<Socket, Session>();
  private stopping = false;

  constructor(
    private readonly counters: SharedCounters,
    private readonly limits: ConnectionLimits,
  ) {}

  /** Serves `socket` with `handle` until either side closes it. */
  serve(socket: Socket, protocol: CodecName, handle: CommandHandler, onClose?: () => void): Session {
    const { maxOutput } = this.limits;
    const session = new Session(
      {
        write: (text) => socket.write(text, 'latin1'),
        end: () => socket.end(),
        backlogged: () => socket.writableLength > maxOutput,
        pauseInput: () => socket.pause(),
        resumeInput: () => {
          if (!this.stopping) socket.resume();
        },
      },
      handle,
      this.counters,
      createCodec(protocol, this.limits),
    );
    this.live.set(socket, session);
    socket.on('data', (chunk: Buffer) => session.receive(chunk));
    socket.on('end', () => session.endInput());
    socket.on('drain', () => session.outputDrained());
    closeWhenIdle(socket, session, protocol, this.limits.idleTimeoutMs);
    socket.on('close', () => {
      this.live.delete(socket);
      onClose?.();
    });
    if (this.stopping) this.stopReading(socket, session);
    return session;
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

  private stopReading(socket: Socket, session: Session): void {
    socket.pause();
    socket.removeAllListeners('data');
    session.endInput();
  }
}

/**
 * Closes `socket` after `idleTimeoutMs` without traffic, unless its session is
 * still working on something (a long SLEEP is not idleness). A line-protocol
 * client is told why; an HTTP client expects an idle keep-alive connection to
 * be closed without a word, so it gets none.
 */
export function closeWhenIdle(socket: Socket, session: { busy: boolean }, protocol: CodecName, idleTimeoutMs: number): void {
  socket.setTimeout(idleTimeoutMs, () => {
    if (session.busy) return;
    if (protocol === 'line') socket.end(refusal(protocol, 'idle timeout'));
    else socket.end();
    socket.destroySoon();
  });
}
