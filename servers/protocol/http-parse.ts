// Parsing HTTP/1.1: from a byte stream to whole requests, each a head and a
// body.
//
// TCP delivers bytes, not messages, so this is framing before it is anything
// else, as the line framer (framing.ts) is for the line protocol: one chunk
// may hold half a header, or three pipelined requests. The parser is a state
// machine that consumes one piece of a request at a time (the request line,
// a header line, a body by `Content-Length` or chunk by chunk, the trailers)
// and, when the bytes run out in the middle of a piece, keeps what is unread
// and waits for more. Each byte is scanned once, however the stream is cut.
//
// Every piece is bounded, for the same reason as `--max-line`: a client that
// never finishes must not make the server buffer without end. The head (the
// request line, the headers and the blank line) is bounded by
// `maxHeaderBytes` (431), the body by `maxBody` (413), a chunk-size line by
// 1 KiB. A request whose framing cannot be trusted (a bad request line or
// header, both `Content-Length` and `Transfer-Encoding`, an oversized head or
// body) is the last thing the parser reports: after it there is no telling
// where the next request starts, so it reads nothing more.
//
// It is deliberately small. What it does: request line, headers,
// `Content-Length` and `chunked` bodies (trailers read and dropped),
// keep-alive by default on HTTP/1.1, `Connection: close`, and HTTP/1.0
// closing unless it asks for keep-alive. What it does not do, named: no
// `Expect: 100-continue` (a codec only speaks when a request is answered, so
// a client that waits for 100 Continue sends its body after its own timeout,
// about a second for curl); no transfer codings but `chunked` (501); no
// obsolete line folding (400); no query strings (ignored); no upgrades, no
// HTTP/2; a request cut short by the client's close is dropped unanswered.
//
// What a request means is not decided here: the routes are in
// http-routes.ts, the responses in http-encode.ts. A request the parser
// refuses is reported as a refusal (refusals.ts), whose kind gives the
// status it is answered with.

import { Refusal, refusal, WordedRefusalKind } from './refusals.js';

/** Default bound on a request's head (request line, headers, blank line). */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/** Longest chunk-size line of a chunked body, extensions included. */
const MAX_CHUNK_LINE = 1024;

const LF = 0x0a;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface HttpLimits {
  /** Largest body accepted, in bytes (the server's `--max-line`). */
  maxBody: number;
  /** Largest request head accepted, in bytes. */
  maxHeaderBytes: number;
}

/** A request refused while parsing; thrown from deep in the parser, and caught in `push`. */
class HttpError {
  readonly refusal: Refusal;

  constructor(kind: WordedRefusalKind, message: string) {
    this.refusal = refusal(kind, message);
  }
}

/** The head of a request: its request line and its headers, names lower-cased. */
export interface HttpHead {
  method: string;
  /** The path alone: no scheme, host or query. */
  path: string;
  http10: boolean;
  headers: Map<string, string[]>;
}

export type Parsed =
  /**
   * A complete request. `keepAlive`: the connection stays open after it.
   * `invalid`: it is well framed, so the stream goes on, but it breaks a rule
   * of HTTP/1.1 and is to be refused rather than routed.
   */
  | { kind: 'request'; head: HttpHead; body: string; keepAlive: boolean; invalid?: Refusal }
  /** A request whose framing cannot be trusted: answer it, and read nothing more. */
  | { kind: 'broken'; refusal: Refusal };

type State =
  | { at: 'request-line' }
  | { at: 'headers'; head: HttpHead }
  | { at: 'body'; head: HttpHead; remaining: number }
  | { at: 'chunk-size'; head: HttpHead }
  | { at: 'chunk-data'; head: HttpHead; remaining: number }
  | { at: 'chunk-end'; head: HttpHead }
  | { at: 'trailers'; head: HttpHead }
  | { at: 'closed' };

export class HttpParser {
  private readonly limits: HttpLimits;
  private state: State = { at: 'request-line' };
  /** Received bytes not yet consumed, from `offset` on. */
  private buffer: Buffer = Buffer.alloc(0);
  private offset = 0;
  /** Where the search for the next newline resumes, so no byte is scanned twice. */
  private scanFrom = 0;
  /** Bytes of the current head consumed so far, for the header-section bound. */
  private headBytes = 0;
  /** The current request's body, as it arrives. */
  private bodyParts: Buffer[] = [];
  private bodyBytes = 0;

  constructor(limits: { maxBody: number; maxHeaderBytes?: number }) {
    this.limits = { maxBody: limits.maxBody, maxHeaderBytes: limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES };
  }

  /** Feeds the next bytes from the client; returns the requests they completed, in order. */
  push(chunk: Buffer): Parsed[] {
    if (this.isClosed) return [];
    this.append(chunk);
    const parsed: Parsed[] = [];
    try {
      while (!this.isClosed && this.step(parsed));
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      parsed.push({ kind: 'broken', refusal: error.refusal });
      this.close();
    }
    return parsed;
  }

