// Wiring a Session to a socket on the main thread, and keeping track of the
// live ones so that a shutdown can let each finish what it has read.
//
// Used by the three models whose main thread does the I/O (blocking, pool,
// async). The per-connection model cannot use it: its session runs inside a
// worker thread, which in Node 20 cannot be handed a socket, so the main thread
// relays bytes to it instead (see models/per-connection.ts).

import type { Socket } from 'node:net';
import { CommandHandler, Session } from './session.js';
import type { CodecName } from './codec.js';
import { CodecLimits, createCodec } from './codecs.js';
import type { SharedCounters } from '../stats.js';

export class SocketSessions {
  private readonly live = new Map<Socket, Session>();
  private stopping = false;

  constructor(
    private readonly counters: SharedCounters,
    private readonly limits: CodecLimits,
  ) {}

  /** Serves `socket` with `handle` until either side closes it. */
  serve(socket: Socket, protocol: CodecName, handle: CommandHandler, onClose?: () => void): Session {
    const session = new Session(
      { write: (text) => socket.write(text, 'latin1'), end: () => socket.end() },
      handle,
      this.counters,
      createCodec(protocol, this.limits),
    );
    this.live.set(socket, session);
    socket.on('data', (chunk: Buffer) => session.receive(chunk));
    socket.on('end', () => session.endInput());
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

  get size(): number {
    return this.live.size;
  }

  private stopReading(socket: Socket, session: Session): void {
    socket.pause();
    socket.removeAllListeners('data');
    session.endInput();
  }
}
