// Properties of the protocol's front end, checked on generated inputs rather
// than hand-picked ones (fast-check shrinks any failure to a small example):
//
//   - TCP may cut a byte stream anywhere, so framing, decoding and a whole
//     session must give the same result however the stream is cut;
//   - no bytes a client can send make the parser throw anything but a
//     ProtocolError (which becomes an ERR reply), or the codec throw at all.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command } from './commands.js';
import { parseRequest, ProtocolError } from './commands.js';
import { BYE, Reply } from './execute.js';
import { Frame, LineFramer, LINE_TOO_LONG } from './framing.js';
import { LineCodec } from './line-codec.js';
import { Session } from './session.js';
import { SharedCounters } from '../stats.js';

// --- generators ---

/** Pieces that make streams look like the protocol often enough to reach every branch. */
const fragment: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('PING', 'ECHO', 'SET', 'GET', 'DEL', 'INCR', 'WORK', 'SLEEP', 'STATS', 'QUIT', 'ping', 'sEt', 'FLY') },
  { weight: 4, arbitrary: fc.constantFrom(' ', '  ', '\n', '\n', '\r\n', '\r', '\x00', '\xff') },
  {
    weight: 3,
    arbitrary: fc.constantFrom('k', 'key', 'k'.repeat(250), 'k'.repeat(251), '0', '1', '-1', '1.5', '1e3', '99999999999', '10000001', 'hello world'),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes).toString('latin1')) },
  { weight: 1, arbitrary: fc.nat({ max: 120 }).map((n) => 'x'.repeat(n)) },
);

/** Short limits make over-long lines common; the default one checks the ordinary case. */
const maxLine = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(65536));

/**
 * A line limit and a byte stream for it: mostly protocol-like, sometimes pure
 * noise, and often with runs of bytes right at the limit (one short, exact,
 * one over), where a CR might or might not be the start of a CRLF.
 */
const scenario: fc.Arbitrary<[number, Buffer]> = maxLine.chain((limit) => {
  const nearLimit = fc
    .tuple(fc.constantFrom(-1, 0, 1), fc.constantFrom('\n', '\r\n', '\r', ''))
    .map(([d, ending]) => `\n${'y'.repeat(Math.max(0, Math.min(limit, 200) + d))}${ending}`);
  const piece = fc.oneof({ weight: 5, arbitrary: fragment }, { weight: 2, arbitrary: nearLimit });
  const bytes = fc.oneof(
    { weight: 3, arbitrary: fc.array(piece, { maxLength: 60 }).map((pieces) => Buffer.from(pieces.join(''), 'latin1')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }).map((raw) => Buffer.from(raw)) },
  );
  return fc.tuple(fc.constant(limit), bytes);
});