  /** After a request that closes the connection, nothing more is read. */
  private get isClosed(): boolean {
    return this.state.at === 'closed';
  }

  // --- the state machine: each step consumes one piece of a request, or waits for more bytes ---

  /** Advances the state machine once; false when it needs more bytes. */
  private step(parsed: Parsed[]): boolean {
    const state = this.state;
    switch (state.at) {
      case 'request-line': {
        const line = this.readHeadLine();
        if (line === null) return false;
        // A blank line before a request is tolerated (RFC 9112, section 2.2).
        if (line !== '') this.state = { at: 'headers', head: parseRequestLine(line) };
        return true;
      }
      case 'headers': {
        const line = this.readHeadLine();
        if (line === null) return false;
        if (line !== '') {
          addHeader(state.head.headers, line);
          return true;
        }
        this.headBytes = 0;
        this.startBody(state.head, parsed);
        return true;
      }
      case 'body': {
        state.remaining -= this.takeBody(state.remaining);
        if (state.remaining > 0) return false;
        this.finish(state.head, parsed);
        return true;
      }
      case 'chunk-size': {
        const line = this.readLine(MAX_CHUNK_LINE, 'chunk size line too long');
        if (line === null) return false;
        const size = parseChunkSize(line);
        if (size === 0) this.state = { at: 'trailers', head: state.head };
        else {
          if (this.bodyBytes + size > this.limits.maxBody) throw bodyTooLarge(this.limits.maxBody);
          this.state = { at: 'chunk-data', head: state.head, remaining: size };
        }
        return true;
      }
      case 'chunk-data': {
        state.remaining -= this.takeBody(state.remaining);
        if (state.remaining > 0) return false;
        this.state = { at: 'chunk-end', head: state.head };
        return true;
      }
      case 'chunk-end': {
        const line = this.readLine(MAX_CHUNK_LINE, 'malformed chunked body');
        if (line === null) return false;
        if (line !== '') throw new HttpError('badRequest', 'malformed chunked body');
        this.state = { at: 'chunk-size', head: state.head };
        return true;
      }
      case 'trailers': {
        const line = this.readHeadLine();
        if (line === null) return false;
        if (line === '') {
          this.headBytes = 0;
          this.finish(state.head, parsed);
        }
        return true;
      }
      case 'closed':
        return false;
    }
  }

  /** With the head read: reads the body, if any, by its framing. */
  private startBody(head: HttpHead, parsed: Parsed[]): void {
    const framing = bodyFraming(head);
    if (framing === 'chunked') {
      this.state = { at: 'chunk-size', head };
    } else if (framing > this.limits.maxBody) {
      // The body is not read, so the stream is lost: answer 413 and close.
      throw bodyTooLarge(this.limits.maxBody);
    } else if (framing > 0) {
      this.state = { at: 'body', head, remaining: framing };
    } else {
      this.finish(head, parsed);
    }
  }

  /** The request is complete: report it, and stop reading if the connection ends with it. */
  private finish(head: HttpHead, parsed: Parsed[]): void {
    const body = this.bodyBytes === 0 ? '' : Buffer.concat(this.bodyParts, this.bodyBytes).toString('latin1');
    this.bodyParts = [];
    this.bodyBytes = 0;
    this.state = { at: 'request-line' };
    const keepAlive = keepsAlive(head);
    parsed.push({ kind: 'request', head, body, keepAlive, invalid: invalidity(head) });
    if (!keepAlive) this.close();
  }

  private close(): void {
    this.state = { at: 'closed' };
    this.buffer = Buffer.alloc(0);
    this.offset = 0;
    this.bodyParts = [];
  }

  // --- bytes: a buffer of what is unread, lines out of it, and body bytes taken whole ---

  private append(chunk: Buffer): void {
    if (this.offset >= this.buffer.length) {
      this.buffer = chunk;
      this.scanFrom = 0;
    } else {
      const rest = this.buffer.subarray(this.offset);
      this.scanFrom -= this.offset;
      this.buffer = Buffer.concat([rest, chunk], rest.length + chunk.length);
    }
    this.offset = 0;
  }

  /** A line of the request head, counted against the header-section bound. */
  private readHeadLine(): string | null {
    const allowance = this.limits.maxHeaderBytes - this.headBytes;
    const start = this.offset;
    const line = this.readLine(allowance, 'header section too large', 'headerTooLarge');
    this.headBytes += this.offset - start;
    return line;
  }

