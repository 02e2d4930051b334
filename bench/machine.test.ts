// Specification of the machine record's stolen time: read from /proc/stat's
// first line, and reported as the share of all CPU time between two readings.

import { describe, expect, it } from 'vitest';
import { cpuTicks, stealPercentBetween } from './machine.js';

describe('stolen CPU time', () => {
  it('reads the total and the steal column from the first line of /proc/stat', () => {
    const stat = 'cpu  100 5 50 800 10 1 4 30 7 0\ncpu0 50 2 25 400 5 0 2 15 3 0\nintr 12345\n';
    // Guest time (the last two) is already counted in user and nice.
    expect(cpuTicks(stat)).toEqual({ total: 1000, steal: 30 });
  });

  it('answers null for text that is not /proc/stat', () => {
    expect(cpuTicks('nothing here')).toBeNull();
    expect(cpuTicks('cpu 1 2 3')).toBeNull();
  });

  it('reports the share stolen between two readings, and null when time did not move', () => {
    expect(stealPercentBetween({ total: 1000, steal: 30 }, { total: 3000, steal: 130 })).toBe(5);
    expect(stealPercentBetween({ total: 1000, steal: 30 }, { total: 1000, steal: 30 })).toBeNull();
    expect(stealPercentBetween(null, { total: 1, steal: 0 })).toBeNull();
  });

  it('reads this machine where it has /proc', () => {
    const now = cpuTicks();
    if (now === null) return;
    expect(now.total).toBeGreaterThan(0);
    expect(now.steal).toBeGreaterThanOrEqual(0);
  });
});
