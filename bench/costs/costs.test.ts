import { describe, expect, it } from 'vitest';
import { measureNodeCosts, watchEventLoop } from './index.js';
import { hashChain } from '../../servers/protocol/execute.js';

// The bounds are wide on purpose: they catch a unit slip (ms for µs, bytes for
// MiB) or a measurement that measured nothing, not a slow machine.
describe('measureNodeCosts', () => {
  it('measures every cost once, each a positive figure in a plausible range for its unit', async () => {
    const c = await measureNodeCosts({ workerStarts: 2, roundTrips: 200, memoryWorkers: 2, connectionCycles: 30, loopWindowMs: 200 });
    expect(c.cores).toBeGreaterThanOrEqual(1);
    expect(c.node).toMatch(/^v\d+/);
    expect(c.workerStartMs.median).toBeGreaterThan(0.5);
    expect(c.workerStartMs.median).toBeLessThan(5000);
    expect(c.messageRoundTripUs.median).toBeGreaterThan(0.5);
    expect(c.messageRoundTripUs.median).toBeLessThan(100_000);
    expect(c.piscinaTaskRoundTripUs.median).toBeGreaterThan(0.5);
    expect(c.piscinaTaskRoundTripUs.median).toBeLessThan(100_000);
    expect(c.memoryPerWorkerBytes.samples).toBe(2);
    expect(c.memoryPerWorkerBytes.median).toBeLessThan(512 * 2 ** 20);
    expect(c.work.n).toBe(1000);
    expect(c.work.ms.median).toBeGreaterThan(0.01);
    expect(c.work.ms.median).toBeLessThan(1000);
    expect(c.connectionCycleMs.median).toBeGreaterThan(0.001);
    expect(c.connectionCycleMs.median).toBeLessThan(2000);
    for (const m of [c.workerStartMs, c.messageRoundTripUs, c.work.ms, c.connectionCycleMs]) {
      expect(m.min).toBeLessThanOrEqual(m.median);
      expect(m.median).toBeLessThanOrEqual(m.max);
    }
  }, 60_000);

  it('sees the event loop busier, and timers later, while it computes WORK back to back than while it idles', async () => {
    const idle = await watchEventLoop(150);
    // WORK 5000 holds the loop for a few milliseconds a time, above the monitor's 1 ms resolution,
    // yet short enough that the window holds many turns of the loop even on a busy machine.
    const busy = await watchEventLoop(300, () => hashChain(5000));
    expect(idle.samples).toBeGreaterThan(0);
    expect(busy.samples).toBeGreaterThan(0);
    expect(busy.utilization).toBeGreaterThan(idle.utilization);
    expect(busy.utilization).toBeGreaterThan(0.5);
    expect(busy.delayMaxMs).toBeGreaterThan(idle.delayP50Ms);
  });
});
