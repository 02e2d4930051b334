// Specification of framing: how a byte stream becomes request lines, whatever
// way TCP happens to cut it, and where `--max-line` draws the line.

import { describe, expect, it } from 'vitest';
import { LineFramer, LINE_TOO_LONG, type Frame } from './framing.js';

/** Pushes each chunk in turn and gathers every frame the framer completes. */
function frame(maxLine: number, ...chunks: (string | Buffer)[]): Frame[] {
  const framer = new LineFramer(maxLine);
  return chunks.flatMap((chunk) => framer.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk));
}

describe('LineFramer', () => {
  it('holds back a line split across chunks until its newline arrives, then returns it whole', () => {
    const framer = new LineFramer(1024);
    expect(framer.push(Buffer.from('SE'))).toEqual([]);
    expect(framer.push(Buffer.from('T k'))).toEqual([]);
    expect(framer.bufferedBytes).toBe(5);
    expect(framer.push(Buffer.from('ey value\nGE'))).toEqual(['SET key value']);
    expect(framer.bufferedBytes).toBe(2);
    expect(framer.push(Buffer.from('T key\n'))).toEqual(['GET key']);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('returns every line of a chunk holding many, in order', () => {
    const lines = Array.from({ length: 500 }, (_, i) => `ECHO line ${i}`);
    expect(frame(1024, lines.map((line) => `${line}\n`).join(''))).toEqual(lines);
  });

  it('drops the carriage return of a CRLF ending, also when the CR and LF arrive in different chunks', () => {
    expect(frame(1024, 'PING\r\nECHO a\r\n')).toEqual(['PING', 'ECHO a']);
    expect(frame(1024, 'PING\r', '\n')).toEqual(['PING']);
  });

  it('keeps a carriage return that is not right before the newline', () => {
    expect(frame(1024, 'ECHO a\rb\n')).toEqual(['ECHO a\rb']);
    expect(frame(1024, '\rPING\n')).toEqual(['\rPING']);
    // Only one CR is part of the line ending; a second one belongs to the line.
    expect(frame(1024, 'ECHO x\r\r\n')).toEqual(['ECHO x\r']);
  });

  it('returns empty lines as empty strings, for the parser to refuse', () => {
    expect(frame(1024, '\n\r\nPING\n\n')).toEqual(['', '', 'PING', '']);
  });

  it('accepts a line of exactly maxLine bytes, with LF or with CRLF', () => {
    const line = 'x'.repeat(16);
    expect(frame(16, `${line}\n`)).toEqual([line]);
    expect(frame(16, `${line}\r\n`)).toEqual([line]);
    // The same, arriving without its ending first: the pending CR may still be part of a CRLF.
    expect(frame(16, line, '\n')).toEqual([line]);
    expect(frame(16, `${line}\r`, '\n')).toEqual([line]);
  });

  it('reports a line of maxLine + 1 bytes as too long, with LF or with CRLF', () => {
    const line = 'x'.repeat(17);
    expect(frame(16, `${line}\n`)).toEqual([LINE_TOO_LONG]);
    expect(frame(16, `${line}\r\n`)).toEqual([LINE_TOO_LONG]);
    expect(frame(16, line, '\n')).toEqual([LINE_TOO_LONG]);
    expect(frame(16, line, '\r\n')).toEqual([LINE_TOO_LONG]);
  });

  it('reports an over-long line as soon as its pending bytes pass maxLine, without waiting for a newline', () => {
    const framer = new LineFramer(16);
    expect(framer.push(Buffer.from('x'.repeat(16)))).toEqual([]);
    expect(framer.push(Buffer.from('y'))).toEqual([LINE_TOO_LONG]);
    // Nothing is buffered for a connection that is about to be closed.
    expect(framer.bufferedBytes).toBe(0);
    expect(frame(16, 'z'.repeat(100_000))).toEqual([LINE_TOO_LONG]);
  });

  it('treats a CR at maxLine + 1 that turns out not to end the line as part of an over-long line', () => {
    expect(frame(16, `${'x'.repeat(16)}\r`, 'y\n')).toEqual([LINE_TOO_LONG]);
    expect(frame(16, `${'x'.repeat(16)}\r`, 'y')).toEqual([LINE_TOO_LONG]);
  });

  it('returns the lines before an over-long line, then nothing ever again', () => {
    const framer = new LineFramer(8);
    expect(framer.push(Buffer.from(`PING\nECHO a\n${'x'.repeat(9)}\nPING\n`))).toEqual(['PING', 'ECHO a', LINE_TOO_LONG]);
    expect(framer.push(Buffer.from('PING\n'))).toEqual([]);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('passes binary bytes, NUL and invalid UTF-8 through unchanged, one char per byte', () => {
    const everyByteButNewline = Buffer.from(Array.from({ length: 256 }, (_, b) => b).filter((b) => b !== 0x0a));
    const invalidUtf8 = Buffer.from([0x45, 0x43, 0x48, 0x4f, 0x20, 0xc3, 0x28, 0xff, 0xfe, 0x00, 0x80]);
    const [first, second] = frame(1024, Buffer.concat([everyByteButNewline, Buffer.from('\n'), invalidUtf8, Buffer.from('\n')]));
    expect(Buffer.from(first as string, 'latin1')).toEqual(everyByteButNewline);
    expect(Buffer.from(second as string, 'latin1')).toEqual(invalidUtf8);
  });

  it('yields the same lines when a stream is fed one byte at a time', () => {
    const stream = Buffer.from('SET a 1\r\nGET a\n\nECHO  spaced  \r\n');
    const oneByteAtATime = [...stream].map((byte) => Buffer.from([byte]));
    expect(frame(64, ...oneByteAtATime)).toEqual(frame(64, stream));
  });
});
