// Test support: two HTTP clients for the HTTP front's tests. `request` is
// Node's own client, a strict and independent parser of our responses;
// `RawHttpClient` writes any bytes and reads responses back one at a time,
// for the tests about the bytes on the wire (pipelining, keep-alive,
// malformed requests).

import http from 'node:http';
import net from 'node:net';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as a binary string (one char per byte). */
  body: string;
}

export interface RequestOptions {
  body?: string;
  headers?: Record<string, string>;
  /** Sends the body in two writes without a length, so Node frames it as chunked. */
  chunked?: boolean;
  agent?: http.Agent | false;
}

/** One request with Node's client; by default on its own connection, closed after the response. */
export function request(port: number, method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: options.agent ?? false, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('latin1') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`timed out: ${method} ${path}`)));
    const body = options.body === undefined ? undefined : Buffer.from(options.body, 'latin1');
    if (options.chunked && body) {
      req.write(body.subarray(0, body.length >> 1));
      req.end(body.subarray(body.length >> 1));
    } else {
      req.end(body);
    }
  });
}

/**
 * A raw HTTP/1.1 connection: write any bytes, read responses back one at a
 * time (framed by Content-Length, which every response of ours carries), and
 * see when the server closes.
 */
export class RawHttpClient {
  private buffered = '';
  private ended = false;
  private wake: (() => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      this.buffered += text;
      this.wake?.();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        this.wake?.();
        resolve();
      }),
    );
  }

  static connect(port: number): Promise<RawHttpClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawHttpClient(socket)));
      socket.once('error', reject);
    });
  }

  write(text: string): void {
    this.socket.write(text, 'latin1');
  }

  /** The next whole response, or null once the server has closed without sending one. */
  async readResponse(timeoutMs = 10_000): Promise<HttpResponse | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = this.takeResponse();
      if (response) return response;
      if (this.ended) return null;
      if (Date.now() > deadline) throw new Error('timed out waiting for a response');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async readResponses(count: number): Promise<(HttpResponse | null)[]> {
    const responses = [];
    for (let i = 0; i < count; i++) responses.push(await this.readResponse());
    return responses;
  }

  close(): void {
    this.socket.destroy();
  }

  private takeResponse(): HttpResponse | null {
    const headEnd = this.buffered.indexOf('\r\n\r\n');
    if (headEnd === -1) return null;
    const [statusLine, ...lines] = this.buffered.slice(0, headEnd).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
    const length = Number(headers['content-length']);
    if (this.buffered.length < headEnd + 4 + length) return null;
    const body = this.buffered.slice(headEnd + 4, headEnd + 4 + length);
    this.buffered = this.buffered.slice(headEnd + 4 + length);
    return { status: Number(statusLine.split(' ')[1]), headers, body };
  }
}