/** Where to cut a stream: at random places (numbers reduced modulo its length), or after every byte. */
const cuts: fc.Arbitrary<number[] | 'every byte'> = fc.oneof(
  { weight: 3, arbitrary: fc.array(fc.nat(), { maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constant('every byte' as const) },
);

function cutInto(bytes: Buffer, at: number[] | 'every byte'): Buffer[] {
  if (at === 'every byte') return [...bytes].map((byte) => Buffer.from([byte]));
  const points = [...new Set(at.map((n) => n % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

// --- what is compared ---

function framesOf(limit: number, chunks: Buffer[]): Frame[] {
  const framer = new LineFramer(limit);
  return chunks.flatMap((chunk) => framer.push(chunk));
}

/**
 * The framing rule stated over the whole stream at once, as a reference: each
 * line ends at a newline, one CR before it is dropped, and the first line over
 * the limit (or unfinished bytes past limit + 1, or exactly limit + 1 not
 * ending in a CR that might start a CRLF) ends the stream.
 */
function referenceFrames(limit: number, bytes: Buffer): Frame[] {
  const text = bytes.toString('latin1');
  const pieces = text.split('\n');
  const unfinished = pieces.pop()!;
  const frames: Frame[] = [];
  for (const piece of pieces) {
    const line = piece.endsWith('\r') ? piece.slice(0, -1) : piece;
    if (line.length > limit) return [...frames, LINE_TOO_LONG];
    frames.push(line);
  }
  const tooLong = unfinished.length > limit + 1 || (unfinished.length === limit + 1 && !unfinished.endsWith('\r'));
  return tooLong ? [...frames, LINE_TOO_LONG] : frames;
}

/** A synchronous handler that answers with a description of the command, so any mix-up shows. */
function describeCommand(command: Command): Reply {
  return command.name === 'QUIT' ? BYE : JSON.stringify(command);
}

/** Runs a whole session over `chunks`, then ends the input; returns what it wrote and how often it ended. */
function sessionTranscript(limit: number, chunks: Buffer[]): { written: string; ends: number } {
  let written = '';
  let ends = 0;
  const session = new Session(
    {
      write: (text) => void (written += text),
      end: () => void ends++,
      backlogged: () => false,
      gone: () => false,
      pauseInput: () => {},
      resumeInput: () => {},
    },
    describeCommand,
    new SharedCounters(),
    new LineCodec(limit),
  );
  for (const chunk of chunks) session.receive(chunk);
  session.endInput();
  return { written, ends };
}

describe('properties of framing and decoding', () => {
  it('frames any stream into the same lines however it is cut into chunks', () => {
    fc.assert(
      fc.property(scenario, cuts, ([limit, bytes], at) => {
        expect(framesOf(limit, cutInto(bytes, at))).toEqual(framesOf(limit, [bytes]));
      }),
      { numRuns: 500 },
    );
  });

  it('frames any stream as the whole-stream reference rule says', () => {
    fc.assert(
      fc.property(scenario, cuts, ([limit, bytes], at) => {
        expect(framesOf(limit, cutInto(bytes, at))).toEqual(referenceFrames(limit, bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('decodes any stream into the same requests however it is cut into chunks', () => {
    fc.assert(
      fc.property(scenario, cuts, ([limit, bytes], at) => {
        const whole = new LineCodec(limit).decode(bytes);
        const codec = new LineCodec(limit);
        expect(cutInto(bytes, at).flatMap((chunk) => codec.decode(chunk))).toEqual(whole);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws while decoding, whatever bytes arrive in whatever chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), maxLine, (chunks, limit) => {
        const codec = new LineCodec(limit);
        for (const chunk of chunks) expect(() => codec.decode(Buffer.from(chunk))).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});

describe('properties of parsing', () => {
  /** Throws unless `line` parses or is refused with a ProtocolError. */
  function parsesOrRefuses(line: string): void {
    try {
      parseRequest(line);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      // A refusal is sent back as one `ERR <message>` line: it must stay on one line.
      expect(error.message).not.toMatch(/[\r\n]/);
    }
  }

  it('never throws anything but a ProtocolError, whatever bytes a line holds', () => {
    const anyLine = fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes.filter((b) => b !== 0x0a)).toString('latin1'));
    fc.assert(fc.property(anyLine, parsesOrRefuses), { numRuns: 1000 });
  });

  it('never throws anything but a ProtocolError for a command name followed by any arguments', () => {
    const line = fc
      .tuple(fc.constantFrom('PING', 'echo', 'SET', 'get', 'DEL', 'INCR', 'WORK', 'sleep', 'STATS', 'QUIT'), fc.array(fragment, { maxLength: 6 }))
      .map(([name, rest]) => `${name}${rest.join('')}`.replace(/\n/g, ''));
    fc.assert(fc.property(line, parsesOrRefuses), { numRuns: 1000 });
  });
});

describe('properties of a session', () => {
  it('writes the same reply bytes and closes the same way however the stream is cut', () => {
    fc.assert(
      fc.property(scenario, cuts, ([limit, bytes], at) => {
        expect(sessionTranscript(limit, cutInto(bytes, at))).toEqual(sessionTranscript(limit, [bytes]));
      }),
      { numRuns: 500 },
    );
  });

  it('answers every framed request with exactly one reply line, up to QUIT or an over-long line, and ends once', () => {
    fc.assert(
      fc.property(scenario, ([limit, bytes]) => {
        const frames = framesOf(limit, [bytes]);
        const stop = frames.findIndex((frame) => frame === LINE_TOO_LONG || /^quit$/i.test(frame));
        const answered = stop === -1 ? frames.length : stop + 1;
        const { written, ends } = sessionTranscript(limit, [bytes]);
        expect(written.split('\n').length - 1).toBe(answered);
        expect(written.endsWith('\n') || written === '').toBe(true);
        expect(ends).toBe(1);
      }),
      { numRuns: 500 },
    );
  });
});
