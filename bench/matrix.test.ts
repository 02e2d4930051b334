import { describe, expect, it } from 'vitest';
import {
  buildMatrix,
  estimateSeconds,
  FULL_SELECTION,
  httpCoverage,
  makeCell,
  openLoopRates,
  OPEN_LOOP_CONNECTIONS,
  QUICK_SELECTION,
  repeatsFor,
  saturationThroughput,
  type MatrixSelection,
} from './matrix.js';

const tiny: MatrixSelection = {
  models: ['async'],
  workloads: ['echo'],
  connections: [1, 4],
  variants: [],
  openLoopFractions: [0.5, 1],
  transports: ['line'],
};

describe('buildMatrix', () => {
  it('crosses models, workloads and connection counts, and nothing else when no variant is chosen', () => {
    const cells = buildMatrix(tiny);
    expect(cells.map((c) => c.id)).toEqual(['async/echo/c1', 'async/echo/c4']);
    expect(cells.every((c) => c.variant.kind === 'closed')).toBe(true);
    expect(cells.filter((c) => c.model !== 'per-connection').every((c) => c.serverArgs.length === 0)).toBe(true);
  });

  it("starts per-connection servers with room for every connection of the cell plus the suite's STATS connection", () => {
    const cells = buildMatrix({ ...tiny, models: ['per-connection'], connections: [256] });
    expect(cells.map((c) => c.serverArgs)).toEqual([['--max-workers', '264']]);
  });

  it('builds the full matrix: 80 closed cells, reconnect on echo, pool offload=heavy, and an open-loop sweep for async and pool', () => {
    const cells = buildMatrix(FULL_SELECTION).filter((c) => c.transport === 'line');
    const count = (kind: string) => cells.filter((c) => c.variant.kind === kind).length;
    expect(count('closed')).toBe(4 * 4 * 5);
    expect(count('reconnect')).toBe(4 * 5);
    expect(count('offload')).toBe(4 * 5);
    expect(count('open-loop')).toBe(2 * 6);
    expect(new Set(cells.map((c) => c.id)).size).toBe(cells.length);
    expect(cells.filter((c) => c.variant.kind === 'reconnect').every((c) => c.workload === 'echo')).toBe(true);
    expect(cells.filter((c) => c.variant.kind === 'offload').every((c) => c.model === 'pool' && c.serverArgs.join(' ') === '--offload heavy')).toBe(
      true,
    );
    const open = cells.filter((c) => c.variant.kind === 'open-loop');
    expect(new Set(open.map((c) => c.model))).toEqual(new Set(['async', 'pool']));
    expect(open.every((c) => c.workload === 'kv' && c.connections === OPEN_LOOP_CONNECTIONS)).toBe(true);
  });

  it('puts every open-loop cell after all the closed-loop kv cells its rate is derived from', () => {
    const cells = buildMatrix(FULL_SELECTION);
    const lastKv = cells.map((c) => c.workload === 'kv' && c.variant.kind === 'closed').lastIndexOf(true);
    const firstOpen = cells.findIndex((c) => c.variant.kind === 'open-loop');
    expect(firstOpen).toBeGreaterThan(lastKv);
  });

  it('leaves out variants whose model or workload is not selected', () => {
    const cells = buildMatrix({ ...tiny, models: ['blocking'], workloads: ['cpu'], variants: ['reconnect', 'offload', 'open-loop'] });
    expect(cells.every((c) => c.variant.kind === 'closed')).toBe(true);
  });

  it('gives each variant its own chart line or chart', () => {
    expect(makeCell('pool', 'cpu', 4, { kind: 'offload', offload: 'heavy' }).series).toBe('pool offload=heavy');
    expect(makeCell('async', 'echo', 4, { kind: 'reconnect' }).group).toBe('echo reconnect');
    expect(makeCell('async', 'kv', 64, { kind: 'open-loop', rateFraction: 0.5 }).id).toBe('async/kv/c64/rate=50%');
  });

  it('keeps the quick matrix to every model on two connection counts', () => {
    const cells = buildMatrix(QUICK_SELECTION);
    expect(new Set(cells.map((c) => c.model)).size).toBe(4);
    expect(new Set(cells.filter((c) => c.variant.kind === 'closed').map((c) => c.connections))).toEqual(new Set([4, 64]));
  });
});

