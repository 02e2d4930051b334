// The timers of one run, kept together so that the run can cancel them all
// when it ends, and an `at` that never fires early by the run's shared clock.
//
// Node's timers count whole milliseconds and fire up to a millisecond or more
// late, and can fire a little early by `nowUs`. A driver that started early
// would count its first requests as warmup, so `at` waits TIMER_MARGIN_MS
// early and polls the last stretch with setImmediate. Only the run's start and
// end use it. The open loop does not: it sends every request that is due when
// its timer fires, in one turn, and records how late that was (`sendLag`).
// Polling until each request is due would keep the generator's core busy, and
// on two shared cores that time is taken from the server being measured.

import { nowUs } from './clock.js';

const TIMER_MARGIN_MS = 1.5;

export class RunTimers {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly immediates = new Set<NodeJS.Immediate>();

  /** Runs `action` at `timeUs` on the shared clock, not before. */
  at(timeUs: number, action: () => void): void {
    const waitMs = (timeUs - nowUs()) / 1000;
    if (waitMs <= 0) return action();
    if (waitMs > TIMER_MARGIN_MS) return this.after(waitMs - TIMER_MARGIN_MS, () => this.at(timeUs, action));
    this.soon(() => this.at(timeUs, action));
  }

  /** Runs `action` in `ms` milliseconds (or later). */
  after(ms: number, action: () => void): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        action();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
  }

  /** Runs `action` on the next turn of the event loop, after the I/O already waiting. */
  soon(action: () => void): void {
    const immediate = setImmediate(() => {
      this.immediates.delete(immediate);
      action();
    });
    this.immediates.add(immediate);
  }

  /** Cancels everything still pending. */
  cancelAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    for (const immediate of this.immediates) clearImmediate(immediate);
    this.timers.clear();
    this.immediates.clear();
  }
}
