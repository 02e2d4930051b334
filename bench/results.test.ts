import { describe, expect, it } from 'vitest';
import { FULL_SELECTION } from './matrix.js';
import { transportPairs } from './results.js';
import { syntheticResults } from './test-support/synthetic-results.js';

describe('transportPairs', () => {
  const results = syntheticResults({ ...FULL_SELECTION, models: ['async', 'pool'], workloads: ['echo'], connections: [4, 64] }, 3, 1);

  it('pairs each HTTP cell with the plain line-protocol cell of its model, workload and connections, and gives HTTP ÷ line', () => {
    const pairs = transportPairs(results.cells);
    expect(pairs.map((p) => `${p.model}/c${p.connections}`)).toEqual(['async/c4', 'async/c64', 'pool/c4', 'pool/c64']);
    for (const p of pairs) expect(p.ratio).toBeCloseTo(p.httpRps! / p.lineRps!, 10);
    // The synthetic HTTP cells run at 60 % of the line rate (their one repeat is 3 % below the line median).
    expect(pairs[0].ratio).toBeCloseTo(0.6 * 0.97, 5);
  });

  it("gives each side's client CPU per request, so a reader can see how much of the ratio is the client", () => {
    const [pair] = transportPairs(results.cells);
    // The synthetic generator uses 60 % of a core on either side, so the slower side costs more per request.
    expect(pair.lineClientUsPerRequest).toBeCloseTo(0.6e6 / pair.lineRps!, 6);
    expect(pair.httpClientUsPerRequest).toBeCloseTo(0.6e6 / pair.httpRps!, 6);
  });

  it('has no ratio where either side has no figure, rather than a zero or an infinity', () => {
    const cells = results.cells.map((c) => (c.id === 'pool/echo/c4' ? { ...c, summary: null } : c));
    const pair = transportPairs(cells).find((p) => p.model === 'pool' && p.connections === 4)!;
    expect(pair).toMatchObject({ lineRps: null, ratio: null });
    expect(pair.httpRps).toBeGreaterThan(0);
  });
});
