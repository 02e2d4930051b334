import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { syntheticResults } from '../test-support/synthetic-results.js';
import { QUICK_SELECTION } from '../matrix.js';
import { buildReport } from './build.js';
import { windowedUtilization } from './costs-section.js';
import { groupsOf, parseResults, ResultsError, type Group, type ReportResults } from './data.js';
import { closedLoopFindings, flatteningOf, leadsOf, leadSentences, openLoopFindings, tailBreakOf } from './findings.js';
import { writeReport, writeReportFor } from './index.js';
import { num } from './format.js';
import { renderMarkdown } from './markdown.js';
import { ceilingFor } from './ceilings.js';
import { predict } from './predict.js';
import { cell, fixedCosts, FIXTURE_PATH, loadFixture, setThroughput } from './test-support/fixture.js';

const repoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-report-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function group(results: ReportResults, name: string): Group {
  const g = groupsOf(results).find((x) => x.name === name);
  if (!g) throw new Error(`no group ${name}`);
  return g;
}

/** The report's sentences for the HTTP group, as the written report has them. */
function buildText(r: ReportResults): string {
  return renderMarkdown(buildReport(r).blocks).split('## Workload: echo http')[1] ?? '';
}

const withCosts = (r: ReportResults): ReportResults => ({ ...r, nodeCosts: fixedCosts() });

describe('who led', () => {
  it('names the model with the highest median throughput at each connection count, with its ratio to the runner-up', () => {
    const r = loadFixture();
    const leads = leadsOf(group(r, 'cpu'));
    const at4 = leads.find((l) => l.connections === 4)!;
    expect(at4.leader).toBe('async');
    expect(at4.runnerUp).toBe('pool');
    expect(at4.ratio).toBeCloseTo(
      cell(r, 'async/cpu/c4').summary!.requestsPerSec!.median / cell(r, 'pool/cpu/c4').summary!.requestsPerSec!.median,
      6,
    );
    // Consecutive counts with the same leader share one sentence.
    expect(leadSentences(leads).join(' ')).toMatch(/Async led at 4 and 16 connections: at 4, 1\.\d+× pool \(426 req\/s against 371 req\/s\)/);
  });

  it('flips the "led" sentence when the data says the other model was faster', () => {
    const r = loadFixture();
    setThroughput(r, 'pool/cpu/c4', 900);
    const text = leadSentences(leadsOf(group(r, 'cpu'))).join(' ');
    expect(text).toMatch(/Pool led at 1 and 4 connections: .*at 4, 2\.1× async \(900 req\/s against 426 req\/s\)/);
    expect(text).not.toMatch(/Async led at 4/);
    expect(text).toContain('Async led at 16 connections');
  });

  it("calls a lead unclear when the leader's slowest repeat was no faster than the runner-up's fastest", () => {
    const r = loadFixture();
    const a = cell(r, 'async/cpu/c4').summary!.requestsPerSec!;
    const p = cell(r, 'pool/cpu/c4').summary!.requestsPerSec!;
    Object.assign(a, { median: 400, min: 300, max: 450 });
    Object.assign(p, { median: 390, min: 350, max: 420 });
    expect(leadsOf(group(r, 'cpu')).find((l) => l.connections === 4)!.overlapping).toBe(true);
    Object.assign(a, { min: 425 });
    expect(leadsOf(group(r, 'cpu')).find((l) => l.connections === 4)!.overlapping).toBe(false);
  });
});

describe('where throughput flattened', () => {
  it('finds the first count from which four times the connections gained under 10 %, and not a series that kept growing', () => {
    const r = loadFixture();
    const sleep = group(r, 'sleep');
    expect(flatteningOf(sleep, 'async')).toBeUndefined();
    setThroughput(r, 'async/sleep/c16', cell(r, 'async/sleep/c4').summary!.requestsPerSec!.median * 1.05);
    const f = flatteningOf(group(r, 'sleep'), 'async')!;
    expect(f).toMatchObject({ from: 4, to: 16 });
    expect(f.gain).toBeCloseTo(0.05, 6);
  });

  it("explains a pool flattening on sleep by its worker count, read from the server's listening line", () => {
    const r = loadFixture();
    setThroughput(r, 'pool/sleep/c4', 190);
    setThroughput(r, 'pool/sleep/c16', 195);
    const g = group(r, 'sleep');
    const findings = closedLoopFindings(g, { results: r });
    const sentence = findings.flattening.find((s) => s.startsWith('Pool flattened'))!;
    expect(sentence).toContain('from 4 connections');
    expect(sentence).toContain("the pool's 2 workers");
    expect(sentence).toContain('200 req/s');
    expect(sentence).toContain('does not grow with more connections');
  });

  it('says the design is not the bound when a model flattens below a ceiling that still grows', () => {
    const r = loadFixture();
    setThroughput(r, 'async/sleep/c16', cell(r, 'async/sleep/c4').summary!.requestsPerSec!.median);
    const sentence = closedLoopFindings(group(r, 'sleep'), { results: r }).flattening.find((s) => s.startsWith('Async flattened'))!;
    expect(sentence).toContain('although its design allows 1,600 req/s at 16 connections');
    expect(sentence).toContain('something other than the design bounds it');
  });
});

