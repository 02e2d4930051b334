// One model's soak as a PNG: memory, p99 and open descriptors over time.
//
// A soak has no interactive twin in report.html, so this chart is drawn only
// here: resident memory on the left axis, p99 per second and open file
// descriptors on two right-hand axes, and the growth verdict with its figures
// in the subtitle, so the picture and the judgement can be read together.
// Three axes leave no room for a legend at the side; it goes below.

import type { ChartConfiguration } from 'chart.js';
import type { ChartRecord } from '../results.js';
import type { ModelSoak, SoakResults } from '../soak-record.js';
import { colourFor, slug } from './model.js';
import { baseOptions, chartCanvas, drawPng } from './png.js';

function formatSpan(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** The verdict and what the descriptors and threads did, for the subtitle. */
function verdictLine(soak: ModelSoak): string {
  const verdict = soak.verdict;
  const first = soak.samples[0];
  const last = soak.samples[soak.samples.length - 1];
  const figures =
    verdict.secondHalfSlopeMiBPerMin !== null
      ? `: ${verdict.secondHalfSlopeMiBPerMin.toFixed(2)} MiB/min over the second half, last quarter's median ${verdict.increasePercent! >= 0 ? '+' : ''}${verdict.increasePercent!.toFixed(1)} % on the second quarter's`
      : '';
  return (
    `${soak.status === 'failed' ? `FAILED: ${soak.failure} · ` : ''}${verdict.verdict}${figures}` +
    (first && last ? ` · fds ${first.fds} → ${last.fds}, threads ${first.threads} → ${last.threads}` : '')
  );
}

export function renderSoakChart(soak: ModelSoak, run: SoakResults, dir: string): ChartRecord {
  const minutes = run.settings.durationSecPerModel >= 120;
  const t = (sec: number) => (minutes ? sec / 60 : sec);
  const colour = colourFor(soak.model, 0);
  const heading = `Soak: ${soak.model}, memory and p99 over ${formatSpan(run.settings.durationSecPerModel)} (${run.machine.cores} cores)`;
  const options = baseOptions(
    heading,
    [`${run.machine.cpuModel}, run ${run.runId}, ${run.settings.connections} connections of mixed load`, verdictLine(soak)],
    'bottom',
  );
  const config = {
    type: 'line',
    data: {
      datasets: [
        {
          label: 'RSS, MiB',
          yAxisID: 'y',
          data: soak.samples.map((s) => ({ x: t(s.tSec), y: s.rssBytes / 2 ** 20 })),
          borderColor: colour,
          backgroundColor: colour,
          pointRadius: 0,
        },
        {
          label: 'p99 per second, ms',
          yAxisID: 'y1',
          data: soak.timeline.map((s) => ({ x: t(s.tSec), y: s.p99Us / 1000 })),
          borderColor: '#555555',
          backgroundColor: '#555555',
          borderDash: [4, 3],
          pointRadius: 0,
          borderWidth: 1,
        },
        {
          label: 'open fds',
          yAxisID: 'y2',
          data: soak.samples.map((s) => ({ x: t(s.tSec), y: s.fds })),
          borderColor: '#bcbd22',
          backgroundColor: '#bcbd22',
          pointRadius: 0,
          borderWidth: 1,
        },
      ],
    },
    options: {
      ...options,
      scales: {
        x: { type: 'linear', min: 0, title: { display: true, text: minutes ? 'minutes' : 'seconds' } },
        y: { type: 'linear', position: 'left', beginAtZero: true, title: { display: true, text: 'resident memory, MiB' } },
        y1: { type: 'linear', position: 'right', beginAtZero: true, title: { display: true, text: 'p99, ms' }, grid: { drawOnChartArea: false } },
        y2: {
          type: 'linear',
          position: 'right',
          beginAtZero: true,
          title: { display: true, text: 'open file descriptors' },
          grid: { drawOnChartArea: false },
        },
      },
    },
  } as ChartConfiguration;
  return drawPng(chartCanvas(), dir, `soak-${slug(soak.model)}.png`, config);
}
