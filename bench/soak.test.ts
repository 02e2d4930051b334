import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GROWTH_RULE, judgeGrowth, leastSquaresSlope } from './soak-growth.js';
import { parseSoakDuration, sampleIntervalMs, windowSeconds } from './soak.js';
import { seededRandom } from '../clients/seeded-random.js';

const MiB = 2 ** 20;

/**
 * RSS sampled once a second for `minutes`: `shape(tMin)` MiB, plus the
 * sawtooth of a garbage-collected heap (6 MiB every 30 s) and noise of ±1 MiB.
 */
function series(minutes: number, shape: (tMin: number) => number, seed = 1): { tSec: number; rssBytes: number }[] {
  const random = seededRandom(seed);
  return Array.from({ length: minutes * 60 + 1 }, (_, tSec) => {
    const sawtooth = ((tSec % 30) / 30) * 6;
    const noise = (random() - 0.5) * 2;
    return { tSec, rssBytes: (shape(tSec / 60) + sawtooth + noise) * MiB };
  });
}

describe('judgeGrowth', () => {
  it('passes a flat series with garbage-collection sawtooth and noise', () => {
    const verdict = judgeGrowth(series(10, () => 80));
    expect(verdict.verdict).toBe('steady');
    expect(Math.abs(verdict.secondHalfSlopeMiBPerMin!)).toBeLessThan(0.5);
  });

  it('fails a series that leaks 2 MiB a minute under the same noise, and says by how much', () => {
    const verdict = judgeGrowth(series(10, (t) => 80 + 2 * t));
    expect(verdict.verdict).toBe('growing');
    expect(verdict.secondHalfSlopeMiBPerMin!).toBeCloseTo(2, 0);
    expect(verdict.increasePercent!).toBeGreaterThan(5);
    expect(verdict.explanation).toMatch(/^RSS kept growing: 2(\.\d+)? MiB\/min over the second half/);
  });

  it('passes a series that grows while warming up and then levels off', () => {
    const verdict = judgeGrowth(series(10, (t) => (t < 2 ? 50 + 15 * t : 80)));
    expect(verdict.verdict).toBe('steady');
  });

  it('passes a single step up in the second half that then stays flat, such as a cache filling once', () => {
    const verdict = judgeGrowth(series(10, (t) => (t < 5.5 ? 80 : 95)));
    expect(verdict.secondHalfSlopeMiBPerMin!).toBeGreaterThan(GROWTH_RULE.slopeMiBPerMin);
    expect(verdict.increasePercent!).toBeGreaterThan(GROWTH_RULE.increasePercent);
    expect(verdict.verdict).toBe('steady');
  });

  it('passes growth too slow to matter: half a MiB a minute', () => {
    expect(judgeGrowth(series(10, (t) => 80 + 0.5 * t)).verdict).toBe('steady');
  });

  it('does not judge a run too short to tell growth from warm-up, and says what it would need', () => {
    const verdict = judgeGrowth(series(10, (t) => 80 + 50 * t).slice(0, 20));
    expect(verdict.verdict).toBe('too short to judge');
    expect(verdict.explanation).toMatch(/at least 120 s/);
    expect(judgeGrowth([]).verdict).toBe('too short to judge');
  });

  it('never fails a flat series, whatever its level, noise and sampling phase (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 40, max: 400 }), fc.double({ min: 0, max: 4, noNaN: true }), fc.integer(), (base, amplitude, seed) => {
        const random = seededRandom(seed);
        const samples = Array.from({ length: 601 }, (_, tSec) => ({ tSec, rssBytes: (base + (random() - 0.5) * 2 * amplitude) * MiB }));
        return judgeGrowth(samples).verdict === 'steady';
      }),
      { numRuns: 50 },
    );
  });

  it('always fails a steady leak of 2 MiB a minute or more under that noise (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 40, max: 100 }), fc.double({ min: 2, max: 20, noNaN: true }), fc.integer(), (base, leak, seed) => {
        const random = seededRandom(seed);
        const samples = Array.from({ length: 601 }, (_, tSec) => ({ tSec, rssBytes: (base + leak * (tSec / 60) + (random() - 0.5) * 4) * MiB }));
        return judgeGrowth(samples).verdict === 'growing';
      }),
      { numRuns: 50 },
    );
  });
});

describe('leastSquaresSlope', () => {
  it('recovers the slope of points on a line, and has none for a single x', () => {
    expect(
      leastSquaresSlope([
        { x: 0, y: 1 },
        { x: 1, y: 3 },
        { x: 2, y: 5 },
      ]),
    ).toBeCloseTo(2, 10);
    expect(
      leastSquaresSlope([
        { x: 1, y: 1 },
        { x: 1, y: 2 },
      ]),
    ).toBeNull();
    expect(leastSquaresSlope([])).toBeNull();
  });
});

describe('parseSoakDuration', () => {
  it('reads seconds, minutes and hours', () => {
    expect(parseSoakDuration('30s')).toBe(30);
    expect(parseSoakDuration('10m')).toBe(600);
    expect(parseSoakDuration('1h')).toBe(3600);
    expect(parseSoakDuration('1.5h')).toBe(5400);
  });

  it('refuses a number without a unit, an unknown unit, and durations outside 1 s to 24 h', () => {
    expect(() => parseSoakDuration('10')).toThrow(/e\.g\. 30s, 10m or 1h/);
    expect(() => parseSoakDuration('10d')).toThrow(/not a duration/);
    expect(() => parseSoakDuration('0.5s')).toThrow(/from 1 s to 24 h/);
    expect(() => parseSoakDuration('25h')).toThrow(/from 1 s to 24 h/);
  });
});

describe('soak pacing', () => {
  it('splits a run into windows of at most ten seconds, six or more of them, none under a second', () => {
    expect(windowSeconds(6)).toBe(1);
    expect(windowSeconds(30)).toBe(5);
    expect(windowSeconds(600)).toBe(10);
    expect(windowSeconds(3)).toBe(1);
  });

  it('samples four times a second on short runs and once a second on long ones', () => {
    expect(sampleIntervalMs(6)).toBe(250);
    expect(sampleIntervalMs(600)).toBe(1000);
  });
});