describe('tails and starvation', () => {
  it('reports p99 breaking away only where it exceeds five times p50', () => {
    const r = loadFixture();
    const s = cell(r, 'async/sleep/c4').summary!;
    s.p50Us!.median = 10_000;
    s.p99Us!.median = 49_000;
    const c1 = cell(r, 'async/sleep/c1').summary!;
    c1.p99Us!.median = c1.p50Us!.median * 2;
    expect(tailBreakOf(group(r, 'sleep'), 'async')?.connections ?? 0).not.toBe(4);
    s.p99Us!.median = 51_000;
    expect(tailBreakOf(group(r, 'sleep'), 'async')).toMatchObject({ connections: 4, p99Us: 51_000 });
    const text = closedLoopFindings(group(r, 'sleep'), { results: r }).tails.join(' ');
    expect(text).toContain("Async's p99 broke away from its p50 at 4 connections: 51 ms against 10 ms (5.1×)");
  });

  it('names the starved connections where fairness fell below 0.9, and stays quiet where it did not', () => {
    const r = loadFixture();
    const text = closedLoopFindings(group(r, 'sleep'), { results: r }).starvation.join(' ');
    expect(text).toMatch(/Blocking starved connections .*0\.25 at 4, 3 of 4 connections completed no request; 0\.0625 at 16, 15 of 16/);
    expect(text).not.toContain('Async starved');
    cell(r, 'async/sleep/c16').summary!.jainFairness!.median = 0.5;
    expect(closedLoopFindings(group(r, 'sleep'), { results: r }).starvation.join(' ')).toContain('Async starved connections');
  });
});

describe('predictions', () => {
  it("works out the sleep ceilings from the run's settings: W workers, one thread, or one per connection", () => {
    const r = loadFixture();
    const ctx = { results: r };
    const rps = (id: string) => {
      const c = ceilingFor(cell(r, id), ctx);
      return c && !('unavailable' in c) ? c.rps : undefined;
    };
    expect(rps('pool/sleep/c16')).toBeCloseTo(200, 6); // 2 workers × 1000 ÷ 10 ms
    expect(rps('pool/sleep/c1')).toBeCloseTo(100, 6);
    expect(rps('blocking/sleep/c16')).toBeCloseTo(100, 6);
    expect(rps('async/sleep/c16')).toBeCloseTo(1600, 6);
    expect(rps('per-connection/sleep/c4')).toBeCloseTo(400, 6);
    r.settings.workloadParameters.sleepMs = 20;
    expect(rps('pool/sleep/c16')).toBeCloseTo(100, 6);
    cell(r, 'pool/sleep/c16').repeats.forEach((x) => (x.server.listeningLine = x.server.listeningLine!.replace('workers=2', 'workers=8')));
    expect(rps('pool/sleep/c16')).toBeCloseTo(400, 6);
  });

  it('reads the worker count from the settings the suite recorded, and from the listening line in files without them', () => {
    const r = loadFixture();
    const c = cell(r, 'pool/sleep/c16');
    const ceiling = () => (ceilingFor(c, { results: r }) as { rps: number }).rps;
    expect(c.serverSettings).toBeUndefined();
    expect(ceiling()).toBeCloseTo(200, 6);
    c.serverSettings = { model: 'pool', workers: 4 };
    expect(ceiling()).toBeCloseTo(400, 6);
  });

  it('bounds CPU work by cores ÷ the measured cost of one WORK, and says so when the cost was not measured', () => {
    const bare = loadFixture();
    const none = ceilingFor(cell(bare, 'pool/cpu/c4'), { results: bare });
    expect(none).toEqual({ unavailable: 'the cost of one WORK 1000 was not measured in this run' });
    const r = withCosts(loadFixture());
    const ctx = { results: r, costs: { costs: r.nodeCosts!, measuredDuringRun: true } };
    const at = (id: string) => (ceilingFor(cell(r, id), ctx) as { rps: number }).rps;
    expect(at('async/cpu/c16')).toBeCloseTo(500, 6); // one thread, 2 ms a WORK
    expect(at('pool/cpu/c16')).toBeCloseTo(1000, 6); // min(16, 2 workers, 2 cores)
    expect(at('per-connection/cpu/c1')).toBeCloseTo(500, 6);
    expect(at('per-connection/cpu/c16')).toBeCloseTo(1000, 6);
  });

  it("checks Little's law within one repeat, and flags a gap beyond 25 % with the likeliest reason", () => {
    const r = loadFixture();
    const p = predict(cell(r, 'async/sleep/c16'), { results: r })!;
    const little = p.little as { predicted: number; ratio: number; reasons: string[] };
    expect(little.predicted).toBeGreaterThan(0);
    expect(Math.abs(little.ratio - 1)).toBeLessThan(0.25);
    expect(little.reasons).toEqual([]);
    const blocking = predict(cell(r, 'blocking/sleep/c16'), { results: r })!.little as { ratio: number; reasons: string[] };
    expect(blocking.ratio).toBeLessThan(0.75);
    expect(blocking.reasons[0]).toContain('only one connection is served at a time');
  });

  it('agrees with a measurement near its ceiling and explains one far below it', () => {
    const r = loadFixture();
    setThroughput(r, 'pool/sleep/c16', 195);
    const near = predict(cell(r, 'pool/sleep/c16'), { results: r })!.ceiling as { ratio: number; reasons: string[] };
    expect(near.ratio).toBeCloseTo(0.975, 6);
    expect(near.reasons).toEqual([]);
    setThroughput(r, 'pool/sleep/c16', 100);
    const far = predict(cell(r, 'pool/sleep/c16'), { results: r })!.ceiling as { ratio: number; reasons: string[] };
    expect(far.ratio).toBeCloseTo(0.5, 6);
    expect(far.reasons[0]).toMatch(/each SLEEP 10 held its thread for 20 ms on average, not 10 ms/);
  });
});

