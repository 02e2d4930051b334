import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadImage } from '@napi-rs/canvas';
import { afterAll, describe, expect, it } from 'vitest';
import { FULL_SELECTION } from '../matrix.js';
import { pngSize } from '../test-support/png.js';
import { schemaErrors } from '../test-support/schema.js';
import { syntheticResults } from '../test-support/synthetic-results.js';
import { CHART_HEIGHT, CHART_WIDTH, renderCharts } from './png.js';
import { renderSoakChart } from './soak.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-charts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('renderCharts', () => {
  const results = syntheticResults(FULL_SELECTION, 3, 1);
  const charts = renderCharts(results, dir);

  it('draws throughput, latency and distribution charts for every workload group, plus CPU, memory, fairness and open loop', () => {
    const files = charts.map((c) => c.file);
    for (const group of ['echo', 'kv', 'cpu', 'sleep', 'echo-reconnect']) {
      expect(files).toContain(`throughput-${group}.png`);
      expect(files).toContain(`latency-${group}.png`);
      expect(files).toContain(`distribution-${group}-c64.png`);
    }
    expect(files).toEqual(expect.arrayContaining(['server-cpu.png', 'server-memory.png', 'fairness.png', 'open-loop.png']));
    expect(readdirSync(dir).sort()).toEqual([...files].sort());
  });

  it('draws, for each workload measured over HTTP, line against HTTP per model, their ratio, and the HTTP latency', () => {
    const files = charts.map((c) => c.file);
    for (const workload of ['echo', 'kv', 'cpu', 'sleep']) {
      expect(files).toContain(`transport-${workload}.png`);
      expect(files).toContain(`transport-ratio-${workload}.png`);
      expect(files).toContain(`latency-${workload}-http.png`);
      expect(files).not.toContain(`distribution-${workload}-http-c64.png`);
    }
  });

  it("warns on every HTTP latency chart that autocannon's figures are whole milliseconds, and counts HTTP's own repeats", () => {
    const http = charts.filter((c) => c.file.startsWith('latency-') && c.file.endsWith('-http.png'));
    expect(http.length).toBe(4);
    for (const chart of http) expect(chart.title).toMatch(/autocannon/);
  });

  it('writes every chart as a decodable PNG of the fixed size', async () => {
    for (const chart of charts) {
      const file = path.join(dir, chart.file);
      expect(pngSize(file)).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
      const image = await loadImage(file);
      expect([image.width, image.height]).toEqual([CHART_WIDTH, CHART_HEIGHT]);
    }
  });

  it("states the machine's core count in every title", () => {
    for (const chart of charts) expect(chart.title).toContain('2 cores');
  });

  it('still draws when a cell failed, leaving its point out', () => {
    expect(results.cells.some((c) => c.status === 'failed')).toBe(true);
    expect(charts.length).toBeGreaterThan(10);
  });
});

describe('results schema', () => {
  it('accepts a complete, well-formed results file', () => {
    expect(schemaErrors(syntheticResults(FULL_SELECTION, 2))).toEqual([]);
  });

  it('rejects a failed cell that does not say why it failed', () => {
    const results = syntheticResults(FULL_SELECTION, 1);
    const failed = results.cells.find((c) => c.status === 'failed')!;
    delete failed.failure;
    expect(schemaErrors(results).join('\n')).toMatch(/failure/);
  });

  it('rejects fields it does not know, so the schema cannot drift silently from the writer', () => {
    const results = { ...syntheticResults(FULL_SELECTION, 1), surprise: true };
    expect(schemaErrors(results).join('\n')).toMatch(/additional/);
  });

  it('rejects an HTTP cell that claims a line-protocol variant', () => {
    const results = syntheticResults(FULL_SELECTION, 1);
    const http = results.cells.find((c) => c.transport === 'http')!;
    http.variant = { kind: 'reconnect' };
    expect(schemaErrors(results)).not.toEqual([]);
  });

  it('accepts a calibration that was skipped only when it gives a reason', () => {
    const results = syntheticResults(FULL_SELECTION, 1);
    results.calibration = { skipped: true, reason: '' };
    expect(schemaErrors(results)).not.toEqual([]);
  });
});

describe('renderSoakChart', () => {
  it("draws one model's memory and p99 over time as a PNG of the fixed size", () => {
    const results = syntheticResults(FULL_SELECTION, 1);
    const samples = Array.from({ length: 60 }, (_, i) => ({
      tSec: i,
      rssBytes: (60 + (i % 5)) * 2 ** 20,
      threads: 11,
      fds: 30,
      sockets: 18,
      cpuMs: i * 500,
    }));
    const soak = {
      model: 'pool' as const,
      status: 'ok' as const,
      verdict: {
        verdict: 'steady' as const,
        secondHalfSlopeMiBPerMin: 0,
        lastQuarterSlopeMiBPerMin: 0,
        secondQuarterMedianMiB: 62,
        lastQuarterMedianMiB: 62,
        increasePercent: 0,
        explanation: 'RSS held',
      },
      server: { pid: 1, listeningLine: null, stop: null },
      samples,
      timeline: samples.map((s) => ({ tSec: s.tSec, requests: 1000, p99Us: 2000 })),
      windows: [],
    };
    const run = { runId: 'soak-test', machine: results.machine, settings: { durationSecPerModel: 60, connections: 16 } } as unknown as Parameters<
      typeof renderSoakChart
    >[1];
    const chart = renderSoakChart(soak, run, dir);
    expect(chart.file).toBe('soak-pool.png');
    expect(pngSize(path.join(dir, chart.file))).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
    expect(chart.title).toContain('2 cores');
  });
});
