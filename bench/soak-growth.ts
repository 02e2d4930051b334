// Judging a soak: did resident memory keep growing, or only settle in?
//
// A process under new load grows for a while as its heap, JIT and buffers
// find their size, and then levels off; a leak keeps going. Telling the two
// apart from samples of RSS is a matter of where to look and how much growth
// to count, and both choices are written down here as a rule (GROWTH_RULE),
// with the reason for each threshold, so that a verdict can be checked by
// hand against the samples it was made from.

import { median } from './stats.js';

const MiB = 2 ** 20;

/**
 * When resident memory "keeps growing". All three must hold:
 *   - over the second half of the run, the least-squares slope of RSS against
 *     time is above `slopeMiBPerMin` (the first half is warm-up and is not
 *     judged);
 *   - over the last quarter alone, the slope is still above half of that, so
 *     a single step up that then levels off (a cache filling once) is not
 *     taken for a leak;
 *   - the median RSS of the last quarter is more than `increasePercent` above
 *     the median of the second quarter, so the growth is a real fraction of
 *     the process and not a slope fitted to noise.
 * A run shorter than `minSeconds`, or with fewer than `minSamples` samples in
 * its second half, is recorded but not judged.
 */
export interface GrowthRule {
  slopeMiBPerMin: number;
  increasePercent: number;
  minSeconds: number;
  minSamples: number;
}

// Two minutes: a 45 s soak of the async model on this 2-core machine was still
// growing its heap into place (+21 % from the second quarter to the last) and
// was wrongly judged a leak; over three minutes the same server held steady.
export const GROWTH_RULE: GrowthRule = { slopeMiBPerMin: 1, increasePercent: 5, minSeconds: 120, minSamples: 10 };

export interface GrowthVerdict {
  verdict: 'growing' | 'steady' | 'too short to judge';
  secondHalfSlopeMiBPerMin: number | null;
  lastQuarterSlopeMiBPerMin: number | null;
  secondQuarterMedianMiB: number | null;
  lastQuarterMedianMiB: number | null;
  increasePercent: number | null;
  /** One sentence, for people. */
  explanation: string;
}

/** The least-squares slope of y against x; null for fewer than two distinct x. */
export function leastSquaresSlope(points: readonly { x: number; y: number }[]): number | null {
  if (points.length < 2) return null;
  const meanX = points.reduce((s, p) => s + p.x, 0) / points.length;
  const meanY = points.reduce((s, p) => s + p.y, 0) / points.length;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - meanX) * (p.y - meanY);
    sxx += (p.x - meanX) ** 2;
  }
  return sxx === 0 ? null : sxy / sxx;
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

/** Judges a series of RSS samples (seconds from the start, bytes) by `rule`. */
export function judgeGrowth(samples: readonly { tSec: number; rssBytes: number }[], rule: GrowthRule = GROWTH_RULE): GrowthVerdict {
  const unjudged = (explanation: string): GrowthVerdict => ({
    verdict: 'too short to judge',
    secondHalfSlopeMiBPerMin: null,
    lastQuarterSlopeMiBPerMin: null,
    secondQuarterMedianMiB: null,
    lastQuarterMedianMiB: null,
    increasePercent: null,
    explanation,
  });
  if (samples.length < 2) return unjudged('fewer than two memory samples');
  const t0 = samples[0].tSec;
  const span = samples[samples.length - 1].tSec - t0;
  const between = (from: number, to: number) =>
    samples.filter((s) => s.tSec - t0 >= from * span && s.tSec - t0 <= to * span).map((s) => ({ x: (s.tSec - t0) / 60, y: s.rssBytes / MiB }));
  const secondHalf = between(0.5, 1);
  if (span < rule.minSeconds || secondHalf.length < rule.minSamples) {
    return unjudged(
      `${round(span, 1)} s with ${secondHalf.length} samples in its second half; judging growth needs at least ` +
        `${rule.minSeconds} s and ${rule.minSamples} samples, so that warm-up is not taken for a leak`,
    );
  }
  const secondQuarter = between(0.25, 0.5);
  const lastQuarter = between(0.75, 1);
  const halfSlope = leastSquaresSlope(secondHalf) ?? 0;
  const quarterSlope = leastSquaresSlope(lastQuarter) ?? 0;
  const q2 = secondQuarter.length > 0 ? median(secondQuarter.map((p) => p.y)) : secondHalf[0].y;
  const q4 = median(lastQuarter.map((p) => p.y));
  const increase = ((q4 - q2) / q2) * 100;
  const growing = halfSlope > rule.slopeMiBPerMin && quarterSlope > rule.slopeMiBPerMin / 2 && increase > rule.increasePercent;
  const figures =
    `${round(halfSlope)} MiB/min over the second half, ${round(quarterSlope)} MiB/min over the last quarter, ` +
    `last quarter's median ${round(q4, 1)} MiB against ${round(q2, 1)} MiB in the second quarter (${increase >= 0 ? '+' : ''}${round(increase, 1)} %)`;
  return {
    verdict: growing ? 'growing' : 'steady',
    secondHalfSlopeMiBPerMin: round(halfSlope, 3),
    lastQuarterSlopeMiBPerMin: round(quarterSlope, 3),
    secondQuarterMedianMiB: round(q2, 2),
    lastQuarterMedianMiB: round(q4, 2),
    increasePercent: round(increase, 2),
    explanation: growing
      ? `RSS kept growing: ${figures}`
      : `RSS held: ${figures} (growing means above ${rule.slopeMiBPerMin} MiB/min, ${rule.slopeMiBPerMin / 2} MiB/min and +${rule.increasePercent} %)`,
  };
}
