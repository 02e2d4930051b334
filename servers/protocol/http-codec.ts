// HTTP/1.1 as a codec: the lab's commands behind a handful of routes.
//
// HTTP is a second way into the same server, not a second server. This codec
// turns request bytes into the same Commands the line protocol produces, and
// turns the same Replies (`VALUE x`, `NIL`, `OK`, `ERR ...`) into responses.
// Everything else stays where it is: the Session keeps pipelined requests in
// order, the model decides which thread runs them, and the store is shared
// with the line port. So each model keeps its nature over HTTP for free:
// blocking still serves one TCP connection at a time, per-connection parses
// HTTP inside the connection's own worker, pool sends the commands to piscina,
// and async stays one loop.
//
// Why not Node's `http` module? It owns the socket, and here no one may: the
// per-connection model's worker thread cannot be handed a socket in Node 20,
// only the bytes the main thread relays to it, and the codec has to run
// wherever the Session runs. A codec is bytes in and bytes out, which a
// worker thread can do. It also makes HTTP's framing cost visible and
// comparable: the same Session, the same commands, only the codec differs.
//
//   GET    /ping            PING          200 PONG
//   POST   /echo            ECHO <body>   200 the body
//   GET    /kv/:key         GET           200 the value, 404 when absent
//   PUT    /kv/:key         SET (body)    200 OK
//   DELETE /kv/:key         DEL           200 OK, 404 when absent
//   POST   /kv/:key/incr    INCR          200 the new number, 400 when not an integer
//   POST   /work/:n         WORK          200 the hex digest
//   POST   /sleep/:ms       SLEEP         200 OK
//   GET    /stats           STATS         200 the JSON object
//
// Errors are JSON, `{"error":"..."}`: 400 for a bad argument or a malformed
// request, 404 for an unknown route or key, 405 for a known path with the
// wrong method (with `Allow`), 413 for a body over `--max-line`, 431 for a
// header section over 16 KiB, 503 when the pool's queue is full (`ERR server
// busy`: try again later), and 507 Insufficient Storage when the store is
// full. 507 rather than 503 because a full store is not a passing overload:
// retrying the same write will fail the same way until something is deleted.
//
// Keys in the path are percent-decoded to bytes; keys, values and bodies are
// binary strings (one char per byte), so any bytes survive the round trip,
// exactly as on the line port. A key is 1 to 250 bytes and, so that the line
// protocol can name it too, holds no space or control character.
//
// This is a deliberately small parser. What it does: request line, headers,
// `Content-Length` and `chunked` bodies (trailers read and dropped), HEAD on
// the GET routes, keep-alive by default on HTTP/1.1, `Connection: close`, and
// HTTP/1.0 closing unless it asks for keep-alive. What it does not do, named:
// no `Expect: 100-continue` (a codec only speaks when a request is answered,
// so a client that waits for 100 Continue sends its body after its own
// timeout, about a second for curl); no transfer codings but `chunked` (501);
// no obsolete line folding (400); no query strings (ignored); no upgrades, no
// HTTP/2, no compression; a request cut short by the client's close is
// dropped without an answer. Any request whose framing cannot be trusted
// (bad request line, bad header, both `Content-Length` and
// `Transfer-Encoding`, an oversized head or body) is answered once and the
// connection closed, because after it there is no telling where the next
// request starts.

import type { Codec, Encoded, Request } from './codec.js';
import { Command, MAX_KEY_BYTES, MAX_SLEEP_MS, MAX_WORK } from './commands.js';
import type { Reply } from './execute.js';

/** Default bound on a request's head (request line, headers, blank line). */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/** Longest chunk-size line of a chunked body, extensions included. */
const MAX_CHUNK_LINE = 1024;

const LF = 0x0a;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** What encode needs to know about the request it answers. */
export interface HttpMeta {
  /** The connection stays open after this response. */
  keepAlive: boolean;
  /** An HTTP/1.0 request: keep-alive must then be said explicitly. */
  http10: boolean;
  /** A HEAD request: the response carries headers only. */
  head: boolean;
  /** For a refused request: the status to answer with. */
  status?: number;
  /** For 405: the methods the path does allow. */
  allow?: string;
}

export interface HttpLimits {
  /** Largest body accepted, in bytes (the server's `--max-line`). */
  maxBody: number;
  /** Largest request head accepted, in bytes. */
  maxHeaderBytes: number;
}

