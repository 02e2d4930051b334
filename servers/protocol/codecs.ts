// Which codec a connection speaks is decided by the port it arrived on. This
// is the one place that maps a protocol's name to its codec, so that the
// per-connection model's workers, which receive only the name, build the same
// codec the main thread would.

import type { Codec, CodecName } from './codec.js';
import { LineCodec } from './line-codec.js';

export interface CodecLimits {
  maxLine: number;
}

/** What a connection is told when it is refused before any request (too many connections or workers). */
export function refusal(name: CodecName, message: string): string {
  if (name === 'line') return `ERR ${message}\n`;
  const body = JSON.stringify({ error: message });
  return `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`;
}

export function createCodec(name: CodecName, limits: CodecLimits): Codec {
  switch (name) {
    case 'line':
      return new LineCodec(limits.maxLine);
    case 'http':
      throw new Error('the HTTP front is not available in this build');
  }
}
