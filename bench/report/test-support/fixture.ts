// The report's fixed test input: results.json from a real, small run of the
// suite (every model, cpu and sleep, 1, 4 and 16 connections, two repeats of
// half a second), kept exactly as the suite wrote it. Tests take a fresh copy
// and change the figures they want to see the report react to.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NodeCosts } from '../../costs/index.js';
import { parseResults, type ReportCell, type ReportResults } from '../data.js';

export const FIXTURE_PATH = fileURLToPath(new URL('./fixture.json', import.meta.url));

export function loadFixture(): ReportResults {
  return parseResults(readFileSync(FIXTURE_PATH, 'utf8'));
}

export function cell(results: ReportResults, id: string): ReportCell {
  const found = results.cells.find((c) => c.id === id);
  if (!found) throw new Error(`the fixture has no cell ${id}`);
  return found;
}

/** Sets a cell's median throughput (and its spread) as if every repeat had measured `rps`. */
export function setThroughput(results: ReportResults, id: string, rps: number): void {
  const c = cell(results, id);
  c.summary!.requestsPerSec = { median: rps, min: rps, max: rps, n: c.summary!.requestsPerSec!.n };
  for (const r of c.repeats) if (r.load) r.load.throughput.requestsPerSec = rps;
}

/**
 * Costs of the size this machine measured, fixed so that predictions in tests
 * are exact: WORK 1000 at 2 ms, a worker start at 40 ms.
 */
export function fixedCosts(): NodeCosts {
  const m = (median: number) => ({ median, min: median * 0.8, max: median * 1.5, samples: 5 });
  return {
    measuredAt: '2026-01-01T00:00:00.000Z',
    node: 'v20.0.0',
    cores: 2,
    workerStartMs: m(40),
    messageRoundTripUs: m(20),
    piscinaTaskRoundTripUs: m(60),
    memoryPerWorkerBytes: m(8 * 2 ** 20),
    work: { n: 1000, ms: m(2) },
    connectionCycleMs: m(0.3),
    eventLoop: {
      idle: { utilization: 0.01, delayP50Ms: 0.1, delayP99Ms: 0.3, delayMaxMs: 1, windowMs: 500, samples: 480 },
      underWork: { utilization: 1, delayP50Ms: 1, delayP99Ms: 3, delayMaxMs: 5, windowMs: 500, samples: 160 },
    },
  };
}
