// Which codec a connection speaks is decided by the port it arrived on. This
// is the one place that maps a protocol's name to its codec, so that the
// per-connection model's workers, which receive only the name, build the same
// codec the main thread would.

import type { Codec, CodecName } from './codec.js';
import { LineCodec } from './line-codec.js';

export interface CodecLimits {
  maxLine: number;
}

export function createCodec(name: CodecName, limits: CodecLimits): Codec {
  switch (name) {
    case 'line':
      return new LineCodec(limits.maxLine);
    case 'http':
      throw new Error('the HTTP front is not available in this build');
  }
}
