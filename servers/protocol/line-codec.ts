// The lab's line protocol as a codec: one request per line, one reply line
// per request. Framing finds the lines, parsing turns each into a command,
// and a line the parser refuses is answered `ERR ...` on the same connection.
// Only an over-long line closes the connection, because after it there is no
// telling where the next request starts.

import type { Codec, Encoded, Request } from './codec.js';
import { parseRequest, ProtocolError } from './commands.js';
import type { Reply } from './execute.js';
import { LineFramer, LINE_TOO_LONG } from './framing.js';
import { isRefusal, lineText, refusal } from './refusals.js';

export class LineCodec implements Codec {
  private readonly framer: LineFramer;

  constructor(maxLine: number) {
    this.framer = new LineFramer(maxLine);
  }

  decode(chunk: Buffer): Request[] {
    return this.framer.push(chunk).map((frame) => {
      if (frame === LINE_TOO_LONG) return { kind: 'refused', refusal: refusal('lineTooLong'), close: true };
      try {
        return { kind: 'command', command: parseRequest(frame) };
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        return { kind: 'refused', refusal: refusal('badRequest', error.message), close: false };
      }
    });
  }

  encode(request: Request, reply: Reply): Encoded {
    const closing = typeof reply === 'object' && !isRefusal(reply);
    return { text: replyLine(reply), close: closing || (request.kind === 'refused' && request.close) };
  }
}

/** A reply as the line that carries it, newline included. */
export function replyLine(reply: Reply): string {
  if (typeof reply === 'string') return `${reply}\n`;
  if (isRefusal(reply)) return `${lineText(reply)}\n`;
  return `${reply.line}\n`;
}