/** A request refused while parsing: its status, its message, and whether the stream is lost. */
class HttpError {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly close = true,
  ) {}
}

/** The parsed head of a request, before its body. */
interface Head {
  method: string;
  path: string;
  http10: boolean;
  headers: Map<string, string[]>;
}

/** What a request's route and head decided, waiting only for its body. */
interface Pending {
  meta: HttpMeta;
  /** Builds the command from the body, or is the refusal to answer once the body is read. */
  outcome: ((body: string) => Command) | HttpError;
}

type State =
  | { at: 'request-line' }
  | { at: 'headers'; head: Omit<Head, 'headers'>; headers: Map<string, string[]> }
  | { at: 'body'; pending: Pending; remaining: number }
  | { at: 'chunk-size'; pending: Pending }
  | { at: 'chunk-data'; pending: Pending; remaining: number }
  | { at: 'chunk-end'; pending: Pending }
  | { at: 'trailers'; pending: Pending }
  | { at: 'closed' };

export class HttpCodec implements Codec {
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

  decode(chunk: Buffer): Request[] {
    if (this.isClosed) return [];
    this.append(chunk);
    const requests: Request[] = [];
    try {
      while (!this.isClosed && this.step(requests));
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      // A framing error: answer it, then read nothing more from this connection.
      requests.push(refused(error, { keepAlive: false, http10: false, head: false }));
      this.close();
    }
    return requests;
  }

  encode(request: Request, reply: Reply): Encoded {
    const meta = (request.meta ?? { keepAlive: false, http10: false, head: false }) as HttpMeta;
    if (request.kind === 'refused') {
      const close = request.close || !meta.keepAlive;
      const extra = meta.allow === undefined ? [] : [`allow: ${meta.allow}`];
      return errorEncoded(meta.status ?? 400, request.message, meta, close, extra);
    }
    if (typeof reply !== 'string') return respond(200, TEXT, reply.line, meta, true);
    return answer(request.command, reply, meta);
  }

  /** After a response that closes the connection, nothing more is read. */
  private get isClosed(): boolean {
    return this.state.at === 'closed';
  }

  // --- the parser: each step consumes one piece of a request, or waits for more bytes ---

  /** Advances the state machine once; false when it needs more bytes. */
  private step(requests: Request[]): boolean {
    const state = this.state;
    switch (state.at) {
      case 'request-line': {
        const line = this.readHeadLine();
        if (line === null) return false;
        // A blank line before a request is tolerated (RFC 9112, section 2.2).
        if (line !== '') this.state = { at: 'headers', head: parseRequestLine(line), headers: new Map() };
        return true;
      }
      case 'headers': {
        const line = this.readHeadLine();
        if (line === null) return false;
        if (line !== '') {
          addHeader(state.headers, line);
          return true;
        }
        this.headBytes = 0;
        this.startBody({ ...state.head, headers: state.headers }, requests);
        return true;
      }
      case 'body': {
        state.remaining -= this.takeBody(state.remaining);
        if (state.remaining > 0) return false;
        this.finish(state.pending, requests);
        return true;
      }
      case 'chunk-size': {
        const line = this.readLine(MAX_CHUNK_LINE, 'chunk size line too long');
        if (line === null) return false;
        const size = parseChunkSize(line);
        if (size === 0) this.state = { at: 'trailers', pending: state.pending };
        else {
          if (this.bodyBytes + size > this.limits.maxBody) throw bodyTooLarge(this.limits.maxBody);
          this.state = { at: 'chunk-data', pending: state.pending, remaining: size };
        }
        return true;
      }
      case 'chunk-data': {
        state.remaining -= this.takeBody(state.remaining);
        if (state.remaining > 0) return false;
        this.state = { at: 'chunk-end', pending: state.pending };
        return true;
      }
      case 'chunk-end': {
        const line = this.readLine(MAX_CHUNK_LINE, 'malformed chunked body');
        if (line === null) return false;
        if (line !== '') throw new HttpError(400, 'malformed chunked body');
        this.state = { at: 'chunk-size', pending: state.pending };
        return true;
      }
      case 'trailers': {
        const line = this.readHeadLine();
        if (line === null) return false;
        if (line === '') {
          this.headBytes = 0;
          this.finish(state.pending, requests);
        }
        return true;
      }
      case 'closed':
        return false;
    }
  }

