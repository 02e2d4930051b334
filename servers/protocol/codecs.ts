// Which codec a connection speaks is decided by the port it arrived on. This
// is the one place that maps a protocol's name to its codec, so that the
// per-connection model's workers, which receive only the name, build the same
// codec the main thread would.

import type { Codec, CodecName } from './codec.js';
import { HttpCodec } from './http-codec.js';
import { refusalResponse } from './http-encode.js';
import { LineCodec, replyLine } from './line-codec.js';
import { FixedRefusalKind, refusal } from './refusals.js';

export interface CodecLimits {
  /** Longest request line; for HTTP, the largest request body. */
  maxLine: number;
  /** HTTP only: the largest request head (request line and headers); 16 KiB when not given. */
  maxHeaderBytes?: number;
}

/**
 * What a connection is told when the server refuses or ends it outside any
 * request (too many connections or workers, idle too long, its worker died),
 * in the words of its protocol.
 */
export function connectionRefusal(name: CodecName, kind: FixedRefusalKind): string {
  const refused = refusal(kind);
  return name === 'line' ? replyLine(refused) : refusalResponse(refused);
}

export function createCodec(name: CodecName, limits: CodecLimits): Codec {
  switch (name) {
    case 'line':
      return new LineCodec(limits.maxLine);
    case 'http':
      return new HttpCodec({ maxBody: limits.maxLine, maxHeaderBytes: limits.maxHeaderBytes });
  }
}
