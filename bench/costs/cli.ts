// `node dist/bench/costs/cli.js [--json]`: Node's costs on this machine, on their own.
//
// The suite measures these once per run and stores them in results.json; this
// command is for looking at them without running the suite, for example
// before and after closing other programs, to see how much they move.

import { measureNodeCosts, type Measured, type NodeCosts } from './index.js';

function range(m: Measured, digits: number): string {
  return `${m.median.toFixed(digits)} (${m.min.toFixed(digits)}..${m.max.toFixed(digits)}, ${m.samples} samples)`;
}

export function formatCosts(c: NodeCosts): string {
  const mib = (m: Measured) => ({ ...m, median: m.median / 2 ** 20, min: m.min / 2 ** 20, max: m.max / 2 ** 20 });
  const loop = (name: string, l: NodeCosts['eventLoop']['idle']) =>
    `${name.padEnd(36)}utilization ${l.utilization.toFixed(2)}, delay p50 ${l.delayP50Ms.toFixed(1)} ms, p99 ${l.delayP99Ms.toFixed(1)} ms, max ${l.delayMaxMs.toFixed(1)} ms`;
  return [
    `Node ${c.node} on ${c.cores} cores, ${c.measuredAt}`,
    `${'worker thread start'.padEnd(36)}${range(c.workerStartMs, 1)} ms`,
    `${'message round trip to a worker'.padEnd(36)}${range(c.messageRoundTripUs, 1)} µs`,
    `${'piscina task round trip'.padEnd(36)}${range(c.piscinaTaskRoundTripUs, 1)} µs`,
    `${'memory per idle worker'.padEnd(36)}${range(mib(c.memoryPerWorkerBytes), 1)} MiB`,
    `${`WORK ${c.work.n}`.padEnd(36)}${range(c.work.ms, 3)} ms`,
    `${'connect, one request, close'.padEnd(36)}${range(c.connectionCycleMs, 3)} ms`,
    loop('event loop, idle', c.eventLoop.idle),
    loop(`event loop, WORK ${c.work.n} back to back`, c.eventLoop.underWork),
  ].join('\n');
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--json');
  if (unknown.length > 0) {
    process.stderr.write(`costs: unexpected argument '${unknown[0]}'\nusage: node dist/bench/costs/cli.js [--json]\n`);
    return 2;
  }
  const costs = await measureNodeCosts();
  process.stdout.write((args.includes('--json') ? JSON.stringify(costs, null, 2) : formatCosts(costs)) + '\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`costs: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
