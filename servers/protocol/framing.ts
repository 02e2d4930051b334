// Framing: turning a TCP byte stream into request lines.
//
// TCP delivers bytes, not messages. One `data` event may hold half a request,
// or a thousand pipelined ones, or the end of one and the start of the next.
// A LineFramer keeps whatever has not yet reached a newline and hands back only
// complete lines, so the code above it can think in requests.
//
// It also enforces `--max-line`: a client that never sends a newline would
// otherwise make the server buffer without bound. As soon as the pending bytes
// exceed the limit (newline or not), the framer reports the line as too long
// and the connection is to be closed, because there is no way to find where
// the next request starts.
//
// Lines are returned as binary strings (latin1: one char per byte), so any
// byte sequence survives the round trip unchanged, valid UTF-8 or not.

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Stands in the line list where the stream went over `maxLine`; nothing follows it. */
export const LINE_TOO_LONG = Symbol('line too long');

export type Frame = string | typeof LINE_TOO_LONG;

export class LineFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private overflowed = false;

  constructor(private readonly maxLine: number) {}

  /** Feeds the next chunk of bytes; returns the lines it completed, in order. */
  push(chunk: Buffer): Frame[] {
    if (this.overflowed) return [];
    const frames: Frame[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
      const line = this.completeLine(chunk, start, newline);
      if (line === LINE_TOO_LONG) return this.overflow(frames);
      frames.push(line);
      start = newline + 1;
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
      // A pending `\r` may still turn out to be the end of a CRLF: allow it one byte.
      if (this.pendingBytes > this.maxLine + 1 || (this.pendingBytes === this.maxLine + 1 && chunk[chunk.length - 1] !== CARRIAGE_RETURN)) {
        return this.overflow(frames);
      }
    }
    return frames;
  }

  /** Bytes received that do not yet form a whole line. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  private completeLine(chunk: Buffer, start: number, newline: number): Frame {
    let bytes = this.pendingBytes === 0 ? chunk.subarray(start, newline) : this.takePending(chunk.subarray(start, newline));
    if (bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN) bytes = bytes.subarray(0, bytes.length - 1);
    if (bytes.length > this.maxLine) return LINE_TOO_LONG;
    return bytes.toString('latin1');
  }

  private takePending(tail: Buffer): Buffer {
    const whole = Buffer.concat([...this.pending, tail], this.pendingBytes + tail.length);
    this.pending = [];
    this.pendingBytes = 0;
    return whole;
  }

  private overflow(frames: Frame[]): Frame[] {
    this.overflowed = true;
    this.pending = [];
    this.pendingBytes = 0;
    frames.push(LINE_TOO_LONG);
    return frames;
  }
}
