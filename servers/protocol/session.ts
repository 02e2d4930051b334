// A session is one client's conversation with the server, independent of
// which thread runs it, how bytes reach it, and which wire protocol it speaks.
//
// It owns the promises the protocol makes to a connection:
//   - requests execute one at a time, in the order they were sent, even when
//     a request's reply comes later (a SLEEP on a timer, a task in a pool);
//   - replies leave in that same order, so a client may pipeline freely;
//   - after QUIT or an over-long line, the connection is closed once every
//     earlier reply has been written;
//   - when the client stops sending (half-close) or the server shuts down,
//     the requests already received are still answered before closing;
//   - flow control: while the client is not reading its replies (the output
//     is backlogged), nothing more is executed, and while too many requests
//     wait to be executed, nothing more is read. So a client that only sends
//     cannot make the server hold an unbounded pile of requests or replies;
//   - a client that is gone (it reset the connection) has its queue dropped:
//     requests nobody will see the answer to are not executed;
//   - one connection's pipeline cannot hold its thread for long: after a
//     slice of RUN_SLICE_MS of executing, the session lets the thread's event
//     loop run (other connections, and news that this client is gone) before
//     it goes on.
//
// Every model wires a Session between its transport and `handleCommand`: the
// async, pool and blocking models to a socket on the main thread
// (socket-session.ts), the per-connection model to messages inside a worker.
// One implementation means the four models cannot drift apart in behaviour.

import type { Codec, Request } from './codec.js';
import type { Command } from './commands.js';
import type { Reply } from './execute.js';
import { refusal } from './refusals.js';
import type { SharedCounters } from '../stats.js';

/** Where a session's output goes. */
export interface SessionOutput {
  /** Sends replies to the client: a binary string (one char per byte, latin1); `sent` is called once they have left for the kernel. */
  write(text: string, sent?: () => void): void;
  /** Closes the connection after everything written so far. */
  end(): void;
  /** True while too many written replies are still unsent; `outputDrained` is called when that passes. */
  backlogged(): boolean;
  /** True once the client can no longer receive replies (it reset the connection, or its thread was told it left). */
  gone(): boolean;
  /** Stop reading from the client for now (its bytes wait in the kernel, and then at the client). */
  pauseInput(): void;
  resumeInput(): void;
}

/** Replies gathered before one write to the transport. */
const BATCH_BYTES = 64 * 1024;
/** Requests received but not yet executed, past which reading pauses. */
const MAX_QUEUED_REQUESTS = 4096;
/** How long one connection's queue may run before its thread's event loop gets a turn. */
const RUN_SLICE_MS = 10;

export type CommandHandler = (command: Command) => Reply | Promise<Reply>;

export class Session {
  private queue: Request[] = [];
  private head = 0;
  private awaiting = false;
  private inputEnded = false;
  private closed = false;
  private finished = false;
  private inputPaused = false;
  private runScheduled = false;

  constructor(
    private readonly output: SessionOutput,
    private readonly handle: CommandHandler,
    private readonly counters: SharedCounters,
    private readonly codec: Codec,
  ) {}

  /** Takes the next bytes from the client. */
  receive(chunk: Buffer): void {
    if (this.closed || this.inputEnded) return;
    const requests = this.codec.decode(chunk);
    if (requests.length === 0) return;
    for (const request of requests) this.queue.push(request);
    this.run();
  }

  /** No more input will come (the client half-closed, or the server is stopping). */
  endInput(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    this.run();
  }

  /** The transport sent the backlog: carry on with the queued requests. */
  outputDrained(): void {
    this.run();
  }

  /** The client is gone: drop what it queued, execute nothing more, write nothing more. */
  abandon(): void {
    this.closed = true;
    this.finished = true;
    this.queue = [];
    this.head = 0;
  }

  /** True while requests are received but not yet answered. */
  get busy(): boolean {
    return this.awaiting || this.head < this.queue.length;
  }

  /**
   * Executes queued requests in order until one must be waited for, or the
   * client stops reading. Replies are gathered and written in batches: one
   * write per batch rather than per reply is most of what pipelining saves.
   */
  private run(): void {
    if (this.output.gone()) return this.abandon();
    let out: string[] = [];
    let outBytes = 0;
    const sliceEnds = performance.now() + RUN_SLICE_MS;
    while (!this.closed && !this.awaiting && this.head < this.queue.length) {
      if (outBytes >= BATCH_BYTES) {
        this.flush(out);
        out = [];
        outBytes = 0;
      }
      if (this.output.backlogged()) break;
      if (performance.now() > sliceEnds) {
        this.runAgainSoon();
        break;
      }
      if (this.output.gone()) return this.abandon();
      const request = this.queue[this.head++];
      const reply = this.execute(request);
      if (reply instanceof Promise) {
        this.awaiting = true;
        reply.then(
          (settled) => this.settle(request, settled),
          // Handlers turn failures into ERR replies themselves; this is the backstop that keeps the connection alive.
          () => {
            this.counters.add('errors');
            this.settle(request, refusal('internal'));
          },
        );
        break;
      }
      outBytes += this.answer(request, reply, out);
    }
    this.dropAnswered();
    this.flush(out);
    this.controlFlow();
  }

  /** Lets the event loop run first: other connections, and the news that this client has gone. */
  private runAgainSoon(): void {
    if (this.runScheduled) return;
    this.runScheduled = true;
    setImmediate(() => {
      this.runScheduled = false;
      this.run();
    });
  }

  /** Reads only while there is room for more requests and the client is taking its replies. */
  private controlFlow(): void {
    const room = this.queue.length - this.head < MAX_QUEUED_REQUESTS && !this.output.backlogged();
    if (room === !this.inputPaused || this.finished) return;
    this.inputPaused = !room;
    if (room) this.output.resumeInput();
    else this.output.pauseInput();
  }

  private execute(request: Request): Reply | Promise<Reply> {
    this.counters.add('requests');
    if (request.kind === 'command') return this.handle(request.command);
    this.counters.add('errors');
    return request.refusal;
  }

  private settle(request: Request, reply: Reply): void {
    this.awaiting = false;
    if (this.output.gone()) return this.abandon();
    if (this.finished) return;
    const out: string[] = [];
    this.answer(request, reply, out);
    this.flush(out);
    this.run();
  }

  /** Encodes one reply into `out`; returns its length in bytes. */
  private answer(request: Request, reply: Reply, out: string[]): number {
    const encoded = this.codec.encode(request, reply);
    out.push(encoded.text);
    if (encoded.close) this.closed = true;
    return encoded.text.length;
  }

  /** Writes the gathered replies in one go, then closes if the conversation is over. */
  private flush(out: string[]): void {
    if (out.length > 0) this.output.write(out.length === 1 ? out[0] : out.join(''));
    const drained = !this.awaiting && this.head >= this.queue.length;
    if (!this.finished && (this.closed || (this.inputEnded && drained))) {
      this.finished = true;
      this.closed = true;
      this.output.end();
    }
  }

  private dropAnswered(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