  /** The next line without its CRLF (or bare LF), as a binary string; null until it is complete. */
  private readLine(maxBytes: number, tooLong: string, kind: WordedRefusalKind = 'badRequest'): string | null {
    const newline = this.buffer.indexOf(LF, this.scanFrom);
    const lineEnd = newline === -1 ? this.buffer.length : newline + 1;
    if (lineEnd - this.offset > maxBytes) throw new HttpError(kind, tooLong);
    if (newline === -1) {
      this.scanFrom = this.buffer.length;
      return null;
    }
    let end = newline;
    if (end > this.offset && this.buffer[end - 1] === 0x0d) end--;
    const line = this.buffer.toString('latin1', this.offset, end);
    this.offset = this.scanFrom = newline + 1;
    return line;
  }

  /** Takes up to `wanted` body bytes from what is buffered; answers how many it took. */
  private takeBody(wanted: number): number {
    const taken = Math.min(wanted, this.buffer.length - this.offset);
    if (taken > 0) {
      this.bodyParts.push(this.buffer.subarray(this.offset, this.offset + taken));
      this.bodyBytes += taken;
      this.offset += taken;
      this.scanFrom = this.offset;
    }
    return taken;
  }
}

// --- the head: request line, headers, and what they say about the body and the connection ---

function parseRequestLine(line: string): HttpHead {
  const parts = line.split(' ');
  if (parts.length !== 3) throw new HttpError('badRequest', 'malformed request line');
  const [method, target, version] = parts;
  if (!TOKEN.test(method)) throw new HttpError('badRequest', 'malformed method');
  const match = /^HTTP\/(\d)\.(\d)$/.exec(version);
  if (!match) throw new HttpError('badRequest', 'malformed HTTP version');
  if (match[1] !== '1') throw new HttpError('versionNotSupported', 'only HTTP/1.0 and HTTP/1.1 are served');
  return { method, path: pathOf(target), http10: match[2] === '0', headers: new Map() };
}

/** The path of an origin-form (`/a/b?q`) or absolute-form (`http://host/a/b`) target; the query is ignored. */
function pathOf(target: string): string {
  const absolute = /^https?:\/\/[^/?#]*/i.exec(target);
  const rest = absolute ? target.slice(absolute[0].length) || '/' : target;
  if (!rest.startsWith('/')) throw new HttpError('badRequest', 'malformed request target');
  const query = rest.indexOf('?');
  return query === -1 ? rest : rest.slice(0, query);
}

function addHeader(headers: Map<string, string[]>, line: string): void {
  if (line[0] === ' ' || line[0] === '\t') throw new HttpError('badRequest', 'obsolete header line folding');
  const colon = line.indexOf(':');
  const name = colon === -1 ? '' : line.slice(0, colon);
  if (!TOKEN.test(name)) throw new HttpError('badRequest', 'malformed header line');
  const key = name.toLowerCase();
  const value = line.slice(colon + 1).trim();
  const values = headers.get(key);
  if (values) values.push(value);
  else headers.set(key, [value]);
}

/** How the body is framed: a byte count, or chunked. */
function bodyFraming(head: HttpHead): number | 'chunked' {
  const encodings = head.headers.get('transfer-encoding');
  const lengths = head.headers.get('content-length');
  if (encodings) {
    // Both framings at once is how request smuggling starts: refuse outright.
    if (lengths) throw new HttpError('badRequest', 'both Content-Length and Transfer-Encoding');
    if (head.http10) throw new HttpError('badRequest', 'Transfer-Encoding in an HTTP/1.0 request');
    if (encodings.length !== 1 || encodings[0].toLowerCase() !== 'chunked') {
      throw new HttpError('notImplemented', 'only the chunked transfer coding is supported');
    }
    return 'chunked';
  }
  if (!lengths) return 0;
  if (!lengths.every((value) => /^\d+$/.test(value) && value === lengths[0])) throw new HttpError('badRequest', 'malformed Content-Length');
  return Number(lengths[0]);
}

function parseChunkSize(line: string): number {
  const match = /^([0-9A-Fa-f]{1,8})[ \t]*(;.*)?$/.exec(line);
  if (!match) throw new HttpError('badRequest', 'malformed chunk size');
  return parseInt(match[1], 16);
}

function keepsAlive(head: HttpHead): boolean {
  const tokens = (head.headers.get('connection') ?? []).flatMap((value) =>
    value
      .toLowerCase()
      .split(',')
      .map((t) => t.trim()),
  );
  if (tokens.includes('close')) return false;
  return head.http10 ? tokens.includes('keep-alive') : true;
}

/** A rule a well-framed request may still break: refused, and the connection kept. */
function invalidity(head: HttpHead): Refusal | undefined {
  if (!head.headers.has('host') && !head.http10) return refusal('badRequest', 'an HTTP/1.1 request needs a Host header');
  return undefined;
}

function bodyTooLarge(maxBody: number): HttpError {
  return new HttpError('contentTooLarge', `body larger than ${maxBody} bytes`);
}
