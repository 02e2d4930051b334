import { describe, expect, it } from 'vitest';
import { KvSpace } from './kv.js';

describe('self-describing kv values', () => {
  const make = (size = 40) => new KvSpace(10, size, 'run001', KvSpace.allocate(10));

  it('accepts every version this run wrote for the key, not only the latest', () => {
    const kv = make();
    const first = kv.nextValue(3);
    const second = kv.nextValue(3);
    expect(first).toHaveLength(40);
    expect(kv.isValueWrittenFor(3, first)).toBe(true);
    expect(kv.isValueWrittenFor(3, second)).toBe(true);
  });

  it('rejects a value for another key, a version never handed out, another run, and a damaged value', () => {
    const kv = make();
    const value = kv.nextValue(3);
    kv.nextValue(4);
    expect(kv.isValueWrittenFor(4, value)).toBe(false);
    expect(kv.isValueWrittenFor(3, kv.valueOf(3, 2))).toBe(false);
    const otherRun = new KvSpace(10, 40, 'run002', KvSpace.allocate(10));
    expect(kv.isValueWrittenFor(3, otherRun.nextValue(3))).toBe(false);
    expect(kv.isValueWrittenFor(3, value.slice(0, -1))).toBe(false);
    expect(kv.isValueWrittenFor(3, `${value.slice(0, -1)}x`)).toBe(false);
    expect(kv.isValueWrittenFor(3, 'garbage')).toBe(false);
  });

  it('shares version counters through its buffer, so a value written by another thread is accepted', () => {
    const shared = KvSpace.allocate(10);
    const writer = new KvSpace(10, 40, 'run001', shared);
    const reader = new KvSpace(10, 40, 'run001', shared);
    expect(reader.isValueWrittenFor(5, writer.nextValue(5))).toBe(true);
  });

  it('pads a value to its size but never cuts its header, so tiny sizes still check', () => {
    const kv = make(1);
    const value = kv.nextValue(0);
    expect(value.length).toBeGreaterThan(1);
    expect(kv.isValueWrittenFor(0, value)).toBe(true);
  });
});
