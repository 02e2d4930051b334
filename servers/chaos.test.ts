// The chaos run (bench/chaos.ts) against every model, as a real process: for
// five seconds each, eight clients pipeline writes and reset at random
// moments, a bystander pings and three steady clients record a history. What
// must hold afterwards is the run's own list of promises: every ping
// answered, the server still answering, every acknowledged write readable,
// and the steady clients' history linearizable. `npm run bench -- --chaos 10m`
// runs the same for longer.

import { describe, expect, it } from 'vitest';
import { DEFAULT_CHAOS, runChaos } from '../bench/chaos.js';
import { MODELS } from './config.js';
import { checkLinearizable, describeVerdict } from './test-support/linearizability.js';
import { withServer } from './test-support/server-process.js';

const SECONDS_PER_MODEL = 5;

describe.each(MODELS)('the %s model under clients that reset at random moments', (model) => {
  it('answers every bystander, keeps every acknowledged write, and stays linearizable for the clients that stayed', async () => {
    const seed = Date.now() % 100_000;
    const report = await withServer(model, ['--workers=2'], (server) =>
      runChaos({ ...DEFAULT_CHAOS, port: server.port, durationMs: SECONDS_PER_MODEL * 1000, connectionPerRequest: model === 'blocking', seed }),
    );
    console.info(
      `${model} chaos (seed ${seed}): ${report.connections} connections, ${report.resets} resets, ` +
        `${report.requestsSent} requests sent, ${report.bystanderPings} pings (slowest ${report.bystanderWorstMs.toFixed(0)} ms)`,
    );
    expect(report.violations, `seed ${seed}`).toEqual([]);
    expect(report.resets).toBeGreaterThan(5);
    expect(report.bystanderPings).toBeGreaterThan(10);
    const verdict = checkLinearizable(report.steadyHistory);
    expect(verdict.result, `seed ${seed}: ${describeVerdict(verdict)}`).toBe('linearizable');
  }, 60_000);
});