describe('the transport axis', () => {
  it('gives every model, workload and connection count of the full matrix an HTTP twin of its closed-loop line cell', () => {
    const cells = buildMatrix(FULL_SELECTION);
    const http = cells.filter((c) => c.transport === 'http');
    expect(http).toHaveLength(4 * 4 * 5);
    for (const cell of http) {
      expect(cell.variant.kind).toBe('closed');
      expect(cells.some((c) => c.transport === 'line' && c.id === cell.id.replace(/\/http$/, ''))).toBe(true);
    }
  });

  it('names HTTP cells apart and charts them in a group of their own, with the model as the series', () => {
    const cell = makeCell('async', 'echo', 4, { kind: 'closed' }, 'http');
    expect(cell).toMatchObject({ id: 'async/echo/c4/http', group: 'echo http', series: 'async', transport: 'http' });
    expect(makeCell('async', 'echo', 4, { kind: 'closed' }).transport).toBe('line');
  });

  it('refuses an HTTP cell for a variant, since every variant is a line-protocol experiment', () => {
    expect(() => makeCell('async', 'echo', 4, { kind: 'reconnect' }, 'http')).toThrow(/line-protocol experiment/);
  });

  it("runs each workload's HTTP cells right after its line cells, and the open-loop sweep last", () => {
    const cells = buildMatrix(FULL_SELECTION);
    const firstHttpEcho = cells.findIndex((c) => c.transport === 'http' && c.workload === 'echo');
    const lastLineEcho = cells.map((c) => c.transport === 'line' && c.workload === 'echo').lastIndexOf(true);
    const firstKv = cells.findIndex((c) => c.workload === 'kv');
    expect(firstHttpEcho).toBeGreaterThan(lastLineEcho);
    expect(firstHttpEcho).toBeLessThan(firstKv);
    expect(cells[cells.length - 1].variant.kind).toBe('open-loop');
  });

  it('keeps the quick HTTP slice to echo on every model at 4 and 64 connections', () => {
    const http = buildMatrix(QUICK_SELECTION).filter((c) => c.transport === 'http');
    expect(http.map((c) => c.id)).toEqual([
      'blocking/echo/c4/http',
      'blocking/echo/c64/http',
      'per-connection/echo/c4/http',
      'per-connection/echo/c64/http',
      'pool/echo/c4/http',
      'pool/echo/c64/http',
      'async/echo/c4/http',
      'async/echo/c64/http',
    ]);
  });

  it('confines the HTTP slice to what is selected, and leaves no HTTP cell when HTTP is not selected', () => {
    expect(httpCoverage({ ...QUICK_SELECTION, workloads: ['kv'] })).toEqual({ workloads: [], connections: [4, 64] });
    expect(buildMatrix({ ...FULL_SELECTION, transports: ['line'] }).some((c) => c.transport === 'http')).toBe(false);
  });

  it('runs no variants when only HTTP is selected', () => {
    const cells = buildMatrix({ ...FULL_SELECTION, transports: ['http'] });
    expect(cells.length).toBe(4 * 4 * 5);
    expect(cells.every((c) => c.transport === 'http' && c.variant.kind === 'closed')).toBe(true);
  });

  it('gives HTTP cells their own repeat count', () => {
    expect(repeatsFor(makeCell('async', 'echo', 4, { kind: 'closed' }, 'http'), 3, 1)).toBe(1);
    expect(repeatsFor(makeCell('async', 'echo', 4, { kind: 'closed' }), 3, 1)).toBe(3);
  });
});

describe('open-loop rate sweep', () => {
  it('derives each rate as a fraction of the measured saturation throughput, rounded to whole requests', () => {
    expect(openLoopRates(10_000, [0.25, 0.5, 0.75, 1, 1.25])).toEqual([2500, 5000, 7500, 10000, 12500]);
    expect(openLoopRates(3, [0.1])).toEqual([1]);
  });

  it('refuses to derive rates from a throughput that is zero or unknown', () => {
    expect(() => openLoopRates(0, [1])).toThrow(/saturation/);
    expect(() => openLoopRates(NaN, [1])).toThrow(/saturation/);
  });

  it('takes saturation as the best closed-loop line-protocol kv median of the same model, ignoring failures, HTTP and other cells', () => {
    const kv = (model: 'async' | 'pool', c: number, rps: number | null, kind: 'closed' | 'reconnect' = 'closed') => ({
      ...makeCell(model, 'kv', c, { kind }),
      medianRps: rps,
    });
    const measured = [
      { ...makeCell('async', 'kv', 4, { kind: 'closed' }, 'http'), medianRps: 70_000 },
      kv('async', 1, 4000),
      kv('async', 16, 9000),
      kv('async', 64, null),
      kv('async', 256, 50_000, 'reconnect'),
      kv('pool', 16, 20_000),
      { ...makeCell('async', 'echo', 16, { kind: 'closed' }), medianRps: 99_000 },
    ];
    expect(saturationThroughput(measured, 'async')).toBe(9000);
    expect(saturationThroughput(measured, 'pool')).toBe(20_000);
  });

  it('has no saturation to offer for a model with no successful kv cell', () => {
    expect(saturationThroughput([], 'async')).toBeUndefined();
  });
});

describe('estimateSeconds', () => {
  it('counts every repeat of every cell at warmup plus duration plus the per-run overhead', () => {
    expect(estimateSeconds(10, { durationSec: 2, warmupSec: 0.5, repeat: 3, perRunOverheadSec: 0.5 })).toBe(90);
  });
});
