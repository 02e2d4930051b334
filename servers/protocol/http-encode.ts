// HTTP responses: from a command's reply to a status line, headers and a body.
//
// The commands reply as they do on the line port (`VALUE x`, `NIL`, `OK`);
// this file says what each reply is in HTTP's terms. A value is sent as its
// bare bytes (`VALUE ` dropped), an absent key is 404, STATS is JSON as it
// stands, and an ECHO is its body, whatever that body says.
//
// Refusals arrive as data, never as text (refusals.ts), and the status is
// the one the refusal's kind names: 400 for a bad argument or a malformed
// request, 404 for an unknown route or key, 405 for a known path with the
// wrong method (with `Allow`), 413 for a body over `--max-line`, 431 for a
// header section over 16 KiB, 500 for a command that failed, 503 when the
// pool's queue is full (try again later) or the server takes no more
// connections, and 507 Insufficient Storage when the store is full. Their
// bodies are JSON, `{"error":"..."}`, the message shown as ASCII and cut
// short, whatever bytes the client sent.
//
// Every response says how long its body is (`Content-Length`), so a
// keep-alive connection needs no other framing, and carries a `Date`, as an
// origin server with a clock must.

import type { Encoded } from './codec.js';
import type { Command } from './commands.js';
import { httpStatus, Refusal, refusal } from './refusals.js';

/** What encoding needs to know about the request it answers. */
export interface HttpMeta {
  /** The connection stays open after this response. */
  keepAlive: boolean;
  /** An HTTP/1.0 request: keep-alive must then be said explicitly. */
  http10: boolean;
  /** A HEAD request: the response carries headers only. */
  head: boolean;
  /** For 405: the methods the path does allow. */
  allow?: string;
}

/** The meta of a response to no request (or to one whose head could not be read): it closes. */
export const CLOSING: HttpMeta = { keepAlive: false, http10: false, head: false };

const TEXT = 'text/plain; charset=utf-8';
const BYTES = 'application/octet-stream';
const JSON_TYPE = 'application/json';

const NO_SUCH_KEY = refusal('notFound', 'no such key');

/** Maps a command's text reply onto a response. (Refusals never arrive here: see encodeRefusal.) */
export function encodeReply(command: Command, reply: string, meta: HttpMeta): Encoded {
  switch (command.name) {
    case 'ECHO':
      return respond(200, BYTES, reply, meta);
    case 'GET':
      if (reply === 'NIL') return encodeRefusal(NO_SUCH_KEY, meta, !meta.keepAlive);
      return respond(200, BYTES, valueOf(reply), meta);
    case 'DEL':
      if (reply === 'NIL') return encodeRefusal(NO_SUCH_KEY, meta, !meta.keepAlive);
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

/** A reply after which the connection closes (QUIT's BYE): plain text, then close. */
export function encodeClosing(line: string, meta: HttpMeta): Encoded {
  return respond(200, TEXT, line, meta, true);
}

/** A refusal's response: the status of its kind, and its message as a JSON body. */
export function encodeRefusal(refused: Refusal, meta: HttpMeta, close: boolean, extra: string[] = []): Encoded {
  return respond(httpStatus(refused), JSON_TYPE, JSON.stringify({ error: printable(refused.message) }), meta, close, extra);
}

/**
 * A complete response that ends a connection outside any request (too many
 * connections or workers, a worker that died): the status of the refusal's
 * kind, and the connection closes.
 */
export function refusalResponse(refused: Refusal): string {
  return encodeRefusal(refused, CLOSING, true).text;
}

function valueOf(reply: string): string {
  return reply.startsWith('VALUE ') ? reply.slice(6) : reply;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
  507: 'Insufficient Storage',
};

function respond(status: number, type: string, body: string, meta: HttpMeta, close = !meta.keepAlive, extra: string[] = []): Encoded {
  const lines = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Unknown'}`,
    `date: ${httpDate()}`,
    `content-type: ${type}`,
    `content-length: ${body.length}`,
    ...extra,
  ];
  if (close) lines.push('connection: close');
  else if (meta.http10) lines.push('connection: keep-alive');
  const head = `${lines.join('\r\n')}\r\n\r\n`;
  return { text: meta.head ? head : head + body, close };
}

/** Keeps error messages ASCII and short, whatever bytes the client sent. */
function printable(text: string): string {
  const shown = text.length > 64 ? `${text.slice(0, 64)}...` : text;
  return shown.replace(/[^\x20-\x7e]/g, '?');
}

/** The `Date` header, formatted at most once a second. */
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
