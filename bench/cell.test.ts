import { describe, expect, it } from 'vitest';
import { generatorBusy, isGeneratorBound, notesFromLoad, runCell, summariseRepeats } from './cell.js';
import { makeCell, type CellSpec } from './matrix.js';
import type { RepeatRecord } from './results.js';
import { SERVE } from './test-support/lab-server.js';
import { syntheticResults } from './test-support/synthetic-results.js';

const selection = {
  models: ['async', 'blocking'] as const,
  workloads: ['echo'] as const,
  connections: [4],
  variants: [],
  openLoopFractions: [],
  transports: ['line'] as const,
};

function repeatsOf(id: string): RepeatRecord[] {
  return syntheticResults(
    { ...selection, models: [...selection.models], workloads: [...selection.workloads], transports: ['line', 'http'] },
    3,
  ).cells.find((c) => c.id === id)!.repeats;
}

describe('summariseRepeats', () => {
  it('reports each key figure as the median of the repeats with their min and max, and names the median repeat', () => {
    const repeats = repeatsOf('async/echo/c4');
    const rps = repeats.map((r) => r.load!.throughput.requestsPerSec);
    const { summary, medianRepeat } = summariseRepeats(repeats);
    expect(summary!.requestsPerSec).toEqual({ median: rps[1], min: rps[0], max: rps[2], n: 3 });
    expect(medianRepeat).toBe(1);
  });

  it("records how busy the generator's threads were: its CPU over its thread count", () => {
    expect(generatorBusy({ cpuPercent: 95, threads: 1 })).toBe(0.95);
    expect(generatorBusy({ cpuPercent: 95, threads: 2 })).toBe(0.475);
    const repeats = repeatsOf('async/echo/c4');
    repeats.forEach((r, i) => (r.load = { ...r.load!, client: { ...r.load!.client, cpuPercent: [40, 96, 99][i], threads: 1 } }));
    const { summary } = summariseRepeats(repeats);
    expect(summary!.generatorBusy).toEqual({ median: 0.96, min: 0.4, max: 0.99, n: 3 });
    expect(isGeneratorBound(summary)).toBe(true);
    repeats[1].load!.client.cpuPercent = 60;
    expect(isGeneratorBound(summariseRepeats(repeats).summary)).toBe(false);
    expect(isGeneratorBound(null)).toBe(false);
  });

  it('leaves failed repeats out of the figures', () => {
    const repeats = repeatsOf('async/echo/c4');
    repeats[2] = { ...repeats[2], status: 'failed', failure: 'boom', load: null };
    expect(summariseRepeats(repeats).summary!.requestsPerSec!.n).toBe(2);
  });

  it('gives no latency or fairness for a run that answered nothing, rather than zeros', () => {
    const repeats = repeatsOf('async/echo/c4').slice(0, 1);
    repeats[0].load = { ...repeats[0].load!, ok: 0, throughput: { requestsPerSec: 0, bytesPerSec: 0 } };
    const { summary } = summariseRepeats(repeats);
    expect(summary!.requestsPerSec!.median).toBe(0);
    expect(summary!.p99Us).toBeNull();
    expect(summary!.jainFairness).toBeNull();
  });

  it('has no summary when every repeat failed', () => {
    const repeats = repeatsOf('async/echo/c4').map((r) => ({ ...r, status: 'failed' as const, failure: 'x', load: null }));
    expect(summariseRepeats(repeats)).toEqual({ summary: null, medianRepeat: null });
  });
});

describe('notesFromLoad', () => {
  it('explains idle connections under the blocking model, which serves one connection at a time', () => {
    const load = repeatsOf('blocking/echo/c4')[0].load!;
    const spec: CellSpec = makeCell('blocking', 'echo', 4, { kind: 'closed' });
    expect(notesFromLoad(spec, load, 2000).join('\n')).toMatch(/3 of 4 connections completed no measured request.*one connection at a time/);
  });

  it('explains idle connections over HTTP, where the blocking model keeps the first keep-alive connection', () => {
    const load = repeatsOf('blocking/echo/c4/http')[0].load!;
    const spec = makeCell('blocking', 'echo', 4, { kind: 'closed' }, 'http');
    expect(notesFromLoad(spec, load, 2000).join('\n')).toMatch(/3 of 4 connections completed no measured request.*keep-alive connection to its end/);
  });

  it("says over HTTP that 503 is the server shedding load and that autocannon's latency is in whole milliseconds", () => {
    const load = repeatsOf('async/echo/c4/http')[0].load!;
    const noisy = { ...load, latency: { ...load.latency, p50Us: 0 }, errors: { ...load.errors, busy: 4, timeout: 1, total: 5 } };
    const notes = notesFromLoad(makeCell('async', 'echo', 4, { kind: 'closed' }, 'http'), noisy, 2000);
    expect(notes).toContain('4 requests were shed with 503 (server busy)');
    expect(notes).toContain('1 requests got no reply within 2 s');
    expect(notes.join('\n')).toMatch(/whole milliseconds/);
  });

  it('counts timeouts and shed requests in words', () => {
    const load = repeatsOf('async/echo/c4')[0].load!;
    const noisy = { ...load, errors: { ...load.errors, timeout: 5, busy: 2, total: 7 } };
    const notes = notesFromLoad(makeCell('async', 'echo', 4, { kind: 'closed' }), noisy, 2000);
    expect(notes).toContain('5 requests got no reply within 2000 ms');
    expect(notes).toContain('2 requests were shed with ERR server busy');
  });
});

describe('STATS beside a line cell', () => {
  it('asks the blocking model for STATS once, after the load has closed its connections, since it serves one connection at a time', async () => {
    const settings = {
      ...syntheticResults({ ...selection, models: ['blocking'], workloads: ['echo'] }).settings,
      durationSec: 0.5,
      warmupSec: 0,
      repeat: 1,
    };
    const cell = await runCell(makeCell('blocking', 'echo', 2, { kind: 'closed' }), settings.repeat, null, {
      serverScript: SERVE,
      placement: { requested: false, applied: false, method: 'none', serverCpus: null, generatorCpus: null },
      settings,
      clkTck: 100,
      interrupted: () => false,
    });
    const [repeat] = cell.repeats;
    expect(repeat.status, repeat.failure).toBe('ok');
    expect(repeat.statsSamples).toHaveLength(1);
    const [sample] = repeat.statsSamples!;
    expect(sample.stats).toMatchObject({ model: 'blocking', connections: { open: 1 } });
    // Taken after the load, on the resource samples' clock: later than the last of them.
    expect(sample.tMs).toBeGreaterThanOrEqual(repeat.samples[repeat.samples.length - 1].tMs);
  }, 20_000);
});
