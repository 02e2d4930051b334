// The suite end to end: the compiled CLI runs a tiny matrix against a real
// server model and the real load generator, and what it writes is checked
// against the schema and decoded. `npm test` builds dist/ first.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadImage } from '@napi-rs/canvas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResults } from './results.js';
import type { SoakResults } from './soak-record.js';
import { pngSize } from './test-support/png.js';
import { schemaErrors } from './test-support/schema.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = path.join(repo, 'dist', 'bench', 'cli.js');

function bench(args: string[], timeout = 60_000, env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [cli, ...args], { cwd: repo, encoding: 'utf8', timeout, env });
}

describe('npm run bench on a tiny matrix', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'bench-suite-'));
  let run: ReturnType<typeof bench>;
  let results: RunResults;
  let runDir: string;

  beforeAll(() => {
    run = bench([
      '--models',
      'async',
      '--workloads',
      'echo',
      '--connections',
      '1,4',
      '--duration',
      '1',
      '--warmup',
      '0.25',
      '--repeat',
      '1',
      '--variants',
      'none',
      '--transports',
      'line,http',
      '--no-calibration',
      '--out',
      out,
    ]);
    runDir = path.join(out, 'latest');
    if (existsSync(path.join(runDir, 'results.json'))) {
      results = JSON.parse(readFileSync(path.join(runDir, 'results.json'), 'utf8'));
    }
  }, 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('finishes successfully and points latest at the run directory with a relative link', () => {
    expect(run.status, run.stderr).toBe(0);
    expect(readlinkSync(runDir)).toBe(results.runId);
  });

  it('writes results.json that conforms to its schema', () => {
    expect(schemaErrors(results)).toEqual([]);
    expect(results.status).toBe('complete');
  });

  it('records each selected cell with its measured repeat, its server figures and the machine', () => {
    expect(results.cells.map((c) => c.id)).toEqual(['async/echo/c1', 'async/echo/c4', 'async/echo/c1/http', 'async/echo/c4/http']);
    for (const cell of results.cells) {
      expect(cell.status, cell.failure).toBe('ok');
      expect(cell.summary!.requestsPerSec!.median).toBeGreaterThan(0);
      expect(cell.repeats[0].load!.errors.total).toBe(0);
      expect(cell.repeats[0].samples.length).toBeGreaterThan(1);
      expect(cell.serverSettings).toMatchObject({ model: 'async', 'max-connections': expect.any(Number) });
    }
    expect(results.machine.cores).toBe(os.cpus().length);
    expect(results.calibration).toMatchObject({ skipped: true });
  });

  it('drives the HTTP cells with autocannon against a server serving HTTP only, and records how', () => {
    const http = results.cells.find((c) => c.id === 'async/echo/c4/http')!;
    const repeat = http.repeats[0];
    expect(http.transport).toBe('http');
    expect(repeat.server).toMatchObject({ port: null });
    expect(repeat.server.httpPort).toBeGreaterThan(0);
    expect(repeat.server.listeningLine).toMatch(/^listening on http=127\.0\.0\.1:\d+ /);
    expect(repeat.loadOptions).toMatchObject({ tool: 'autocannon', workload: 'echo', connections: 4 });
    expect(repeat.load!.perConnection.counts.every((n) => n > 0)).toBe(true);
    expect(results.settings.http).toMatchObject({ tool: 'autocannon', repeat: 1, latencyResolutionMs: 1, workloads: ['echo'], connections: [1, 4] });
    expect(run.stdout).toMatch(/async\/echo\/c4 +line +\d+ +http +\d+ +ratio \d/);
  });

  it("measures Node's costs on this machine before the cells and records them", () => {
    expect(results.nodeCosts).toMatchObject({ node: process.version, cores: expect.any(Number) });
    expect(results.nodeCosts!.workerStartMs.median).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/node costs: worker start/);
  });

  it("samples the server's STATS during each line cell's load, timed on the resource samples' clock", () => {
    for (const cell of results.cells.filter((c) => c.transport === 'line')) {
      const samples = cell.repeats[0].statsSamples ?? [];
      expect(samples.length, cell.id).toBeGreaterThanOrEqual(1);
      for (const s of samples) expect(s.stats.model).toBe(cell.model);
      const last = cell.repeats[0].samples.at(-1)!.tMs;
      expect(samples.every((s) => s.tMs >= 0 && s.tMs <= last)).toBe(true);
    }
    for (const cell of results.cells.filter((c) => c.transport === 'http')) expect(cell.repeats[0].statsSamples).toBeUndefined();
  });

  it('writes REPORT.md and report.html beside results.json, and says where', () => {
    for (const file of ['REPORT.md', 'report.html']) {
      const full = path.join(runDir, file);
      expect(existsSync(full), file).toBe(true);
      expect(statSync(full).size, file).toBeGreaterThan(0);
    }
    expect(readFileSync(path.join(runDir, 'REPORT.md'), 'utf8')).toContain(results.runId);
    expect(run.stderr).toMatch(/report: .*REPORT\.md, .*report\.html/);
  });

  it('renders every chart it lists as a PNG of the stated size, the line-against-HTTP charts among them', async () => {
    expect(results.charts.map((c) => c.file)).toEqual(
      expect.arrayContaining(['transport-echo.png', 'transport-ratio-echo.png', 'latency-echo-http.png']),
    );
    for (const chart of results.charts) {
      const file = path.join(runDir, chart.file);
      expect(pngSize(file)).toEqual({ width: chart.width, height: chart.height });
      const image = await loadImage(file);
      expect([image.width, image.height]).toEqual([chart.width, chart.height]);
    }
  });
});

