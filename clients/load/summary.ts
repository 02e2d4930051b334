// The table printed at the end of a run.
//
// It leads with what was asked (so a pasted table says how it was made), then
// throughput, the latency percentiles, errors, fairness, and the generator's
// own CPU use. Latencies pick their unit (µs, ms, s) so that each number is
// short and readable at a glance.
import type { LoadResult } from './types.js';

export function formatLatency(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}

function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function formatBytes(bytesPerSec: number): string {
  if (bytesPerSec < 1024) return `${Math.round(bytesPerSec)} B/s`;
  if (bytesPerSec < 1024 * 1024) return `${(bytesPerSec / 1024).toFixed(1)} KiB/s`;
  return `${(bytesPerSec / 1024 / 1024).toFixed(2)} MiB/s`;
}

function describeWorkload(result: LoadResult): string {
  const o = result.options;
  switch (o.workload) {
    case 'echo':
      return `echo ${o.size} B`;
    case 'kv':
      return `kv ${o.keys} keys ${o.keyDistribution}, ${Math.round(o.readRatio * 100)}% reads, ${o.size} B values`;
    case 'cpu':
      return `cpu WORK ${o.work}`;
    case 'sleep':
      return `sleep SLEEP ${o.sleepMs}`;
    case 'mixed':
      return `mixed ${Object.entries(o.mix ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}`;
  }
}

function describeLoop(result: LoadResult): string {
  const o = result.options;
  const loop =
    o.rate !== undefined
      ? `open loop at ${formatCount(o.rate)} req/s, ${o.arrivals ?? 'poisson'} arrivals, ${o.openLoopMode === 'pipelined' ? 'pipelined' : 'one request per idle connection'}`
      : `closed loop, pipeline ${o.pipeline}`;
  return `${loop}${o.reconnect ? ', new connection per request' : ''}`;
}

/** Rows of label + value, aligned into two columns. */
function table(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join('\n');
}

export function formatSummary(result: LoadResult): string {
  const o = result.options;
  const l = result.latency;
  const e = result.errors;
  const header =
    `load: ${describeWorkload(result)} against ${o.host}:${o.port} (${o.dialect} protocol)\n` +
    `      ${o.connections} connection${o.connections === 1 ? '' : 's'}, ${describeLoop(result)}, ` +
    `${result.measuredSec.toFixed(2)} s measured after ${o.warmupSec} s warmup`;
  const rows: [string, string][] = [
    ['requests', `${formatCount(result.requests)} (${formatCount(result.ok)} ok, ${formatCount(e.total)} errors)`],
    ['throughput', `${formatCount(result.throughput.requestsPerSec)} req/s, ${formatBytes(result.throughput.bytesPerSec)}`],
    ['latency', `p50 ${formatLatency(l.p50Us)}   p90 ${formatLatency(l.p90Us)}   p99 ${formatLatency(l.p99Us)}`],
    ['', `p99.9 ${formatLatency(l.p999Us)}   max ${formatLatency(l.maxUs)}   mean ${formatLatency(l.meanUs)}`],
    ...(l.timeouts > 0
      ? [['', `includes ${formatCount(l.timeouts)} timed-out requests, each at ${formatLatency(o.timeoutMs * 1000)} or more`] as [string, string]]
      : []),
    [
      'errors',
      e.total === 0
        ? 'none'
        : `ERR ${e.errReply}, busy ${e.busy}, timeout ${e.timeout}, refused ${e.refused}, reset ${e.reset}, wrong reply ${e.wrongReply}`,
    ],
    [
      'per connection',
      `min ${formatCount(result.perConnection.min)}, max ${formatCount(result.perConnection.max)}, ` +
        `Jain fairness ${result.perConnection.jainFairness.toFixed(3)}`,
    ],
  ];
  if (result.openLoop) {
    const ol = result.openLoop;
    rows.push([
      'open loop',
      `target ${formatCount(ol.targetRate)} req/s, sent ${formatCount(ol.sentRate)}, achieved ${formatCount(ol.achievedRate)}, ` +
        `send lag mean ${ol.meanSendLagMs.toFixed(2)} ms, worst ${ol.maxSendLagMs.toFixed(1)} ms`,
    ]);
    if (ol.waitedForConnection > 0) rows.push(['', `${formatCount(ol.waitedForConnection)} requests found every connection busy and waited for one`]);
  }
  const c = result.client;
  rows.push([
    'client',
    `CPU ${c.cpuPercent.toFixed(0)}% of a core (user ${formatCount(c.cpuUserMs)} ms, system ${formatCount(c.cpuSystemMs)} ms), ` +
      `${c.threads} load thread${c.threads === 1 ? '' : 's'}`,
  ]);
  const warnings: string[] = [];
  if (c.cpuPercent > 90 * c.threads) {
    warnings.push('  note: the generator kept its thread(s) busy; it may be the bottleneck (try --threads).');
  }
  if (result.openLoop && result.openLoop.waitedForConnection > 0) {
    warnings.push('  note: the connections were too few for the rate (or the server saturated): requests queued in the generator.');
  }
  if (result.openLoop && result.openLoop.maxSendLagMs > 10) {
    warnings.push("  note: requests left late; latency from their scheduled time includes the generator's lag.");
  }
  return [header, '', table(rows), ...(warnings.length > 0 ? ['', ...warnings] : [])].join('\n');
}
