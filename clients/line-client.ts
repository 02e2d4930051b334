// A small client of the lab's line protocol, for programs and tests that talk
// to a server one request at a time or pipeline a few: it sends lines, hands
// back reply lines in order as they arrive, and says when the server has
// closed the connection. Replies are read as binary strings (latin1), so any
// byte a value holds comes back unchanged.
//
// It is deliberately simple: it splits on newlines and does not know which
// reply belongs to which request. The protocol's promise of one reply per
// request, in order, is what makes that enough. The tests, `npm run client`
// and the bench's STATS sampler and readiness check all talk through it; the
// load generator has its own connection (clients/load/connection.ts), built
// for many requests in flight and for timing each one.

import net from 'node:net';

export interface LineClientOptions {
  /** Keep the client's own side open after the server's FIN, as a careless client would. */
  halfOpen?: boolean;
  /** How requests are written and replies read: latin1 (every byte as one char, the default) or utf8 (text typed by a person). */
  encoding?: 'latin1' | 'utf8';
  /** Give up on connecting after this many milliseconds. */
  timeoutMs?: number;
}

/** A client of the line protocol: send lines, read reply lines, see when the server closes. */
export class LineClient {
  private buffered = '';
  private readonly lines: string[] = [];
  private readonly waiters: ((line: string | null) => void)[] = [];
  private ended = false;
  /** The socket's error, if one ended the connection. */
  error: Error | undefined;
  readonly closed: Promise<void>;

  private constructor(
    readonly socket: net.Socket,
    private readonly encoding: BufferEncoding,
  ) {
    socket.setEncoding(encoding);
    socket.on('data', (text: string) => this.take(text));
    socket.on('error', (error) => (this.error = error));
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        for (const waiter of this.waiters.splice(0)) waiter(null);
        resolve();
      }),
    );
  }

  /** Connects; rejects with the socket's own error (its `code` says why), or when `timeoutMs` passes first. */
  static connect(
    port: number,
    host = '127.0.0.1',
    { halfOpen = false, encoding = 'latin1', timeoutMs }: LineClientOptions = {},
  ): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, allowHalfOpen: halfOpen, noDelay: true }, () => {
        clearTimeout(timer);
        socket.off('error', reject);
        resolve(new LineClient(socket, encoding));
      });
      socket.once('error', reject);
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              socket.destroy();
              reject(new Error(`no connection within ${timeoutMs} ms`));
            }, timeoutMs);
    });
  }

  /** Writes raw text (in the client's encoding), newline not added. */
  write(text: string): void {
    this.socket.write(text, this.encoding);
  }

  send(...requests: string[]): void {
    this.write(requests.map((r) => `${r}\n`).join(''));
  }

  /** The next reply line, or null once the server has closed the connection; `Infinity` waits as long as it takes. */
  readLine(timeoutMs = 10_000): Promise<string | null> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const waiter = (reply: string | null) => {
        clearTimeout(timer);
        resolve(reply);
      };
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            reject(new Error('timed out waiting for a reply'));
          }, timeoutMs)
        : undefined;
      this.waiters.push(waiter);
    });
  }

  async request(line: string, timeoutMs?: number): Promise<string | null> {
    this.send(line);
    return this.readLine(timeoutMs);
  }

  async readLines(count: number): Promise<(string | null)[]> {
    const replies = [];
    for (let i = 0; i < count; i++) replies.push(await this.readLine());
    return replies;
  }

  close(): void {
    this.socket.destroy();
  }

  private take(text: string): void {
    this.buffered += text;
    for (let newline = this.buffered.indexOf('\n'); newline !== -1; newline = this.buffered.indexOf('\n')) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      const waiter = this.waiters.shift();
      if (waiter) waiter(line);
      else this.lines.push(line);
    }
  }
}
