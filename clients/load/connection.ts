// One TCP connection with its queue of requests awaiting replies.
//
// Both protocols answer in request order, so matching a reply to its request
// needs no ids: the oldest unanswered request owns the next reply. The queue
// can hold many requests (pipelining, or open loop where sending never waits
// for replies). Writes made while connecting are buffered by the socket, so a
// request can be sent the moment it is due and the connect time, when there
// is one, is part of its latency.
//
// When the connection breaks, or a request waits longer than the timeout, the
// connection is abandoned and every request still queued on it is handed back
// as failed: with replies matched by order, one lost reply would shift every
// later one onto the wrong request.
import net from 'node:net';
import { nowUs } from './clock.js';
import type { Dialect, RawReply, ReplyParser } from './dialect.js';
import type { ErrorKind, Op } from './ops.js';

export interface Pending {
  op: Op;
  /** When the request was due: the send time in closed loop, the schedule in open loop. */
  scheduledUs: number;
  /** Sent inside the measured window (after warmup). */
  measured: boolean;
  /** Index of the logical connection it belongs to, for per-connection counts. */
  slot: number;
}

export interface ChannelEvents {
  /** A reply arrived for `pending` (the oldest request). */
  onReply(channel: Channel, pending: Pending, reply: RawReply, atUs: number): void;
  /** Bytes arrived (counted before they are parsed). */
  onBytes(bytes: number, atUs: number): void;
  /** A chunk was fully processed and the connection is still open: a good moment to send more. */
  onChunkDone(channel: Channel): void;
  /** The connection is gone; `lost` are the requests that will never be answered. */
  onFailure(channel: Channel, lost: Pending[], kind: ErrorKind, atUs: number): void;
}

export class Channel {
  private readonly socket: net.Socket;
  private readonly parser: ReplyParser;
  private readonly queue: Pending[] = [];
  private head = 0;
  private outgoing = '';
  private finished = false;
  /** The server said it refuses this connection (`ERR max connections`). */
  private refusedByServer = false;
  private errorCode: string | undefined;

  constructor(
    host: string,
    port: number,
    private readonly dialect: Dialect,
    private readonly events: ChannelEvents,
  ) {
    this.parser = dialect.newParser();
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.setEncoding('latin1');
    this.socket.on('data', (chunk: string) => this.onData(chunk));
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      this.errorCode ??= error.code;
    });
    this.socket.on('close', () => this.fail(this.closeKind()));
  }

  get inFlight(): number {
    return this.queue.length - this.head;
  }

  get isOpen(): boolean {
    return !this.finished;
  }

  /** When the oldest unanswered request was due, if there is one. */
  oldestScheduledUs(): number | undefined {
    return this.inFlight > 0 ? this.queue[this.head].scheduledUs : undefined;
  }

  /** Queue a request; it is written at the next `flush`. Returns its size in bytes. */
  send(pending: Pending): number {
    const bytes = this.dialect.encode(pending.op);
    this.queue.push(pending);
    this.outgoing += bytes;
    return bytes.length;
  }

  flush(): void {
    if (this.outgoing === '' || this.finished) return;
    this.socket.write(this.outgoing, 'latin1');
    this.outgoing = '';
  }

  /** After a `refused` reply the server closes; requests left then were refused too. */
  markRefusedByServer(): void {
    this.refusedByServer = true;
  }

  get wasRefusedByServer(): boolean {
    return this.refusedByServer;
  }

  /** Give up on the connection now; every request still queued fails as `kind`. */
  abandon(kind: ErrorKind): void {
    this.socket.destroy();
    this.fail(kind);
  }

  /** Close politely. Only meant for a connection with nothing in flight. */
  close(): void {
    if (this.finished) return;
    this.finished = true;
    this.socket.end();
    // A server that never closes its side must not keep the process alive.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private onData(chunk: string): void {
    if (this.finished) return;
    const atUs = nowUs();
    this.events.onBytes(chunk.length, atUs);
    let replies: RawReply[];
    try {
      replies = this.parser.feed(chunk);
    } catch {
      this.abandon('wrongReply');
      return;
    }
    for (const reply of replies) {
      if (this.finished) return;
      if (this.inFlight === 0) {
        // A reply nobody asked for: the conversation is out of step.
        this.abandon('wrongReply');
        return;
      }
      const pending = this.queue[this.head];
      this.queue[this.head++] = undefined as unknown as Pending;
      this.compact();
      this.events.onReply(this, pending, reply, atUs);
    }
    if (!this.finished) this.events.onChunkDone(this);
  }

  private closeKind(): ErrorKind {
    if (this.refusedByServer || this.errorCode === 'ECONNREFUSED') return 'refused';
    return 'reset';
  }

  private fail(kind: ErrorKind): void {
    if (this.finished) return;
    this.finished = true;
    const lost = this.queue.slice(this.head);
    this.queue.length = 0;
    this.head = 0;
    this.events.onFailure(this, lost, kind, nowUs());
  }

  /** Drop answered requests from the front now and then, keeping shifts O(1) amortised. */
  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
