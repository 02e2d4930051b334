// report.html checked as a reader would see it: opened in a real browser
// (Debian's Chromium, headless), with its charts drawn, a model toggled and the
// latency axis switched, and a screenshot kept for a person to look at.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReportFor } from './index.js';
import { fixedCosts, loadFixture } from './test-support/fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`report.html browser test skipped: ${CHROMIUM} not found. Install it with: apt-get install -y chromium`);
}

// The callbacks given to page.evaluate run in the browser. The project compiles
// without the DOM's types, so the little of the page they touch is declared here.
interface PageCanvas {
  id: string;
  width: number;
  height: number;
  toDataURL(): string;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
  scrollIntoView(options: { block: string }): void;
  getBoundingClientRect(): { left: number; top: number };
}
declare const document: { getElementById(id: string): PageCanvas | null };

/** What the page's script exposes for inspection (window.labReport). */
interface PageCharts {
  charts: {
    canvas: PageCanvas;
    data: { datasets: { label: string; series: string }[] };
    isDatasetVisible(i: number): boolean;
    legend: { legendHitBoxes: { left: number; top: number; width: number; height: number }[] };
    scales: Record<string, { type: string }>;
    tooltip: { getActiveElements(): unknown[]; body?: { lines: string[] }[] };
    getDatasetMeta(i: number): { data: { x: number; y: number }[] };
  }[];
  specs: { id: string; y: { kind: string } }[];
}
declare const window: { labReport: PageCharts; scrollTo(x: number, y: number): void };

/** Pixels drawn in colour (a data line or bar), as opposed to blank canvas, black text or grey grid. */
function colouredPixels(page: Page, id: string): Promise<number> {
  return page.evaluate((canvasId) => {
    const canvas = document.getElementById(canvasId)!;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
    }
    return n;
  }, id);
}

const picture = (page: Page, id: string) => page.evaluate((canvasId) => document.getElementById(canvasId)!.toDataURL(), id);

describe.skipIf(!haveChromium)('report.html in headless Chromium', () => {
  let work: string;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'lab-report-browser-'));
    const results = { ...loadFixture(), nodeCosts: fixedCosts() };
    const { html } = writeReportFor(results, work);
    context = await chromium.launchPersistentContext(path.join(work, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // The page must need nothing from outside the file: refuse every other request.
    await context.route(/^(?!file:)/, (route) => {
      pageErrors.push(`the page tried to fetch ${route.request().url()}`);
      return route.abort();
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector('html[data-charts-ready]', { timeout: 20_000 });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    // The screenshot is kept for a person to look at; the rest goes.
    if (work) rmSync(path.join(work, 'profile'), { recursive: true, force: true });
  });

  it('draws every chart, offline, without a script error', async () => {
    expect(await page.getAttribute('html', 'data-charts-ready')).toBe('true');
    const ids = await page.evaluate(() => window.labReport.specs.map((s) => s.id));
    const canvases = await page.$$eval('canvas', (all) => all.map((c) => c.id));
    expect(canvases.sort()).toEqual([...ids].sort());
    expect(ids.length).toBeGreaterThanOrEqual(9);
    for (const id of ids) expect(await colouredPixels(page, id), `chart ${id} drew no data`).toBeGreaterThan(100);
    expect(pageErrors).toEqual([]);
  });

  it('shows a value with the spread of repeats when the pointer rests on a point', async () => {
    const target = await page.evaluate(() => {
      const chart = window.labReport.charts.find((c) => c.canvas.id === 'throughput-cpu')!;
      const point = chart.getDatasetMeta(0).data[1];
      chart.canvas.scrollIntoView({ block: 'center' });
      const box = chart.canvas.getBoundingClientRect();
      return { x: box.left + point.x, y: box.top + point.y };
    });
    await page.mouse.move(target.x, target.y);
    await page.waitForFunction(
      () => window.labReport.charts.find((c) => c.canvas.id === 'throughput-cpu')!.tooltip.getActiveElements().length > 0,
      null,
      { timeout: 5000 },
    );
    const lines = await page.evaluate(() => {
      const chart = window.labReport.charts.find((c) => c.canvas.id === 'throughput-cpu')!;
      return (chart.tooltip.body ?? []).flatMap((b) => b.lines);
    });
    expect(lines.join(' ')).toMatch(/: [\d,.]+ req\/s \(repeats [\d,.]+–[\d,.]+\)/);
  });

  it('hides a model when its legend entry is clicked, and the chart changes', async () => {
    const id = 'throughput-cpu';
    const before = await picture(page, id);
    const hit = await page.evaluate((canvasId) => {
      const chart = window.labReport.charts.find((c) => c.canvas.id === canvasId)!;
      chart.canvas.scrollIntoView({ block: 'center' });
      const box = chart.canvas.getBoundingClientRect();
      const item = chart.legend.legendHitBoxes[0];
      return { x: box.left + item.left + item.width / 2, y: box.top + item.top + item.height / 2, label: chart.data.datasets[0].label };
    }, id);
    await page.mouse.click(hit.x, hit.y);
    // chart.js handles pointer events on the next animation frame, so wait for the effect rather than assume it.
    const hidden = await page
      .waitForFunction((canvasId) => !window.labReport.charts.find((c) => c.canvas.id === canvasId)!.isDatasetVisible(0), id, { timeout: 5000 })
      .then(
        () => true,
        () => false,
      );
    expect(hidden, `clicking the legend entry for ${hit.label} should hide it`).toBe(true);
    expect(await picture(page, id)).not.toBe(before);
    await page.mouse.click(hit.x, hit.y);
    await page.waitForFunction((canvasId) => window.labReport.charts.find((c) => c.canvas.id === canvasId)!.isDatasetVisible(0), id, {
      timeout: 5000,
    });
  });

  it('hides a model in every chart at once with its checkbox', async () => {
    const before = await picture(page, 'latency-sleep');
    await page.uncheck('input[data-series="async"]');
    const shown = await page.evaluate(() =>
      window.labReport.charts.flatMap((c) => c.data.datasets.map((d, i) => (d.series === 'async' ? c.isDatasetVisible(i) : false))),
    );
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.every((v) => v === false)).toBe(true);
    expect(await picture(page, 'latency-sleep')).not.toBe(before);
    await page.check('input[data-series="async"]');
  });

  it('switches every latency axis between log and linear', async () => {
    const types = () =>
      page.evaluate(() => window.labReport.charts.filter((_, i) => window.labReport.specs[i].y.kind === 'latency').map((c) => c.scales.y.type));
    expect(new Set(await types())).toEqual(new Set(['logarithmic']));
    const before = await picture(page, 'latency-cpu');
    await page.selectOption('#latency-axis', 'linear');
    expect(new Set(await types())).toEqual(new Set(['linear']));
    expect(await picture(page, 'latency-cpu')).not.toBe(before);
    await page.selectOption('#latency-axis', 'log');
  });

  it('saves a screenshot of the page as a reader sees it', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    const file = path.join(work, 'report.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(existsSync(file)).toBe(true);
    console.info(`report.html screenshot: ${file}`);
    expect(pageErrors).toEqual([]);
  });
});
