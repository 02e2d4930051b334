// HTTP/1.1 as a codec: the lab's commands behind a handful of routes.
//
// HTTP is a second way into the same server, not a second server. This codec
// turns request bytes into the same Commands the line protocol produces, and
// turns the same Replies into responses. Everything else stays where it is:
// the Session keeps pipelined requests in order, the model decides which
// thread runs them, and the store is shared with the line port. So each model
// keeps its nature over HTTP for free: blocking still serves one TCP
// connection at a time, per-connection parses HTTP inside the connection's
// own worker, pool sends the commands to piscina, and async stays one loop.
//
// Why not Node's `http` module? It owns the socket, and here no one may: the
// per-connection model's worker thread cannot be handed a socket in Node 20,
// only the bytes the main thread relays to it, and the codec has to run
// wherever the Session runs. A codec is bytes in and bytes out, which a
// worker thread can do. It also makes HTTP's framing cost visible and
// comparable: the same Session, the same commands, only the codec differs.
//
// The codec is three steps, each in a file of its own, and this class only
// puts them in a row: http-parse.ts finds the requests in the byte stream,
// http-routes.ts says which command each one stands for, and http-encode.ts
// turns each reply into a response.

import type { Codec, Encoded, Request } from './codec.js';
import type { Reply } from './execute.js';
import { CLOSING, encodeClosing, encodeRefusal, encodeReply, HttpMeta } from './http-encode.js';
import { HttpParser, Parsed } from './http-parse.js';
import { route } from './http-routes.js';
import { isRefusal } from './refusals.js';

export class HttpCodec implements Codec {
  private readonly parser: HttpParser;

  constructor(limits: { maxBody: number; maxHeaderBytes?: number }) {
    this.parser = new HttpParser(limits);
  }

  decode(chunk: Buffer): Request[] {
    return this.parser.push(chunk).map(requestOf);
  }

  encode(request: Request, reply: Reply): Encoded {
    const meta = (request.meta ?? CLOSING) as HttpMeta;
    if (request.kind === 'refused') {
      const close = request.close || !meta.keepAlive;
      const extra = meta.allow === undefined ? [] : [`allow: ${meta.allow}`];
      return encodeRefusal(request.refusal, meta, close, extra);
    }
    if (isRefusal(reply)) return encodeRefusal(reply, meta, !meta.keepAlive);
    if (typeof reply !== 'string') return encodeClosing(reply.line, meta);
    return encodeReply(request.command, reply, meta);
  }
}

/** A parsed request routed to its command, or refused with what encoding the refusal needs. */
function requestOf(parsed: Parsed): Request {
  // A framing error: answered, and the parser reads nothing more from this connection.
  if (parsed.kind === 'broken') return { kind: 'refused', refusal: parsed.refusal, close: true, meta: CLOSING };
  const { head, body, keepAlive, invalid } = parsed;
  const meta: HttpMeta = { keepAlive, http10: head.http10, head: head.method === 'HEAD' };
  const routed = invalid ? { refusal: invalid } : route(head.method, head.path, body);
  if ('command' in routed) return { kind: 'command', command: routed.command, meta };
  // The framing was sound, so the connection goes on (unless the request itself ends it).
  return { kind: 'refused', refusal: routed.refusal, close: false, meta: routed.allow === undefined ? meta : { ...meta, allow: routed.allow } };
}
