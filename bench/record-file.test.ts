import { describe, expect, it } from 'vitest';
import { toReadableJson } from './record-file.js';

describe('toReadableJson', () => {
  it('round-trips to the same value, keeping arrays of numbers and small flat objects on one line', () => {
    const value = { a: [1, 2, 3], b: { c: 'x', d: [{ e: null }], f: [], h: { deep: { er: 1 } } }, g: undefined };
    const text = toReadableJson(value);
    expect(JSON.parse(text)).toEqual({ a: [1, 2, 3], b: { c: 'x', d: [{ e: null }], f: [], h: { deep: { er: 1 } } } });
    expect(text).toContain('"a": [1,2,3]');
    expect(text).toContain('{"e":null}');
    expect(text).toContain('"h": {\n');
  });
});
