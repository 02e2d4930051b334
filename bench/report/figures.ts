// A chart in the report: the suite's PNG for REPORT.md, a live spec for report.html.
//
// Both come from one chart definition (bench/charts/definitions.ts). The PNG
// is only named when results.json lists it, and REPORT.md says so when the
// file it names has gone missing from the run directory; report.html draws
// every chart from the figures either way.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { DISTRIBUTION_CONNECTIONS, nearest, slug, type ChartDefinition } from '../charts/model.js';
import { pageSpec, type ChartSpec } from './chart-specs.js';
import type { Group, ReportResults } from './data.js';
import type { Block } from './document.js';

function pngFor(results: ReportResults, file: string, dir?: string): { file: string; present: boolean } | undefined {
  if (!results.charts.some((c) => c.file === file)) return undefined;
  return { file, present: dir ? existsSync(path.join(dir, file)) : true };
}

/** The figure block for a chart, whose page spec joins the report's list of charts. */
export function figureBlock(chart: ChartDefinition, results: ReportResults, dir: string | undefined, specs: ChartSpec[]): Block {
  const spec = pageSpec(chart, results);
  specs.push(spec);
  return { kind: 'figure', title: spec.title, png: pngFor(results, chart.file, dir), chart: spec };
}

/** The connection count whose distribution the suite drew for this group, read from the PNG's name. */
export function distributionConnections(group: Group, results: ReportResults): number {
  const prefix = `distribution-${slug(group.name)}-c`;
  const drawn = results.charts.find((c) => c.file.startsWith(prefix) && /^\d+\.png$/.test(c.file.slice(prefix.length)));
  const c = drawn ? Number(drawn.file.slice(prefix.length, -4)) : NaN;
  return group.connections.includes(c) ? c : nearest(group.connections, DISTRIBUTION_CONNECTIONS);
}