  /** With the head read: routes the request, then reads its body, if any, by its framing. */
  private startBody(head: Head, requests: Request[]): void {
    const pending = route(head);
    const framing = bodyFraming(head);
    if (framing === 'chunked') {
      this.state = { at: 'chunk-size', pending };
    } else if (framing > this.limits.maxBody) {
      // The body is not read, so the stream is lost: answer 413 and close.
      throw bodyTooLarge(this.limits.maxBody);
    } else if (framing > 0) {
      this.state = { at: 'body', pending, remaining: framing };
    } else {
      this.finish(pending, requests);
    }
  }

  /** The request is complete: emit it, and stop reading if the connection ends with it. */
  private finish(pending: Pending, requests: Request[]): void {
    const body = this.bodyBytes === 0 ? '' : Buffer.concat(this.bodyParts, this.bodyBytes).toString('latin1');
    this.bodyParts = [];
    this.bodyBytes = 0;
    this.state = { at: 'request-line' };
    const { meta, outcome } = pending;
    const request: Request = outcome instanceof HttpError ? refused(outcome, meta) : { kind: 'command', command: outcome(body), meta };
    requests.push(request);
    if (!meta.keepAlive || (request.kind === 'refused' && request.close)) this.close();
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
    const line = this.readLine(allowance, 'header section too large', 431);
    this.headBytes += this.offset - start;
    return line;
  }

