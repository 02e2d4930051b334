import { mkdtempSync, readlinkSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FULL_SELECTION } from './matrix.js';
import { createRunDir, makeRunId, pointLatestAt, toReadableJson, transportPairs } from './results.js';
import { syntheticResults } from './test-support/synthetic-results.js';

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-results-'));
  temps.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('run ids and directories', () => {
  it('names a run by its UTC start time, safe as a directory name', () => {
    expect(makeRunId(new Date('2025-03-04T05:06:07.890Z'))).toBe('2025-03-04T05-06-07Z');
  });

  it('never reuses the directory of an earlier run that started in the same second', () => {
    const out = tempDir();
    const first = createRunDir(out, 'r');
    const second = createRunDir(out, 'r');
    expect(first.runId).toBe('r');
    expect(second.runId).toBe('r-1');
  });
});

describe('pointLatestAt', () => {
  it('makes latest a relative link to the newest run, replacing the previous link', () => {
    const out = tempDir();
    mkdirSync(path.join(out, 'a'));
    mkdirSync(path.join(out, 'b'));
    pointLatestAt(out, 'a');
    pointLatestAt(out, 'b');
    expect(readlinkSync(path.join(out, 'latest'))).toBe('b');
  });

  it('refuses to replace a latest that is a real file rather than a link', () => {
    const out = tempDir();
    writeFileSync(path.join(out, 'latest'), 'keep me');
    expect(() => pointLatestAt(out, 'a')).toThrow(/not a symbolic link/);
  });
});

describe('toReadableJson', () => {
  it('round-trips to the same value, keeping arrays of numbers and small flat objects on one line', () => {
    const value = { a: [1, 2, 3], b: { c: 'x', d: [{ e: null }], f: [], h: { deep: { er: 1 } } }, g: undefined };
    const text = toReadableJson(value);
    expect(JSON.parse(text)).toEqual({ a: [1, 2, 3], b: { c: 'x', d: [{ e: null }], f: [], h: { deep: { er: 1 } } } });
    expect(text).toContain('"a": [1,2,3]');
    expect(text).toContain('{"e":null}');
    expect(text).toContain('"h": {\n');
  });
});

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
