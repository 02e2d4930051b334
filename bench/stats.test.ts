import { describe, expect, it } from 'vitest';
import { median, medianIndex, spread } from './stats.js';

describe('median', () => {
  it('takes the middle value of an odd count, whatever the input order', () => {
    expect(median([9, 1, 5])).toBe(5);
  });

  it('takes the mean of the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('refuses an empty list rather than inventing a value', () => {
    expect(() => median([])).toThrow(/no values/);
  });
});

describe('spread', () => {
  it('reports median, min, max and how many values contributed', () => {
    expect(spread([30, 10, 20])).toEqual({ median: 20, min: 10, max: 30, n: 3 });
  });

  it('ignores values that are not finite numbers, and is null when nothing is left', () => {
    expect(spread([NaN, 7, Infinity])).toEqual({ median: 7, min: 7, max: 7, n: 1 });
    expect(spread([NaN])).toBeNull();
    expect(spread([])).toBeNull();
  });

  it('is not dragged by one outlying repeat', () => {
    expect(spread([100, 101, 5])!.median).toBe(100);
  });
});

describe('medianIndex', () => {
  it('points at the repeat holding the median value', () => {
    expect(medianIndex([300, 100, 200])).toBe(2);
  });

  it('picks the lower middle repeat of an even count, so it names one real run', () => {
    expect(medianIndex([40, 10, 30, 20])).toBe(3);
  });
});
