// When an open loop's requests are due.
//
// Evenly spaced arrivals are the easy schedule, and they flatter a server:
// below capacity each request finds the server free, so latency stays flat
// until the rate hits the ceiling. Real users do not coordinate; their
// requests arrive independently, which is a Poisson process, with gaps drawn
// from an exponential distribution. Then requests bunch up by chance, queues
// form well below capacity, and latency climbs the way queueing theory says
// it must (an M/M/1 queue at 80 % load waits four service times on average).
// So open loop defaults to Poisson arrivals, and `uniform` is there to see the
// difference.
//
// The schedule is seeded, so a run can be repeated gap for gap.

import { seededRandom } from '../seeded-random.js';

export const ARRIVALS = ['poisson', 'uniform'] as const;
export type Arrivals = (typeof ARRIVALS)[number];

export class ArrivalSchedule {
  private dueUs: number;
  private readonly random: () => number;
  private readonly meanGapUs: number;

  /** Requests at `ratePerSec` on average, the first due at `startUs`. */
  constructor(
    ratePerSec: number,
    startUs: number,
    private readonly arrivals: Arrivals,
    seed: number,
  ) {
    this.meanGapUs = 1e6 / ratePerSec;
    this.dueUs = startUs;
    this.random = seededRandom(seed);
  }

  /** When the next request is due. */
  peek(): number {
    return this.dueUs;
  }

  /** Takes the next request's due time and schedules the one after it. */
  take(): number {
    const due = this.dueUs;
    this.dueUs += this.arrivals === 'uniform' ? this.meanGapUs : -Math.log(1 - this.random()) * this.meanGapUs;
    return due;
  }
}
