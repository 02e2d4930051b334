// The report as a sequence of blocks, before it becomes Markdown or HTML.
//
// Both files say the same things in the same order; only the charts differ
// (pictures in REPORT.md, live chart.js canvases in report.html). Writing the
// content once, as data, and rendering it twice keeps the two from drifting.

import type { ChartSpec } from './chart-specs.js';

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; head: string[]; rows: string[][]; numeric: boolean[] }
  /** A chart: the suite's PNG for the Markdown (when it drew one), the spec for the HTML. */
  | { kind: 'figure'; title: string; png?: { file: string; present: boolean }; chart?: ChartSpec }
  | { kind: 'contents'; entries: { text: string; level: 2 | 3 }[] };

/** The anchor GitHub gives a heading, which the HTML uses as the heading's id too. */
export function anchorOf(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}
