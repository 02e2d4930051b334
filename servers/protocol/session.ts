// A session is one client's conversation with the server, independent of
// which thread runs it and how bytes reach it.
//
// It owns the promises the protocol makes to a connection:
//   - requests execute one at a time, in the order they were sent, even when
//     a request's reply comes later (a SLEEP on a timer, a task in a pool);
//   - replies leave in that same order, so a client may pipeline freely;
//   - after QUIT or an over-long line, the connection is closed once every
//     earlier reply has been written;
//   - when the client stops sending (half-close) or the server shuts down,
//     the requests already received are still answered before closing.
//
// Every model wires a Session between its transport and `handleLine`: the
// async, pool and blocking models to a socket on the main thread
// (socket-session.ts), the per-connection model to messages inside a worker.
// One implementation means the four models cannot drift apart in behaviour.

import { Frame, LineFramer, LINE_TOO_LONG } from './framing.js';
import type { Reply } from './execute.js';
import type { SharedCounters } from '../stats.js';

/** Where a session's output goes. */
export interface SessionOutput {
  /** Sends replies to the client: a binary string (one char per byte, latin1). */
  write(text: string): void;
  /** Closes the connection after everything written so far. */
  end(): void;
}

export type LineHandler = (line: string) => Reply | Promise<Reply>;

export class Session {
  private readonly framer: LineFramer;
  private queue: Frame[] = [];
  private head = 0;
  private awaiting = false;
  private inputEnded = false;
  private closed = false;
  private finished = false;

  constructor(
    private readonly output: SessionOutput,
    private readonly handle: LineHandler,
    private readonly counters: SharedCounters,
    maxLine: number,
  ) {
    this.framer = new LineFramer(maxLine);
  }

  /** Takes the next bytes from the client. */
  receive(chunk: Buffer): void {
    if (this.closed || this.inputEnded) return;
    const frames = this.framer.push(chunk);
    if (frames.length === 0) return;
    for (const frame of frames) this.queue.push(frame);
    this.run();
  }

  /** No more input will come (the client half-closed, or the server is stopping). */
  endInput(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    this.run();
  }

  /** True while requests are received but not yet answered. */
  get busy(): boolean {
    return this.awaiting || this.head < this.queue.length;
  }

  /** Executes queued requests in order until one must be waited for. */
  private run(): void {
    const replies: string[] = [];
    while (!this.closed && !this.awaiting && this.head < this.queue.length) {
      const frame = this.queue[this.head++];
      if (frame === LINE_TOO_LONG) {
        this.counters.add('errors');
        replies.push('ERR line too long');
        this.closed = true;
        break;
      }
      this.counters.add('requests');
      const reply = this.handle(frame);
      if (reply instanceof Promise) {
        this.awaiting = true;
        reply.then((settled) => this.resume(settled));
        break;
      }
      this.collect(reply, replies);
    }
    this.dropAnsweredFrames();
    this.flush(replies);
  }

  private resume(reply: Reply): void {
    this.awaiting = false;
    const replies: string[] = [];
    this.collect(reply, replies);
    this.flush(replies);
    this.run();
  }

  private collect(reply: Reply, replies: string[]): void {
    if (typeof reply === 'string') {
      replies.push(reply);
    } else {
      replies.push(reply.line);
      this.closed = true;
    }
  }

  /** Writes the gathered replies in one go, then closes if the conversation is over. */
  private flush(replies: string[]): void {
    if (replies.length > 0) this.output.write(replies.join('\n') + '\n');
    const drained = !this.awaiting && this.head >= this.queue.length;
    if (!this.finished && (this.closed || (this.inputEnded && drained))) {
      this.finished = true;
      this.closed = true;
      this.output.end();
    }
  }

  private dropAnsweredFrames(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