describe('the written report', () => {
  it('writes REPORT.md with the PNGs embedded by relative path and report.html with chart.js inside, from results.json alone', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'results.json'), readFileSync(FIXTURE_PATH));
    for (const file of ['throughput-cpu.png', 'latency-cpu.png', 'distribution-cpu-c16.png']) writeFileSync(path.join(dir, file), '');
    const written = writeReport(dir);
    const md = readFileSync(written.markdown, 'utf8');
    expect(md).toContain('![Throughput, cpu workload](throughput-cpu.png)');
    expect(md).toContain('![Latency distribution at 16 connections, cpu workload](distribution-cpu-c16.png)');
    expect(md).toContain('throughput-sleep.png is listed in results.json but missing from the run directory');
    expect(md).toContain('## Workload: sleep');
    expect(md).toContain('Not measured in this run: results.json holds no nodeCosts');
    expect(md).toContain("Not measured in this run: the suite did not sample the servers' STATS replies");
    const html = readFileSync(written.html, 'utf8');
    expect(html).toContain('<canvas id="throughput-cpu"');
    expect(html).toMatch(/Chart\.js v4/);
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org|github\.com\/chartjs|www\.chartjs\.org)[^\s"')]+\.(js|css)/);
  });

  it('changes its text when the data changes, and only then', () => {
    const a = renderMarkdown(buildReport(loadFixture()).blocks);
    expect(renderMarkdown(buildReport(loadFixture()).blocks)).toBe(a);
    const r = loadFixture();
    setThroughput(r, 'blocking/cpu/c1', 5000);
    const b = renderMarkdown(buildReport(r).blocks);
    expect(b).not.toBe(a);
    expect(b).toContain('Blocking led at 1 connection');
  });

  it('uses costs measured at report time only when the run has none, and labels them as such', () => {
    const fromRun = renderMarkdown(buildReport(withCosts(loadFixture())).blocks);
    expect(fromRun).toContain('Measured by the suite at 2026-01-01');
    expect(fromRun).toContain('| one WORK 1000 | 2 ms |');
    const later = renderMarkdown(buildReport(loadFixture(), { costsNow: fixedCosts() }).blocks);
    expect(later).toContain('Not measured during the run: measured at 2026-01-01');
  });

  it('shows event-loop utilization over the window when STATS was sampled during a repeat', () => {
    const samples = [
      { tMs: 0, stats: { uptimeMs: 1000, eventLoopUtilization: 0.1, queueDepth: 0, workers: 2 } },
      { tMs: 1000, stats: { uptimeMs: 2000, eventLoopUtilization: 0.5, queueDepth: 7, workers: 2 } },
    ];
    // busy 100 ms by the first sample, 1000 ms by the second: 900 ms of the 1000 ms between them.
    expect(windowedUtilization(samples)).toBeCloseTo(0.9, 6);
    const r = loadFixture();
    const c = cell(r, 'pool/cpu/c16');
    c.repeats.find((x) => x.index === c.medianRepeat)!.statsSamples = samples;
    const md = renderMarkdown(buildReport(r).blocks);
    expect(md).toMatch(/\| pool\/cpu\/c16 \| 2 \| 0\.9 \| 7 \| 2 \|/);
    expect(md).toContain('busy at least 90 % of the window in pool/cpu/c16');
  });

  it('reports open-loop and reconnect groups too, saying up to which rate each model kept up', () => {
    const r = syntheticResults({ ...QUICK_SELECTION, variants: ['open-loop', 'reconnect', 'offload'] }, 3) as unknown as ReportResults;
    const open = groupsOf(r).find((g) => g.kind === 'open-loop')!;
    const cells = open.cells.filter((c) => c.series === 'pool').sort((a, b) => a.targetRate! - b.targetRate!);
    const [top, belowTop] = [cells[cells.length - 1], cells[cells.length - 2]];
    top.summary!.achievedRate = { median: top.targetRate! * 0.6, min: 0, max: 0, n: 3 };
    const text = openLoopFindings(open, r).join(' ');
    expect(text).toContain(`Pool kept up to ${num(belowTop.targetRate!)} req/s`);
    expect(text).toContain(`offered ${num(top.targetRate!)} req/s, it delivered ${num(top.targetRate! * 0.6)} req/s (60 %)`);
    expect(text).toContain(`Async delivered every rate offered, up to ${num(top.targetRate!)} req/s`);
    const dir = tempDir();
    const written = writeReportFor(r, dir);
    const md = readFileSync(written.markdown, 'utf8');
    expect(md).toContain('## Workload: echo reconnect');
    expect(md).toContain('## Workload: kv open loop');
  });

  it('compares HTTP with the line protocol per model, from the same pairs as the charts, and the verdict follows the figures', () => {
    const r = syntheticResults(QUICK_SELECTION, 3) as unknown as ReportResults;
    const http = groupsOf(r).find((g) => g.transport === 'http')!;
    expect(http.name).toBe('echo http');
    const text = () => closedLoopFindings(http, { results: r }).overview.join(' ') + ' ' + buildText(r);
    expect(text()).toMatch(/Over HTTP, async delivered less than its line-protocol throughput: 0\.6\d*× at 4, 0\.6\d*× at 64/);
    const faster = http.cells.find((c) => c.model === 'async' && c.connections === 64)!;
    const line = r.cells.find((c) => c.id === 'async/echo/c64')!;
    faster.summary!.requestsPerSec = { ...faster.summary!.requestsPerSec!, median: line.summary!.requestsPerSec!.median * 1.5 };
    expect(text()).toMatch(/Over HTTP, async delivered sometimes less, sometimes more than its line-protocol throughput: 0\.6\d*× at 4, 1\.5× at 64/);
    r.charts.push({ file: 'transport-echo.png', title: 't', width: 1, height: 1 });
    expect(renderMarkdown(buildReport(r).blocks)).toContain(
      '![Line protocol (solid) against HTTP (dashed): throughput, echo workload](transport-echo.png)',
    );
  });

  it('refuses a file that is not a results file, with the reason, and the command exits non-zero', () => {
    expect(() => parseResults('{"schemaVersion": 1')).toThrow(ResultsError);
    expect(() => parseResults('{"schemaVersion": 2}')).toThrow(/schemaVersion is 2/);
    expect(() => parseResults('[]')).toThrow(/not a results file/);
    const dir = tempDir();
    writeFileSync(path.join(dir, 'results.json'), '{"hello": "world"}');
    const cli = path.join(repoDir, 'dist', 'bench', 'report', 'cli.js');
    const bad = spawnSync(process.execPath, [cli, dir], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^report: results.json is not a results file of the suite/);
    const missing = spawnSync(process.execPath, [cli, path.join(dir, 'nope')], { encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('does not exist');
    const none = spawnSync(process.execPath, [cli], { encoding: 'utf8' });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('which run?');
  });

  it('regenerates both files from the command line', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'results.json'), readFileSync(FIXTURE_PATH));
    const out = execFileSync(process.execPath, [path.join(repoDir, 'dist', 'bench', 'report', 'cli.js'), dir], { encoding: 'utf8' });
    expect(out).toContain(`wrote ${path.join(dir, 'REPORT.md')}`);
    expect(readFileSync(path.join(dir, 'report.html'), 'utf8')).toContain('<!doctype html>');
  });
});
