// The interactive charts of report.html: chart definitions as the page reads them.
//
// They are the charts the suite draws as PNGs, described once in
// bench/charts/definitions.ts, but drawn by chart.js in the reader's browser,
// so a reader can hover for values, hide a model, and switch a latency axis
// between linear and log. Chart.js configurations hold functions (tick
// labels, tooltips), which JSON cannot carry; so the page gets only the data
// and what kind of axis each chart wants, as a spec, and the page's script
// (html-script.ts) turns that into configurations.

import type { ChartDefinition, DatasetSpec, XAxis, YAxis } from '../charts/model.js';
import type { ReportResults } from './data.js';

export type { DatasetSpec, Point } from '../charts/model.js';

export interface ChartSpec {
  id: string;
  type: 'line' | 'bar';
  title: string;
  subtitle: string;
  x: XAxis;
  y: YAxis;
  labels?: string[];
  datasets: DatasetSpec[];
}

function machineLine(results: ReportResults): string {
  return `${results.machine.cpuModel}, ${results.machine.cores} cores, run ${results.runId}, median of ${results.settings.repeat} repeat${results.settings.repeat === 1 ? '' : 's'}`;
}

/** The spec the page draws a chart from: the definition, with the machine and how to read it in the subtitle. */
export function pageSpec(chart: ChartDefinition, results: ReportResults): ChartSpec {
  const note = chart.notes.html;
  return {
    id: chart.id,
    type: chart.type,
    title: chart.title,
    subtitle: note ? `${machineLine(results)}; ${note}` : machineLine(results),
    x: chart.x,
    y: chart.y,
    ...(chart.labels ? { labels: chart.labels } : {}),
    datasets: chart.datasets,
  };
}
