// Specification of the open loop's schedule: the mean rate it was asked for,
// with the gaps of independent arrivals (Poisson) or of a metronome (uniform).

import { describe, expect, it } from 'vitest';
import { ArrivalSchedule } from './arrivals.js';

function gaps(arrivals: 'poisson' | 'uniform', count: number): number[] {
  const schedule = new ArrivalSchedule(1000, 0, arrivals, 42);
  let last = schedule.take();
  return Array.from({ length: count }, () => {
    const next = schedule.take();
    const gap = next - last;
    last = next;
    return gap;
  });
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const coefficientOfVariation = (values: number[]) => {
  const m = mean(values);
  return Math.sqrt(mean(values.map((v) => (v - m) ** 2))) / m;
};

describe('ArrivalSchedule', () => {
  it('starts at the given time and spaces uniform arrivals exactly one mean gap apart', () => {
    const schedule = new ArrivalSchedule(1000, 5000, 'uniform', 1);
    expect(schedule.peek()).toBe(5000);
    expect([schedule.take(), schedule.take(), schedule.take()]).toEqual([5000, 6000, 7000]);
    expect(coefficientOfVariation(gaps('uniform', 100))).toBeLessThan(1e-9);
  });

  it('draws Poisson gaps from an exponential distribution: the asked-for mean, and a spread as large as the mean', () => {
    const drawn = gaps('poisson', 20_000);
    expect(mean(drawn)).toBeGreaterThan(970);
    expect(mean(drawn)).toBeLessThan(1030);
    expect(coefficientOfVariation(drawn)).toBeGreaterThan(0.95);
    expect(coefficientOfVariation(drawn)).toBeLessThan(1.05);
    // An exponential's median is ln 2 of its mean.
    const median = [...drawn].sort((a, b) => a - b)[drawn.length / 2];
    expect(median / mean(drawn)).toBeGreaterThan(0.65);
    expect(median / mean(drawn)).toBeLessThan(0.74);
  });

  it('repeats the same gaps for the same seed', () => {
    const a = new ArrivalSchedule(1000, 0, 'poisson', 7);
    const b = new ArrivalSchedule(1000, 0, 'poisson', 7);
    for (let i = 0; i < 50; i++) expect(a.take()).toBe(b.take());
  });
});
