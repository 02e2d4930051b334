// Reading Redis replies (RESP2), for calibrating against a real Redis.
//
// Redis answers in RESP: a type byte, then the payload, each part ending in
// CRLF. `+OK` is a simple string, `-ERR ...` an error, `:42` an integer,
// `$5\r\nhello` a bulk string of exactly 5 bytes (`$-1` is the null reply to
// GET of a missing key), `*2` an array of two further replies. Bulk strings
// carry their length, so a reply can contain CRLF and can only be read once
// all its bytes have arrived; the parser therefore waits for whole replies and
// keeps any partial tail for the next chunk.
//
// Input is decoded as latin1, one character per byte, so that lengths in
// characters are lengths in bytes.

export type RespValue =
  | { type: 'simple'; value: string }
  | { type: 'error'; message: string }
  | { type: 'integer'; value: number }
  | { type: 'bulk'; value: string | null }
  | { type: 'array'; items: RespValue[] | null };

export class RespProtocolError extends Error {}

interface Parsed {
  value: RespValue;
  next: number;
}

export class RespParser {
  private buffer = '';

  /** Feed a chunk; returns every reply completed by it, in order. */
  feed(chunk: string): RespValue[] {
    this.buffer += chunk;
    const replies: RespValue[] = [];
    let position = 0;
    for (;;) {
      const parsed = parseAt(this.buffer, position);
      if (parsed === undefined) break;
      replies.push(parsed.value);
      position = parsed.next;
    }
    this.buffer = this.buffer.slice(position);
    return replies;
  }
}

/** Parse one reply starting at `position`, or undefined if it is not all here yet. */
function parseAt(text: string, position: number): Parsed | undefined {
  const lineEnd = text.indexOf('\r\n', position);
  if (lineEnd === -1) return undefined;
  const kind = text[position];
  const header = text.slice(position + 1, lineEnd);
  const afterHeader = lineEnd + 2;
  switch (kind) {
    case '+':
      return { value: { type: 'simple', value: header }, next: afterHeader };
    case '-':
      return { value: { type: 'error', message: header }, next: afterHeader };
    case ':':
      return { value: { type: 'integer', value: parseLength(header) }, next: afterHeader };
    case '$': {
      const length = parseLength(header);
      if (length < 0) return { value: { type: 'bulk', value: null }, next: afterHeader };
      const end = afterHeader + length;
      if (text.length < end + 2) return undefined;
      if (text[end] !== '\r' || text[end + 1] !== '\n') {
        throw new RespProtocolError(`bulk string of ${length} bytes not followed by CRLF`);
      }
      return { value: { type: 'bulk', value: text.slice(afterHeader, end) }, next: end + 2 };
    }
    case '*': {
      const count = parseLength(header);
      if (count < 0) return { value: { type: 'array', items: null }, next: afterHeader };
      const items: RespValue[] = [];
      let next = afterHeader;
      for (let i = 0; i < count; i++) {
        const item = parseAt(text, next);
        if (item === undefined) return undefined;
        items.push(item.value);
        next = item.next;
      }
      return { value: { type: 'array', items }, next };
    }
    default:
      throw new RespProtocolError(`unknown RESP type byte ${JSON.stringify(kind)}`);
  }
}

function parseLength(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new RespProtocolError(`bad RESP number ${JSON.stringify(text)}`);
  return Number(text);
}
