// A codec is how one wire protocol maps onto the lab's commands: bytes in,
// parsed requests out, and each reply turned back into bytes.
//
// The line protocol (line-codec.ts) is the lab's own; other ways in (HTTP)
// implement the same interface, so every model serves them through the same
// Session, the same command semantics and the same store. A second protocol is
// a second codec, never a second implementation of the server.

import type { Command } from './commands.js';
import type { Reply } from './execute.js';
import type { Refusal } from './refusals.js';

export type Request =
  /** A well-formed command, to be executed. `meta` is whatever the codec needs to encode its reply. */
  | { kind: 'command'; command: Command; meta?: unknown }
  /** A request refused before execution; `close` when the stream cannot continue after it. */
  | { kind: 'refused'; refusal: Refusal; close: boolean; meta?: unknown };

export interface Encoded {
  /** Reply bytes as a binary string (one char per byte). */
  text: string;
  /** True when the connection must be closed after this reply. */
  close: boolean;
}

export interface Codec {
  /** Feeds the next bytes from the client; returns the requests they completed, in order. */
  decode(chunk: Buffer): Request[];
  /** Answers `request`: `reply` is what the command returned, or, for a refused request, its refusal. */
  encode(request: Request, reply: Reply): Encoded;
}

export type CodecName = 'line' | 'http';
