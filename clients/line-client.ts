// A small client of the lab's line protocol, for programs and tests that talk
// to a server one request at a time or pipeline a few: it sends lines, hands
// back reply lines in order as they arrive, and says when the server has
// closed the connection. Replies are read as binary strings (latin1), so any
// byte a value holds comes back unchanged.
//
// It is deliberately simple: it splits on newlines and does not know which
// reply belongs to which request. The protocol's promise of one reply per
// request, in order, is what makes that enough.

import net from 'node:net';

/** A client of the line protocol: send lines, read reply lines, see when the server closes. */
export class LineClient {
  private buffered = '';
  private readonly lines: string[] = [];
  private readonly waiters: ((line: string | null) => void)[] = [];
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => this.take(text));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        for (const waiter of this.waiters.splice(0)) waiter(null);
        resolve();
      }),
    );
  }

  /** With `halfOpen`, the client keeps its own side open after the server's FIN, as a careless client would. */
  static connect(port: number, host = '127.0.0.1', { halfOpen = false } = {}): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, allowHalfOpen: halfOpen }, () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Writes raw text (latin1), newline not added. */
  write(text: string): void {
    this.socket.write(text, 'latin1');
  }

  send(...requests: string[]): void {
    this.write(requests.map((r) => `${r}\n`).join(''));
  }

  /** The next reply line, or null once the server has closed the connection. */
  readLine(timeoutMs = 10_000): Promise<string | null> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const waiter = (reply: string | null) => {
        clearTimeout(timer);
        resolve(reply);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error('timed out waiting for a reply'));
      }, timeoutMs);
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
