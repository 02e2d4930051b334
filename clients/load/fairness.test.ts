import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jainFairness } from './fairness.js';

describe("Jain's fairness index", () => {
  it('is 1 when every connection got the same number of requests', () => {
    expect(jainFairness([50, 50, 50, 50])).toBe(1);
  });

  it('is 1/n when one connection got everything and the rest starved', () => {
    expect(jainFairness([100, 0, 0, 0])).toBeCloseTo(0.25, 12);
  });

  it('matches (Σx)² / (n·Σx²) on an uneven split', () => {
    // (1+2+3)² / (3·(1+4+9)) = 36/42
    expect(jainFairness([1, 2, 3])).toBeCloseTo(36 / 42, 12);
  });

  it('stays between 1/n and 1 whatever the counts, and ignores scale', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(1_000_000), { minLength: 1, maxLength: 50 }), fc.integer({ min: 1, max: 1000 }), (counts, scale) => {
        const index = jainFairness(counts);
        expect(index).toBeGreaterThanOrEqual(1 / counts.length - 1e-12);
        expect(index).toBeLessThanOrEqual(1 + 1e-12);
        expect(jainFairness(counts.map((x) => x * scale))).toBeCloseTo(index, 9);
      }),
    );
  });

  it('reports 1 rather than NaN when nobody was served (the counts say the rest)', () => {
    expect(jainFairness([0, 0])).toBe(1);
    expect(jainFairness([])).toBe(1);
  });
});
