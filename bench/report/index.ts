// The generated report: REPORT.md and report.html, written beside a run's
// results.json from that file alone.
//
// At the end of every run the suite hands the results it holds in memory,
// just written to results.json, to `writeReportFor`; `npm run report --
// results/<run-id>` reads a results.json back with `writeReport` whenever the
// report's code has changed, so an old run can be re-read without being
// re-run. Both write the same two files from the same record.

import path from 'node:path';
import type { NodeCosts } from '../costs/index.js';
import { writeFileAtomically } from '../record-file.js';
import { buildReport } from './build.js';
import { readResults, type ReportResults } from './data.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';

export { buildReport } from './build.js';
export { parseResults, readResults, ResultsError, type ReportResults } from './data.js';
export { renderMarkdown } from './markdown.js';
export { renderHtml } from './html.js';

export interface WrittenReport {
  markdown: string;
  html: string;
}

export interface ReportOptions {
  /** Costs measured now, used only when the run recorded none (the report then says so). */
  costsNow?: NodeCosts;
}

/** Renders both files for results already in memory, into `dir`. */
export function writeReportFor(results: ReportResults, dir: string, options: ReportOptions = {}): WrittenReport {
  const built = buildReport(results, { dir, costsNow: options.costsNow });
  const markdown = path.join(dir, 'REPORT.md');
  const html = path.join(dir, 'report.html');
  writeFileAtomically(markdown, renderMarkdown(built.blocks));
  writeFileAtomically(html, renderHtml(built.title, built.blocks, built.charts));
  return { markdown, html };
}

/** Reads `<runDir>/results.json` (or the results file given) and writes REPORT.md and report.html beside it. */
export function writeReport(target: string, options: ReportOptions = {}): WrittenReport {
  const { dir, results } = readResults(target);
  return writeReportFor(results, dir, options);
}