describe('npm run bench --pin', () => {
  it('runs the server and the generator on separate cores and records where each ran, or records why it could not', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'bench-pin-'));
    try {
      const run = bench([
        '--pin',
        '--models',
        'async',
        '--workloads',
        'echo',
        '--connections',
        '1',
        '--duration',
        '0.5',
        '--warmup',
        '0',
        '--repeat',
        '1',
        '--variants',
        'none',
        '--no-calibration',
        '--out',
        out,
      ]);
      expect(run.status, run.stderr).toBe(0);
      const results: RunResults = JSON.parse(readFileSync(path.join(out, 'latest', 'results.json'), 'utf8'));
      expect(schemaErrors(results)).toEqual([]);
      expect(results.placement.requested).toBe(true);
      if (results.placement.applied) {
        expect(results.placement.generatorCpus).toBe('1');
        expect(results.cells[0].repeats[0].server.cpusAllowed).toBe('0');
      } else {
        expect(results.placement.reason).toBeTruthy();
        expect(run.stderr).toMatch(/pinning not applied/);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('npm run bench with bad input', () => {
  it.each([
    [['--models', 'threaded'], /unknown model 'threaded'/],
    [['--connections', '4,zero'], /--connections: 'zero'/],
    [['--repeat', '0'], /--repeat/],
    [['--variants', 'sideways'], /unknown variant 'sideways'/],
    [['--transports', 'smoke'], /unknown transport 'smoke'/],
    [['--http-repeat', '0'], /--http-repeat/],
    [['--soak', '10x'], /--soak: '10x' is not a duration.*30s, 10m or 1h/],
    [['--soak', '0s'], /--soak: '0s' must be from 1 s to 24 h/],
    [['--no-such-flag'], /Unknown argument/],
  ])('rejects %j with a clear message and exit status 2', (args, message) => {
    const result = bench(args as string[], 20_000);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message as RegExp);
  });

  it('says how to install Redis, and installs nothing, when the calibration tools are missing', () => {
    const emptyPath = mkdtempSync(path.join(os.tmpdir(), 'bench-path-'));
    try {
      const result = bench(['--quick', '--dry-run'], 20_000, { ...process.env, PATH: emptyPath });
      expect(result.status).toBe(0);
      expect(result.stderr).toMatch(/redis-server and redis-benchmark not found.*apt-get install redis-server redis-tools/);
    } finally {
      rmSync(emptyPath, { recursive: true, force: true });
    }
  });

  it('prints the plan and the cells without running anything on --dry-run', () => {
    const result = bench(['--quick', '--dry-run'], 20_000);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/estimated time/);
    expect(result.stdout.split('\n')).toContain('async/kv/c64/rate=100%');
    expect(result.stdout.split('\n')).toContain('blocking/echo/c64/http');
    expect(result.stderr).toMatch(/HTTP \(autocannon\): 8 cells × 1 repeat; workloads: echo; connections: 4, 64/);
  });

  it('prints the soak plan, with its total time, and runs nothing on --soak with --dry-run', () => {
    const result = bench(['--soak', '10m', '--dry-run'], 20_000);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/soak: blocking, per-connection, pool, async, one after another, 10m00s each \(40m00s in all\); 16 connections/);
    expect(result.stdout).toBe('');
  });

  it('gives the HTTP axis fewer repeats than the line protocol in the full matrix, and says why', () => {
    const result = bench(['--dry-run', '--no-calibration'], 20_000);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/line protocol: 132 cells × 3 repeats/);
    expect(result.stderr).toMatch(/HTTP \(autocannon\): 80 cells × 1 repeat; .*keeps the full matrix near 30 minutes/);
  });
});

describe('npm run bench --soak', () => {
  it('soaks one model for a few seconds and records memory, descriptors and p99 over time, with a chart, without judging so short a run', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'bench-soak-'));
    try {
      const run = bench(['--soak', '6s', '--models', 'pool', '--connections', '4', '--out', out], 60_000);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/not judged/);
      const dir = path.join(out, 'latest-soak');
      const soak: SoakResults = JSON.parse(readFileSync(path.join(dir, 'soak.json'), 'utf8'));
      expect(existsSync(path.join(out, 'latest'))).toBe(false);
      expect(soak).toMatchObject({ kind: 'soak', status: 'complete', outcome: 'pass' });
      expect(soak.settings).toMatchObject({ durationSecPerModel: 6, connections: 4, windowSec: 1 });
      const [pool] = soak.models;
      expect(pool).toMatchObject({ model: 'pool', status: 'ok' });
      expect(pool.verdict.verdict).toBe('too short to judge');
      expect(pool.samples.length).toBeGreaterThan(10);
      expect(pool.samples.every((s) => s.rssBytes > 0 && s.fds > 0 && s.sockets >= 1)).toBe(true);
      // One-second windows, each after the generator's start-up: three or more, even on a busy machine.
      expect(pool.windows.length).toBeGreaterThanOrEqual(3);
      expect(pool.timeline.length).toBeGreaterThanOrEqual(3);
      expect(pool.timeline.some((t) => t.p99Us > 0)).toBe(true);
      expect(pool.samples[pool.samples.length - 1].tSec).toBeGreaterThan(5);
      const chart = soak.charts[0];
      expect(chart.file).toBe('soak-pool.png');
      const image = await loadImage(path.join(dir, chart.file));
      expect([image.width, image.height]).toEqual([chart.width, chart.height]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 70_000);
});
