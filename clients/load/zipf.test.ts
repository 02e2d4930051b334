import { describe, expect, it } from 'vitest';
import { ZipfSampler } from './zipf.js';
import { seededRandom as seeded } from '../seeded-random.js';

describe('zipfian key sampler', () => {
  it('gives rank k a probability proportional to 1/(k+1)^s, summing to 1', () => {
    const zipf = new ZipfSampler(1000, 0.99);
    let total = 0;
    for (let rank = 0; rank < 1000; rank++) total += zipf.probability(rank);
    expect(total).toBeCloseTo(1, 9);
    expect(zipf.probability(0) / zipf.probability(1)).toBeCloseTo(2 ** 0.99, 9);
    // With 1000 keys the hottest one takes about 13 % of the traffic.
    expect(zipf.probability(0)).toBeGreaterThan(0.12);
    expect(zipf.probability(0)).toBeLessThan(0.14);
  });

  it('draws ranks in [0, n) with frequencies matching those probabilities', () => {
    const n = 100;
    const zipf = new ZipfSampler(n, 0.99, seeded(7));
    const counts = new Array<number>(n).fill(0);
    const draws = 200_000;
    let outOfRange = 0;
    for (let i = 0; i < draws; i++) {
      const rank = zipf.next();
      if (Number.isInteger(rank) && rank >= 0 && rank < n) counts[rank]++;
      else outOfRange++;
    }
    expect(outOfRange).toBe(0);
    for (const rank of [0, 1, 2, 9, 99]) {
      const expected = zipf.probability(rank) * draws;
      // Within five standard deviations of the binomial count.
      expect(Math.abs(counts[rank] - expected)).toBeLessThan(5 * Math.sqrt(expected) + 1);
    }
    expect(counts[0]).toBeGreaterThan(counts[1]);
    expect(counts[1]).toBeGreaterThan(counts[9]);
  });

  it('handles a keyspace of one key and rejects an empty one', () => {
    expect(new ZipfSampler(1).next()).toBe(0);
    expect(() => new ZipfSampler(0)).toThrow(RangeError);
  });
});