  /** The next line without its CRLF (or bare LF), as a binary string; null until it is complete. */
  private readLine(maxBytes: number, tooLong: string, status = 400): string | null {
    const newline = this.buffer.indexOf(LF, this.scanFrom);
    const lineEnd = newline === -1 ? this.buffer.length : newline + 1;
    if (lineEnd - this.offset > maxBytes) throw new HttpError(status, tooLong);
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

// --- parsing the head ---

function parseRequestLine(line: string): Omit<Head, 'headers'> {
  const parts = line.split(' ');
  if (parts.length !== 3) throw new HttpError(400, 'malformed request line');
  const [method, target, version] = parts;
  if (!TOKEN.test(method)) throw new HttpError(400, 'malformed method');
  const match = /^HTTP\/(\d)\.(\d)$/.exec(version);
  if (!match) throw new HttpError(400, 'malformed HTTP version');
  if (match[1] !== '1') throw new HttpError(505, 'only HTTP/1.0 and HTTP/1.1 are served');
  return { method, path: pathOf(target), http10: match[2] === '0' };
}

/** The path of an origin-form (`/a/b?q`) or absolute-form (`http://host/a/b`) target; the query is ignored. */
function pathOf(target: string): string {
  const absolute = /^https?:\/\/[^/?#]*/i.exec(target);
  const rest = absolute ? target.slice(absolute[0].length) || '/' : target;
  if (!rest.startsWith('/')) throw new HttpError(400, 'malformed request target');
  const query = rest.indexOf('?');
  return query === -1 ? rest : rest.slice(0, query);
}

function addHeader(headers: Map<string, string[]>, line: string): void {
  if (line[0] === ' ' || line[0] === '\t') throw new HttpError(400, 'obsolete header line folding');
  const colon = line.indexOf(':');
  const name = colon === -1 ? '' : line.slice(0, colon);
  if (!TOKEN.test(name)) throw new HttpError(400, 'malformed header line');
  const key = name.toLowerCase();
  const value = line.slice(colon + 1).trim();
  const values = headers.get(key);
  if (values) values.push(value);
  else headers.set(key, [value]);
}

/** How the body is framed: a byte count, or chunked. */
function bodyFraming(head: Head): number | 'chunked' {
  const encodings = head.headers.get('transfer-encoding');
  const lengths = head.headers.get('content-length');
  if (encodings) {
    // Both framings at once is how request smuggling starts: refuse outright.
    if (lengths) throw new HttpError(400, 'both Content-Length and Transfer-Encoding');
    if (head.http10) throw new HttpError(400, 'Transfer-Encoding in an HTTP/1.0 request');
    if (encodings.length !== 1 || encodings[0].toLowerCase() !== 'chunked') {
      throw new HttpError(501, 'only the chunked transfer coding is supported');
    }
    return 'chunked';
  }
  if (!lengths) return 0;
  if (!lengths.every((value) => /^\d+$/.test(value) && value === lengths[0])) throw new HttpError(400, 'malformed Content-Length');
  return Number(lengths[0]);
}

function parseChunkSize(line: string): number {
  const match = /^([0-9A-Fa-f]{1,8})[ \t]*(;.*)?$/.exec(line);
  if (!match) throw new HttpError(400, 'malformed chunk size');
  return parseInt(match[1], 16);
}

function keepsAlive(head: Head): boolean {
  const tokens = (head.headers.get('connection') ?? []).flatMap((value) => value.toLowerCase().split(',').map((t) => t.trim()));
  if (tokens.includes('close')) return false;
  return head.http10 ? tokens.includes('keep-alive') : true;
}

// --- routes: from method and path to a command ---

interface Route {
  /** The methods this path answers, for `Allow`. */
  allow: string;
  commandFor(method: string, params: string[]): ((body: string) => Command) | undefined;
}

const ROUTES: [RegExp, Route][] = [
  [/^\/ping$/, { allow: 'GET, HEAD', commandFor: (m) => (isGet(m) ? () => ({ name: 'PING' }) : undefined) }],
  [/^\/echo$/, { allow: 'POST', commandFor: (m) => (m === 'POST' ? (body) => ({ name: 'ECHO', text: body }) : undefined) }],
  [/^\/stats$/, { allow: 'GET, HEAD', commandFor: (m) => (isGet(m) ? () => ({ name: 'STATS' }) : undefined) }],
  [
    /^\/kv\/([^/]*)$/,
    {
      allow: 'GET, HEAD, PUT, DELETE',
      commandFor(method, [raw]) {
        if (isGet(method)) return withKey(raw, (key) => ({ name: 'GET', key }));
        if (method === 'PUT') return withKey(raw, (key, value) => ({ name: 'SET', key, value }));
        if (method === 'DELETE') return withKey(raw, (key) => ({ name: 'DEL', key }));
        return undefined;
      },
    },
  ],
  [
    /^\/kv\/([^/]*)\/incr$/,
    { allow: 'POST', commandFor: (m, [raw]) => (m === 'POST' ? withKey(raw, (key) => ({ name: 'INCR', key })) : undefined) },
  ],
  [
    /^\/work\/([^/]*)$/,
    {
      allow: 'POST',
      commandFor(method, [raw]) {
        if (method !== 'POST') return undefined;
        const rounds = wholeNumber('work', raw, MAX_WORK);
        return () => ({ name: 'WORK', rounds });
      },
    },
  ],
  [
    /^\/sleep\/([^/]*)$/,
    {
      allow: 'POST',
      commandFor(method, [raw]) {
        if (method !== 'POST') return undefined;
        const ms = wholeNumber('sleep', raw, MAX_SLEEP_MS);
        return () => ({ name: 'SLEEP', ms });
      },
    },
  ],
];

/** Decides what a request will be once its body is in: a command, or a refusal that keeps the connection. */
function route(head: Head): Pending {
  const keepAlive = keepsAlive(head);
  const meta: HttpMeta = { keepAlive, http10: head.http10, head: head.method === 'HEAD' };
  if (!head.headers.has('host') && !head.http10) {
    return { meta, outcome: new HttpError(400, 'an HTTP/1.1 request needs a Host header', false) };
  }
  for (const [pattern, candidate] of ROUTES) {
    const match = pattern.exec(head.path);
    if (!match) continue;
    try {
      const build = candidate.commandFor(head.method, match.slice(1));
      if (build) return { meta, outcome: build };
      return { meta: { ...meta, allow: candidate.allow }, outcome: new HttpError(405, `${printable(head.method)} is not allowed here`, false) };
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      return { meta, outcome: error };
    }
  }
  return { meta, outcome: new HttpError(404, 'no such route', false) };
}

function isGet(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

function withKey(raw: string, build: (key: string, body: string) => Command): (body: string) => Command {
  const key = validKey(percentDecode(raw));
  return (body) => build(key, body);
}

function validKey(key: string): string {
  if (key.length === 0) throw new HttpError(400, 'empty key', false);
  if (key.length > MAX_KEY_BYTES) throw new HttpError(400, `key longer than ${MAX_KEY_BYTES} bytes`, false);
  if (/[\x00-\x20\x7f]/.test(key)) throw new HttpError(400, 'a key may not hold spaces or control characters', false);
  return key;
}

/** `%XX` escapes to the bytes they stand for, as a binary string. */
function percentDecode(raw: string): string {
  if (!raw.includes('%')) return raw;
  return raw.replace(/%(..)?/gs, (_, hex: string | undefined) => {
    if (hex === undefined || !/^[0-9A-Fa-f]{2}$/.test(hex)) throw new HttpError(400, 'malformed percent-encoding in the path', false);
    return String.fromCharCode(parseInt(hex, 16));
  });
}

function wholeNumber(what: string, raw: string, max: number): number {
  const value = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(value <= max)) throw new HttpError(400, `${what} wants a whole number from 0 to ${max}`, false);
  return value;
}

// --- responses: from a command's reply to status, headers and body ---

const TEXT = 'text/plain; charset=utf-8';
const BYTES = 'application/octet-stream';
const JSON_TYPE = 'application/json';

/** Maps a command's reply onto a response. Errors arrive as `ERR <message>`, whichever command failed. */
function answer(command: Command, reply: string, meta: HttpMeta): Encoded {
  // ECHO's reply is the body itself, so a body may well read `ERR ...`: only a reply that is not the body is
  // an error. (A body of exactly `ERR server busy` cannot be told from a busy pool: a string Reply has no
  // separate error channel.)
  if (command.name === 'ECHO' && reply === command.text) return respond(200, BYTES, reply, meta);
  if (reply.startsWith('ERR ')) {
    const message = reply.slice(4);
    return errorEncoded(statusOfError(message), message, meta, !meta.keepAlive);
  }
  switch (command.name) {
    case 'GET':
      if (reply === 'NIL') return errorEncoded(404, 'no such key', meta, !meta.keepAlive);
      return respond(200, BYTES, valueOf(reply), meta);
    case 'DEL':
      if (reply === 'NIL') return errorEncoded(404, 'no such key', meta, !meta.keepAlive);
      return respond(200, TEXT, reply, meta);
    case 'INCR':
    case 'WORK':
      return respond(200, TEXT, valueOf(reply), meta);
    case 'STATS':
      return respond(200, JSON_TYPE, reply, meta);
    default:
      return respond(200, TEXT, reply, meta);
  }
}

function valueOf(reply: string): string {
  return reply.startsWith('VALUE ') ? reply.slice(6) : reply;
}

/** The status for an `ERR` reply from execution. */
function statusOfError(message: string): number {
  switch (message) {
    case 'server busy':
      return 503;
    case 'store full':
      return 507;
    case 'internal error':
      return 500;
    default:
      return 400;
  }
}

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
  507: 'Insufficient Storage',
};

function respond(status: number, type: string, body: string, meta: HttpMeta, close = !meta.keepAlive, extra: string[] = []): Encoded {
  const lines = [`HTTP/1.1 ${status} ${REASONS[status] ?? 'Unknown'}`, `date: ${httpDate()}`, `content-type: ${type}`, `content-length: ${body.length}`, ...extra];
  if (close) lines.push('connection: close');
  else if (meta.http10) lines.push('connection: keep-alive');
  const head = `${lines.join('\r\n')}\r\n\r\n`;
  return { text: meta.head ? head : head + body, close };
}

function errorEncoded(status: number, message: string, meta: HttpMeta, close: boolean, extra: string[] = []): Encoded {
  return respond(status, JSON_TYPE, errorBody(message), meta, close, extra);
}

function errorBody(message: string): string {
  return JSON.stringify({ error: printable(message) });
}

/**
 * A complete response refusing a connection before any request (too many
 * connections or workers): 503, and the connection closes.
 */
export function refusalResponse(message: string): string {
  return respond(503, JSON_TYPE, errorBody(message), { keepAlive: false, http10: false, head: false }, true).text;
}

function refused(error: HttpError, meta: HttpMeta): Request {
  return { kind: 'refused', message: error.message, close: error.close, meta: { ...meta, status: error.status } };
}

function bodyTooLarge(maxBody: number): HttpError {
  return new HttpError(413, `body larger than ${maxBody} bytes`);
}

/** Keeps error messages ASCII and short, whatever bytes the client sent. */
function printable(text: string): string {
  const shown = text.length > 64 ? `${text.slice(0, 64)}...` : text;
  return shown.replace(/[^\x20-\x7e]/g, '?');
}

/** The `Date` header, formatted at most once a second (an origin server with a clock must send it). */
let dateText = '';
let dateSecond = -1;
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}
