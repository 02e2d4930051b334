// Wire formats: how an operation is written and how its reply is read.
//
// `lab` is the lab protocol: one line per request, one line per reply.
// `redis` sends the same operations as Redis inline commands (`SET k v`, one
// line ending in CRLF, which every Redis accepts without RESP framing) and
// reads RESP replies. Only the operations Redis has are supported there
// (PING, ECHO, SET, GET).
//
// Reading a reply has two steps. The dialect turns the raw reply into either a
// plain value (`PONG`, the echoed text, the stored value, `null` for a missing
// key) or an error kind; the workload then judges whether that value is the
// right answer. Keeping the wire and the judgement apart is what lets one
// checker serve both dialects.
import type { LoadOptions } from './types.js';
import { keyName, type ErrorKind, type Op } from './ops.js';
import { RespParser, type RespValue } from './resp.js';

export type RawReply = string | RespValue;

export type Decoded = { ok: true; value: string | null } | { ok: false; kind: ErrorKind; message: string };

export interface ReplyParser {
  /** Feed a latin1 chunk; returns the replies it completed. Throws on garbage. */
  feed(chunk: string): RawReply[];
}

export interface Dialect {
  readonly name: LoadOptions['dialect'];
  encode(op: Op): string;
  newParser(): ReplyParser;
  decode(op: Op, reply: RawReply): Decoded;
}

/** Splits a stream into lines: `\n` ends a line, a `\r` just before it is dropped. */
export class LineParser implements ReplyParser {
  private partial = '';

  feed(chunk: string): string[] {
    const lines: string[] = [];
    const text = this.partial + chunk;
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
      lines.push(text.slice(start, stop));
      start = end + 1;
    }
    this.partial = start === 0 ? text : text.slice(start);
    return lines;
  }
}

/** Sort an error message into the kinds the results count separately. */
export function classifyError(message: string): ErrorKind {
  const lower = message.toLowerCase();
  if (lower === 'err server busy') return 'busy';
  // The lab's `ERR max connections`, Redis's `ERR max number of clients reached`.
  if (lower.startsWith('err max connections') || lower.startsWith('err max number of clients')) return 'refused';
  return 'errReply';
}

function isLabError(line: string): boolean {
  return line === 'ERR' || line.startsWith('ERR ');
}

export const labDialect: Dialect = {
  name: 'lab',
  encode(op) {
    switch (op.kind) {
      case 'ping':
        return 'PING\n';
      case 'echo':
        return op.payload === '' ? 'ECHO\n' : `ECHO ${op.payload}\n`;
      case 'set':
        return `SET ${keyName(op.key)} ${op.value}\n`;
      case 'get':
        return `GET ${keyName(op.key)}\n`;
      case 'work':
        return `WORK ${op.n}\n`;
      case 'sleep':
        return `SLEEP ${op.ms}\n`;
    }
  },
  newParser: () => new LineParser(),
  decode(op, reply) {
    if (typeof reply !== 'string') return { ok: false, kind: 'wrongReply', message: 'not a line' };
    if (isLabError(reply)) return { ok: false, kind: classifyError(reply), message: reply };
    if (op.kind === 'get' || op.kind === 'work') {
      if (reply === 'NIL' && op.kind === 'get') return { ok: true, value: null };
      if (reply.startsWith('VALUE ')) return { ok: true, value: reply.slice(6) };
      return { ok: false, kind: 'wrongReply', message: reply };
    }
    return { ok: true, value: reply };
  },
};

export const redisDialect: Dialect = {
  name: 'redis',
  encode(op) {
    switch (op.kind) {
      case 'ping':
        return 'PING\r\n';
      case 'echo':
        return `ECHO ${op.payload}\r\n`;
      case 'set':
        return `SET ${keyName(op.key)} ${op.value}\r\n`;
      case 'get':
        return `GET ${keyName(op.key)}\r\n`;
      default:
        throw new Error(`the redis dialect has no ${op.kind.toUpperCase()} command`);
    }
  },
  newParser: () => new RespParser(),
  decode(_op, reply) {
    if (typeof reply === 'string') return { ok: false, kind: 'wrongReply', message: reply };
    switch (reply.type) {
      case 'simple':
        return { ok: true, value: reply.value };
      case 'bulk':
        return { ok: true, value: reply.value };
      case 'integer':
        return { ok: true, value: String(reply.value) };
      case 'error':
        return { ok: false, kind: classifyError(reply.message), message: reply.message };
      case 'array':
        return { ok: false, kind: 'wrongReply', message: 'unexpected array reply' };
    }
  },
};

export function dialectFor(name: LoadOptions['dialect']): Dialect {
  return name === 'redis' ? redisDialect : labDialect;
}
