// report.html: the same report as one self-contained page.
//
// Everything the page needs is inside it: the text, the figures as JSON, and
// chart.js itself (its UMD build, read from node_modules when the report is
// written). So the file can be mailed, archived or opened from a laptop on a
// train, and it will still draw its charts: nothing is fetched.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ChartSpec } from './chart-specs.js';
import { anchorOf, type Block } from './document.js';
import { PAGE_SCRIPT } from './html-script.js';

const require = createRequire(import.meta.url);

/** chart.js's browser build, from the installed package (whatever its version). */
export function chartJsSource(): string {
  const dist = path.dirname(require.resolve('chart.js'));
  for (const name of ['chart.umd.js', 'chart.umd.min.js']) {
    try {
      const code = readFileSync(path.join(dist, name), 'utf8');
      return code.replace(/\n\/\/# sourceMappingURL=.*$/m, '');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new Error(`chart.js's browser build (chart.umd.js) was not found in ${dist}; reinstall chart.js`);
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Escaped text, with `code` spans kept as code. */
function inline(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

/** Text that sits inside a <script> element: nothing in it may close the element early. */
function scriptSafe(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1');
}

function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function table(b: Extract<Block, { kind: 'table' }>): string {
  const th = b.head.map((h, i) => `<th${b.numeric[i] ? ' class="num"' : ''}>${inline(h)}</th>`).join('');
  const rows = b.rows.map((r) => `<tr>${r.map((c, i) => `<td${b.numeric[i] ? ' class="num"' : ''}>${inline(c)}</td>`).join('')}</tr>`).join('\n');
  return `<div class="table-wrap"><table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${rows}\n</tbody></table></div>`;
}

function figure(b: Extract<Block, { kind: 'figure' }>): string {
  if (!b.chart) return `<p class="missing">${inline(b.title)}: no interactive chart.</p>`;
  return `<figure class="chart"><canvas id="${escapeHtml(b.chart.id)}" role="img" aria-label="${escapeHtml(b.title)}"></canvas></figure>`;
}

function block(b: Block): string {
  switch (b.kind) {
    case 'heading':
      return `<h${b.level} id="${escapeHtml(anchorOf(b.text))}">${inline(b.text)}</h${b.level}>`;
    case 'paragraph':
      return `<p>${inline(b.text)}</p>`;
    case 'list':
      return `<ul>\n${b.items.map((i) => `<li>${inline(i)}</li>`).join('\n')}\n</ul>`;
    case 'table':
      return table(b);
    case 'figure':
      return figure(b);
    case 'contents':
      return `<nav class="contents"><strong>Contents</strong><ul>${b.entries
        .map((e) => `<li class="level-${e.level}"><a href="#${escapeHtml(anchorOf(e.text))}">${inline(e.text)}</a></li>`)
        .join('')}</ul></nav>`;
  }
}

/** Each series once, in the order the charts first use it, with its colour. */
function seriesOf(charts: readonly ChartSpec[]): { series: string; colour: string }[] {
  const seen = new Map<string, string>();
  for (const chart of charts) for (const d of chart.datasets) if (!seen.has(d.series)) seen.set(d.series, d.colour);
  return [...seen].map(([series, colour]) => ({ series, colour }));
}

function controls(charts: readonly ChartSpec[]): string {
  const boxes = seriesOf(charts)
    .map(
      ({ series, colour }) =>
        `<label class="toggle"><input type="checkbox" checked data-series="${escapeHtml(series)}"><span class="swatch" style="background:${escapeHtml(colour)}"></span>${escapeHtml(series)}</label>`,
    )
    .join('\n');
  return `<div class="controls" id="controls">
<label>Latency axes: <select id="latency-axis"><option value="log" selected>log</option><option value="linear">linear</option></select></label>
<span class="models">Models: ${boxes}</span>
<span class="hint">Hover a point for its value; click a legend entry to hide one line.</span>
</div>`;
}

const STYLE = `
html { scroll-padding-top: 96px; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f; margin: 0; background: #fafafa; }
main { max-width: 1180px; margin: 0 auto; padding: 0 24px 64px; background: #fff; }
h1 { font-size: 1.7em; margin: 0; padding-top: 24px; }
h2 { margin-top: 2.2em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { margin-top: 1.6em; }
code { background: #f0f0f0; padding: 1px 4px; border-radius: 3px; }
.controls { position: sticky; top: 0; z-index: 10; background: #fff; border-bottom: 1px solid #ddd; padding: 8px 24px; display: flex; flex-wrap: wrap; gap: 8px 18px; align-items: center; }
.controls .models { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center; }
.toggle { cursor: pointer; white-space: nowrap; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin: 0 4px 0 3px; vertical-align: -1px; }
.hint { color: #666; font-size: 0.9em; }
figure.chart { margin: 16px 0; padding: 8px; border: 1px solid #eee; border-radius: 4px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.9em; margin: 8px 0 16px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num, th.num { text-align: right; white-space: nowrap; }
nav.contents ul { columns: 2; }
nav.contents li.level-3 { margin-left: 1.2em; }
#chart-error { color: #b00; }
`;

export function renderHtml(title: string, blocks: readonly Block[], charts: readonly ChartSpec[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${controls(charts)}
<main>
<p id="chart-error"></p>
${blocks.map(block).join('\n')}
</main>
<script type="application/json" id="chart-data">${jsonForScript(charts)}</script>
<script>${scriptSafe(chartJsSource())}</script>
<script>${scriptSafe(PAGE_SCRIPT)}</script>
</body>
</html>
`;
}
